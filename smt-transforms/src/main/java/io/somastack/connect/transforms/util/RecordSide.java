package io.somastack.connect.transforms.util;

import java.util.Locale;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Schema;

/**
 * The half of a record a transform works on. Every transform with {@code Key} and {@code Value}
 * variants takes one of these instead of overriding three accessor methods in each variant.
 */
public enum RecordSide {
  KEY {
    @Override
    public Schema schema(ConnectRecord<?> record) {
      return record.keySchema();
    }

    @Override
    public Object value(ConnectRecord<?> record) {
      return record.key();
    }

    @Override
    public <R extends ConnectRecord<R>> R with(R record, Schema schema, Object value) {
      return record.newRecord(
          record.topic(),
          record.kafkaPartition(),
          schema,
          value,
          record.valueSchema(),
          record.value(),
          record.timestamp());
    }
  },
  VALUE {
    @Override
    public Schema schema(ConnectRecord<?> record) {
      return record.valueSchema();
    }

    @Override
    public Object value(ConnectRecord<?> record) {
      return record.value();
    }

    @Override
    public <R extends ConnectRecord<R>> R with(R record, Schema schema, Object value) {
      return record.newRecord(
          record.topic(),
          record.kafkaPartition(),
          record.keySchema(),
          record.key(),
          schema,
          value,
          record.timestamp());
    }
  };

  public abstract Schema schema(ConnectRecord<?> record);

  public abstract Object value(ConnectRecord<?> record);

  /** A copy of the record with this side replaced; headers and timestamp are kept. */
  public abstract <R extends ConnectRecord<R>> R with(R record, Schema schema, Object value);

  /** "key" or "value", for messages. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
