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
 * whose elements all have the same schema. Every field is optional; JSON null is an optional string
 * that is null. An array mixing element types cannot be given a schema: {@link DataException}.
 */
final class JsonStructs {

  private JsonStructs() {}

  static SchemaAndValue toStruct(JsonNode object, String name) {
    Schema schema = schemaOf(object, name);
    return new SchemaAndValue(schema, valueOf(object, schema));
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
      Schema element = null;
      for (JsonNode item : node) {
        if (item.isNull()) {
          continue;
        }
        Schema itemSchema = schemaOf(item, null);
        if (element == null) {
          element = itemSchema;
        } else if (!element.equals(itemSchema)) {
          throw new DataException("an array mixes elements of different shapes");
        }
      }
      return SchemaBuilder.array(element == null ? Schema.OPTIONAL_STRING_SCHEMA : element)
          .optional()
          .build();
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
