package io.somastack.connect.transforms.util;

import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;
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
   */
  public static String coordinates(ConnectRecord<?> record) {
    StringBuilder out = new StringBuilder("topic '").append(record.topic()).append('\'');
    if (record.kafkaPartition() != null) {
      out.append(" partition ").append(record.kafkaPartition());
    }
    if (record instanceof SinkRecord sink) {
      out.append(" offset ").append(sink.kafkaOffset());
    }
    if (record instanceof SourceRecord source) {
      out.append(" source partition ").append(sorted(source.sourcePartition()));
      out.append(" source offset ").append(sorted(source.sourceOffset()));
    }
    return out.toString();
  }

  /** Maps print in key order, so one position always reads the same. */
  public static String sorted(Map<String, ?> map) {
    if (map == null) {
      return "{}";
    }
    Map<String, Object> byKey = new TreeMap<>(Comparator.nullsFirst(Comparator.naturalOrder()));
    byKey.putAll(map);
    return byKey.toString();
  }

  /** A {@link DataException} for the record at these coordinates; the reason must hold no data. */
  public static DataException error(ConnectRecord<?> record, String reason) {
    return new DataException("record at " + coordinates(record) + ": " + reason);
  }

  public static DataException error(ConnectRecord<?> record, String reason, Throwable cause) {
    return new DataException("record at " + coordinates(record) + ": " + reason, cause);
  }
}
