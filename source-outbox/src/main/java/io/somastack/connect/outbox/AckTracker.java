package io.somastack.connect.outbox;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which relayed rows Kafka has, per table, in relay order. Connect acknowledges records through
 * {@code commitRecord} — in exactly-once mode after the transaction that holds them and their
 * offsets commits, otherwise when the producer's send is acknowledged, which can be out of order
 * across partitions. Only the contiguous acknowledged prefix may be marked or deleted: deleting up
 * to an acknowledged row while an earlier one might still fail would lose it.
 *
 * <p>Called from the task thread ({@link #sent}, {@link #drain}) and Connect's producer or commit
 * threads ({@link #acked}), hence synchronized.
 */
final class AckTracker {

  private final Map<String, LinkedHashMap<OutboxCursor, Boolean>> inFlight = new HashMap<>();

  synchronized void sent(String table, OutboxCursor cursor) {
    inFlight.computeIfAbsent(table, t -> new LinkedHashMap<>()).put(cursor, Boolean.FALSE);
  }

  synchronized void acked(String table, OutboxCursor cursor) {
    LinkedHashMap<OutboxCursor, Boolean> rows = inFlight.get(table);
    if (rows != null && rows.containsKey(cursor)) {
      rows.put(cursor, Boolean.TRUE);
    }
  }

  /**
   * Removes each table's acknowledged prefix and returns its last cursor: every relayed row up to
   * it is in Kafka. Tables without a new acknowledged prefix are absent.
   */
  synchronized Map<String, OutboxCursor> drain() {
    Map<String, OutboxCursor> done = new HashMap<>();
    for (Map.Entry<String, LinkedHashMap<OutboxCursor, Boolean>> table : inFlight.entrySet()) {
      Iterator<Map.Entry<OutboxCursor, Boolean>> rows = table.getValue().entrySet().iterator();
      OutboxCursor last = null;
      while (rows.hasNext()) {
        Map.Entry<OutboxCursor, Boolean> row = rows.next();
        if (!row.getValue()) {
          break;
        }
        last = row.getKey();
        rows.remove();
      }
      if (last != null) {
        done.put(table.getKey(), last);
      }
    }
    return done;
  }

  synchronized int inFlight() {
    return inFlight.values().stream().mapToInt(Map::size).sum();
  }
}
