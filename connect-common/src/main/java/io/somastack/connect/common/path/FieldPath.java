package io.somastack.connect.common.path;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.record.StructFields;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;

/**
 * A dotted path into a record value, such as {@code metadata.tenant_id}. The one path syntax of
 * every soma-connect plugin and transform: it reads schemaless {@link Map} values, {@link Struct}
 * values and Jackson trees alike. A segment that itself contains a dot is written with a backslash
 * before the dot ({@code labels.app\.kubernetes\.io/name}). A segment is always a name: digits do
 * not index into arrays or lists, and a Map reads only String keys (as schemaless JSON has).
 */
public final class FieldPath {

  private final String text;
  private final List<String> segments;

  private FieldPath(String text, List<String> segments) {
    this.text = text;
    this.segments = segments;
  }

  /** Parses a path; throws {@link IllegalArgumentException} naming the problem. */
  public static FieldPath parse(String text) {
    Objects.requireNonNull(text, "field path");
    if (text.isBlank()) {
      throw new IllegalArgumentException("a field path must not be empty");
    }
    List<String> segments = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\\' && i + 1 < text.length() && text.charAt(i + 1) == '.') {
        current.append('.');
        i++;
      } else if (c == '.') {
        segments.add(requireSegment(text, current));
        current.setLength(0);
      } else {
        current.append(c);
      }
    }
    segments.add(requireSegment(text, current));
    return new FieldPath(text, Collections.unmodifiableList(segments));
  }

  private static String requireSegment(String text, StringBuilder segment) {
    if (segment.length() == 0) {
      throw new IllegalArgumentException("field path '" + text + "' has an empty segment");
    }
    return segment.toString();
  }

  public List<String> segments() {
    return segments;
  }

  public String leaf() {
    return segments.get(segments.size() - 1);
  }

  public boolean isTopLevel() {
    return segments.size() == 1;
  }

  /**
   * The last segment alone, as a top-level path: where a key object holds a field flat, under its
   * last segment (a dot in that segment stays part of the name).
   */
  public FieldPath leafPath() {
    List<String> leaf = List.of(leaf());
    return new FieldPath(text(leaf), leaf);
  }

  /** The path without its last segment; only for paths with more than one segment. */
  public FieldPath parent() {
    if (isTopLevel()) {
      throw new IllegalStateException("'" + text + "' has no parent");
    }
    List<String> parent = segments.subList(0, segments.size() - 1);
    return new FieldPath(text(parent), parent);
  }

  /** The path text of segments, dots inside a segment escaped, so it parses back to them. */
  private static String text(List<String> segments) {
    StringBuilder text = new StringBuilder();
    for (String segment : segments) {
      if (text.length() > 0) {
        text.append('.');
      }
      text.append(segment.replace(".", "\\."));
    }
    return text.toString();
  }

  /**
   * The schema of the value at this path in a value of schema {@code root}: through Struct fields
   * and Map values. Null for a schemaless root or a path the schema does not have.
   */
  public Schema schemaIn(Schema root) {
    Schema schema = root;
    for (String segment : segments) {
      if (schema == null) {
        return null;
      }
      if (schema.type() == Schema.Type.STRUCT) {
        Field field = schema.field(segment);
        schema = field == null ? null : field.schema();
      } else if (schema.type() == Schema.Type.MAP) {
        schema = schema.valueSchema();
      } else {
        return null;
      }
    }
    return schema;
  }

  /**
   * The value at this path in a {@link Map}, {@link Struct} or {@link JsonNode}, or {@code null}
   * when any segment is missing (or is JSON null). Never throws for a missing field. A Struct's
   * optional field explicitly null is null, not its schema default (see {@link StructFields}).
   */
  public Object get(Object root) {
    Object node = root;
    for (String segment : segments) {
      node = child(node, segment);
      if (node == null) {
        return null;
      }
    }
    if (node instanceof JsonNode json && json.isNull()) {
      return null;
    }
    return node;
  }

  /**
   * One step of a path: the field of a Map, Struct or JSON object by name (a Struct field set to
   * null is null, not its default); null where there is none, or where the node is no container.
   */
  public static Object child(Object node, String name) {
    if (node instanceof Map<?, ?> map) {
      return valueOf(map, name);
    }
    if (node instanceof Struct struct) {
      Field field = struct.schema().field(name);
      return field == null ? null : StructFields.valueOf(struct, field);
    }
    if (node instanceof JsonNode json) {
      JsonNode child = json.get(name);
      return child == null || child.isMissingNode() ? null : child;
    }
    return null;
  }

  /**
   * The map's value for a text key. A sorted map keyed by other than text (a TreeMap of numbers, as
   * a converter or a transform may hand over) throws ClassCastException when asked for one, where a
   * HashMap of the same keys answers null: neither holds the name, and the field is missing.
   */
  public static Object valueOf(Map<?, ?> map, String name) {
    try {
      return map.get(name);
    } catch (ClassCastException keysNotText) {
      return null;
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FieldPath other && other.segments.equals(segments);
  }

  @Override
  public int hashCode() {
    return segments.hashCode();
  }

  @Override
  public String toString() {
    return text;
  }
}
