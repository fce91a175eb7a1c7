package io.somastack.connect.outbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;

/**
 * A JSON object as a Connect {@link Struct} with a schema inferred from it: objects become structs
 * (fields in document order), integers int64, other numbers float64, strings, booleans, and arrays
 * whose elements share one schema. Every field is optional; JSON null is an optional string that is
 * null. The elements of an array are merged into one schema, as ordinary JSON arrays need: integers
 * and decimals make float64, objects the union of their fields, a null (or an empty array) takes
 * the other elements' shape. An array mixing anything else (a number and a string, say) cannot be
 * given a schema: {@link DataException}.
 *
 * <p>No number loses a digit: one that an int64 or a float64 cannot give back as written (an
 * integer beyond 64 bits, a decimal with more digits than a float64 holds, such as PostgreSQL's
 * {@code 1/3::numeric}) is a Connect {@link Decimal} with the scale it needs, and so is an array
 * position where such numbers meet others. A number whose decimal would have more than {@value
 * #MAX_DECIMAL_DIGITS} digits (1e1000000000 is a few bytes of JSON) is a {@link DataException}.
 */
final class JsonStructs {

  private JsonStructs() {}

  static SchemaAndValue toStruct(JsonNode object, String name) {
    Schema schema = schemaOf(object, name);
    return new SchemaAndValue(schema, valueOf(object, schema));
  }

  /**
   * The tree with every number an int64 cannot hold as a float64, rounded to the nearest (for
   * value.struct.numbers=double): a field's schema then never changes with its values. A number
   * beyond a float64's range is left as it is, and refused as before.
   */
  static JsonNode asDoubles(JsonNode node) {
    if (node.isNumber() && !(node.isIntegralNumber() && node.canConvertToLong())) {
      double d = node.doubleValue();
      return Double.isInfinite(d) ? node : JsonNodeFactory.instance.numberNode(d);
    }
    if (node.isObject()) {
      ObjectNode copy = JsonNodeFactory.instance.objectNode();
      node.fields().forEachRemaining(e -> copy.set(e.getKey(), asDoubles(e.getValue())));
      return copy;
    }
    if (node.isArray()) {
      ArrayNode copy = JsonNodeFactory.instance.arrayNode();
      node.forEach(element -> copy.add(asDoubles(element)));
      return copy;
    }
    return node;
  }

  /**
   * The schema of a JSON null, or of an empty array's elements: an optional string unless merged
   * with a known shape. Told apart by identity, since it equals every other optional string schema.
   */
  private static final Schema UNKNOWN = SchemaBuilder.string().optional().build();

  /** The most digits a decimal may have; Jackson reads no number longer than this either. */
  static final int MAX_DECIMAL_DIGITS = 1000;

  /**
   * An int64 whose value a float64 may not hold exactly (beyond 2^53): merged with a float64 it
   * needs a decimal. Told apart by identity, like {@link #UNKNOWN}.
   */
  private static final Schema WIDE_INT64 = SchemaBuilder.int64().optional().build();

  /**
   * A float64 schema per number of decimal places its values have, by identity, so that an array
   * merging them with a decimal knows the scale that keeps every digit. A float64 that gives a
   * number back as written has at most 342 decimal places (4.9E-324 has 325).
   */
  private static final Schema[] FLOAT64_BY_SCALE = new Schema[350];

  private static final Map<Schema, Integer> SCALE_OF_FLOAT64 = new IdentityHashMap<>();

  static {
    for (int scale = 0; scale < FLOAT64_BY_SCALE.length; scale++) {
      FLOAT64_BY_SCALE[scale] = SchemaBuilder.float64().optional().build();
      SCALE_OF_FLOAT64.put(FLOAT64_BY_SCALE[scale], scale);
    }
  }

  private static Schema schemaOf(JsonNode node, String name) {
    if (node.isObject()) {
      SchemaBuilder builder = SchemaBuilder.struct().optional();
      if (name != null) {
        builder.name(name);
      }
      Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> field = fields.next();
        builder.field(field.getKey(), schemaOf(field.getValue(), null));
      }
      return builder.build();
    }
    if (node.isArray()) {
      Schema element = UNKNOWN;
      for (JsonNode item : node) {
        element = merge(element, schemaOf(item, null));
      }
      return SchemaBuilder.array(element).optional().build();
    }
    if (node.isNull()) {
      return UNKNOWN;
    }
    if (node.isIntegralNumber() && node.canConvertToLong()) {
      long value = node.longValue();
      return value >= -FLOAT64_EXACT && value <= FLOAT64_EXACT
          ? Schema.OPTIONAL_INT64_SCHEMA
          : WIDE_INT64;
    }
    if (node.isNumber()) {
      return numberSchema(node.decimalValue());
    }
    if (node.isBoolean()) {
      return Schema.OPTIONAL_BOOLEAN_SCHEMA;
    }
    return Schema.OPTIONAL_STRING_SCHEMA;
  }

  /** Every integer up to 2^53 in magnitude is exactly a float64. */
  private static final long FLOAT64_EXACT = 1L << 53;

  /** Float64 when it gives the number back as written (0.1, 1.50), else an exact decimal. */
  private static Schema numberSchema(BigDecimal value) {
    int scale = Math.max(0, value.stripTrailingZeros().scale());
    double d = value.doubleValue();
    if (!Double.isInfinite(d)
        && scale < FLOAT64_BY_SCALE.length
        && new BigDecimal(Double.toString(d)).compareTo(value) == 0) {
      return FLOAT64_BY_SCALE[scale];
    }
    return decimal(Math.max(0, value.scale()));
  }

  private static Schema decimal(int scale) {
    if (scale > MAX_DECIMAL_DIGITS) {
      throw tooManyDigits();
    }
    return Decimal.builder(scale).optional().build();
  }

  private static DataException tooManyDigits() {
    return new DataException(
        "a number has more than " + MAX_DECIMAL_DIGITS + " digits as a decimal");
  }

  /** One schema for two array elements, or a {@link DataException} when their shapes clash. */
  private static Schema merge(Schema a, Schema b) {
    if (a == UNKNOWN) {
      return b;
    }
    if (b == UNKNOWN) {
      return a;
    }
    if (a.type() == b.type() && a.type() == Schema.Type.STRUCT) {
      return mergeStructs(a, b);
    }
    if (a.type() == b.type() && a.type() == Schema.Type.ARRAY) {
      return SchemaBuilder.array(merge(a.valueSchema(), b.valueSchema())).optional().build();
    }
    if (isNumber(a) && isNumber(b)) {
      return mergeNumbers(a, b);
    }
    if (a.type() == b.type()) {
      return a;
    }
    throw new DataException("an array mixes elements of different shapes");
  }

  private static boolean isNumber(Schema schema) {
    return schema.type() == Schema.Type.INT64
        || schema.type() == Schema.Type.FLOAT64
        || isDecimal(schema);
  }

  private static boolean isDecimal(Schema schema) {
    return Decimal.LOGICAL_NAME.equals(schema.name());
  }

  /**
   * The narrowest schema that holds both kinds of number exactly: int64 with int64, float64 when
   * every value is exactly a float64 ([1, 2.5]), else a decimal with the larger scale.
   */
  private static Schema mergeNumbers(Schema a, Schema b) {
    boolean aInt = a.type() == Schema.Type.INT64;
    boolean bInt = b.type() == Schema.Type.INT64;
    if (aInt && bInt) {
      return a == WIDE_INT64 ? a : b;
    }
    if (isDecimal(a) || isDecimal(b) || a == WIDE_INT64 || b == WIDE_INT64) {
      return decimal(Math.max(scaleOf(a), scaleOf(b)));
    }
    return FLOAT64_BY_SCALE[Math.max(scaleOf(a), scaleOf(b))];
  }

  /** Decimal places a number schema's values have: 0 for integers. */
  private static int scaleOf(Schema number) {
    if (number.type() == Schema.Type.INT64) {
      return 0;
    }
    if (isDecimal(number)) {
      return Integer.parseInt(number.parameters().get(Decimal.SCALE_FIELD));
    }
    return SCALE_OF_FLOAT64.get(number);
  }

  /** The union of both structs' fields, in order of first appearance; shared fields merged. */
  private static Schema mergeStructs(Schema a, Schema b) {
    SchemaBuilder builder = SchemaBuilder.struct().optional();
    for (org.apache.kafka.connect.data.Field field : a.fields()) {
      org.apache.kafka.connect.data.Field other = b.field(field.name());
      builder.field(
          field.name(), other == null ? field.schema() : merge(field.schema(), other.schema()));
    }
    for (org.apache.kafka.connect.data.Field field : b.fields()) {
      if (a.field(field.name()) == null) {
        builder.field(field.name(), field.schema());
      }
    }
    return builder.build();
  }

  private static Object valueOf(JsonNode node, Schema schema) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (isDecimal(schema)) {
      return decimalValue(node.decimalValue(), scaleOf(schema));
    }
    switch (schema.type()) {
      case STRUCT:
        Struct struct = new Struct(schema);
        for (org.apache.kafka.connect.data.Field field : schema.fields()) {
          struct.put(field, valueOf(node.get(field.name()), field.schema()));
        }
        return struct;
      case ARRAY:
        List<Object> items = new ArrayList<>();
        for (JsonNode item : node) {
          items.add(valueOf(item, schema.valueSchema()));
        }
        return items;
      case INT64:
        return node.longValue();
      case FLOAT64:
        // a float64 schema only ever holds numbers it gives back as written
        double d = node.doubleValue();
        if (Double.isInfinite(d)) {
          throw new DataException("a number does not fit a float64");
        }
        return d;
      case BOOLEAN:
        return node.booleanValue();
      default:
        return node.isTextual() ? node.textValue() : node.toString();
    }
  }

  /**
   * The number at the schema's scale, which is at least its own, so no digit is rounded away.
   * Checked first: 1e30 at scale 1000000000 would be a billion digits.
   */
  private static BigDecimal decimalValue(BigDecimal value, int scale) {
    if ((long) value.precision() - value.scale() + scale > MAX_DECIMAL_DIGITS) {
      throw tooManyDigits();
    }
    try {
      return value.setScale(scale, RoundingMode.UNNECESSARY);
    } catch (ArithmeticException e) {
      throw new DataException("a number has more decimal places than its schema", e);
    }
  }
}
