package io.somastack.connect.transforms.util;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.StringJoiner;
import java.util.function.Supplier;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Record coordinates for messages and logs. Transforms name a record by where it is (topic,
 * partition, offset), never by what it holds: keys and values may carry secrets and personal data.
 */
public final class Records {

  private Records() {}

  /**
   * "topic 'x' partition 3 offset 42" for sink records; a source record has no Kafka offset yet, so
   * its source partition and offset say where it comes from instead. Those are the connector's
   * position (a table, a row id, a log position), never the record's contents.
   *
   * <p>A sink record that an earlier transform moved (RouteByField, RegexRouter) is named by its
   * topic now and by where it was read: "topic 'y' (read from topic 'x' partition 3 offset 42)".
   * The offset belongs to the topic and partition it was read from, and only those find it again.
   */
  public static String coordinates(ConnectRecord<?> record) {
    StringBuilder out = new StringBuilder("topic '").append(record.topic()).append('\'');
    if (record instanceof SinkRecord sink) {
      if (Objects.equals(sink.originalTopic(), sink.topic())
          && Objects.equals(sink.originalKafkaPartition(), sink.kafkaPartition())) {
        out.append(" partition ").append(sink.originalKafkaPartition());
        return out.append(" offset ").append(sink.originalKafkaOffset()).toString();
      }
      return out.append(" (read from topic '")
          .append(sink.originalTopic())
          .append("' partition ")
          .append(sink.originalKafkaPartition())
          .append(" offset ")
          .append(sink.originalKafkaOffset())
          .append(')')
          .toString();
    }
    if (record.kafkaPartition() != null) {
      out.append(" partition ").append(record.kafkaPartition());
    }
    if (record instanceof SourceRecord source) {
      out.append(" source partition ").append(sorted(source.sourcePartition()));
      out.append(" source offset ").append(sorted(source.sourceOffset()));
    }
    return out.toString();
  }

  /**
   * Maps print in key order, so one position always reads the same. A source partition or offset is
   * typed as keyed by text, but nothing stops a connector from using other keys at run time: keys
   * of one type keep their natural order (as before, so event ids derived from it stay the same),
   * and keys of types that cannot be compared with each other are ordered by type name and then
   * text rather than failing with a ClassCastException.
   */
  public static String sorted(Map<String, ?> map) {
    if (map == null) {
      return "{}";
    }
    List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
    entries.sort(Comparator.comparing(Map.Entry::getKey, Comparator.nullsFirst(KEY_ORDER)));
    StringJoiner out = new StringJoiner(", ", "{", "}");
    entries.forEach(entry -> out.add(entry.getKey() + "=" + entry.getValue()));
    return out.toString();
  }

  /** Natural order within one Comparable type; by type name, then text, across types. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static final Comparator<Object> KEY_ORDER =
      (a, b) -> {
        if (a.getClass() == b.getClass() && a instanceof Comparable comparable) {
          return comparable.compareTo(b);
        }
        int byType = a.getClass().getName().compareTo(b.getClass().getName());
        return byType != 0 ? byType : String.valueOf(a).compareTo(String.valueOf(b));
      };

  /** A {@link DataException} for the record at these coordinates; the reason must hold no data. */
  public static DataException error(ConnectRecord<?> record, String reason) {
    return new DataException("record at " + coordinates(record) + ": " + reason);
  }

  /**
   * Runs a transform's work on one record. Walking a record's data recurses once or more per level
   * of nesting, and a record nested deeper than the task thread's stack allows (Structs and Maps
   * from a converter have no depth limit) would throw a StackOverflowError, which errors.tolerance
   * does not catch: the task would die. Such a record is its own fault, so it fails as bad data,
   * for errors.tolerance and the dead letter queue. Caught here, around the whole record and not
   * inside the walk, the stack is unwound and nothing is left half done; {@code work} says what
   * could not be done ("encrypted").
   */
  public static <T> T nestingChecked(
      ConnectRecord<?> record, String side, String work, Supplier<T> step) {
    try {
      return step.get();
    } catch (StackOverflowError tooDeep) {
      throw error(record, "the " + side + " is nested too deeply to be " + work);
    }
  }

  public static DataException error(ConnectRecord<?> record, String reason, Throwable cause) {
    return new DataException("record at " + coordinates(record) + ": " + reason, cause);
  }
}
