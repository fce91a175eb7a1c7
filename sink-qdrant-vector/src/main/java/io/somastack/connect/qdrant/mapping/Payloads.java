package io.somastack.connect.qdrant.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qdrant.client.grpc.JsonWithInt.Value;
import io.qdrant.client.grpc.Points.PointStruct;
import io.somastack.connect.common.json.ConnectJson;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.path.FieldPath;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;

/**
 * The payload of a point: the record value, narrowed to the configured fields. It reads the value
 * as the converter made it (a schemaless {@link Map}, a {@link Struct}, or the tree of JSON text)
 * and builds Qdrant's values from it directly: a Jackson tree in between was a third of the
 * mapping's CPU per point.
 */
public final class Payloads {

  private static final JsonNodeFactory NODES = JsonNodeFactory.withExactBigDecimals(true);

  private final List<FieldPath> include;
  private final Excluded excluded = new Excluded();

  /** include empty means the whole value; exclude is applied after include. */
  public Payloads(List<FieldPath> include, List<FieldPath> exclude) {
    this.include = List.copyOf(include);
    for (FieldPath path : exclude) {
      Excluded node = excluded;
      for (String segment : path.segments()) {
        node = node.under.computeIfAbsent(segment, name -> new Excluded());
      }
      node.whole = true;
    }
  }

  /**
   * Excluded paths as a tree: a field is left out whole, or has fields under it left out. Only a
   * field with an excluded path inside is rebuilt field by field; vectors and long texts that are
   * not excluded are converted once, as they are.
   */
  private static final class Excluded {
    boolean whole;
    final Map<String, Excluded> under = new HashMap<>();
  }

  /**
   * Puts the payload fields of a value (a Map, Struct or JSON object tree; schema is the Connect
   * schema of a Struct or Map, or null) straight into the point's own payload map.
   */
  public void putInto(Object value, Schema schema, PointStruct.Builder point) {
    if (include.isEmpty()) {
      putFields(value, schema, excluded, point::putPayload);
    } else {
      putFields(included(value, schema), null, excluded, point::putPayload);
    }
  }

  private static void putFields(
      Object value, Schema schema, Excluded excluded, BiConsumer<String, Value> into) {
    if (value instanceof Struct struct) {
      for (Field field : struct.schema().fields()) {
        put(field.name(), struct.get(field), field.schema(), excluded, into);
      }
    } else if (value instanceof Map<?, ?> map) {
      Schema valueSchema = schema == null ? null : schema.valueSchema();
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        put(String.valueOf(entry.getKey()), entry.getValue(), valueSchema, excluded, into);
      }
    } else {
      Iterator<Map.Entry<String, JsonNode>> fields = ((JsonNode) value).fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> field = fields.next();
        put(field.getKey(), field.getValue(), null, excluded, into);
      }
    }
  }

  private static void put(
      String name, Object value, Schema schema, Excluded excluded, BiConsumer<String, Value> into) {
    Excluded under = excluded.under.get(name);
    if (under == null) {
      into.accept(name, ConnectJson.convert(value, schema, PayloadValues.INSTANCE));
    } else if (!under.whole) {
      into.accept(name, without(value, schema, under));
    }
  }

  /** A value minus the excluded fields under it; exclusions apply inside objects only. */
  private static Value without(Object value, Schema schema, Excluded excluded) {
    if (value instanceof Map<?, ?> || value instanceof Struct || value instanceof ObjectNode) {
      io.qdrant.client.grpc.JsonWithInt.Struct.Builder struct =
          io.qdrant.client.grpc.JsonWithInt.Struct.newBuilder();
      putFields(value, schema, excluded, struct::putFields);
      return Value.newBuilder().setStructValue(struct).build();
    }
    return ConnectJson.convert(value, schema, PayloadValues.INSTANCE);
  }

  /**
   * An object of only the included paths, each at its own path; paths the value lacks are left out.
   */
  private ObjectNode included(Object value, Schema schema) {
    ObjectNode payload = NODES.objectNode();
    for (FieldPath path : include) {
      Object found = path.get(value);
      if (found == null) {
        continue;
      }
      ObjectNode parent = payload;
      List<String> segments = path.segments();
      for (String segment : segments.subList(0, segments.size() - 1)) {
        parent =
            parent.get(segment) instanceof ObjectNode child ? child : parent.putObject(segment);
      }
      parent.set(
          path.leaf(),
          found instanceof JsonNode node ? node : RecordJson.convert(found, path.schemaIn(schema)));
    }
    return payload;
  }
}
