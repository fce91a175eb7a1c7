package io.somastack.connect.quickstart;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The rows this run must land, per table, counted from what it actually sent: the event generator
 * and the outbox writer tell it where each event goes as they send it (an upsert table gains one
 * row per distinct key, an append table one per event, the dead-letter table one per malformed
 * event or bad outbox row). {@code --exit} is 0 only when every table landed this many.
 */
final class Expected {

  /** The dead-letter table: the dlq-archive's, and the outbox relay's for its bad rows. */
  static final String DEAD_LETTERS = "dlq";

  private final Map<String, Long> rows = new TreeMap<>();
  private final Map<String, Set<String>> keys = new TreeMap<>();

  /** One more row in {@code table} (an append or audit table, or the dead-letter table). */
  synchronized void row(String table) {
    rows(table, 1);
  }

  synchronized void rows(String table, long count) {
    rows.merge(table, count, Long::sum);
  }

  /** A write to an upsert table: a row only for a key this run has not written before. */
  synchronized void upsert(String table, String key) {
    if (keys.computeIfAbsent(table, t -> new HashSet<>()).add(key)) {
      rows(table, 1);
    }
  }

  /** Rows this run must land, per table. */
  synchronized Map<String, Long> rows() {
    return new TreeMap<>(rows);
  }

  /**
   * The tables that landed fewer rows than expected ("table: landed L of E"), empty when every one
   * reached its count. {@code landed} holds the rows each table gained since the run started.
   */
  static List<String> shortfalls(Map<String, Long> expected, Map<String, Long> landed) {
    List<String> short_ = new ArrayList<>();
    expected.forEach(
        (table, count) -> {
          long got = landed.getOrDefault(table, 0L);
          if (got < count) {
            short_.add(table + ": landed " + got + " of " + count);
          }
        });
    return short_;
  }
}
