package io.somastack.connect.common.record;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class OffsetRangesTest {

  private static SinkRecord record(String topic, int partition, long offset) {
    return new SinkRecord(topic, partition, null, null, null, "secret value", offset);
  }

  @Test
  void namesEachPartitionByItsLowestAndHighestOffsetAndNeverTheContents() {
    OffsetRanges ranges =
        OffsetRanges.of(
            List.of(
                record("events", 1, 4),
                record("events", 0, 12),
                record("events", 0, 10),
                record("events", 0, 19)));
    assertEquals("events-0@10..19, events-1@4", ranges.toString());
    assertEquals("no records", OffsetRanges.of(List.of()).toString());
  }

  @Test
  void countsARecordWhereConnectConsumedItNotWhereAnSmtRoutedIt() {
    SinkRecord routed =
        record("events", 2, 7).newRecord("renamed", 0, null, null, null, "secret value", null);
    assertEquals("events-2@7", OffsetRanges.of(List.of(routed)).toString());
  }

  @Test
  void mergesAndDropsPartitions() {
    OffsetRanges ranges = OffsetRanges.of(List.of(record("t", 0, 5), record("t", 1, 1)));
    ranges.addAll(OffsetRanges.of(List.of(record("t", 0, 2), record("t", 0, 9))));
    assertEquals("t-0@2..9, t-1@1", ranges.toString());
    assertEquals("t-1@1", ranges.without(List.of(new TopicPartition("t", 0))).toString());
    assertEquals("t-0@2..9, t-1@1", ranges.toString(), "without() leaves the original as it was");
  }
}
