package io.somastack.connect.transforms.util;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.FloatNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.somastack.connect.common.json.ConnectJson;
import io.somastack.connect.common.json.RecordJson;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;

/**
 * A Connect schema as JSON text and back, and JSON (as {@link JsonValues#toBytes} writes Connect
 * values) read back into the Connect value of a schema. The schema layout is JsonConverter's
 * (asJsonSchema: type, optional, name, version, doc, parameters, default; fields with "field",
 * items, keys and values), written here rather than by JsonConverter: the worker's JsonConverter
 * works on the worker's Jackson classes, not the plugin's. A default is written as the value JSON
 * of this project ({@link RecordJson#convert}: logical types as ISO text, bytes as base64), which
 * is also the form read back.
 */
public final class SchemaJson {

  private SchemaJson() {}

  /** The schema as compact JSON text. */
  public static String write(Schema schema) {
    return RecordJson.write(node(schema));
  }

  private static ObjectNode node(Schema schema) {
    ObjectNode node = RecordJson.MAPPER.createObjectNode();
    node.put("type", schema.type().getName());
    switch (schema.type()) {
      case STRUCT -> {
        ArrayNode fields = node.putArray("fields");
        for (Field field : schema.fields()) {
          ObjectNode child = node(field.schema());
          child.put("field", field.name());
          fields.add(child);
        }
      }
      case ARRAY -> node.set("items", node(schema.valueSchema()));
      case MAP -> {
        node.set("keys", node(schema.keySchema()));
        node.set("values", node(schema.valueSchema()));
      }
      default -> {}
    }
    node.put("optional", schema.isOptional());
    if (schema.name() != null) {
      node.put("name", schema.name());
    }
    if (schema.version() != null) {
      node.put("version", schema.version());
    }
    if (schema.doc() != null) {
      node.put("doc", schema.doc());
    }
    if (schema.parameters() != null && !schema.parameters().isEmpty()) {
      ObjectNode parameters = node.putObject("parameters");
      schema.parameters().forEach(parameters::put);
    }
    if (schema.defaultValue() != null) {
      node.set("default", RecordJson.convert(schema.defaultValue(), schema));
    }
    return node;
  }

  /**
   * The schema as {@link #write} writes it, where a reader can restore it and read any value of it
   * back: its text reads back to a schema that writes the same text (defaults and parameters
   * included), and no map in it has keys of a type whose text does not read back (a Struct, array
   * or map key is named by Java's text of it). Otherwise a {@link DataException} says why, naming
   * no default value.
   */
  public static String writeReadable(Schema schema) {
    String keys = unreadableKeys(schema);
    if (keys != null) {
      throw new DataException("it holds a map whose keys are of type " + keys);
    }
    String text;
    try {
      text = write(schema);
    } catch (DataException e) {
      String reason = String.valueOf(e.getMessage());
      throw new DataException(
          reason.contains("nested too deeply")
              ? "it is nested too deeply to write as JSON"
              : ConnectJson.isDuplicateName(e)
                  ? "a default in it holds a map two of whose keys have the same text (such as 1"
                      + " and \"1\"), which JSON would make one"
                  : "a default in it has no JSON (a NaN or an infinity, or a type JSON lacks)");
    }
    boolean readsBack;
    try {
      readsBack = write(read(text)).equals(text);
    } catch (DataException e) {
      readsBack = false;
    }
    if (!readsBack) {
      throw new DataException("it does not read back as written (a default or a parameter)");
    }
    return text;
  }

  /**
   * Whether a key's text "null" may be a key of the schema as well as a null key: the string
   * "null", or bytes whose base64 is "null". A Decimal's text never is (its type is bytes, its text
   * a number), nor a number's, a boolean's or a logical time's.
   */
  private static boolean nullKeyAmbiguous(Schema keySchema) {
    return keySchema.type() == Schema.Type.STRING
        || (keySchema.type() == Schema.Type.BYTES
            && !Decimal.LOGICAL_NAME.equals(keySchema.name()));
  }

  /** The type of a map's keys in the schema that have no text to read back, or null. */
  private static String unreadableKeys(Schema schema) {
    switch (schema.type()) {
      case STRUCT -> {
        for (Field field : schema.fields()) {
          String keys = unreadableKeys(field.schema());
          if (keys != null) {
            return keys;
          }
        }
        return null;
      }
      case ARRAY -> {
        return unreadableKeys(schema.valueSchema());
      }
      case MAP -> {
        Schema.Type keys = schema.keySchema().type();
        if (keys == Schema.Type.STRUCT || keys == Schema.Type.ARRAY || keys == Schema.Type.MAP) {
          return keys.toString();
        }
        if (schema.keySchema().isOptional() && nullKeyAmbiguous(schema.keySchema())) {
          return "optional " + keys; // a null key and the key "null" (or base64 9ee965) alike
        }
        return unreadableKeys(schema.valueSchema());
      }
      default -> {
        return null;
      }
    }
  }

  /**
   * The schema {@link #write} wrote.
   *
   * @throws DataException when the text is not such a schema
   */
  public static Schema read(String json) {
    return schema(RecordJson.parse(json, "schema"));
  }

  private static Schema schema(JsonNode node) {
    Schema.Type type;
    try {
      type = Schema.Type.valueOf(node.path("type").asText().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new DataException("unknown schema type '" + node.path("type").asText() + "'");
    }
    SchemaBuilder builder =
        switch (type) {
          case STRUCT -> {
            SchemaBuilder struct = SchemaBuilder.struct();
            for (JsonNode field : node.path("fields")) {
              struct.field(field.path("field").asText(), schema(field));
            }
            yield struct;
          }
          case ARRAY -> SchemaBuilder.array(schema(node.path("items")));
          case MAP -> SchemaBuilder.map(schema(node.path("keys")), schema(node.path("values")));
          default -> SchemaBuilder.type(type);
        };
    if (node.path("optional").asBoolean(false)) {
      builder.optional();
    }
    if (node.hasNonNull("name")) {
      builder.name(node.get("name").asText());
    }
    if (node.hasNonNull("version")) {
      builder.version(node.get("version").asInt());
    }
    if (node.hasNonNull("doc")) {
      builder.doc(node.get("doc").asText());
    }
    if (node.path("parameters").isObject()) {
      // a null parameter stays null, not the text "null"
      Map<String, String> parameters = new LinkedHashMap<>();
      node.get("parameters")
          .properties()
          .forEach(
              p ->
                  parameters.put(p.getKey(), p.getValue().isNull() ? null : p.getValue().asText()));
      builder.parameters(parameters);
    }
    if (node.hasNonNull("default")) {
      // a Struct default must be made with the schema it is the default of: the builder
      builder.defaultValue(value(node.get("default"), builder));
    }
    return builder.build();
  }

  /**
   * The Connect value of {@code schema} that the JSON text {@code json} stands for, as {@link
   * #value(JsonNode, Schema)}. A float or double -0.0 keeps its sign, which the exact decimal the
   * JSON is read into has not.
   */
  public static Object value(byte[] json, Schema schema) {
    return JsonValues.signedZero(value(RecordJson.parse(json, "decrypted value"), schema), json);
  }

  /**
   * The Connect value of {@code schema} that {@code node} (JSON as {@link JsonValues#toBytes}
   * writes it) stands for. A node that does not fit is a {@link DataException} naming the type it
   * should have been and where it sits, never the value.
   */
  public static Object value(JsonNode node, Schema schema) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      if (!schema.isOptional() && schema.defaultValue() == null) {
        throw new DataException("null where a required " + typeOf(schema) + " is");
      }
      return null;
    }
    try {
      Object logical = logical(node, schema);
      if (logical != null) {
        return logical;
      }
      return plain(node, schema);
    } catch (ArithmeticException | DateTimeParseException | IllegalArgumentException e) {
      // their messages quote the value
      throw new DataException("a value that is no " + typeOf(schema));
    }
  }

  private static String typeOf(Schema schema) {
    return schema.name() != null ? schema.name() : schema.type().toString();
  }

  private static Object logical(JsonNode node, Schema schema) {
    if (schema.name() == null) {
      return null;
    }
    switch (schema.name()) {
      case Decimal.LOGICAL_NAME -> {
        int scale = Integer.parseInt(schema.parameters().get(Decimal.SCALE_FIELD));
        BigDecimal decimal =
            node.isNumber() ? node.decimalValue() : new BigDecimal(text(node, schema));
        return decimal.setScale(scale, RoundingMode.UNNECESSARY);
      }
      case Timestamp.LOGICAL_NAME -> {
        return node.isIntegralNumber()
            ? new Date(node.longValue())
            : Date.from(Instant.parse(text(node, schema)));
      }
      case org.apache.kafka.connect.data.Date.LOGICAL_NAME -> {
        return node.isIntegralNumber()
            ? org.apache.kafka.connect.data.Date.toLogical(schema, node.intValue())
            : new Date(LocalDate.parse(text(node, schema)).toEpochDay() * 86_400_000L);
      }
      case Time.LOGICAL_NAME -> {
        if (node.isIntegralNumber()) {
          return new Date(node.longValue());
        }
        String text = text(node, schema);
        LocalTime time =
            LocalTime.parse(text.endsWith("Z") ? text.substring(0, text.length() - 1) : text);
        return new Date(time.toNanoOfDay() / 1_000_000L);
      }
      default -> {
        return null;
      }
    }
  }

  private static Object plain(JsonNode node, Schema schema) {
    switch (schema.type()) {
      case INT8 -> {
        return (byte) integral(node, schema, Byte.MIN_VALUE, Byte.MAX_VALUE);
      }
      case INT16 -> {
        return (short) integral(node, schema, Short.MIN_VALUE, Short.MAX_VALUE);
      }
      case INT32 -> {
        return (int) integral(node, schema, Integer.MIN_VALUE, Integer.MAX_VALUE);
      }
      case INT64 -> {
        return integral(node, schema, Long.MIN_VALUE, Long.MAX_VALUE);
      }
      case FLOAT32 -> {
        return float32(node, schema);
      }
      case FLOAT64 -> {
        return number(node, schema).doubleValue();
      }
      case BOOLEAN -> {
        if (!node.isBoolean()) {
          throw mismatch(schema);
        }
        return node.booleanValue();
      }
      case STRING -> {
        return text(node, schema);
      }
      case BYTES -> {
        return Base64.getDecoder().decode(text(node, schema));
      }
      case ARRAY -> {
        if (!node.isArray()) {
          throw mismatch(schema);
        }
        List<Object> list = new ArrayList<>(node.size());
        int index = 0;
        for (JsonNode element : node) {
          list.add(inside("[" + index++ + "]", element, schema.valueSchema()));
        }
        return list;
      }
      case MAP -> {
        if (!node.isObject()) {
          throw mismatch(schema);
        }
        Map<Object, Object> map = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : node.properties()) {
          Object key = inside("a key", key(entry.getKey(), schema.keySchema()), schema.keySchema());
          map.put(key, inside("a value", entry.getValue(), schema.valueSchema()));
        }
        return map;
      }
      case STRUCT -> {
        if (!node.isObject()) {
          throw mismatch(schema);
        }
        Struct struct = new Struct(schema);
        for (Field field : schema.fields()) {
          Object child = inside(field.name(), node.get(field.name()), field.schema());
          if (child != null) {
            struct.put(field, child);
          }
        }
        return struct;
      }
      default -> throw mismatch(schema);
    }
  }

  /**
   * A map key as JSON. ConnectJson names an entry by its key's text: Java's for a number or boolean
   * (so a float or double may be NaN, an infinity or -0.0, which JSON lacks), ISO text for a
   * Timestamp, Date or Time, base64 for bytes, and the text itself for a string. It is read by the
   * key schema's type (a named one too, such as Debezium's int32 io.debezium.time.Date); a key that
   * is a Struct, array or map has no text to read back ({@link #writeReadable} refuses such a
   * schema).
   */
  private static JsonNode key(String text, Schema keySchema) {
    String name = keySchema.name();
    if (text.equals("null") && keySchema.isOptional() && !nullKeyAmbiguous(keySchema)) {
      // a null key of an optional key schema: String.valueOf(null)
      return NullNode.getInstance();
    }
    if (Decimal.LOGICAL_NAME.equals(name)) {
      return DecimalNode.valueOf(new BigDecimal(text));
    }
    if (Timestamp.LOGICAL_NAME.equals(name)
        || org.apache.kafka.connect.data.Date.LOGICAL_NAME.equals(name)
        || Time.LOGICAL_NAME.equals(name)) {
      return TextNode.valueOf(text);
    }
    return switch (keySchema.type()) {
      case INT8, INT16, INT32, INT64 -> LongNode.valueOf(Long.parseLong(text));
      case FLOAT32 -> FloatNode.valueOf(Float.parseFloat(text));
      case FLOAT64 -> DoubleNode.valueOf(Double.parseDouble(text));
      case BOOLEAN -> {
        if (!text.equals("true") && !text.equals("false")) {
          throw mismatch(keySchema);
        }
        yield BooleanNode.valueOf(text.equals("true"));
      }
      case STRING, BYTES -> TextNode.valueOf(text);
      default ->
          throw new DataException(
              "map keys of type " + keySchema.type() + " have no text that reads back");
    };
  }

  /** A value inside another, a failure there told where (by field name or index, not value). */
  private static Object inside(String where, JsonNode node, Schema schema) {
    try {
      return value(node, schema);
    } catch (DataException e) {
      throw new DataException(where + ": " + e.getMessage());
    }
  }

  private static long integral(JsonNode node, Schema schema, long min, long max) {
    if (!node.isIntegralNumber() || !node.canConvertToLong()) {
      throw mismatch(schema);
    }
    long value = node.longValue();
    if (value < min || value > max) {
      throw mismatch(schema);
    }
    return value;
  }

  private static Number number(JsonNode node, Schema schema) {
    if (!node.isNumber()) {
      throw mismatch(schema);
    }
    return node.numberValue();
  }

  /**
   * A FLOAT32 rounded once from its JSON number: read as a double and then narrowed, a float whose
   * text lies within half a double's ulp of the middle of two floats (7.038531E-26) rounds twice
   * and comes back one ulp off. A float or double node (a tree built in code) is the float or
   * double it holds.
   */
  private static float float32(JsonNode node, Schema schema) {
    Number number = number(node, schema);
    if (number instanceof Float f) {
      return f;
    }
    if (number instanceof Double d) {
      return d.floatValue();
    }
    return node.decimalValue().floatValue();
  }

  private static String text(JsonNode node, Schema schema) {
    if (!node.isTextual()) {
      throw mismatch(schema);
    }
    return node.textValue();
  }

  private static DataException mismatch(Schema schema) {
    return new DataException("a value that is no " + typeOf(schema));
  }
}
