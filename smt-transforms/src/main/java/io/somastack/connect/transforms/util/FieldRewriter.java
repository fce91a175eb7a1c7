package io.somastack.connect.transforms.util;

import io.somastack.connect.common.path.FieldPath;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.ConnectSchema;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;

/**
 * Rewrites the fields at a set of nested paths in a schemaless {@link Map} or a {@link Struct} in
 * one pass, copying only what lies on those paths (records are immutable once handed to a
 * transform). For Structs the rebuilt schema comes from a {@link SchemaCache}, so a stream of
 * records with one schema rebuilds it once. A Map with a MAP schema (what JsonConverter with
 * schemas.enable=true makes of a map-typed payload) keeps its schema while the rewritten map still
 * fits it; a MAP schema has one type for all its values, so where a new value does not fit (a hash
 * where numbers were) the map goes on schemaless, as every map did before MAP schemas were kept.
 *
 * <p>The paths are kept as a tree of segments; a path must not be a prefix of another. A value on a
 * path that is present but not an object (a list, a scalar, a Struct field of another type) is a
 * {@link ShapeException}: skipping it would leave the fields inside it untouched, which for
 * encryption and redaction means in the clear.
 *
 * <p>A map-typed field of a Struct (JsonConverter with schemas.enable=true gives one to an object
 * of strings) is such a path only for a rewriter made with {@code intoStructMaps}: the map keeps
 * its schema, which the Struct's schema fixes, so every value put into it must fit the map's value
 * type, or the record fails.
 */
public final class FieldRewriter {

  /** The schema of a rewritten leaf, given the original (null when the field does not exist). */
  @FunctionalInterface
  public interface LeafSchema {
    Schema apply(FieldPath path, Schema original);
  }

  /**
   * The new value of a leaf; {@code schema} is the original field schema, or the value schema of
   * the map holding it (null when schemaless); {@code target} is the schema the leaf has in the
   * rewritten value: the rebuilt Struct's field schema ({@link LeafSchema}'s, cached with the
   * rebuilt schema), or for a map the same as {@code schema}.
   */
  @FunctionalInterface
  public interface LeafValue {
    Object apply(FieldPath path, Object value, Schema schema, Schema target);
  }

  /** The value's shape does not admit the configured paths (e.g. a parent is not an object). */
  public static final class ShapeException extends DataException {
    private static final long serialVersionUID = 1L;

    ShapeException(String message) {
      super(message);
    }
  }

  private static final class Node {
    final Map<String, Node> children = new LinkedHashMap<>();

    /** The path of this node as text, for messages ("" for the root). */
    final String name;

    FieldPath path;

    Node(String name) {
      this.name = name;
    }

    String childName(String segment) {
      String escaped = segment.replace(".", "\\.");
      return name.isEmpty() ? escaped : name + "." + escaped;
    }

    boolean isLeaf() {
      return path != null;
    }
  }

  private final Node root = new Node("");
  private final LeafSchema leafSchema;
  private final boolean visitMissing;
  private final boolean intoStructMaps;
  private final SchemaCache schemas;

  /**
   * @param visitMissing when true, missing leaves (and missing parents) are created, the leaf
   *     function is called with a null value, and its non-null result is added; when false, null
   *     and missing leaves are left alone.
   */
  public FieldRewriter(Collection<FieldPath> paths, LeafSchema leafSchema, boolean visitMissing) {
    this(paths, leafSchema, visitMissing, false);
  }

  /**
   * @param intoStructMaps when true, paths go on into a Struct's map fields (with string keys) as
   *     they do into schemaless maps; each leaf there must keep the map's value schema ({@code
   *     leafSchema} must return it unchanged) and each new value must fit it. When false, such a
   *     path is a {@link ShapeException}.
   */
  public FieldRewriter(
      Collection<FieldPath> paths,
      LeafSchema leafSchema,
      boolean visitMissing,
      boolean intoStructMaps) {
    this.leafSchema = leafSchema;
    this.visitMissing = visitMissing;
    this.intoStructMaps = intoStructMaps;
    this.schemas = new SchemaCache(schema -> structSchema(schema, root));
    paths.forEach(path -> add(root, path));
  }

  /**
   * Checks that no path lies inside or repeats another, as a rewriter requires, so a config can be
   * refused when it is validated.
   *
   * @throws IllegalArgumentException naming the first path that does
   */
  public static void requireDisjoint(Collection<FieldPath> paths) {
    Node root = new Node("");
    paths.forEach(path -> add(root, path));
  }

  private static void add(Node root, FieldPath path) {
    Node node = root;
    for (String segment : path.segments()) {
      if (node.isLeaf()) {
        throw new IllegalArgumentException(
            "field path '" + path + "' lies inside '" + node.path + "'");
      }
      Node parent = node;
      node = node.children.computeIfAbsent(segment, s -> new Node(parent.childName(s)));
    }
    if (node.isLeaf() || !node.children.isEmpty()) {
      throw new IllegalArgumentException("field path '" + path + "' overlaps another path");
    }
    node.path = path;
  }

  /** The rewritten schema of a Struct schema (cached). */
  public Schema schema(Schema structSchema) {
    return schemas.get(structSchema);
  }

  /**
   * Rewrites one side of a record; a {@link ShapeException} becomes a {@link DataException} that
   * names the record's coordinates (and, like the shape message, none of its values).
   */
  public Object rewrite(ConnectRecord<?> record, Object value, Schema schema, LeafValue leaf) {
    try {
      return rewrite(value, schema, leaf);
    } catch (ShapeException e) {
      throw Records.error(record, e.getMessage());
    }
  }

  /**
   * Rewrites a Map or a Struct; anything else is a {@link DataException}. {@code schema} is the
   * value's schema: a Struct's own, a Map's MAP schema, or null.
   */
  public Object rewrite(Object value, Schema schema, LeafValue leaf) {
    if (value instanceof Struct struct) {
      return struct(struct, struct.schema(), schema(struct.schema()), root, leaf);
    }
    if (value instanceof Map<?, ?> map) {
      return map(map, mapSchema(schema), root, leaf, false);
    }
    throw new ShapeException(
        "expected a Map or a Struct but found "
            + (value == null ? "null" : value.getClass().getSimpleName()));
  }

  /**
   * The schema of a rewritten value: a Struct's rebuilt one, or the MAP schema a Map had when the
   * rewritten map still fits it; null for a schemaless Map, or one that no longer fits (a record
   * whose schema no longer describes it would fail in the converter instead).
   */
  public static Schema schemaOf(Object rewritten, Schema original) {
    if (rewritten instanceof Struct struct) {
      return struct.schema();
    }
    Schema schema = mapSchema(original);
    return rewritten instanceof Map<?, ?> && schema != null && fits(schema, rewritten)
        ? schema
        : null;
  }

  private static Schema mapSchema(Schema schema) {
    return schema != null && schema.type() == Schema.Type.MAP ? schema : null;
  }

  /**
   * Copies a Map, rewriting the paths below {@code node}; {@code schema} is its MAP schema. A map
   * held by a Struct ({@code fixed}) cannot go on schemaless, so a new value that does not fit its
   * value schema fails here.
   */
  private Map<Object, Object> map(
      Map<?, ?> source, Schema schema, Node node, LeafValue leaf, boolean fixed) {
    if (schema != null && schema.keySchema().type() != Schema.Type.STRING) {
      throw nonTextKeys(node, schema.keySchema().type());
    }
    Schema values = schema == null ? null : schema.valueSchema();
    Map<Object, Object> copy = new LinkedHashMap<>(source);
    for (Map.Entry<String, Node> entry : node.children.entrySet()) {
      String name = entry.getKey();
      Node child = entry.getValue();
      Object value = lookup(source, name, node);
      if (child.isLeaf()) {
        if (value != null || visitMissing) {
          Object rewritten = leaf.apply(child.path, value, values, values);
          if (fixed && rewritten != null && !fits(values, rewritten)) {
            throw new ShapeException(
                "field '"
                    + child.name
                    + "' would go into the map '"
                    + node.name
                    + "', whose values are of type "
                    + values.type()
                    + ", which cannot hold its new value");
          }
          putUnlessNull(copy, name, rewritten);
        }
      } else if (value instanceof Map<?, ?> nested) {
        copy.put(name, map(nested, mapSchema(values), child, leaf, fixed));
      } else if (value != null) {
        throw unreachable(name, "is not an object");
      } else if (visitMissing) {
        copy.put(name, map(Map.of(), mapSchema(values), child, leaf, fixed));
      }
    }
    return copy;
  }

  /**
   * The value under the text key {@code name}. A schemaless map may be keyed by numbers or other
   * objects, which a path (text) cannot name: where such a key prints as {@code name}, the path
   * means it, and reading it as missing would leave it untouched (in the clear, for encryption).
   */
  private Object lookup(Map<?, ?> source, String name, Node node) {
    Object value;
    boolean present;
    try {
      value = source.get(name);
      present = value != null || source.containsKey(name);
    } catch (ClassCastException keysNotText) {
      // a sorted map keyed by numbers cannot compare a text key with its own (see
      // FieldPath.valueOf)
      value = null;
      present = false;
    }
    if (!present) {
      for (Object key : source.keySet()) {
        if (key != null && !(key instanceof String) && name.equals(String.valueOf(key))) {
          throw nonTextKeys(node, key.getClass().getSimpleName());
        }
      }
    }
    return value;
  }

  /** Paths are text: they cannot name the keys of a map keyed by anything else. */
  private ShapeException nonTextKeys(Node node, Object keyType) {
    if (node.name.isEmpty()) {
      return new ShapeException(
          "the top-level map has keys of type "
              + keyType
              + ", which the configured field paths (text) cannot name");
    }
    return unreachable(node.name, "is a map with keys of type " + keyType);
  }

  private static boolean fits(Schema schema, Object value) {
    try {
      ConnectSchema.validateValue(schema, value);
      return true;
    } catch (DataException e) {
      return false;
    }
  }

  private static void putUnlessNull(Map<Object, Object> map, String name, Object value) {
    if (value != null || map.containsKey(name)) {
      map.put(name, value);
    }
  }

  /** The configured paths below field {@code name} cannot be followed into its value. */
  private ShapeException unreachable(String name, String problem) {
    return new ShapeException(
        "field '"
            + name
            + "' "
            + problem
            + (visitMissing
                ? ", so nothing can be added to it"
                : ", so the configured fields inside it cannot be reached"));
  }

  /**
   * A required field would be left null: Struct.put would fail with Kafka's bare "null used for
   * required field", which names neither the path nor the record. It happens where a null optional
   * Struct is made anew to hold added fields and it has a required field nothing adds: no value for
   * it can be made up.
   */
  private static ShapeException requiredWithoutValue(Struct source, Node node, Field field) {
    String required = node.childName(field.name());
    if (source == null) {
      return new ShapeException(
          "field '"
              + node.name
              + "' is null, and a new one for the added fields cannot be made: its required"
              + " field '"
              + required
              + "' has no value");
    }
    return new ShapeException("required field '" + required + "' would be null");
  }

  private Schema structSchema(Schema source, Node node) {
    SchemaBuilder builder = copyBasics(source);
    for (Field field : source.fields()) {
      builder.field(field.name(), fieldSchema(field, node.children.get(field.name())));
    }
    if (visitMissing) {
      for (Map.Entry<String, Node> entry : node.children.entrySet()) {
        if (source.field(entry.getKey()) == null) {
          builder.field(entry.getKey(), missingSchema(entry.getValue()));
        }
      }
    }
    return builder.build();
  }

  private Schema fieldSchema(Field field, Node child) {
    if (child == null) {
      return field.schema();
    }
    if (child.isLeaf()) {
      return leafSchema.apply(child.path, field.schema());
    }
    if (field.schema().type() == Schema.Type.STRUCT) {
      return structSchema(field.schema(), child);
    }
    if (intoStructMaps && field.schema().type() == Schema.Type.MAP) {
      requireRewritable(field.schema(), child);
      return field.schema();
    }
    throw unreachable(field.name(), "is not a struct");
  }

  /**
   * A Struct's map field keeps its schema: its keys must be strings (path segments are), every leaf
   * below it must keep the map's value schema, and a deeper path needs maps of maps.
   */
  private void requireRewritable(Schema map, Node node) {
    if (map.keySchema().type() != Schema.Type.STRING) {
      throw nonTextKeys(node, map.keySchema().type());
    }
    Schema values = map.valueSchema();
    for (Node child : node.children.values()) {
      if (child.isLeaf()) {
        if (!values.equals(leafSchema.apply(child.path, values))) {
          throw new ShapeException(
              "field '"
                  + child.name
                  + "' would go into the map '"
                  + node.name
                  + "', whose values are of type "
                  + values.type()
                  + ", which cannot hold it");
        }
      } else if (values.type() == Schema.Type.MAP) {
        requireRewritable(values, child);
      } else {
        throw unreachable(child.name, "is not an object");
      }
    }
  }

  private Schema missingSchema(Node node) {
    if (node.isLeaf()) {
      return leafSchema.apply(node.path, null);
    }
    return structSchema(SchemaBuilder.struct().optional().build(), node);
  }

  /**
   * Everything but the default: a Struct default fits only the schema it was made with (Kafka
   * compares Struct schemas by class and content), never the rebuilt one, and its rewritten fields
   * would depend on the record (tenant, nonce). A value reads its parent's default instead.
   */
  private static SchemaBuilder copyBasics(Schema source) {
    SchemaBuilder builder = SchemaBuilder.struct().name(source.name()).version(source.version());
    builder.doc(source.doc());
    if (source.parameters() != null) {
      builder.parameters(source.parameters());
    }
    return source.isOptional() ? builder.optional() : builder;
  }

  /**
   * A leaf's value as it is, not the schema default Struct.get reads for a null: a null field is
   * left alone (not hashed or encrypted as its default) or is empty (stamped), and a copied null
   * stays null rather than becoming the default written out. A required parent's value is what it
   * holds, its default when unset: the rebuilt schema has no default (see copyBasics), so the paths
   * below are rewritten in a copy of it, as in any other value.
   */
  private static Object valueOf(Struct source, Field original, Node child) {
    // only a required parent: an optional one left null stays null, as it was written
    return child != null && !child.isLeaf() && !original.schema().isOptional()
        ? source.get(original)
        : source.getWithoutDefault(original.name());
  }

  /**
   * Rewrites {@code source} into a Struct of the rebuilt schema {@code target}. {@code
   * sourceSchema} is the schema {@code source} has, kept apart from it: a null optional Struct made
   * anew to hold added fields has no value, but its fields have their schemas, and a leaf there
   * must see its own (a Timestamp ingest field stamped as a Date, an int field refused with the
   * record's coordinates), as it does when the Struct is present. It is null only for a Struct the
   * rewrite adds.
   */
  private Struct struct(
      Struct source, Schema sourceSchema, Schema target, Node node, LeafValue leaf) {
    Struct out = new Struct(target);
    for (Field field : target.fields()) {
      Node child = node.children.get(field.name());
      Field original = sourceSchema == null ? null : sourceSchema.field(field.name());
      Object value = original == null || source == null ? null : valueOf(source, original, child);
      Object rewritten = value;
      if (child != null && child.isLeaf()) {
        if (value != null || visitMissing) {
          rewritten =
              leaf.apply(
                  child.path, value, original == null ? null : original.schema(), field.schema());
        }
      } else if (child != null && (value != null || visitMissing)) {
        rewritten =
            field.schema().type() == Schema.Type.MAP
                ? map(
                    value == null ? Map.of() : (Map<?, ?>) value, field.schema(), child, leaf, true)
                : struct(
                    (Struct) value,
                    original == null ? null : original.schema(),
                    field.schema(),
                    child,
                    leaf);
      }
      // null is what a new Struct holds; put(null) would fail a required field with a default,
      // which a Struct may hold as null (its default reads in its place)
      if (rewritten != null) {
        out.put(field, rewritten);
      } else if (!field.schema().isOptional() && field.schema().defaultValue() == null) {
        throw requiredWithoutValue(source, node, field);
      }
    }
    return out;
  }
}
