package io.somastack.connect.transforms.util;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.json.ConnectJson;
import io.somastack.connect.common.json.JsonValueException;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.path.FieldPath;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.DataException;

/** Field values to and from JSON bytes, so encrypted and hashed values keep their JSON type. */
public final class JsonValues {

  private JsonValues() {}

  /** Compact JSON of a Connect value (Map, List, Struct, primitive, logical type). */
  public static byte[] toBytes(Object value, Schema schema) {
    if (value instanceof String text) {
      return quoted(text);
    }
    return RecordJson.writeBytes(RecordJson.convert(value, schema));
  }

  /**
   * The compact JSON of a record's field, to be encrypted or hashed ({@code purpose}). A value with
   * no JSON (NaN or an infinity, in the field or inside it) fails naming the field and the record's
   * coordinates; the converter's own message quotes the value, so it is not passed on. So does a
   * map in it two of whose keys have the same text (1 and "1"), which would decrypt to one entry;
   * where it sits is named by field names and array positions, a map key as [key].
   */
  public static byte[] fieldBytes(
      ConnectRecord<?> record, FieldPath path, Object value, Schema schema, String purpose) {
    try {
      return toBytes(value, schema);
    } catch (DataException e) {
      String why;
      if (ConnectJson.isDuplicateName(e)) {
        String at = e instanceof JsonValueException inside ? inside.loggedPath() : "";
        why =
            (at.isEmpty() ? "it is a map" : "at " + at + " in it is a map")
                + " two of whose keys have the same text (such as 1 and \"1\"), which JSON "
                + "would make one, losing an entry";
      } else {
        why =
            "it holds a value JSON has no representation for (a NaN or an infinity, or a "
                + "type JSON lacks), in itself or in a field inside it";
      }
      throw Records.error(record, "field '" + path + "' cannot be " + purpose + ": " + why);
    }
  }

  private static byte[] quoted(String text) {
    try {
      return RecordJson.MAPPER.writeValueAsBytes(text);
    } catch (JsonProcessingException e) {
      throw new DataException("cannot write a string as JSON", e);
    }
  }

  /**
   * Parses JSON bytes into schemaless Connect values as JsonConverter reads JSON: Map, List,
   * String, Boolean, integers as Long and other numbers as Double, so a converter after the
   * transform can write them (JsonConverter refuses a schemaless BigDecimal). A number with more
   * digits than a Long or Double holds, or beyond their range, stays a BigInteger or BigDecimal
   * rather than being rounded.
   */
  public static Object fromBytes(byte[] json) {
    JsonNode tree;
    try {
      tree = RecordJson.parse(json, "decrypted value");
    } catch (DataException e) {
      // as it always said; a number BigDecimal cannot hold (1e99999999999) is refused here too,
      // where its NumberFormatException used to escape and fail the task
      throw new DataException("decrypted value is not JSON");
    }
    if (tree == null || tree.isMissingNode()) {
      throw new DataException("decrypted value is not JSON");
    }
    return signedZero(toConnect(tree, JsonValues::exactNumber), json);
  }

  /**
   * The text form for a Struct string field: a JSON string's own text, anything else as JSON. A
   * -0.0 keeps its sign, which the decimal the number is read into has not.
   */
  public static String toText(byte[] json) {
    JsonNode node = RecordJson.parse(json, "value");
    if (node.isTextual()) {
      return node.textValue();
    }
    String text = RecordJson.write(node);
    return node.isNumber() && !text.startsWith("-") && negative(json) ? "-" + text : text;
  }

  /**
   * A float or double zero read from {@code json} with the sign its text has: the decimal JSON is
   * read into ({@link RecordJson#MAPPER} reads floats as BigDecimal) has no sign at zero, so -0.0
   * would come back as 0.0, unlike the value encrypted. Anything else is returned as it is.
   */
  static Object signedZero(Object value, byte[] json) {
    if (value instanceof Double d && d == 0 && negative(json)) {
      return -0.0d;
    }
    if (value instanceof Float f && f == 0 && negative(json)) {
      return -0.0f;
    }
    return value;
  }

  /**
   * Whether JSON text starts (after white space) with a minus sign: where a number is the whole
   * value, whether it is negative, even when it is a zero.
   */
  static boolean negative(byte[] json) {
    for (byte b : json) {
      if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
        return b == '-';
      }
    }
    return false;
  }

  /**
   * A JSON tree as the schemaless Connect values Kafka's converters write: objects as Maps, arrays
   * as Lists, integers as Long and other numbers as Double, as JsonConverter reads JSON itself (it
   * has no schemaless form for BigDecimal or BigInteger). A number neither holds exactly keeps its
   * decimal text as a String (trailing zeros dropped), so two numbers never become one by rounding
   * and numerically equal ones stay equal.
   */
  public static Object toConnect(JsonNode node) {
    return toConnect(node, JsonValues::number);
  }

  private static Object toConnect(JsonNode node, Function<JsonNode, Object> numbers) {
    switch (node.getNodeType()) {
      case OBJECT:
        Map<String, Object> map = new LinkedHashMap<>();
        node.properties().forEach(e -> map.put(e.getKey(), toConnect(e.getValue(), numbers)));
        return map;
      case ARRAY:
        List<Object> list = new ArrayList<>(node.size());
        node.forEach(element -> list.add(toConnect(element, numbers)));
        return list;
      case NUMBER:
        return numbers.apply(node);
      case STRING:
        return node.textValue();
      case BOOLEAN:
        return node.booleanValue();
      case NULL:
      case MISSING:
        return null;
      default:
        // binary and POJO nodes only come from trees built in code, never from parsed text
        return RecordJson.MAPPER.convertValue(node, Object.class);
    }
  }

  /** Long or Double where they hold the number exactly, else its decimal text. */
  private static Object number(JsonNode node) {
    if (node.isIntegralNumber()) {
      return node.canConvertToLong() ? (Object) node.longValue() : node.asText();
    }
    if (node.isDouble() || node.isFloat()) {
      return node.doubleValue();
    }
    Double exact = exactDouble(node.decimalValue());
    return exact != null ? exact : node.decimalValue().stripTrailingZeros().toString();
  }

  /**
   * Long where it holds the number exactly, Double for a decimal of no more digits than a double
   * holds (or that a Double holds exactly), else BigInteger or BigDecimal.
   */
  private static Object exactNumber(JsonNode node) {
    if (node.isIntegralNumber()) {
      return node.canConvertToLong() ? (Object) node.longValue() : node.bigIntegerValue();
    }
    if (node.isDouble() || node.isFloat()) {
      return node.doubleValue();
    }
    Double asDouble = doubleDigits(node.decimalValue());
    if (asDouble == null) {
      asDouble = exactDouble(node.decimalValue());
    }
    return asDouble != null ? asDouble : node.decimalValue();
  }

  /** The most significant digits Double.toString writes for a double. */
  private static final int DOUBLE_DIGITS = 17;

  /**
   * The double of a decimal of at most 17 significant digits within a double's range, else null.
   * Such text is what a double is written as, and it reads back as that double; JDK 17's
   * Double.toString writes 17 digits for some doubles that are not their correctly rounded digits
   * (3.1526711628916386E25), which the exact test of {@link #exactDouble} refuses. JsonConverter
   * reads any such text as a double anyway.
   */
  private static Double doubleDigits(BigDecimal value) {
    BigDecimal canonical = value.stripTrailingZeros();
    double d = canonical.doubleValue();
    boolean inRange = Double.isFinite(d) && (d != 0 || canonical.signum() == 0);
    return inRange && canonical.precision() <= DOUBLE_DIGITS ? d : null;
  }

  /**
   * A Double when it holds the decimal exactly to the decimal's own digits (0.1 and
   * 0.30000000000000004 do; 0.1000000000000000000001 and 1E+400 do not), else null. Deciding by
   * arithmetic rather than by Double.toString keeps the choice the same on every JDK.
   */
  private static Double exactDouble(BigDecimal value) {
    BigDecimal canonical = value.stripTrailingZeros();
    double d = canonical.doubleValue();
    if (Double.isFinite(d)) {
      MathContext digits = new MathContext(canonical.precision(), RoundingMode.HALF_EVEN);
      if (new BigDecimal(d).round(digits).compareTo(canonical) == 0) {
        return d;
      }
    }
    return null;
  }
}
