package io.somastack.connect.common.record;

import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * The lowest and highest offset per partition of some records, to name them in logs and errors by
 * position, never by contents: "memory.events-0@10..19, memory.events-1@4". Records are counted at
 * their original topic, partition and offset (where Connect consumed them), which an SMT that
 * reroutes a record does not change.
 */
public final class OffsetRanges {

  /** Per partition, in name order: {lowest, highest}. */
  private final Map<String, long[]> ranges = new TreeMap<>();

  public static OffsetRanges of(Collection<SinkRecord> records) {
    OffsetRanges ranges = new OffsetRanges();
    records.forEach(ranges::add);
    return ranges;
  }

  public OffsetRanges add(SinkRecord record) {
    return add(Positions.partition(record), record.originalKafkaOffset());
  }

  public OffsetRanges add(TopicPartition partition, long offset) {
    ranges.merge(partition.toString(), new long[] {offset, offset}, OffsetRanges::span);
    return this;
  }

  /** Adds the other's ranges; a partition in both spans both. */
  public OffsetRanges addAll(OffsetRanges other) {
    other.ranges.forEach((partition, range) -> ranges.merge(partition, range, OffsetRanges::span));
    return this;
  }

  /** A new range covering both (the maps never hand out or change their arrays). */
  private static long[] span(long[] a, long[] b) {
    return new long[] {Math.min(a[0], b[0]), Math.max(a[1], b[1])};
  }

  /** These ranges without the partitions'. */
  public OffsetRanges without(Collection<TopicPartition> partitions) {
    OffsetRanges left = new OffsetRanges();
    left.ranges.putAll(ranges);
    partitions.forEach(p -> left.ranges.remove(p.toString()));
    return left;
  }

  public boolean isEmpty() {
    return ranges.isEmpty();
  }

  /** "t-0@10..19, t-1@4", or "no records". */
  @Override
  public String toString() {
    if (ranges.isEmpty()) {
      return "no records";
    }
    return ranges.entrySet().stream()
        .map(e -> e.getKey() + "@" + text(e.getValue()))
        .collect(Collectors.joining(", "));
  }

  private static String text(long[] range) {
    return range[0] == range[1] ? Long.toString(range[0]) : range[0] + ".." + range[1];
  }
}
