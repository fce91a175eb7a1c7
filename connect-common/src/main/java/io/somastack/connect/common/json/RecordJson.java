package io.somastack.connect.common.json;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.somastack.connect.common.text.Utf8;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;

/**
 * Reads a Connect record key or value as a JSON tree, whatever the converter made of it: a
 * schemaless {@link Map} (JsonConverter with schemas.enable=false), a {@link Struct} with a schema,
 * or JSON text as a {@link String} or bytes (StringConverter, ByteArrayConverter). Anything that is
 * not JSON is a {@link DataException}: the project speaks JSON only.
 */
public final class RecordJson {

  /**
   * Decimals as written: Jackson's default factory strips trailing zeros, so 12.50 read back as
   * 12.5 and 100.0 as 1E+2 wherever a tree is written out again or a field is extracted as text.
   */
  private static final JsonNodeFactory NODES = JsonNodeFactory.withExactBigDecimals(true);

  /** One shared mapper: thread-safe once configured, and costly to build. */
  public static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
          .disable(JsonParser.Feature.ALLOW_COMMENTS)
          .nodeFactory(NODES)
          .build();

  private RecordJson() {}

  /** The value as a JSON tree; {@code null} stays {@code null} (a tombstone). */
  public static JsonNode toJson(Object value, Schema schema) {
    return toJson(value, schema, "value");
  }

  /**
   * The value as a JSON tree, as {@link #toJson(Object, Schema)}, its errors said of {@code
   * subject} (a transform's "key" or "value").
   */
  public static JsonNode toJson(Object value, Schema schema, String subject) {
    if (value == null) {
      return null;
    }
    if (value instanceof String text) {
      return parse(text, subject);
    }
    if (value instanceof byte[] bytes && (schema == null || schema.type() == Schema.Type.BYTES)) {
      return parse(bytes, subject);
    }
    if (value instanceof ByteBuffer buffer && schema == null) {
      byte[] bytes = new byte[buffer.remaining()];
      buffer.duplicate().get(bytes);
      return parse(bytes, subject);
    }
    if (value instanceof Map<?, ?> || value instanceof Struct || value instanceof Collection<?>) {
      return convert(value, schema);
    }
    throw new DataException(
        "expected a JSON object (Map, Struct, or JSON text) but the "
            + subject
            + " is a "
            + value.getClass().getSimpleName());
  }

  /** Parses JSON text; a {@link DataException} gives the {@link #reason} it is not JSON. */
  public static JsonNode parse(String text) {
    return parse(text, "value");
  }

  /**
   * Parses JSON text; a {@link DataException} gives the {@link #reason}, said of {@code subject}.
   */
  public static JsonNode parse(String text, String subject) {
    try {
      return MAPPER.readTree(text);
    } catch (IOException | NumberFormatException e) {
      throw new DataException(reason(e, subject));
    }
  }

  /** Parses JSON bytes (UTF-8), as {@link #parse(byte[], String)}. */
  public static JsonNode parse(byte[] bytes) {
    return parse(bytes, "value");
  }

  /**
   * Parses JSON bytes (UTF-8); a {@link DataException} gives the {@link #reason}, said of {@code
   * subject}. Bytes read as their text reads: a string with a lone UTF-16 surrogate is written as
   * its escape (\\uD800, see {@link #writeBytes}), which Jackson's byte parser refuses in a field
   * name (a map key) though its char parser reads it, so bytes it refuses are read again as text.
   * Only well-formed UTF-8 is: decoding malformed bytes would replace them with U+FFFD, a value
   * nobody sent. A limit broken (Jackson's, as JsonConverter's) is not read again. The first
   * failure is the one reported; JSON the byte parser reads costs nothing more.
   */
  public static JsonNode parse(byte[] bytes, String subject) {
    try {
      return MAPPER.readTree(bytes);
    } catch (StreamConstraintsException e) {
      // a limit, which the byte parser counts in bytes (a name's length): read as text, a name of
      // more bytes than the limit but fewer chars would pass where Kafka's JsonConverter refuses it
      throw new DataException(reason(e, subject));
    } catch (JsonProcessingException e) {
      JsonNode asText = asText(bytes);
      if (asText != null) {
        return asText;
      }
      throw new DataException(reason(e, subject));
    } catch (IOException | NumberFormatException e) {
      throw new DataException(reason(e, subject));
    }
  }

  /** Well-formed UTF-8 the byte parser refused, read as text; null when it is no JSON as text. */
  private static JsonNode asText(byte[] bytes) {
    if (Utf8.malformedAt(bytes, true) >= 0) {
      return null;
    }
    try {
      return MAPPER.readTree(new String(bytes, StandardCharsets.UTF_8));
    } catch (IOException | NumberFormatException again) {
      return null;
    }
  }

  /**
   * Why JSON could not be read, said of {@code subject} ("value", "payload", "key"): what is wrong
   * and where, but not what the text says there. Jackson's messages quote it (a duplicate key's
   * name, the token it stopped at), and records may hold personal data that must never reach a log.
   * {@code e} is what reading threw: a parse error, a limit broken by valid JSON, which must not be
   * called invalid, another IOException (bytes that are no text), or the NumberFormatException of a
   * number BigDecimal cannot hold (an exponent beyond an int), whose message quotes the number.
   */
  public static String reason(Exception e, String subject) {
    if (e instanceof NumberFormatException) {
      return subject + " holds a number that cannot be read: its exponent is too large";
    }
    if (e instanceof StreamConstraintsException limit) {
      return subject + beyondLimit(String.valueOf(limit.getOriginalMessage()));
    }
    if (!(e instanceof JsonProcessingException json)) {
      return subject + " is not valid JSON";
    }
    if (String.valueOf(json.getOriginalMessage()).startsWith("Duplicate field")) {
      return subject + " has a duplicate key" + where(json.getLocation());
    }
    return subject + " is not valid JSON" + where(json.getLocation());
  }

  /**
   * Which of Jackson's limits (Kafka's JsonConverter's too) is broken; its messages hold numbers.
   */
  private static String beyondLimit(String message) {
    StreamReadConstraints limits = MAPPER.getFactory().streamReadConstraints();
    if (message.contains("nesting depth")) {
      return NESTED_TOO_DEEPLY;
    }
    if (message.startsWith("Number value length")) {
      return " holds a number longer than " + limits.getMaxNumberLength() + " characters";
    }
    if (message.startsWith("Name length")) {
      return " holds a field name longer than "
          + limits.getMaxNameLength()
          + " characters (counted in UTF-8 bytes when read from bytes)";
    }
    if (message.startsWith("String value length")) {
      return " holds a string longer than " + limits.getMaxStringLength() + " characters";
    }
    return " is beyond the JSON parser's limits";
  }

  /** Where in the text, as " (line L, column C)", or "" if Jackson does not say. */
  public static String where(JsonLocation at) {
    return at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
  }

  /**
   * Whether Jackson refused JSON for being nested deeper than its limit (1000 levels, as Kafka's
   * JsonConverter): valid JSON all the same (PostgreSQL's jsonb takes deeper), so the reason must
   * say so rather than call it invalid.
   */
  private static boolean isNestingLimit(JsonProcessingException e) {
    return e instanceof StreamConstraintsException
        && String.valueOf(e.getOriginalMessage()).contains("nesting depth");
  }

  /** The deepest JSON read or written here, Jackson's default, as Kafka's JsonConverter reads. */
  private static final String NESTED_TOO_DEEPLY =
      " is nested too deeply: more than "
          + MAPPER.getFactory().streamReadConstraints().getMaxNestingDepth()
          + " levels of JSON objects and arrays";

  /** Compact JSON text of a tree. */
  public static String write(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      if (isNestingLimit(e)) {
        throw new DataException("value" + NESTED_TOO_DEEPLY);
      }
      throw new DataException("cannot write JSON: " + e.getOriginalMessage(), e);
    }
  }

  /**
   * Compact JSON of a tree in UTF-8: the bytes of {@link #write}'s text, so a digest or ciphertext
   * of it stays what it was. A lone UTF-16 surrogate in a string, which UTF-8 has no form for (Java
   * writes '?' in its place), is written as its JSON escape (\\uD800, as Jackson's own UTF-8 writer
   * and JsonConverter write it) and reads back as itself.
   */
  public static byte[] writeBytes(JsonNode node) {
    String text = write(node);
    byte[] bytes = Utf8.strictBytes(text);
    return bytes != null ? bytes : escapeLoneSurrogates(text).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * JSON text with each surrogate that is not half of a pair written as its escape: such a char
   * only stands inside a string (a value or a name), where the escape means the same char.
   */
  private static String escapeLoneSurrogates(String json) {
    StringBuilder out = new StringBuilder(json.length() + 16);
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < json.length()
          && Character.isLowSurrogate(json.charAt(i + 1))) {
        out.append(c).append(json.charAt(++i));
      } else if (Character.isSurrogate(c)) {
        out.append(String.format(Locale.ROOT, "\\u%04X", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  /** Converts a Connect value (with or without a schema) into a JSON tree. */
  public static JsonNode convert(Object value, Schema schema) {
    return ConnectJson.convert(value, schema, TREE);
  }

  /** Jackson trees, for {@link ConnectJson}: integers as small as the parser would make them. */
  private static final JsonBuilder<JsonNode> TREE =
      new JsonBuilder<>() {
        @Override
        public JsonNode nullValue() {
          return NODES.nullNode();
        }

        @Override
        public JsonNode text(String value) {
          return NODES.textNode(value);
        }

        @Override
        public JsonNode bool(boolean value) {
          return NODES.booleanNode(value);
        }

        @Override
        public JsonNode integer(long value) {
          return value == (int) value ? NODES.numberNode((int) value) : NODES.numberNode(value);
        }

        @Override
        public JsonNode floating(double value) {
          return NODES.numberNode(value);
        }

        @Override
        public JsonNode decimal(BigDecimal value) {
          return NODES.numberNode(value);
        }

        @Override
        public Container<JsonNode> object(int size) {
          ObjectNode object = NODES.objectNode();
          return Container.of(object::set, () -> object);
        }

        @Override
        public Container<JsonNode> array(int size) {
          ArrayNode array = NODES.arrayNode(size);
          return Container.of((name, value) -> array.add(value), () -> array);
        }
      };
}
