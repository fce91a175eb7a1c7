package io.somastack.connect.qdrant.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qdrant.client.grpc.JsonWithInt.ListValue;
import io.qdrant.client.grpc.JsonWithInt.NullValue;
import io.qdrant.client.grpc.JsonWithInt.Struct;
import io.qdrant.client.grpc.JsonWithInt.Value;
import io.qdrant.client.grpc.Points.PointStruct;
import io.somastack.connect.common.path.FieldPath;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** The payload of a point: the record value, narrowed to the configured fields. */
public final class Payloads {

  private final List<FieldPath> include;
  private final List<FieldPath> exclude;

  /** include empty means the whole value; exclude is applied after include. */
  public Payloads(List<FieldPath> include, List<FieldPath> exclude) {
    this.include = List.copyOf(include);
    this.exclude = List.copyOf(exclude);
  }

  /**
   * Puts the payload fields straight into the point's own payload map: a map of our own, copied
   * into the builder's, was one more hash map per point.
   */
  public void putInto(ObjectNode value, PointStruct.Builder point) {
    ObjectNode payload = include.isEmpty() ? value : included(value);
    Iterator<Map.Entry<String, JsonNode>> entries = payload.fields();
    while (entries.hasNext()) {
      Map.Entry<String, JsonNode> entry = entries.next();
      JsonNode field = withoutExcluded(entry.getKey(), entry.getValue());
      if (field != null) {
        point.putPayload(entry.getKey(), value(field));
      }
    }
  }

  /**
   * A top-level field minus the excluded paths under it, or null when it is excluded itself. Only a
   * field with an excluded path inside is copied: vectors and large texts are never copied.
   */
  private JsonNode withoutExcluded(String name, JsonNode field) {
    ObjectNode copy = null;
    for (FieldPath path : exclude) {
      if (!path.segments().get(0).equals(name)) {
        continue;
      }
      if (path.isTopLevel()) {
        return null;
      }
      if (!(field instanceof ObjectNode)) {
        continue;
      }
      copy = copy == null ? ((ObjectNode) field).deepCopy() : copy;
      remove(copy, path.segments().subList(1, path.segments().size()));
    }
    return copy == null ? field : copy;
  }

  private ObjectNode included(ObjectNode value) {
    ObjectNode payload = value.objectNode();
    for (FieldPath path : include) {
      if (path.get(value) instanceof JsonNode found) {
        ObjectNode parent = payload;
        List<String> segments = path.segments();
        for (String segment : segments.subList(0, segments.size() - 1)) {
          parent =
              parent.has(segment) ? (ObjectNode) parent.get(segment) : parent.putObject(segment);
        }
        parent.set(path.leaf(), found);
      }
    }
    return payload;
  }

  private static void remove(ObjectNode object, List<String> segments) {
    JsonNode parent = object;
    for (String segment : segments.subList(0, segments.size() - 1)) {
      parent = parent.path(segment);
    }
    if (parent instanceof ObjectNode found) {
      found.remove(segments.get(segments.size() - 1));
    }
  }

  /** JSON to Qdrant's JSON-with-integers: integers that fit a long stay integers. */
  static Value value(JsonNode node) {
    Value.Builder value = Value.newBuilder();
    switch (node.getNodeType()) {
      case OBJECT -> {
        Struct.Builder struct = Struct.newBuilder();
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
          Map.Entry<String, JsonNode> field = fields.next();
          struct.putFields(field.getKey(), value(field.getValue()));
        }
        value.setStructValue(struct);
      }
      case ARRAY -> {
        ListValue.Builder list = ListValue.newBuilder();
        node.forEach(item -> list.addValues(value(item)));
        value.setListValue(list);
      }
      case STRING -> value.setStringValue(node.textValue());
      case BOOLEAN -> value.setBoolValue(node.booleanValue());
      case NUMBER -> {
        if (node.isIntegralNumber() && node.canConvertToLong()) {
          value.setIntegerValue(node.longValue());
        } else {
          value.setDoubleValue(node.doubleValue());
        }
      }
      case BINARY -> value.setStringValue(node.asText());
      default -> value.setNullValue(NullValue.NULL_VALUE);
    }
    return value.build();
  }
}
