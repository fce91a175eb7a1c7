package io.somastack.connect.postgres.write;

import io.somastack.connect.postgres.record.EventRow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * One put()'s worth of work: rows per table with duplicates collapsed, the records to dead-letter
 * with their reasons, and the next offset per partition that the whole batch covers (bad and
 * skipped records included: they are handled, so they are never redelivered).
 */
public final class Batch {

  /** A record that goes to the dead-letter queue, and why. */
  public record Rejected(SinkRecord record, Throwable reason) {}

  private final TableLayout layout;
  private final Map<String, LinkedHashMap<String, EventRow>> rowsByTable = new LinkedHashMap<>();
  private final List<Rejected> rejected = new ArrayList<>();
  private final Map<TopicPartition, Long> nextOffsets = new HashMap<>();
  private int collapsed;
  private int tombstonesIgnored;

  public Batch(TableLayout layout) {
    this.layout = layout;
  }

  public void covered(SinkRecord record) {
    nextOffsets.merge(
        new TopicPartition(record.topic(), record.kafkaPartition()),
        record.kafkaOffset() + 1,
        Math::max);
  }

  public void add(EventRow row) {
    LinkedHashMap<String, EventRow> rows =
        rowsByTable.computeIfAbsent(row.table(), t -> new LinkedHashMap<>());
    EventRow earlier = rows.get(row.identity());
    if (earlier == null) {
      rows.put(row.identity(), row);
      return;
    }
    collapsed++;
    if (replaces(earlier, row)) {
      // re-insert so the surviving row keeps the position of the latest write of its key
      rows.remove(row.identity());
      rows.put(row.identity(), row);
    }
  }

  /** Which of two rows of one identity survives: the first in append mode, else the newer. */
  private boolean replaces(EventRow earlier, EventRow later) {
    switch (layout.mode()) {
      case APPEND:
        return false;
      case UPSERT:
        if (layout.versioned()
            && later.kind() == EventRow.Kind.WRITE
            && earlier.kind() == EventRow.Kind.WRITE) {
          int v = layout.indexOf(TableLayout.EVENT_VERSION);
          return (Long) later.values()[v] > (Long) earlier.values()[v];
        }
        return true;
      default:
        return true;
    }
  }

  public void reject(SinkRecord record, Throwable reason) {
    rejected.add(new Rejected(record, reason));
  }

  /** Drops rows the database rejected, so the batch can be written again without them. */
  public void remove(EventRow row, Throwable reason) {
    rowsByTable.get(row.table()).remove(row.identity());
    reject(row.record(), reason);
  }

  public void tombstoneIgnored() {
    tombstonesIgnored++;
  }

  public Map<String, List<EventRow>> rowsByTable() {
    Map<String, List<EventRow>> out = new LinkedHashMap<>();
    rowsByTable.forEach((table, rows) -> out.put(table, new ArrayList<>(rows.values())));
    return out;
  }

  public List<Rejected> rejected() {
    return rejected;
  }

  public Map<TopicPartition, Long> nextOffsets() {
    return nextOffsets;
  }

  public int collapsed() {
    return collapsed;
  }

  public int tombstonesIgnored() {
    return tombstonesIgnored;
  }

  public int rowCount() {
    return rowsByTable.values().stream().mapToInt(Map::size).sum();
  }
}
