package io.somastack.connect.common.json;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.record.StructFields;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;

/**
 * What JSON a Connect value is, written into any {@link JsonBuilder}: Structs and Maps become
 * objects, collections arrays; logical types become their ISO text (Timestamp, Date, Time) or exact
 * numbers (Decimal); bytes become base64 text. NaN and the infinities have no JSON and are a {@link
 * DataException}, a {@link JsonValueException} naming where it sits when it is inside the value; so
 * is a map two of whose keys have the same text ({@link #DUPLICATE_NAME}), which a JSON object
 * would hold as one. An already parsed Jackson tree is walked as the JSON it is.
 */
public final class ConnectJson {

  private ConnectJson() {}

  /** The value (with its schema, or null for a schemaless value) in the builder's form. */
  public static <T> T convert(Object value, Schema schema, JsonBuilder<T> to) {
    if (value == null) {
      return to.nullValue();
    }
    if (value instanceof JsonNode node) {
      return fromTree(node, to);
    }
    if (schema != null && schema.name() != null) {
      T logical = convertLogical(value, schema, to);
      if (logical != null) {
        return logical;
      }
    }
    if (value instanceof Struct struct) {
      JsonBuilder.Container<T> object = to.object(struct.schema().fields().size());
      for (Field field : struct.schema().fields()) {
        Object child = StructFields.valueOf(struct, field);
        object.add(field.name(), child(field.name(), child, field.schema(), to));
      }
      return object.build();
    }
    if (value instanceof Map<?, ?> map) {
      JsonBuilder.Container<T> object = to.object(map.size());
      Schema keySchema = schema == null ? null : schema.keySchema();
      Schema valueSchema = schema == null ? null : schema.valueSchema();
      Set<String> names = MapNames.seen(map);
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        String name = fieldName(entry.getKey(), keySchema);
        MapNames.add(names, name);
        object.add(name, entry(name, entry.getValue(), valueSchema, to));
      }
      return object.build();
    }
    if (value instanceof Collection<?> list) {
      JsonBuilder.Container<T> array = to.array(list.size());
      Schema valueSchema = schema == null ? null : schema.valueSchema();
      int index = 0;
      for (Object item : list) {
        array.add(null, element(index++, item, valueSchema, to));
      }
      return array.build();
    }
    return scalar(value, to);
  }

  /**
   * A value inside another: a reason thrown below it is told where it sits (see {@link
   * JsonValueException}), so a caller can name the field without quoting the value.
   */
  private static <T> T child(String field, Object value, Schema schema, JsonBuilder<T> to) {
    try {
      return convert(value, schema, to);
    } catch (DataException e) {
      throw JsonValueException.under(field, e);
    }
  }

  /**
   * As above for a map entry or a JSON object's member, whose name is record data: marked a key
   * (see {@link JsonValueException#underKey}) only on the way out of a failure, so the hot path
   * allocates nothing for it.
   */
  private static <T> T entry(String key, Object value, Schema schema, JsonBuilder<T> to) {
    try {
      return convert(value, schema, to);
    } catch (DataException e) {
      throw JsonValueException.underKey(key, e);
    }
  }

  private static <T> T entryOfTree(String key, JsonNode node, JsonBuilder<T> to) {
    try {
      return fromTree(node, to);
    } catch (DataException e) {
      throw JsonValueException.underKey(key, e);
    }
  }

  /** As above for an array element: its index boxed only on the way out of a failure. */
  private static <T> T element(int index, Object value, Schema schema, JsonBuilder<T> to) {
    try {
      return convert(value, schema, to);
    } catch (DataException e) {
      throw JsonValueException.under(index, e);
    }
  }

  private static <T> T elementOfTree(int index, JsonNode node, JsonBuilder<T> to) {
    try {
      return fromTree(node, to);
    } catch (DataException e) {
      throw JsonValueException.under(index, e);
    }
  }

  /**
   * Why a map has no JSON: two of its keys have the same text (1 and "1", a null key and "null",
   * two byte arrays of equal content), and a JSON object holds a name once, so one entry would be
   * lost. Neither the keys nor the values are named: they are record data. The message of {@link
   * #duplicateName()}; tell such a failure by {@link #isDuplicateName}, not by its message.
   */
  public static final String DUPLICATE_NAME =
      "a map has two keys of the same text (such as 1 and \"1\"), which JSON would make one";

  /** The failure of a map two of whose keys have the same text ({@link #DUPLICATE_NAME}). */
  public static DataException duplicateName() {
    return new DuplicateName();
  }

  /**
   * Whether {@code thrown} is, or was caused by, {@link #duplicateName()}: seen through a {@link
   * JsonValueException} (which keeps the reason as its cause) and any other wrapping that chains
   * it.
   */
  public static boolean isDuplicateName(Throwable thrown) {
    // bounded: a cause chain can be made circular
    for (int depth = 0; thrown != null && depth < 64; depth++, thrown = thrown.getCause()) {
      if (thrown instanceof DuplicateName) {
        return true;
      }
    }
    return false;
  }

  /** Its own type, so that it is recognised without comparing messages. */
  private static final class DuplicateName extends DataException {
    DuplicateName() {
      super(DUPLICATE_NAME);
    }
  }

  /**
   * A map key as a field name. A Date or bytes key is named by the text it has as a value: Java's
   * text of a Date depends on the worker's time zone, and of an array changes with every record.
   */
  public static String fieldName(Object key, Schema keySchema) {
    if (key instanceof Date || key instanceof byte[] || key instanceof ByteBuffer) {
      return RecordJson.convert(key, keySchema).asText();
    }
    return String.valueOf(key);
  }

  /**
   * A Jackson tree (JSON text a converter handed over, already parsed) in the builder's form.
   * Integers that fit a long stay integers; larger ones and decimals are decimals.
   */
  private static <T> T fromTree(JsonNode node, JsonBuilder<T> to) {
    switch (node.getNodeType()) {
      case OBJECT -> {
        JsonBuilder.Container<T> object = to.object(node.size());
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
          Map.Entry<String, JsonNode> field = fields.next();
          object.add(field.getKey(), entryOfTree(field.getKey(), field.getValue(), to));
        }
        return object.build();
      }
      case ARRAY -> {
        JsonBuilder.Container<T> array = to.array(node.size());
        int index = 0;
        for (JsonNode item : node) {
          array.add(null, elementOfTree(index++, item, to));
        }
        return array.build();
      }
      case STRING, BINARY -> {
        return to.text(node.asText());
      }
      case BOOLEAN -> {
        return to.bool(node.booleanValue());
      }
      case NUMBER -> {
        if (node.isIntegralNumber() && node.canConvertToLong()) {
          return to.integer(node.longValue());
        }
        // a tree built in code (not parsed) can hold NaN: no JSON, as for a Connect double
        return node.isFloatingPointNumber() && !node.isBigDecimal()
            ? finite(node.doubleValue(), node.doubleValue(), to)
            : to.decimal(node.decimalValue());
      }
      default -> {
        return to.nullValue();
      }
    }
  }

  private static <T> T convertLogical(Object value, Schema schema, JsonBuilder<T> to) {
    switch (schema.name()) {
      case Decimal.LOGICAL_NAME:
        return value instanceof BigDecimal d ? to.decimal(d) : null;
      case Timestamp.LOGICAL_NAME:
        return value instanceof Date d ? to.text(d.toInstant().toString()) : null;
      case org.apache.kafka.connect.data.Date.LOGICAL_NAME:
        return value instanceof Date d
            ? to.text(LocalDate.ofInstant(d.toInstant(), ZoneOffset.UTC).toString())
            : null;
      case Time.LOGICAL_NAME:
        // RFC 3339's full-time, as JSON Schema's "time" format asks: LocalTime's own text drops
        // zero seconds ("01:00") and has no offset; Connect's Time is milliseconds since midnight
        // UTC
        return value instanceof Date d
            ? to.text(
                DateTimeFormatter.ISO_LOCAL_TIME.format(
                        LocalTime.ofInstant(d.toInstant(), ZoneOffset.UTC))
                    + "Z")
            : null;
      default:
        return null;
    }
  }

  private static <T> T scalar(Object value, JsonBuilder<T> to) {
    if (value instanceof String s) {
      return to.text(s);
    }
    if (value instanceof Boolean b) {
      return to.bool(b);
    }
    if (value instanceof Byte || value instanceof Short || value instanceof Integer) {
      return to.integer(((Number) value).intValue());
    }
    if (value instanceof Long l) {
      return to.integer(l);
    }
    if (value instanceof Float f) {
      // the shortest decimal of the float, as JsonConverter writes it: widened bit for bit,
      // 0.1f would read 0.10000000149011612. Written as the double nearest it, whose text JDK 17
      // sometimes writes longer (2.2693768E21 as 2.2693767999999999E21); any of them reads back
      // as the float when rounded to a float once, not through a double (see SchemaJson). Left
      // as it is: these bytes are hashed and deterministically encrypted.
      return finite(Double.parseDouble(Float.toString(f)), value, to);
    }
    if (value instanceof Double d) {
      return finite(d, value, to);
    }
    if (value instanceof BigDecimal d) {
      return to.decimal(d);
    }
    if (value instanceof Number n) {
      return to.decimal(new BigDecimal(n.toString()));
    }
    if (value instanceof byte[] bytes) {
      return to.text(Base64.getEncoder().encodeToString(bytes));
    }
    if (value instanceof ByteBuffer buffer) {
      byte[] bytes = new byte[buffer.remaining()];
      buffer.duplicate().get(bytes);
      return to.text(Base64.getEncoder().encodeToString(bytes));
    }
    if (value instanceof Date d) {
      return to.text(d.toInstant().toString());
    }
    if (value instanceof Instant i) {
      return to.text(i.toString());
    }
    throw new DataException("cannot represent a " + value.getClass().getName() + " as JSON");
  }

  private static <T> T finite(double d, Object original, JsonBuilder<T> to) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      throw new DataException("JSON has no representation for " + original);
    }
    return to.floating(d);
  }
}
