package io.somastack.connect.common.json;

import java.util.ArrayDeque;
import java.util.Deque;
import org.apache.kafka.connect.errors.DataException;

/**
 * A value inside a converted one that JSON (or the builder) has no form for, with where it sits:
 * the field names, map keys and array positions from the converted value down to it, never the
 * value itself (it may be personal data). The message is the reason alone, as it was thrown.
 */
public final class JsonValueException extends DataException {

  /** What {@link #loggedPath()} writes for a map key. */
  public static final String KEY = "[key]";

  private final transient Deque<Object> path = new ArrayDeque<>();

  private JsonValueException(DataException cause) {
    super(cause.getMessage(), cause);
  }

  /** A map key or a schemaless object's member name: record data, unlike a schema's field name. */
  record Key(String name) {}

  /**
   * The exception of a value under {@code segment} (a field name a schema defines, an Integer array
   * position, or a {@link Key}), made from the reason a conversion below it threw; one already on
   * its way up is extended.
   */
  public static JsonValueException under(Object segment, DataException thrown) {
    JsonValueException pathed =
        thrown instanceof JsonValueException p ? p : new JsonValueException(thrown);
    pathed.path.addFirst(segment);
    return pathed;
  }

  /**
   * The same under a map key, or a member of a schemaless object (a Map or JSON object): its name
   * is record data (an email keying a score, say), left out of {@link #loggedPath()}.
   */
  public static JsonValueException underKey(String key, DataException thrown) {
    return under(new Key(key), thrown);
  }

  /** Where the value sits, as a.b[2].c: for the record's own company (its dead letter). */
  public String path() {
    return path(false);
  }

  /**
   * Where the value sits without the record's data, for a log: schema field names and array
   * positions, each map key written as [key] (a.b[key][2]).
   */
  public String loggedPath() {
    return path(true);
  }

  private String path(boolean keysHidden) {
    StringBuilder text = new StringBuilder();
    for (Object segment : path) {
      if (segment instanceof Integer index) {
        text.append('[').append(index).append(']');
      } else if (segment instanceof Key key && keysHidden) {
        text.append(KEY);
      } else {
        String name = segment instanceof Key key ? key.name() : segment.toString();
        text.append(text.length() == 0 ? "" : ".").append(name);
      }
    }
    return text.toString();
  }
}
