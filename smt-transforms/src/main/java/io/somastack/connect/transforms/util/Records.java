package io.somastack.connect.transforms.util;

import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * Record coordinates for messages and logs. Transforms name a record by where it is (topic,
 * partition, offset), never by what it holds: keys and values may carry secrets and personal data.
 */
public final class Records {

  private Records() {}

  /** "topic 'x' partition 3 offset 42" (the offset only for sink records). */
  public static String coordinates(ConnectRecord<?> record) {
    StringBuilder out = new StringBuilder("topic '").append(record.topic()).append('\'');
    if (record.kafkaPartition() != null) {
      out.append(" partition ").append(record.kafkaPartition());
    }
    if (record instanceof SinkRecord sink) {
      out.append(" offset ").append(sink.kafkaOffset());
    }
    return out.toString();
  }

  /** A {@link DataException} for the record at these coordinates; the reason must hold no data. */
  public static DataException error(ConnectRecord<?> record, String reason) {
    return new DataException("record at " + coordinates(record) + ": " + reason);
  }

  public static DataException error(ConnectRecord<?> record, String reason, Throwable cause) {
    return new DataException("record at " + coordinates(record) + ": " + reason, cause);
  }
}
