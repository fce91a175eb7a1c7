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

  private final transient Deque<Object> path = new ArrayDeque<>();

  private JsonValueException(DataException cause) {
    super(cause.getMessage(), cause);
  }

  /**
   * The exception of a value under {@code segment} (a field name, or an Integer array position),
   * made from the reason a conversion below it threw; one already on its way up is extended.
   */
  public static JsonValueException under(Object segment, DataException thrown) {
    JsonValueException pathed =
        thrown instanceof JsonValueException p ? p : new JsonValueException(thrown);
    pathed.path.addFirst(segment);
    return pathed;
  }

  /** Where the value sits, as a.b[2].c. */
  public String path() {
    StringBuilder text = new StringBuilder();
    for (Object segment : path) {
      if (segment instanceof Integer index) {
        text.append('[').append(index).append(']');
      } else {
        text.append(text.length() == 0 ? "" : ".").append(segment);
      }
    }
    return text.toString();
  }
}
