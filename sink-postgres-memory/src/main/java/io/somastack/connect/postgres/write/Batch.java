package io.somastack.connect.postgres.write;

import io.somastack.connect.postgres.config.WriteMode;
import io.somastack.connect.postgres.record.EventRow;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

  /**
   * Every row added, in record order, superseded ones included: when the database refuses a kept
   * row, the rows it superseded must be written in its stead, as record by record they would have
   * been (else they are lost, their offsets committed). One reference per row on the hot path.
   */
  private final List<EventRow> added = new ArrayList<>();

  /** Rows the database refused; the kept rows are computed again without them when next read. */
  private Set<EventRow> removed;

  private boolean removedSinceCollapse;
  private int collapsed;
  private int replaysSkipped;
  private int staleRefused;
  private int tombstonesIgnored;
  private int tombstonesWithoutTable;

  public Batch(TableLayout layout) {
    this.layout = layout;
  }

  /** The record at this offset of its partition (as Connect consumed it) is handled. */
  public void covered(TopicPartition partition, long offset) {
    nextOffsets.merge(partition, offset + 1, Math::max);
  }

  /**
   * A record below its partition's stored offset: written by an earlier put (a replay). Counted
   * here, and reported with the rest when the batch commits, so a put that fails and comes again
   * does not count its replays once per attempt.
   */
  public void replaySkipped() {
    replaysSkipped++;
  }

  public int replaysSkipped() {
    return replaysSkipped;
  }

  public void add(EventRow row) {
    settle(); // rows added after a removal collapse onto the kept rows without it
    added.add(row);
    collapse(row);
  }

  /** Keeps the row, or not, against the kept rows of its identity; counts what it supersedes. */
  private void collapse(EventRow row) {
    LinkedHashMap<String, EventRow> rows =
        rowsByTable.computeIfAbsent(row.table(), t -> new LinkedHashMap<>());
    EventRow earlier = rows.get(row.identity());
    if (earlier == null) {
      rows.put(row.identity(), row);
      return;
    }
    if (!replaces(earlier, row)) {
      if (layout.mode() == WriteMode.UPSERT) {
        // a version not above the one kept: the database would refuse it as stale, so it counts
        // the same whether or not it shares a batch with the higher version
        staleRefused++;
      } else {
        collapsed++;
      }
      return;
    }
    // re-insert so the surviving row keeps the position of the latest write of its key
    rows.remove(row.identity());
    if (deletesFirst(earlier, row)) {
      if (rows.put(row.identity() + DELETED_BEFORE, earlier) != null) {
        collapsed++; // an earlier kept tombstone of the key, superseded by this one
      }
    } else {
      collapsed++;
      if (row.kind() == EventRow.Kind.DELETE
          && rows.remove(row.identity() + DELETED_BEFORE) != null) {
        collapsed++; // a kept tombstone of the key: this later one deletes whatever it would
      }
    }
    rows.put(row.identity(), row);
  }

  /** Where a tombstone followed by a write of its key keeps the tombstone (see below). */
  private static final String DELETED_BEFORE = "\u0000deleted before";

  /**
   * With versions, a write after a tombstone of its key must meet no stored row, as it would have
   * record by record: the stored version is gone, so an older version is not stale. So the
   * tombstone is kept, and the writer deletes before it writes. Without versions the write simply
   * wins, and collapsing to it is exact.
   */
  private boolean deletesFirst(EventRow earlier, EventRow later) {
    return layout.mode() == WriteMode.UPSERT
        && layout.versioned()
        && earlier.kind() == EventRow.Kind.DELETE
        && later.kind() == EventRow.Kind.WRITE;
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

  /**
   * Drops a row the database rejected, so the batch can be written again without it; the rows of
   * its identity it had superseded in the batch take its place (see {@link #settle}), and are yet
   * to be tried.
   */
  public void remove(EventRow row, Throwable reason) {
    drop(row);
    reject(row.record(), reason);
  }

  /** Takes the row out of the batch, as {@link #remove} does, without dead-lettering it. */
  private void drop(EventRow row) {
    // by the row itself: a key's kept tombstone and its write share the identity
    if (removed == null) {
      removed = Collections.newSetFromMap(new IdentityHashMap<>());
    }
    removed.add(row);
    removedSinceCollapse = true;
  }

  /**
   * Takes every row of a table that does not exist out of the batch, those it kept and those they
   * superseded alike, as record by record each would have met the missing table: a write goes to
   * the dead-letter queue for {@code reason} (no row of another table takes its place). A tombstone
   * goes there too when {@code tombstonesDone} is false (a dead-letter queue is configured): the
   * queue then holds the table's records in their order, and replayed once the table exists it ends
   * as the stream would have (a write and its later tombstone leave no row; the write alone would
   * bring a deleted row back). Otherwise a tombstone is done, since a table that is not there holds
   * no row to delete (counted in {@link #tombstonesWithoutTable}); without a queue a write to the
   * table stops the task before any later record is committed, unless errors are tolerated (then it
   * is only logged). Returns the tombstones done, in record order.
   */
  public List<EventRow> removeMissingTable(String table, Throwable reason, boolean tombstonesDone) {
    List<EventRow> done = new ArrayList<>();
    for (EventRow row : added) {
      if (row.table().equals(table) && (removed == null || !removed.contains(row))) {
        if (tombstonesDone && row.kind() == EventRow.Kind.DELETE) {
          drop(row);
          done.add(row);
        } else {
          remove(row, reason);
        }
      }
    }
    tombstonesWithoutTable += done.size();
    return done;
  }

  /**
   * After removals, the kept rows and the counts anew from the rows added but not removed, with the
   * rules of {@link #add}: the rows a removed one had superseded (an earlier write or tombstone of
   * its key, a lower version, a later duplicate of its event id) are kept in its stead, at the
   * places they would have had without it, and count as collapsed or stale no more. Once per run of
   * removals, when the rows are next read (rare: rows the database refused).
   */
  private void settle() {
    if (!removedSinceCollapse) {
      return;
    }
    removedSinceCollapse = false;
    rowsByTable.values().forEach(Map::clear); // a table whose rows are all gone stays, empty
    collapsed = 0;
    staleRefused = 0;
    for (EventRow row : added) {
      if (!removed.contains(row)) {
        collapse(row);
      }
    }
  }

  public void tombstoneIgnored() {
    tombstonesIgnored++;
  }

  public Map<String, List<EventRow>> rowsByTable() {
    settle();
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
    settle();
    return collapsed;
  }

  /** Writes of a versioned key that lost to a higher or equal version within the batch. */
  public int staleRefused() {
    settle();
    return staleRefused;
  }

  public int tombstonesIgnored() {
    return tombstonesIgnored;
  }

  /** Tombstones done without a statement, their table missing ({@link #removeMissingTable}). */
  public int tombstonesWithoutTable() {
    return tombstonesWithoutTable;
  }

  public int rowCount() {
    settle();
    return rowsByTable.values().stream().mapToInt(Map::size).sum();
  }
}
