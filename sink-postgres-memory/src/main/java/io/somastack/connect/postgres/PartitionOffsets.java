package io.somastack.connect.postgres;

import io.somastack.connect.common.postgres.SqlStates;
import io.somastack.connect.common.record.Positions;
import io.somastack.connect.postgres.write.OffsetStore;
import io.somastack.connect.postgres.write.PostgresSession;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTaskContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The task's view of where each assigned partition stands in PostgreSQL: the offsets read from and
 * written to the offsets table, the seeks back to them, and which of them preCommit may report. The
 * database, not the consumer group, is the truth; this keeps what the task last read or wrote of
 * it. Partitions and offsets are those Connect consumed ({@link Positions}), which a transform that
 * renames the topic does not change.
 */
final class PartitionOffsets {

  // the task's logger: these lines are the task's, and operators filter them by its name
  private static final Logger log = LoggerFactory.getLogger(PostgresMemorySinkTask.class);

  private final OffsetStore store;
  private final PostgresSession session;
  private final SinkTaskContext context;

  /** Per assigned partition, the next offset durably written (rows and offset committed). */
  private final Map<TopicPartition, Long> written = new HashMap<>();

  /**
   * Partitions a put() asked Connect to seek back to their stored offsets. Connect seeks at its
   * next poll, and may commit before it: until the next put(), what it consumed of them is not done
   * with, and may lie beyond records that are still to be written.
   */
  private final Set<TopicPartition> seekPending = new HashSet<>();

  /**
   * Stored offsets read from the database whose partition's next records in hand are not checked
   * against them yet: the first record of each after a load that lies beyond its stored offset
   * makes a rewind, which tells a gap in the offsets from records the database lacks (see {@link
   * #startsBeyondStored}). Kept until a put() sees the partition, whoever did the load: open() may
   * load while Connect still holds records consumed before the load (a rebalance during a retry).
   */
  private final Map<TopicPartition, Long> firstRecordCheck = new HashMap<>();

  /**
   * Partitions rewound by {@link #startsBeyondStored}, each with the stored offset it was rewound
   * to and the first offset the records in hand had then: the next put() that sees the partition
   * holds what Connect polled after seeking there, and tells a gap in the topic's offsets from
   * records the database lacks.
   */
  private final Map<TopicPartition, Gap> rewound = new HashMap<>();

  /**
   * Per partition, the last gap a rewind showed to hold no record: from this stored offset, the
   * first record is at this offset. Offsets do not change, so a later check of the same stored
   * offset and the same first record (the records in hand again after a transient error) needs no
   * rewind.
   */
  private final Map<TopicPartition, Gap> naturalGaps = new HashMap<>();

  /** No record lies at or after {@code stored} and before {@code first} (or it is to be found). */
  private record Gap(long stored, long first) {}

  /** Partitions assigned but whose stored offsets could not be read yet (database down). */
  private final List<TopicPartition> unloaded = new ArrayList<>();

  PartitionOffsets(OffsetStore store, PostgresSession session, SinkTaskContext context) {
    this.store = store;
    this.session = session;
    this.context = context;
  }

  /**
   * Partitions opened and not closed since. Connect's assignment is not that: while it commits the
   * partitions it is revoking (and, on stop, every partition ever consumed) the consumer still
   * lists them, after close() told the task they are gone.
   */
  private final Set<TopicPartition> open = new HashSet<>();

  /** Partitions newly assigned: their stored offsets are read by the next {@link #load}. */
  void assigned(Collection<TopicPartition> partitions) {
    open.addAll(partitions);
    unloaded.addAll(partitions);
  }

  /** Reads the stored offsets of every assigned partition again before the next write. */
  void reloadAssigned() {
    for (TopicPartition partition : context.assignment()) {
      if (!unloaded.contains(partition)) {
        unloaded.add(partition);
      }
    }
  }

  /** Whether the stored offsets of every assigned partition are read. */
  boolean allLoaded() {
    return unloaded.isEmpty();
  }

  /** Loads the stored offsets of the partitions not loaded yet. */
  void load() throws SQLException {
    if (unloaded.isEmpty()) {
      return;
    }
    Connection c = session.connection();
    store.createIfMissing(c);
    Map<TopicPartition, Long> stored = store.load(c, unloaded);
    c.commit();
    unloaded.forEach(written::remove); // the database is the truth, also where it holds nothing
    unloaded.forEach(firstRecordCheck::remove);
    // a rewind's check is superseded: the records in hand may be again those from before it
    // (Connect delivers a failed put's records again, after seeking)
    unloaded.forEach(rewound::remove);
    written.putAll(stored);
    firstRecordCheck.putAll(stored);
    if (!stored.isEmpty()) {
      // Resume where the database says; the consumer group's position may be behind or ahead.
      context.offset(stored);
      seekPending.addAll(stored.keySet());
      log.info("Resuming {} partition(s) from offsets stored in PostgreSQL", stored.size());
    }
    unloaded.clear();
  }

  /** Partitions revoked: forgotten, their offsets now belong to the task that gets them. */
  void closed(Collection<TopicPartition> partitions) {
    open.removeAll(partitions);
    partitions.forEach(written::remove);
    partitions.forEach(firstRecordCheck::remove);
    partitions.forEach(rewound::remove);
    partitions.forEach(naturalGaps::remove);
    seekPending.removeAll(partitions);
    unloaded.removeAll(partitions);
  }

  /** Connect polled since the last put(), and any seek that one asked for is done. */
  void polled() {
    seekPending.clear();
  }

  /** Whether the record lies below the partition's next offset durably written. */
  boolean alreadyWritten(SinkRecord record, TopicPartition tp) {
    Long next = written.get(tp);
    return next != null && record.originalKafkaOffset() < next;
  }

  /**
   * Whether a partition's first record in hand lies beyond the offset the database stored when it
   * was last read; if so, Connect is asked to seek back to it, and the partition waits. Each load
   * is checked once.
   *
   * <p>Beyond is not yet behind: offsets have gaps (a transactional producer's commit markers, as
   * the outbox relay's exactly-once writes leave; records a compacted topic dropped), so the first
   * record after the stored offset may lie beyond it though the database lacks nothing. The rewind
   * tells: the next put() that sees the partition holds what Connect polled from the stored offset.
   * Starting at the same record, it shows the gap holds none, and is written without a word (and
   * the same check against the same stored offset needs no rewind again); starting earlier, it
   * holds records the database lacked (restored from an older backup, or it lost its last commits):
   * warned about, and written now, in order.
   */
  boolean startsBeyondStored(SinkRecord first, TopicPartition tp) {
    long offset = first.originalKafkaOffset();
    Gap checking = rewound.remove(tp);
    if (checking != null) {
      // the first put() since the rewind: Connect sought back before it polled these
      if (offset < checking.first()) {
        log.warn(
            "Records of {} from offset {} to {} were missing from PostgreSQL, which held them only"
                + " up to offset {} (restored from an older backup, or it lost its last commits):"
                + " the task rewound and writes them now",
            tp,
            offset,
            checking.first() - 1,
            checking.stored() - 1);
      } else {
        naturalGaps.put(tp, new Gap(checking.stored(), offset));
        // one offset is a transaction's commit marker, every batch of an exactly-once producer;
        // more may also be records retention deleted before the sink wrote them (the consumer
        // then starts at the earliest left), which only the topic's history can tell
        String gap =
            "No record of {} lies between offsets {} and {}: a gap in the topic's offsets"
                + " (transaction markers, compaction, or records deleted by retention before they"
                + " were written)";
        if (offset - checking.stored() > 1) {
          log.info(gap, tp, checking.stored(), offset - 1);
        } else {
          log.debug(gap, tp, checking.stored(), offset - 1);
        }
      }
      return false;
    }
    if (firstRecordCheck.remove(tp) == null) {
      return false;
    }
    // what the database holds now: the load's offset, or a later one if preCommit saved
    // positions Connect skipped since (a filter dropped records, a tolerated converter failure)
    Long stored = written.get(tp);
    if (stored == null || offset <= stored) {
      return false;
    }
    Gap gap = new Gap(stored, offset);
    if (gap.equals(naturalGaps.get(tp))) {
      return false; // a rewind showed it before
    }
    // the load asked for this seek already, but Connect may have consumed since (a put retried
    // with the records it held): ask again, and consider what it consumed not done with
    context.offset(tp, stored);
    seekPending.add(tp);
    rewound.put(tp, gap);
    log.debug(
        "Records of {} start at offset {}, beyond the offset {} stored in PostgreSQL: rewinding to"
            + " it to tell a gap in the offsets from records missing in the database",
        tp,
        offset,
        stored);
    return true;
  }

  /**
   * Saves the next offsets inside the caller's transaction, each only if the stored one is still
   * what this task last read or wrote ({@link OffsetStore#save}).
   */
  void save(Connection c, Map<TopicPartition, Long> nextOffsets) throws SQLException {
    store.save(c, nextOffsets, written);
  }

  /** The transaction that saved these offsets committed. */
  void committed(Map<TopicPartition, Long> nextOffsets) {
    written.putAll(nextOffsets);
  }

  /** Of the partitions Connect would commit, the next offsets durably written. */
  Map<TopicPartition, OffsetAndMetadata> durable(
      Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
    Map<TopicPartition, OffsetAndMetadata> durable = new HashMap<>();
    for (TopicPartition tp : currentOffsets.keySet()) {
      Long next = written.get(tp);
      if (next != null) {
        durable.put(tp, new OffsetAndMetadata(next));
      }
    }
    return durable;
  }

  /**
   * Saves to the offsets table the positions Connect consumed beyond what put() was handed and
   * wrote: records it skipped (dead-lettered by a converter or transform, dropped by a filter).
   */
  void saveSkippedPositions(Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
    Set<TopicPartition> assigned = context.assignment();
    Map<TopicPartition, Long> ahead = new HashMap<>();
    currentOffsets.forEach(
        (tp, consumed) -> {
          if (seekPending.contains(tp)) {
            return; // Connect consumed past records it is to deliver again
          }
          if (!open.contains(tp) || !assigned.contains(tp)) {
            // Connect's final commit on stop also names partitions revoked earlier, at what this
            // task consumed of them then (records of a closed partition it skipped count as
            // consumed): their offsets now belong to the task that has them
            return;
          }
          // no entry: nothing of this partition ever reached put(), so everything consumed
          // from it so far was skipped by Connect, and is done with
          Long next = written.get(tp);
          if (next == null ? consumed.offset() > 0 : consumed.offset() > next) {
            ahead.put(tp, consumed.offset());
          }
        });
    if (ahead.isEmpty()) {
      return;
    }
    try {
      Connection c = session.connection();
      store.save(c, ahead, written);
      c.commit();
      written.putAll(ahead);
    } catch (SQLException e) {
      session.rollbackQuietly();
      // the next put() reads them again first: another task may have written them since
      ahead.keySet().stream().filter(tp -> !unloaded.contains(tp)).forEach(unloaded::add);
      log.warn(
          "Could not save offsets of skipped records (SQLSTATE {}); will try again",
          SqlStates.rootState(e));
    }
  }
}
