package io.somastack.connect.outbox;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
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
 */
final class JsonStructs {

  private JsonStructs() {}

  static SchemaAndValue toStruct(JsonNode object, String name) {
    Schema schema = schemaOf(object, name);
    return new SchemaAndValue(schema, valueOf(object, schema));
  }

  /**
   * The schema of a JSON null, or of an empty array's elements: an optional string unless merged
   * with a known shape. Told apart by identity, since it equals every other optional string schema.
   */
  private static final Schema UNKNOWN = SchemaBuilder.string().optional().build();

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
      return Schema.OPTIONAL_INT64_SCHEMA;
    }
    if (node.isNumber()) {
      return Schema.OPTIONAL_FLOAT64_SCHEMA;
    }
    if (node.isBoolean()) {
      return Schema.OPTIONAL_BOOLEAN_SCHEMA;
    }
    return Schema.OPTIONAL_STRING_SCHEMA;
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
    if (a.type() == b.type()) {
      return a;
    }
    if (isNumber(a) && isNumber(b)) {
      return Schema.OPTIONAL_FLOAT64_SCHEMA; // [1, 2.5]: every element a float64
    }
    throw new DataException("an array mixes elements of different shapes");
  }

  private static boolean isNumber(Schema schema) {
    return schema.type() == Schema.Type.INT64 || schema.type() == Schema.Type.FLOAT64;
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
}
