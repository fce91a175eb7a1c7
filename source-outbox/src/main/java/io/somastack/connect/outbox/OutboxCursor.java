package io.somastack.connect.outbox;

import java.util.HashMap;
import java.util.Map;

/**
 * A position in an outbox table's relay order, {@code (txid, id)}: the inserting transaction's id
 * (xid8) and then the row id. The relay hands out rows in strictly increasing cursor order, and
 * only rows whose transaction is below the visibility horizon, so every row at or below a cursor
 * that was handed out has been relayed (or dead-lettered), and no row at or below it can appear
 * later. That makes a cursor a complete description of progress, and the Kafka Connect source
 * offset of each record is the cursor of its row.
 */
public record OutboxCursor(long txid, long id) implements Comparable<OutboxCursor> {

  /** Before every row. */
  public static final OutboxCursor START = new OutboxCursor(0, 0);

  static final String TXID = "txid";
  static final String ID = "id";

  @Override
  public int compareTo(OutboxCursor other) {
    int byTxid = Long.compareUnsigned(txid, other.txid);
    return byTxid != 0 ? byTxid : Long.compare(id, other.id);
  }

  public boolean isAfter(OutboxCursor other) {
    return compareTo(other) > 0;
  }

  public static OutboxCursor max(OutboxCursor a, OutboxCursor b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    return a.compareTo(b) >= 0 ? a : b;
  }

  /** The source offset stored with a record. */
  public Map<String, Object> toOffset() {
    Map<String, Object> offset = new HashMap<>();
    offset.put(TXID, txid);
    offset.put(ID, id);
    return offset;
  }

  /**
   * Reads a stored source offset; null or empty means "nothing relayed yet". Numbers may come back
   * as Integer or Long (JSON), so both are accepted.
   */
  public static OutboxCursor fromOffset(Map<String, ?> offset) {
    if (offset == null || offset.isEmpty()) {
      return START;
    }
    Object txid = offset.get(TXID);
    Object id = offset.get(ID);
    if (!(txid instanceof Number t) || !(id instanceof Number i)) {
      throw new IllegalArgumentException("not an outbox offset: " + offset);
    }
    return new OutboxCursor(t.longValue(), i.longValue());
  }

  /** The txid as PostgreSQL xid8 text. */
  public String txidText() {
    return Long.toUnsignedString(txid);
  }

  @Override
  public String toString() {
    return "(" + txidText() + "," + id + ")";
  }
}
