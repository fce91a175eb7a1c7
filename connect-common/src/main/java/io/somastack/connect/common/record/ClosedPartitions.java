package io.somastack.connect.common.record;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * The partitions a sink task was closed on by a rebalance and not opened on again, and a filter for
 * their records. After a {@code put} that threw {@code RetriableException}, Connect delivers the
 * same records again less those of the partitions it revoked meanwhile; it finds those by their
 * topic after the connector's transforms, so under one that renames the topic (RegexRouter,
 * RouteByField) it still delivers them after {@code close}. Their partition's new owner writes
 * them; written here too, late, they could undo its newer writes, and their offsets are no longer
 * this task's to store or report. Partitions are matched by where Connect consumed the records
 * ({@link Positions#partition}).
 */
public final class ClosedPartitions {

  private final Set<TopicPartition> closed = new HashSet<>();

  /** The records of what a put was handed that the task may still write, and those it may not. */
  public record Split(Collection<SinkRecord> own, OffsetRanges skipped, int skippedCount) {}

  public void opened(Collection<TopicPartition> partitions) {
    closed.removeAll(partitions);
  }

  public void closed(Collection<TopicPartition> partitions) {
    closed.addAll(partitions);
  }

  public boolean contains(TopicPartition partition) {
    return closed.contains(partition);
  }

  /** Splits the records by whether their partition was closed and not opened again. */
  public Split split(Collection<SinkRecord> records) {
    if (closed.isEmpty()) {
      return new Split(records, new OffsetRanges(), 0);
    }
    List<SinkRecord> own = new ArrayList<>(records.size());
    OffsetRanges skipped = new OffsetRanges();
    for (SinkRecord record : records) {
      if (closed.contains(Positions.partition(record))) {
        skipped.add(record);
      } else {
        own.add(record);
      }
    }
    return new Split(
        own.size() == records.size() ? records : own, skipped, records.size() - own.size());
  }
}
