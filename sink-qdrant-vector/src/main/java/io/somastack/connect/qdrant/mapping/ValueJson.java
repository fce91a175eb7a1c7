package io.somastack.connect.qdrant.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.somastack.connect.common.json.ConnectJson;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.common.record.StructFields;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;

/**
 * A record value as a JSON tree without one field: the vector the field embedder reads straight
 * from the Connect value, for a collection template to render ${value.x} against. Converting a
 * 384-float vector into 384 JSON nodes that no template reads was most of the sink's CPU per
 * record.
 */
final class ValueJson {

  private static final JsonNodeFactory NODES = JsonNodeFactory.withExactBigDecimals(true);

  private ValueJson() {}

  /**
   * {@link RecordJson#toJson} of the value, minus the field at {@code skip} when the value is a
   * {@link Map} or {@link Struct}; other values (JSON text) convert whole.
   */
  static JsonNode toJsonWithout(Object value, Schema schema, FieldPath skip) {
    if (value instanceof Map<?, ?> || value instanceof Struct) {
      return without(value, schema, skip.segments());
    }
    return RecordJson.toJson(value, schema);
  }

  private static JsonNode without(Object value, Schema schema, List<String> skip) {
    String name = skip.get(0);
    List<String> rest = skip.subList(1, skip.size());
    ObjectNode object = NODES.objectNode();
    if (value instanceof Struct struct) {
      for (Field field : struct.schema().fields()) {
        Object child = StructFields.valueOf(struct, field);
        if (!field.name().equals(name)) {
          object.set(field.name(), RecordJson.convert(child, field.schema()));
        } else if (!rest.isEmpty()) {
          object.set(field.name(), convertWithout(child, field.schema(), rest));
        }
      }
      return object;
    }
    Schema valueSchema = schema == null ? null : schema.valueSchema();
    Schema keySchema = schema == null ? null : schema.keySchema();
    for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
      String key = ConnectJson.fieldName(entry.getKey(), keySchema);
      JsonNode node;
      if (!key.equals(name)) {
        node = RecordJson.convert(entry.getValue(), valueSchema);
      } else if (!rest.isEmpty()) {
        node = convertWithout(entry.getValue(), valueSchema, rest);
      } else {
        continue;
      }
      // keys of one text (1 and "1") would be one name, and a template would read either: refused
      // as RecordJson refuses them everywhere else
      if (object.replace(key, node) != null) {
        throw ConnectJson.duplicateName();
      }
    }
    return object;
  }

  private static JsonNode convertWithout(Object value, Schema schema, List<String> skip) {
    if (value instanceof Map<?, ?> || value instanceof Struct) {
      return without(value, schema, skip);
    }
    return RecordJson.convert(value, schema);
  }
}
