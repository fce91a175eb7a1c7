package io.somastack.connect.common.record;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class ClosedPartitionsTest {

  private static final TopicPartition A = new TopicPartition("a", 0);
  private static final TopicPartition B = new TopicPartition("b", 0);

  private final ClosedPartitions closed = new ClosedPartitions();

  /** Matched where Connect consumed them: a renamed record of a closed partition is still its. */
  @Test
  void recordsOfAClosedPartitionAreSplitOffByTheirOriginalPosition() {
    closed.closed(List.of(B));
    List<SinkRecord> records = List.of(renamed(A, 5), renamed(B, 7), renamed(B, 8));

    ClosedPartitions.Split split = closed.split(records);

    assertEquals(List.of(records.get(0)), split.own());
    assertEquals(2, split.skippedCount());
    assertEquals("b-0@7..8", split.skipped().toString());
  }

  @Test
  void aPartitionOpenedAgainIsTheTasksOnceMore() {
    closed.closed(List.of(A, B));
    closed.opened(List.of(B));
    List<SinkRecord> records = List.of(renamed(B, 1));

    ClosedPartitions.Split split = closed.split(records);

    assertSame(records, split.own());
    assertEquals(0, split.skippedCount());
    assertEquals(true, closed.contains(A));
  }

  /**
   * Opened again, a partition is the task's, but not the very records Connect held from the failed
   * put before it was closed; until the task writes past them, its offsets are held back.
   */
  @Test
  void theRecordsHeldFromBeforeTheCloseStaySkippedAfterTheReopen() {
    SinkRecord held = renamed(B, 7);
    closed.putFailed(List.of(renamed(A, 1), held));
    closed.closed(List.of(B));
    closed.opened(List.of(B));

    ClosedPartitions.Split again = closed.split(List.of(held));
    assertEquals(List.of(), again.own());
    assertEquals(true, closed.holdsBack(B));

    closed.putDone();
    SinkRecord afresh = renamed(B, 7);
    assertSame(afresh, closed.split(List.of(afresh)).own().iterator().next());
    closed.written(B, 7);
    assertEquals(true, closed.holdsBack(B), "written up to, not including, the held record");
    closed.written(B, 8);
    assertEquals(false, closed.holdsBack(B));
  }

  /**
   * Once a put returned, Connect delivers nothing of the partitions closed before it (it polls only
   * those assigned): the records are no longer looked at one by one, yet the partition stays closed
   * for the sinks that keep its offsets out of preCommit.
   */
  @Test
  void aPutDoneEndsTheRecordByRecordSplitButThePartitionStaysClosed() {
    closed.closed(List.of(B));
    closed.putDone();
    List<SinkRecord> records = List.of(renamed(A, 1), renamed(B, 2));

    assertSame(records, closed.split(records).own());
    assertEquals(true, closed.contains(B));
  }

  /** A put that failed keeps the split on: Connect delivers its records again, less or not. */
  @Test
  void aPartitionClosedAfterAFailedPutIsSplitOffInTheDeliveryAgain() {
    closed.closed(List.of(A));
    closed.putDone();
    TopicPartition c = new TopicPartition("c", 0);
    List<SinkRecord> delivered = List.of(renamed(B, 4), renamed(c, 5));
    closed.putFailed(delivered);
    closed.closed(List.of(B));

    ClosedPartitions.Split again = closed.split(delivered);

    assertEquals(List.of(delivered.get(1)), again.own());
    assertEquals("b-0@4", again.skipped().toString());
  }

  /** As RegexRouter makes it: the topic renamed, the original position kept. */
  private static SinkRecord renamed(TopicPartition tp, long offset) {
    return new SinkRecord(tp.topic(), tp.partition(), null, null, null, "{}", offset)
        .newRecord("merged", 0, null, null, null, "{}", null);
  }
}
