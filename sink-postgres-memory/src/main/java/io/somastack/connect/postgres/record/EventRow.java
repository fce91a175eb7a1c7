package io.somastack.connect.postgres.record;

import io.somastack.connect.common.record.Positions;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * One record made ready for its table: the values of the table layout's columns, in order, or the
 * key of a row to delete. {@code identity} is what makes two rows "the same row" within a batch
 * (event id, or upsert key), for collapsing duplicates before they are written.
 */
public final class EventRow {

  /** Write a row, or delete the row of a key. */
  public enum Kind {
    WRITE,
    DELETE
  }

  private final SinkRecord record;
  private final String table;
  private final Kind kind;
  private final String identity;
  private final Object[] values;

  public EventRow(SinkRecord record, String table, Kind kind, String identity, Object[] values) {
    this.record = record;
    this.table = table;
    this.kind = kind;
    this.identity = identity;
    this.values = values;
  }

  public SinkRecord record() {
    return record;
  }

  public String table() {
    return table;
  }

  public Kind kind() {
    return kind;
  }

  public String identity() {
    return identity;
  }

  public Object[] values() {
    return values;
  }

  /** Where the record came from, for logs and errors: never its contents. */
  public String position() {
    return Positions.of(record);
  }
}
