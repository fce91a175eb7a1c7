package io.somastack.connect.common.record;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The partitions a sink task was closed on by a rebalance and not opened on again, and a filter for
 * their records. After a {@code put} that threw {@code RetriableException}, Connect delivers the
 * same records again less those of the partitions it revoked meanwhile; it finds those by their
 * topic after the connector's transforms, so under one that renames the topic (RegexRouter,
 * RouteByField) it still delivers them after {@code close}. Their partition's new owner writes
 * them; written here too, late, they could undo its newer writes, and their offsets are no longer
 * this task's to store or report. Partitions are matched by where Connect consumed the records
 * ({@link Positions#partition}).
 *
 * <p>A partition opened again is the task's once more, but not those very records of the batch
 * Connect still holds: it delivers them until a put takes them, after the new owner may have
 * written the partition past them, while the consumer goes on from the offset committed by then.
 * They are known by identity (Connect delivers the same record objects again); the partition's
 * records polled afresh are new objects, and the task's to write. Until it has written one at or
 * beyond the first it skipped so, the partition {@linkplain #holdsBack holds back}: Connect counts
 * the skipped records as delivered, and a commit of its offset then would pass over those records
 * polled afresh before they are written.
 */
public final class ClosedPartitions {

  private final Set<TopicPartition> closed = new HashSet<>();

  /**
   * Of {@link #closed}, those closed since a put last returned: Connect can deliver records of no
   * others (it polls only the partitions assigned, and holds records for another put only after one
   * failed), so the records are looked at one by one only while this is not empty. A rebalance that
   * moved a partition away for good no longer costs every later put a lookup per record.
   */
  private final Set<TopicPartition> closedSincePut = new HashSet<>();

  /** The records of the put that failed transiently: Connect delivers them again. */
  private Set<SinkRecord> retained = Collections.newSetFromMap(new IdentityHashMap<>());

  /** Those of them whose partition was closed since: skipped whether it opens again or not. */
  private Set<SinkRecord> stale = Collections.newSetFromMap(new IdentityHashMap<>());

  /** Per partition opened again, the lowest offset of the records of it skipped as stale. */
  private final Map<TopicPartition, Long> heldBack = new HashMap<>();

  private static final Logger log = LoggerFactory.getLogger(ClosedPartitions.class);

  /** The records of what a put was handed that the task may still write, and those it may not. */
  record Split(Collection<SinkRecord> own, OffsetRanges skipped, int skippedCount) {}

  public void opened(Collection<TopicPartition> partitions) {
    closed.removeAll(partitions);
    closedSincePut.removeAll(partitions);
  }

  public void closed(Collection<TopicPartition> partitions) {
    closed.addAll(partitions);
    closedSincePut.addAll(partitions);
    partitions.forEach(heldBack::remove);
    for (SinkRecord record : retained) {
      if (partitions.contains(Positions.partition(record))) {
        stale.add(record);
      }
    }
  }

  /** The put handed these records failed transiently: Connect delivers them (or fewer) again. */
  public void putFailed(Collection<SinkRecord> delivered) {
    retained = Collections.newSetFromMap(new IdentityHashMap<>());
    retained.addAll(delivered);
  }

  /**
   * A put returned: Connect holds no records to deliver again, of the partitions closed before it
   * either. They stay {@linkplain #contains closed} until opened again.
   */
  public void putDone() {
    closedSincePut.clear();
    if (!retained.isEmpty() || !stale.isEmpty()) {
      retained = Collections.newSetFromMap(new IdentityHashMap<>());
      stale = Collections.newSetFromMap(new IdentityHashMap<>());
    }
  }

  public boolean contains(TopicPartition partition) {
    return closed.contains(partition);
  }

  /**
   * Whether the partition, opened again, had records skipped as stale that the task has not written
   * since: no offset of it past them may be committed on Connect's word alone.
   */
  public boolean holdsBack(TopicPartition partition) {
    return heldBack.containsKey(partition);
  }

  /** The task wrote the partition's records up to (not including) {@code nextOffset}. */
  public void written(TopicPartition partition, long nextOffset) {
    Long lowest = heldBack.get(partition);
    if (lowest != null && nextOffset > lowest) {
      heldBack.remove(partition);
    }
  }

  /**
   * The records the task may still write: less those of partitions closed and not opened again, and
   * those delivered before their partition was closed. The skipped ones are counted through {@code
   * skipped} and logged by position, never by contents.
   */
  public Collection<SinkRecord> own(Collection<SinkRecord> records, IntConsumer skipped) {
    Split split = split(records);
    if (split.skippedCount() > 0) {
      skipped.accept(split.skippedCount());
      log.info(
          "Skipped {} record(s) of partitions closed by a rebalance ({}): their new owner writes"
              + " them",
          split.skippedCount(),
          split.skipped());
    }
    return split.own();
  }

  /**
   * Splits the records by whether their partition was closed and not opened again, or they were
   * delivered before it was closed.
   */
  Split split(Collection<SinkRecord> records) {
    if (closedSincePut.isEmpty() && stale.isEmpty()) {
      return new Split(records, new OffsetRanges(), 0);
    }
    List<SinkRecord> own = new ArrayList<>(records.size());
    OffsetRanges skipped = new OffsetRanges();
    for (SinkRecord record : records) {
      TopicPartition partition = Positions.partition(record);
      if (closedSincePut.contains(partition)) {
        skipped.add(record);
      } else if (stale.contains(record)) {
        skipped.add(record);
        heldBack.merge(partition, record.originalKafkaOffset(), Math::min);
      } else {
        own.add(record);
      }
    }
    return new Split(
        own.size() == records.size() ? records : own, skipped, records.size() - own.size());
  }
}
