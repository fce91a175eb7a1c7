package io.somastack.connect.postgres.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.text.Utf8;
import io.somastack.connect.postgres.record.BadRecordException;
import io.somastack.connect.postgres.record.NumericLimits;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.regex.Pattern;

/**
 * The SQL types a JSON field can be extracted into. Each converts in Java, so a value of the wrong
 * type is found before SQL and only that record goes to the dead-letter queue.
 */
public enum ColumnType {
  TEXT("text", "text"),
  BIGINT("bigint", "int8"),
  DOUBLE("double precision", "float8"),
  BOOLEAN("boolean", "bool"),
  TIMESTAMPTZ("timestamptz", "text"),
  UUID("uuid", "text"),
  JSONB("jsonb", "text");

  private final String sqlType;
  private final String arrayElementType;

  ColumnType(String sqlType, String arrayElementType) {
    this.sqlType = sqlType;
    this.arrayElementType = arrayElementType;
  }

  /** The column's type in DDL. */
  public String sqlType() {
    return sqlType;
  }

  /** The element type of the array a batch of this column is sent as. */
  public String arrayElementType() {
    return arrayElementType;
  }

  /**
   * Converts a JSON value into what the batch array holds for this type, or throws naming the field
   * (never its value: it may be personal data).
   */
  public Object convert(JsonNode value, String field) {
    if (value == null || value.isNull()) {
      return null;
    }
    switch (this) {
      case TEXT:
        if (value.isContainerNode()) {
          throw wrongType(field, "text", value);
        }
        return Text.check(value.isNumber() ? numberText(value, field) : value.asText(), field);
      case BIGINT:
        if (value.isIntegralNumber() && value.canConvertToLong()) {
          return value.longValue();
        }
        if (value.isBigDecimal()) {
          return wholeDecimal(value, field);
        }
        if (value.isTextual()) {
          try {
            return Long.parseLong(value.asText().trim());
          } catch (NumberFormatException e) {
            throw wrongType(field, "bigint", value);
          }
        }
        throw wrongType(field, "bigint", value);
      case DOUBLE:
        return doubleValue(value, field);
      case BOOLEAN:
        if (value.isBoolean()) {
          return value.booleanValue();
        }
        throw wrongType(field, "boolean", value);
      case TIMESTAMPTZ:
        return timestamp(value, field);
      case UUID:
        return uuid(value, field);
      case JSONB:
        return Text.check(RecordJson.write(value), field);
      default:
        throw new IllegalStateException(name());
    }
  }

  /**
   * A decimal without a fractional part as a long: a Decimal of scale 0 (Avro's, Protobuf's, JSON
   * Schema's integer-valued decimals reach the sink as one), or JSON text's 1e2. One written with a
   * fractional part, even of zeros (2.0, 7.50), stays refused, as a JSON 2.0 always was: it is no
   * integer as sent.
   */
  private static long wholeDecimal(JsonNode value, String field) {
    BigDecimal decimal = value.decimalValue();
    if (decimal.scale() > 0) {
      throw wrongType(field, "bigint", value);
    }
    if (decimal.compareTo(LONG_MIN) < 0 || decimal.compareTo(LONG_MAX) > 0) {
      throw new BadRecordException("field '" + field + "' is a number beyond bigint's range");
    }
    return decimal.longValueExact();
  }

  private static final BigDecimal LONG_MIN = BigDecimal.valueOf(Long.MIN_VALUE);
  private static final BigDecimal LONG_MAX = BigDecimal.valueOf(Long.MAX_VALUE);

  /**
   * A JSON number as a double. One beyond double's range would become Infinity (or, too small, 0),
   * a value nobody sent: it is refused instead.
   */
  private static double doubleValue(JsonNode value, String field) {
    if (!value.isNumber()) {
      throw wrongType(field, "double", value);
    }
    double number = value.doubleValue();
    // too small becomes 0 as too large becomes Infinity; float8 refuses both as out of range
    boolean underflow = number == 0.0 && value.isBigDecimal() && value.decimalValue().signum() != 0;
    if (Double.isInfinite(number) || underflow) {
      throw new BadRecordException("field '" + field + "' is a number beyond double's range");
    }
    return number;
  }

  /**
   * A number as text: the plain decimal digits of its value, never an exponent, no zeros trailing
   * after the point (7, 7.0 and 7.00 are all "7"). Java's own texts ("5E-8" of JSON text's
   * 0.00000005, "1.00000005E7" of JsonConverter's double 10000000.5) would make one event's key,
   * and so its row, depend on the converter that read it. A number PostgreSQL's numeric cannot hold
   * either (jsonb refuses its payload too) is refused before its digits are written out: those of
   * 1e999999999 would fill the heap.
   */
  private static String numberText(JsonNode number, String field) {
    if (number.isIntegralNumber()) {
      return number.asText(); // an int, long or BigInteger: its digits already
    }
    BigDecimal value = exactValue(number, field);
    if (!NumericLimits.fits(value)) {
      throw new BadRecordException(
          "field '" + field + "' is a number beyond the digits PostgreSQL's numeric holds");
    }
    return value.stripTrailingZeros().toPlainString();
  }

  /**
   * A decimal's value as it is; a double's as its shortest decimal, the digits Java and JSON write
   * for it (BigDecimal.valueOf), so that a double read from JSON text keeps the digits it had.
   */
  private static BigDecimal exactValue(JsonNode number, String field) {
    if (number.isBigDecimal()) {
      return number.decimalValue();
    }
    if (number.isFloat()) {
      return new BigDecimal(Float.toString(number.floatValue()));
    }
    double d = number.doubleValue();
    if (!Double.isFinite(d)) {
      throw new BadRecordException("field '" + field + "' is not a finite number");
    }
    return BigDecimal.valueOf(d);
  }

  /** Hex digits in the 8-4-4-4-12 groups of a UUID, either case. */
  private static final Pattern UUID_TEXT =
      Pattern.compile(
          "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

  /**
   * A UUID in its canonical form, lower-cased. The form is checked first: Java's parser also takes
   * short or signed groups ("1-2-3-4-5" becomes 00000001-0002-0003-0004-000000000005), which would
   * store a UUID nobody sent.
   */
  private static String uuid(JsonNode value, String field) {
    if (!value.isTextual() || !UUID_TEXT.matcher(value.asText()).matches()) {
      throw wrongType(field, "uuid", value);
    }
    return java.util.UUID.fromString(value.asText()).toString();
  }

  private static String timestamp(JsonNode value, String field) {
    if (value.isIntegralNumber()) {
      if (!value.canConvertToLong()) {
        throw outOfRange("field '" + field + "'");
      }
      // epoch milliseconds, as Kafka and most producers write them
      return timestamp(Instant.ofEpochMilli(value.longValue()), "field '" + field + "'");
    }
    if (value.isTextual()) {
      // as PostgreSQL reads the text (fractions rounded to its microseconds), so the column holds
      // what (payload->>'field')::timestamptz would
      long micros = TimestampText.epochMicros(value.asText());
      if (micros == TimestampText.UNREADABLE) {
        throw wrongType(field, "timestamptz (ISO-8601 with offset, or epoch ms)", value);
      }
      if (micros == TimestampText.OUT_OF_RANGE) {
        throw outOfRange("field '" + field + "'");
      }
      Instant instant =
          Instant.ofEpochSecond(
              Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
      return timestamp(instant, "field '" + field + "'");
    }
    throw wrongType(field, "timestamptz", value);
  }

  private static final Instant FIRST = Instant.parse("0001-01-01T00:00:00Z");
  private static final Instant AFTER_LAST = Instant.parse("+10000-01-01T00:00:00Z");

  /**
   * An instant as ISO-8601 text, within the years 1 to 9999: the range Java and PostgreSQL write
   * and read alike. Outside it lie mistakes (epoch nanoseconds read as milliseconds, say), which
   * must be dead-lettered here rather than fail arithmetic or the database later.
   */
  public static String timestamp(Instant instant, String what) {
    if (instant.isBefore(FIRST) || !instant.isBefore(AFTER_LAST)) {
      throw outOfRange(what);
    }
    return instant.toString();
  }

  private static BadRecordException outOfRange(String what) {
    return new BadRecordException(what + " is a time outside the years 1 to 9999");
  }

  private static BadRecordException wrongType(String field, String type, JsonNode value) {
    return new BadRecordException(
        "field '"
            + field
            + "' is a JSON "
            + value.getNodeType().name().toLowerCase()
            + ", not "
            + type);
  }

  /** Checks on text that PostgreSQL would reject. */
  public static final class Text {
    private Text() {}

    static String check(String text, String field) {
      if (text.indexOf('\0') >= 0) {
        throw new BadRecordException(
            "field '" + field + "' contains a NUL character, which PostgreSQL text cannot store");
      }
      if (Utf8.hasUnpairedSurrogate(text)) {
        throw new BadRecordException("field '" + field + "' " + UNPAIRED_SURROGATE);
      }
      return text;
    }

    /** Why a text with a lone surrogate is refused (a reason, naming no value). */
    public static final String UNPAIRED_SURROGATE =
        "contains an unpaired UTF-16 surrogate, which UTF-8 (and so PostgreSQL) cannot store";
  }
}
