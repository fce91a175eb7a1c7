package io.somastack.connect.common.json;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;
import java.util.Map;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;

/**
 * Reads a Connect record key or value as a JSON tree, whatever the converter made of it: a
 * schemaless {@link Map} (JsonConverter with schemas.enable=false), a {@link Struct} with a schema,
 * or JSON text as a {@link String} or bytes (StringConverter, ByteArrayConverter). Anything that is
 * not JSON is a {@link DataException}: the project speaks JSON only.
 */
public final class RecordJson {

  /** One shared mapper: thread-safe once configured, and costly to build. */
  public static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
          .disable(JsonParser.Feature.ALLOW_COMMENTS)
          .build();

  private static final JsonNodeFactory NODES = JsonNodeFactory.withExactBigDecimals(true);

  private RecordJson() {}

  /** The value as a JSON tree; {@code null} stays {@code null} (a tombstone). */
  public static JsonNode toJson(Object value, Schema schema) {
    if (value == null) {
      return null;
    }
    if (value instanceof String text) {
      return parse(text);
    }
    if (value instanceof byte[] bytes && (schema == null || schema.type() == Schema.Type.BYTES)) {
      return parse(bytes);
    }
    if (value instanceof ByteBuffer buffer && schema == null) {
      byte[] bytes = new byte[buffer.remaining()];
      buffer.duplicate().get(bytes);
      return parse(bytes);
    }
    if (value instanceof Map<?, ?> || value instanceof Struct || value instanceof Collection<?>) {
      return convert(value, schema);
    }
    throw new DataException(
        "expected a JSON object (Map, Struct, or JSON text) but the value is a "
            + value.getClass().getSimpleName());
  }

  /** Parses JSON text; a {@link DataException} says where it is not JSON. */
  public static JsonNode parse(String text) {
    try {
      return MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      throw notJson(e);
    }
  }

  public static JsonNode parse(byte[] bytes) {
    try {
      return MAPPER.readTree(bytes);
    } catch (JsonProcessingException e) {
      throw notJson(e);
    } catch (IOException e) {
      throw new DataException("value is not valid JSON");
    }
  }

  /**
   * Where the text stops being JSON, but not what it says there: parser messages quote the
   * offending characters, and records may hold personal data that must never reach a log.
   */
  static DataException notJson(JsonProcessingException e) {
    JsonLocation at = e.getLocation();
    return new DataException(
        at == null
            ? "value is not valid JSON"
            : "value is not valid JSON (line "
                + at.getLineNr()
                + ", column "
                + at.getColumnNr()
                + ")");
  }

  /** Compact JSON text of a tree. */
  public static String write(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new DataException("cannot write JSON: " + e.getOriginalMessage(), e);
    }
  }

  public static byte[] writeBytes(JsonNode node) {
    return write(node).getBytes(StandardCharsets.UTF_8);
  }

  /** Converts a Connect value (with or without a schema) into a JSON tree. */
  public static JsonNode convert(Object value, Schema schema) {
    if (value == null) {
      return NODES.nullNode();
    }
    if (schema != null && schema.name() != null) {
      JsonNode logical = convertLogical(value, schema);
      if (logical != null) {
        return logical;
      }
    }
    if (value instanceof Struct struct) {
      ObjectNode object = NODES.objectNode();
      for (Field field : struct.schema().fields()) {
        object.set(field.name(), convert(struct.get(field), field.schema()));
      }
      return object;
    }
    if (value instanceof Map<?, ?> map) {
      ObjectNode object = NODES.objectNode();
      Schema valueSchema = schema == null ? null : schema.valueSchema();
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        object.set(String.valueOf(entry.getKey()), convert(entry.getValue(), valueSchema));
      }
      return object;
    }
    if (value instanceof Collection<?> list) {
      ArrayNode array = NODES.arrayNode(list.size());
      Schema valueSchema = schema == null ? null : schema.valueSchema();
      for (Object item : list) {
        array.add(convert(item, valueSchema));
      }
      return array;
    }
    return scalar(value);
  }

  private static JsonNode convertLogical(Object value, Schema schema) {
    switch (schema.name()) {
      case Decimal.LOGICAL_NAME:
        return value instanceof BigDecimal d ? NODES.numberNode(d) : null;
      case Timestamp.LOGICAL_NAME:
        return value instanceof Date d ? NODES.textNode(d.toInstant().toString()) : null;
      case org.apache.kafka.connect.data.Date.LOGICAL_NAME:
        return value instanceof Date d
            ? NODES.textNode(LocalDate.ofInstant(d.toInstant(), ZoneOffset.UTC).toString())
            : null;
      case Time.LOGICAL_NAME:
        return value instanceof Date d
            ? NODES.textNode(LocalTime.ofInstant(d.toInstant(), ZoneOffset.UTC).toString())
            : null;
      default:
        return null;
    }
  }

  private static JsonNode scalar(Object value) {
    if (value instanceof String s) {
      return NODES.textNode(s);
    }
    if (value instanceof Boolean b) {
      return NODES.booleanNode(b);
    }
    if (value instanceof Byte || value instanceof Short || value instanceof Integer) {
      return NODES.numberNode(((Number) value).intValue());
    }
    if (value instanceof Long l) {
      return NODES.numberNode(l);
    }
    if (value instanceof Float f) {
      return finite(f.doubleValue(), value);
    }
    if (value instanceof Double d) {
      return finite(d, value);
    }
    if (value instanceof BigDecimal d) {
      return NODES.numberNode(d);
    }
    if (value instanceof Number n) {
      return NODES.numberNode(new BigDecimal(n.toString()));
    }
    if (value instanceof byte[] bytes) {
      return NODES.textNode(Base64.getEncoder().encodeToString(bytes));
    }
    if (value instanceof ByteBuffer buffer) {
      byte[] bytes = new byte[buffer.remaining()];
      buffer.duplicate().get(bytes);
      return NODES.textNode(Base64.getEncoder().encodeToString(bytes));
    }
    if (value instanceof Date d) {
      return NODES.textNode(d.toInstant().toString());
    }
    if (value instanceof Instant i) {
      return NODES.textNode(i.toString());
    }
    throw new DataException("cannot represent a " + value.getClass().getName() + " as JSON");
  }

  private static JsonNode finite(double d, Object original) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      throw new DataException("JSON has no representation for " + original);
    }
    return NODES.numberNode(d);
  }
}
