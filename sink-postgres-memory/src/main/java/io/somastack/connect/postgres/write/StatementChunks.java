package io.somastack.connect.postgres.write;

import io.somastack.connect.common.text.Utf8;
import io.somastack.connect.postgres.config.WriteMode;
import io.somastack.connect.postgres.record.EventRow;
import io.somastack.connect.postgres.record.JsonBytes;
import java.util.List;

/**
 * Where the statements over a table's rows end: at most {@code batch.max.records} rows and {@code
 * batch.max.bytes} of JSON each (and of a dead letter's key), counted in the UTF-8 bytes they take
 * on the wire, so that no statement, and nothing the driver builds to send it, grows with the put.
 * Text that came as a String was counted in chars, which multi-byte text outgrows: three times over
 * for CJK. The writer cuts its inserts so, and the audit chain the statements that make payloads
 * canonical: each chunk of the one is a chunk of the other. What such a statement's reply carries
 * is not bounded by the bytes sent (PostgreSQL prints a jsonb number in full: 8 bytes may print as
 * 131,073 characters): {@link AuditChain} bounds it by the lengths of the texts.
 */
public final class StatementChunks {

  private final int maxRows;
  private final long maxBytes;
  private final int payloadIndex;

  /** The text column counted toward maxBytes besides the JSON document, or -1. */
  private final int keyIndex;

  public StatementChunks(TableLayout layout, int maxRows, long maxBytes) {
    this.maxRows = maxRows;
    this.maxBytes = maxBytes;
    this.payloadIndex = layout.payloadIndex();
    // a dead letter's key is unbounded (record.max.bytes bounds its value) and may be large
    this.keyIndex =
        layout.mode() == WriteMode.DEAD_LETTER ? layout.indexOf(DeadLetterColumns.EVENT_KEY) : -1;
  }

  /** The end (exclusive) of the statement over {@code rows} starting at {@code from}. */
  int end(List<EventRow> rows, int from) {
    long bytes = 0;
    int to = from;
    while (to < rows.size() && to - from < maxRows) {
      Object[] values = rows.get(to).values();
      bytes += payloadIndex < 0 ? 0 : utf8Length(values[payloadIndex]);
      if (keyIndex >= 0) {
        bytes += utf8Length(values[keyIndex]);
      }
      if (bytes > maxBytes && to > from) {
        break;
      }
      to++;
    }
    return to;
  }

  /** The UTF-8 bytes of a JSON document or key: JsonBytes hold them, a String is measured. */
  private static long utf8Length(Object text) {
    if (text instanceof JsonBytes json) {
      return json.length();
    }
    return text instanceof String string ? Utf8.length(string) : 0;
  }

  /** As {@link #end}, for a statement that sends no JSON: bounded by rows only. */
  int endByRows(List<EventRow> rows, int from) {
    return (int) Math.min(rows.size(), (long) from + maxRows);
  }
}
