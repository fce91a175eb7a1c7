package io.somastack.connect.testing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;

/**
 * Values nested {@code depth} levels deep, each level an object with one field "a", down to a leaf:
 * the inputs of the tests that a record too deep for a task thread's stack fails alone.
 */
public final class DeepValues {

  private DeepValues() {}

  /** A schemaless value: maps inside maps, {@code depth} of them, around the leaf. */
  public static Map<String, Object> map(int depth, Object leaf) {
    Object node = leaf;
    for (int i = 0; i < depth; i++) {
      Map<String, Object> parent = new HashMap<>();
      parent.put("a", node);
      node = parent;
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> top = (Map<String, Object>) node;
    return top;
  }

  /** The schema of {@link #struct}: {@code depth} optional structs around an optional string. */
  public static Schema schema(int depth) {
    Schema schema = SchemaBuilder.string().optional().build();
    for (int i = 0; i < depth; i++) {
      schema = SchemaBuilder.struct().optional().field("a", schema).build();
    }
    return schema;
  }

  /**
   * A Struct of {@code top} (made by {@link #schema}) around the leaf, built from the leaf up.
   * Struct.put checks the whole value below it, so building one takes time quadratic in its depth:
   * build it once per depth and share it.
   */
  public static Struct struct(Schema top, String leaf) {
    List<Schema> schemas = new ArrayList<>();
    for (Schema s = top; s.type() == Schema.Type.STRUCT; s = s.field("a").schema()) {
      schemas.add(s);
    }
    Object node = leaf;
    for (int i = schemas.size() - 1; i >= 0; i--) {
      node = new Struct(schemas.get(i)).put("a", node);
    }
    return (Struct) node;
  }

  /** JSON text: {@code depth} objects around the leaf's JSON text. */
  public static String json(int depth, String leafJson) {
    return String.join("", Collections.nCopies(depth, "{\"a\":")) + leafJson + "}".repeat(depth);
  }
}
