package io.somastack.connect.qdrant.embed;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Internal.FloatList;
import io.qdrant.client.grpc.Points.NamedVectors;
import io.qdrant.client.grpc.Points.SparseVector;
import io.qdrant.client.grpc.Points.Vector;
import io.qdrant.client.grpc.Points.Vectors;
import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.common.record.StructFields;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.RandomAccess;
import java.util.function.Function;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;

/**
 * Vectors the record already carries (an embedding service wrote them, as on {@code
 * embedding.responses}). The field holds an array of numbers (a dense vector), an object {@code
 * {"indices": [...], "values": [...]}} (a sparse vector), or an object of named vectors of either
 * kind. The dense vector named {@code vector.name} must have {@code vector.size} dimensions.
 *
 * <p>The value is read as a JSON tree (a record of JSON text) or as Connect hands it over (a {@link
 * Map} or {@link Struct} holding a {@link List} of numbers): a vector of a few hundred floats is
 * read straight into a float array, never through one JSON node per number.
 */
public final class FieldEmbedder implements Embedder {

  private final FieldPath field;
  private final String vectorName;
  private final int size;

  public FieldEmbedder(FieldPath field, String vectorName, int size) {
    this.field = field;
    this.vectorName = vectorName;
    this.size = size;
  }

  /** The field the vectors are read from. */
  public FieldPath field() {
    return field;
  }

  @Override
  public List<Result> embed(List<JsonNode> values) {
    return embedValues(values);
  }

  /**
   * One result per value, in order; a value is a JSON tree or a Connect value ({@link Map}, {@link
   * Struct}).
   */
  public List<Result> embedValues(List<?> values) {
    List<Result> results = new ArrayList<>(values.size());
    Function<Object, Result> reader = reader();
    for (Object value : values) {
      results.add(reader.apply(value));
    }
    return results;
  }

  /**
   * Reads the vectors of values one at a time, as they come, for one batch on one thread: a value
   * is a JSON tree or a Connect value, as for {@link #embedValues}.
   */
  public Function<Object, Result> reader() {
    // One list to read every dense vector of the batch into: the message builder copies it into a
    // list of exactly the vector's size, so each vector costs one new float array, not two.
    FloatList scratch = VectorMessages.newFloats(size);
    return value -> read(value, scratch);
  }

  private Result read(Object value, FloatList scratch) {
    Object node = field.get(value);
    if (node == null) {
      return Result.rejected("no vector in field " + field);
    }
    try {
      if (isArray(node) || isSparse(node)) {
        Vector vector = vector(vectorName, node, scratch);
        if (vectorName.isEmpty() && vector.hasSparse()) {
          throw new IllegalArgumentException("a sparse vector needs a name; set vector.name");
        }
        return Result.of(VectorMessages.of(vectorName, vector));
      }
      if (isObject(node) && !fields(node).isEmpty()) {
        return Result.of(named(node, scratch));
      }
      return Result.rejected("field " + field + " is not a vector");
    } catch (IllegalArgumentException e) {
      return Result.rejected("field " + field + ": " + e.getMessage());
    }
  }

  /**
   * An object's named vectors. A null one (an optional Struct field, a JSON null) is a vector this
   * point does not have, which Qdrant allows: left out, not a reason to refuse the others.
   */
  private Vectors named(Object object, FloatList scratch) {
    NamedVectors.Builder named = NamedVectors.newBuilder();
    for (Map.Entry<String, Object> entry : fields(object)) {
      Object vector = entry.getValue();
      if (vector != null && !(vector instanceof JsonNode json && json.isNull())) {
        named.putVectors(entry.getKey(), vector(entry.getKey(), vector, scratch));
      }
    }
    if (named.getVectorsCount() == 0) {
      throw new IllegalArgumentException("no vector in it, every named vector is null");
    }
    return Vectors.newBuilder().setVectors(named).build();
  }

  private Vector vector(String name, Object node, FloatList scratch) {
    if (isSparse(node)) {
      return Vector.newBuilder().setSparse(sparse(node)).build();
    }
    if (!isArray(node)) {
      throw new IllegalArgumentException("vector '" + name + "' is neither an array nor sparse");
    }
    if (node instanceof Collection<?> items) {
      Vector vector = dense(name, items, scratch);
      if (vector != null) {
        return vector;
      }
    }
    float[] dense = floats(node);
    if (name.equals(vectorName)) {
      String problem = VectorMessages.checkDense(dense, size);
      if (problem != null) {
        throw new IllegalArgumentException(problem);
      }
    }
    return VectorMessages.dense(dense);
  }

  /**
   * A dense vector straight from a Connect list, checked on the way (as {@link
   * VectorMessages#checkDense} would), read into {@code floats} (emptied first) and copied from
   * there into the message; null when protobuf offers no such list.
   */
  private Vector dense(String name, Collection<?> items, FloatList floats) {
    if (floats == null) {
      return null;
    }
    floats.clear();
    if (items instanceof List<?> list && items instanceof RandomAccess) {
      for (int i = 0, n = list.size(); i < n; i++) {
        floats.addFloat(element(list.get(i), i));
      }
    } else {
      int i = 0;
      for (Object item : items) {
        floats.addFloat(element(item, i++));
      }
    }
    if (name.equals(vectorName) && floats.size() != size) {
      throw new IllegalArgumentException(
          "vector has " + floats.size() + " dimensions but vector.size is " + size);
    }
    return VectorMessages.dense(floats);
  }

  // ------------------------------------------------------------------ JSON trees and Connect
  // values

  private static boolean isArray(Object node) {
    return node instanceof JsonNode json ? json.isArray() : node instanceof Collection<?>;
  }

  private static boolean isObject(Object node) {
    return node instanceof JsonNode json
        ? json.isObject()
        : node instanceof Map<?, ?> || node instanceof Struct;
  }

  /** An object's fields in order; a missing or null field's value is null. */
  private static List<Map.Entry<String, Object>> fields(Object object) {
    List<Map.Entry<String, Object>> fields = new ArrayList<>();
    if (object instanceof JsonNode json) {
      Iterator<Map.Entry<String, JsonNode>> entries = json.fields();
      while (entries.hasNext()) {
        Map.Entry<String, JsonNode> entry = entries.next();
        fields.add(new SimpleImmutableEntry<>(entry.getKey(), entry.getValue()));
      }
    } else if (object instanceof Map<?, ?> map) {
      map.forEach((k, v) -> fields.add(new SimpleImmutableEntry<>(String.valueOf(k), v)));
    } else if (object instanceof Struct struct) {
      for (Field f : struct.schema().fields()) {
        fields.add(new SimpleImmutableEntry<>(f.name(), StructFields.valueOf(struct, f)));
      }
    }
    return fields;
  }

  private static boolean isSparse(Object node) {
    if (node instanceof JsonNode json) {
      return json.isObject() && json.size() == 2 && json.has("indices") && json.has("values");
    }
    if (node instanceof Map<?, ?> map) {
      // FieldPath.valueOf, not containsKey: a TreeMap keyed by numbers throws for a text key
      return map.size() == 2
          && FieldPath.valueOf(map, "indices") != null
          && FieldPath.valueOf(map, "values") != null;
    }
    if (node instanceof Struct struct) {
      return struct.schema().fields().size() == 2
          && struct.schema().field("indices") != null
          && struct.schema().field("values") != null;
    }
    return false;
  }

  private static SparseVector sparse(Object node) {
    Object indices = FieldPath.child(node, "indices");
    float[] values = floats(FieldPath.child(node, "values"));
    List<?> items = items(indices);
    if (items == null || items.size() != values.length) {
      throw new IllegalArgumentException("sparse vector needs as many indices as values");
    }
    SparseVector.Builder sparse = SparseVector.newBuilder();
    int[] read = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      read[i] = index(items.get(i), i);
      sparse.addIndices(read[i]).addValues(values[i]);
    }
    checkUnique(read);
    return sparse.build();
  }

  /**
   * Qdrant refuses a sparse vector that names an index twice, and the whole request with it: found
   * here, the record is dead-lettered with the reason, not found by splitting the batch.
   */
  private static void checkUnique(int[] indices) {
    Arrays.sort(indices); // uint32s in ints: the order is off above 2^31, equality is not
    for (int i = 1; i < indices.length; i++) {
      if (indices[i] == indices[i - 1]) {
        throw new IllegalArgumentException(
            "sparse vector holds an index more than once; its indices must be unique");
      }
    }
  }

  private static List<?> items(Object array) {
    if (array instanceof JsonNode json) {
      if (!json.isArray()) {
        return null;
      }
      List<JsonNode> items = new ArrayList<>(json.size());
      json.forEach(items::add);
      return items;
    }
    return array instanceof List<?> list
        ? list
        : array instanceof Collection<?> c ? new ArrayList<>(c) : null;
  }

  private static int index(Object item, int position) {
    long index;
    if (item instanceof JsonNode json) {
      if (!json.isIntegralNumber() || !json.canConvertToLong()) {
        throw notAnIndex(position); // 1.5 is no index, and must not pass as 1
      }
      index = json.asLong();
    } else if (item instanceof Number number && Double.isFinite(number.doubleValue())) {
      double value = number.doubleValue();
      if (value < 0 || value > 0xffffffffL || value != Math.rint(value)) {
        throw notAnIndex(position);
      }
      index = number.longValue();
    } else {
      throw notAnIndex(position);
    }
    if (index < 0 || index > 0xffffffffL) {
      throw notAnIndex(position);
    }
    return (int) index;
  }

  /** Named by position: the item may be any record value (a string, a struct), never quoted. */
  private static IllegalArgumentException notAnIndex(int position) {
    return new IllegalArgumentException(
        "sparse index at position " + position + " is not a uint32");
  }

  private static float[] floats(Object array) {
    if (array instanceof JsonNode json && json.isArray()) {
      return floats(json);
    }
    if (!(array instanceof Collection<?> items)) {
      throw new IllegalArgumentException("expected an array of numbers");
    }
    float[] values = new float[items.size()];
    if (items instanceof List<?> list && items instanceof RandomAccess) {
      for (int i = 0; i < values.length; i++) {
        values[i] = element(list.get(i), i);
      }
    } else {
      int i = 0;
      for (Object item : items) {
        values[i] = element(item, i);
        i++;
      }
    }
    return values;
  }

  private static float element(Object item, int i) {
    float value;
    if (item instanceof Float f) {
      value = f; // the common case (FLOAT32 arrays), without a call through Number
    } else if (item instanceof Number number) {
      value = number.floatValue();
    } else {
      throw new IllegalArgumentException("vector element " + i + " is not a number");
    }
    if (!Float.isFinite(value)) {
      throw new IllegalArgumentException("vector element " + i + " is not a finite float");
    }
    return value;
  }

  private static float[] floats(JsonNode array) {
    float[] values = new float[array.size()];
    for (int i = 0; i < values.length; i++) {
      JsonNode item = array.get(i);
      if (!item.isNumber()) {
        throw new IllegalArgumentException("vector element " + i + " is not a number");
      }
      values[i] = item.floatValue();
      if (!Float.isFinite(values[i])) {
        throw new IllegalArgumentException("vector element " + i + " is not a finite float");
      }
    }
    return values;
  }
}
