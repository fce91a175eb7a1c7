package io.somastack.connect.qdrant.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import io.qdrant.client.grpc.Common.PointId;
import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.common.text.Utf8;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.kafka.connect.errors.DataException;

/**
 * Point ids from record fields. Qdrant takes unsigned 64-bit integers or UUIDs; any other string
 * becomes its name-based UUID v5 (RFC 4122) in a fixed namespace, so the same record id always
 * lands on the same point, on replays and across connectors.
 */
public final class PointIds {

  private static final Pattern CANONICAL_UUID =
      Pattern.compile(
          "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  private static final BigInteger MAX_UINT64 =
      BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

  /**
   * Why a text with a lone surrogate names no point: UTF-8 has no form for one, and its encoding
   * writes '?' instead, so "a\ud800", "a\udc00" and "a?" would name one point and overwrite each
   * other.
   */
  private static final String UNPAIRED_SURROGATE =
      "contains an unpaired UTF-16 surrogate, which UTF-8 cannot encode: it names no point";

  private final byte[] namespace;

  /** One per instance, not per id: a mapper, and so its ids, serve one task thread. */
  private final MessageDigest sha1;

  public PointIds(UUID namespace) {
    this.namespace =
        ByteBuffer.allocate(16)
            .putLong(namespace.getMostSignificantBits())
            .putLong(namespace.getLeastSignificantBits())
            .array();
    try {
      this.sha1 = MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-1", e);
    }
  }

  /** The point id for a field value; a {@link DataException} says why there is none. */
  public PointId of(JsonNode value) {
    if (value == null || value.isNull()) {
      throw new DataException("the record has no point id");
    }
    if (value.isIntegralNumber()) {
      // most ids are ints or longs: no BigInteger for them
      return value.canConvertToLong() && value.longValue() >= 0
          ? PointId.newBuilder().setNum(value.longValue()).build()
          : unsigned(value.bigIntegerValue());
    }
    if (value.isNumber()) {
      return unsigned(wholeNumber(value.decimalValue()));
    }
    if (value.isTextual()) {
      return of(value.textValue());
    }
    throw new DataException(
        "a point id must be an unsigned integer or a string, not " + value.getNodeType());
  }

  /**
   * The integer a decimal is, such as a Struct's Decimal of scale 0 (what JDBC sources make of
   * NUMBER keys) or 7.0 in JSON text: the same id as the integer must name the same point.
   */
  private static BigInteger wholeNumber(BigDecimal number) {
    // more than 20 integer digits is beyond uint64; checked first, as 1e1000000000 has a billion
    if (number.precision() - number.scale() > 20) {
      throw new DataException("a numeric point id must fit an unsigned 64-bit integer");
    }
    BigInteger whole = wholeOrNull(number);
    if (whole == null) {
      throw new DataException("a numeric point id must be a whole number");
    }
    return whole;
  }

  /**
   * The integer a number of at most 20 integer digits is, or null when it is not whole. A number
   * with no integer digit (0.5, or 1e-100000000, which parses cheaply to a scale of a hundred
   * million) is told from its precision and scale: toBigIntegerExact would compute 10 to that
   * power, for minutes.
   */
  private static BigInteger wholeOrNull(BigDecimal number) {
    if (number.signum() == 0) {
      return BigInteger.ZERO; // 0E-1000000000 too
    }
    if (number.scale() >= number.precision()) {
      return null;
    }
    try {
      return number.toBigIntegerExact();
    } catch (ArithmeticException e) {
      return null;
    }
  }

  public PointId of(String text) {
    if (text.isEmpty()) {
      throw new DataException("the point id is an empty string");
    }
    if (Utf8.hasUnpairedSurrogate(text)) {
      throw new DataException("the point id " + UNPAIRED_SURROGATE);
    }
    UUID uuid = CANONICAL_UUID.matcher(text).matches() ? UUID.fromString(text) : uuidV5(text);
    return PointId.newBuilder().setUuid(uuid.toString()).build();
  }

  /**
   * The point id of several fields' values: the UUID v5 of their compact JSON array, which no two
   * lists of values share (["a,b","c"] and ["a","b,c"] differ) and which Python's {@code
   * json.dumps(values, separators=(",", ":"), ensure_ascii=False)} writes alike. A {@link
   * DataException} names the field (never its value) that has no part in an id.
   */
  public PointId of(List<FieldPath> fields, List<JsonNode> values) {
    StringBuilder json = new StringBuilder("[");
    for (int i = 0; i < fields.size(); i++) {
      if (i > 0) {
        json.append(',');
      }
      appendPart(json, fields.get(i), values.get(i));
    }
    String name = json.append(']').toString();
    return PointId.newBuilder().setUuid(uuidV5(name).toString()).build();
  }

  private static void appendPart(StringBuilder json, FieldPath field, JsonNode value) {
    if (value == null || value.isNull()) {
      throw new DataException("id field '" + field + "' is missing");
    }
    if (value.isTextual()) {
      String text = value.textValue();
      if (text.isBlank()) {
        throw new DataException("id field '" + field + "' is empty");
      }
      if (Utf8.hasUnpairedSurrogate(text)) {
        throw new DataException("id field '" + field + "' " + UNPAIRED_SURROGATE);
      }
      // a UUID names one point however it is spelled, as a single id's UUID does
      appendString(
          json, CANONICAL_UUID.matcher(text).matches() ? text.toLowerCase(Locale.ROOT) : text);
    } else if (value.isBoolean()) {
      json.append(value.booleanValue());
    } else if (value.isNumber()) {
      json.append(wholeNumber(field, value));
    } else {
      throw new DataException(
          "id field '"
              + field
              + "' must be a string, a whole number or a boolean, not "
              + value.getNodeType());
    }
  }

  private static BigInteger wholeNumber(FieldPath field, JsonNode value) {
    BigDecimal number =
        value.isIntegralNumber() ? new BigDecimal(value.bigIntegerValue()) : value.decimalValue();
    // checked before toBigIntegerExact, as 1e1000000000 has a billion digits
    if (number.precision() - number.scale() > 20) {
      throw new DataException("id field '" + field + "' is a number of over 20 digits");
    }
    BigInteger whole = wholeOrNull(number);
    if (whole == null) {
      throw new DataException("id field '" + field + "' is a number that is not whole");
    }
    return whole;
  }

  /** A JSON string as Python's json.dumps writes it with ensure_ascii=False. */
  private static void appendString(StringBuilder json, String text) {
    json.append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"' -> json.append("\\\"");
        case '\\' -> json.append("\\\\");
        case '\n' -> json.append("\\n");
        case '\r' -> json.append("\\r");
        case '\t' -> json.append("\\t");
        case '\b' -> json.append("\\b");
        case '\f' -> json.append("\\f");
        default -> {
          if (c < 0x20) {
            json.append(String.format("\\u%04x", (int) c));
          } else {
            json.append(c);
          }
        }
      }
    }
    json.append('"');
  }

  private static PointId unsigned(BigInteger number) {
    // the id is record data (a customer or phone number, say): the reason never quotes it
    if (number.signum() < 0) {
      throw new DataException("a numeric point id must fit an unsigned 64-bit integer: negative");
    }
    if (number.compareTo(MAX_UINT64) > 0) {
      throw new DataException("a numeric point id must fit an unsigned 64-bit integer: too large");
    }
    // uint64 travels in a Java long; values above Long.MAX_VALUE keep their bits.
    return PointId.newBuilder().setNum(number.longValue()).build();
  }

  /** RFC 4122 section 4.3: SHA-1 of namespace and name, with version 5 and variant bits set. */
  UUID uuidV5(String name) {
    sha1.update(namespace);
    byte[] hash = sha1.digest(name.getBytes(StandardCharsets.UTF_8));
    hash[6] = (byte) ((hash[6] & 0x0f) | 0x50);
    hash[8] = (byte) ((hash[8] & 0x3f) | 0x80);
    ByteBuffer bytes = ByteBuffer.wrap(hash, 0, 16);
    return new UUID(bytes.getLong(), bytes.getLong());
  }

  /** A readable form of an id, for logs and reasons. */
  public static String describe(PointId id) {
    return id.hasUuid() ? id.getUuid() : Long.toUnsignedString(id.getNum());
  }
}
