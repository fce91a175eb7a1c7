package io.somastack.connect.common.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.BufferRecycler;
import com.fasterxml.jackson.core.util.RecyclerPool;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.somastack.connect.common.path.FieldPath;
import java.io.IOException;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.connect.errors.DataException;

/**
 * Reads a JSON object from text and keeps only the fields at the given paths, in one streaming
 * pass. The whole text is still checked as {@link RecordJson#parse} checks it (syntax, nesting
 * depth, number sizes, trailing content), but only the wanted values become tree nodes: building
 * the full tree of every event and then dropping most of it was the largest single cost of a sink
 * that needs three fields out of fifty.
 *
 * <p>The result is an {@link ObjectNode} with the same shape as the full tree along the wanted
 * paths, so a {@link FieldPath} reads it exactly as it would read the full tree. Duplicate keys are
 * refused on the mapped paths, where they would make a mapped value ambiguous; elsewhere, and
 * inside a wanted value, the last one wins, as in PostgreSQL's jsonb. Thread-safe.
 */
public final class JsonPathReader {

  /**
   * For the wanted subtrees: the shared mapper's settings, but the parser is mid-document, so the
   * trailing-token check belongs to this reader, at the end of the root object.
   */
  private static final ObjectReader VALUES =
      RecordJson.MAPPER.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  /**
   * The mapper's parser settings, with two changes. Duplicates are checked by {@link #readObject}
   * where it keeps values. Buffers come from a pool of this reader's own instead of a thread-local
   * one: in a Connect worker the thread-local map is crowded, and its lookup was 7 % of a sink
   * task's CPU, once per record.
   */
  private final JsonFactory parsers =
      RecordJson.MAPPER
          .getFactory()
          .rebuild()
          .disable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .recyclerPool(new OneBufferPool())
          .build();

  private final PathTrie root = new PathTrie();

  public JsonPathReader(Collection<FieldPath> paths) {
    for (FieldPath path : paths) {
      PathTrie node = root;
      for (String segment : path.segments()) {
        node = node.children.computeIfAbsent(segment, s -> new PathTrie());
      }
      node.wanted = true;
    }
  }

  /** The wanted fields of the JSON object in {@code text}. */
  public ObjectNode read(String text) {
    return read(() -> parsers.createParser(text));
  }

  /** The wanted fields of the JSON object in UTF-8 {@code bytes}. */
  public ObjectNode read(byte[] bytes) {
    return read(() -> parsers.createParser(bytes));
  }

  /** Opens a parser over one input. */
  private interface Source {
    JsonParser open() throws IOException;
  }

  private ObjectNode read(Source source) {
    try (JsonParser parser = source.open()) {
      return readRoot(parser);
    } catch (IOException | NumberFormatException e) {
      throw new DataException(RecordJson.reason(e, "value"));
    }
  }

  private ObjectNode readRoot(JsonParser parser) throws IOException {
    JsonToken first = parser.nextToken();
    if (first != JsonToken.START_OBJECT) {
      throw new NotAnObjectException(describe(first));
    }
    ObjectNode result = readObject(parser, root, JsonNodeFactory.instance.objectNode());
    if (parser.nextToken() != null) {
      throw new DataException(
          "value is not valid JSON (trailing content after the object, line "
              + parser.currentLocation().getLineNr()
              + ")");
    }
    return result;
  }

  /** Reads the object the parser is on; returns {@code into} holding its wanted fields. */
  private static ObjectNode readObject(JsonParser parser, PathTrie node, ObjectNode into)
      throws IOException {
    Set<String> skippedOnPath = null; // mapped names whose value was no object, kept in no node
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = parser.currentName();
      PathTrie child = node.children.get(name);
      JsonToken token = parser.nextToken();
      if (child == null) {
        parser.skipChildren(); // still tokenised, so still validated
        continue;
      }
      if (into.has(name) || (skippedOnPath != null && skippedOnPath.contains(name))) {
        throw duplicate(parser, name);
      }
      if (child.wanted) {
        into.set(
            name, token == JsonToken.VALUE_STRING ? textNode(parser) : VALUES.readTree(parser));
      } else if (token == JsonToken.START_OBJECT) {
        into.set(name, readObject(parser, child, into.objectNode()));
      } else {
        parser.skipChildren(); // not an object: the deeper paths are missing, as in the tree
        // but remembered, so that a second occurrence holding the object is still a duplicate
        skippedOnPath = skippedOnPath == null ? new HashSet<>() : skippedOnPath;
        skippedOnPath.add(name);
      }
    }
    return into;
  }

  private static DataException duplicate(JsonParser parser, String name) {
    return new DataException(
        "value is not valid JSON (duplicate field '"
            + name
            + "' on a mapped path, line "
            + parser.currentLocation().getLineNr()
            + ")");
  }

  private static JsonNode textNode(JsonParser parser) throws IOException {
    return TextNode.valueOf(parser.getText());
  }

  private static String describe(JsonToken token) {
    if (token == null) {
      return "empty";
    }
    switch (token) {
      case START_ARRAY:
        return "array";
      case VALUE_STRING:
        return "string";
      case VALUE_NUMBER_INT:
      case VALUE_NUMBER_FLOAT:
        return "number";
      case VALUE_TRUE:
      case VALUE_FALSE:
        return "boolean";
      case VALUE_NULL:
        return "null";
      default:
        return token.name().toLowerCase();
    }
  }

  /** Valid JSON, but not an object: callers that need an object say so in their own words. */
  public static final class NotAnObjectException extends DataException {
    private final String kind;

    NotAnObjectException(String kind) {
      super("value is a JSON " + kind + ", not an object");
      this.kind = kind;
    }

    /** What the value is instead: array, string, number, boolean, null or empty. */
    public String kind() {
      return kind;
    }
  }

  /**
   * Keeps one set of parser buffers. A reader serves one task thread, so one set is all it needs;
   * Jackson's concurrent deque pool cost 8 % of a sink task's CPU in its poll, once per record. A
   * second thread reading at the same moment simply gets fresh buffers.
   */
  private static final class OneBufferPool implements RecyclerPool<BufferRecycler> {
    private static final long serialVersionUID = 1L;
    private final transient AtomicReference<BufferRecycler> kept = new AtomicReference<>();

    @Override
    public BufferRecycler acquirePooled() {
      BufferRecycler buffers = kept.getAndSet(null);
      return buffers != null ? buffers : new BufferRecycler();
    }

    @Override
    public void releasePooled(BufferRecycler buffers) {
      kept.set(buffers);
    }

    private Object readResolve() {
      return new OneBufferPool(); // buffers are never serialized: a copy starts with none
    }
  }

  private static final class PathTrie {
    final Map<String, PathTrie> children = new HashMap<>();
    boolean wanted;
  }
}
