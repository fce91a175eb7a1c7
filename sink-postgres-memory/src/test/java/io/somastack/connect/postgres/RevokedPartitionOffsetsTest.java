package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * When a task stops, Connect's last commit names every partition the task ever consumed, also those
 * revoked from it earlier, at what it consumed of them then. Another task owns those now: their
 * stored offsets are that task's to write, and an old position saved over them would make it skip
 * or repeat records.
 */
class RevokedPartitionOffsetsTest {

  private static final TopicPartition OWNED = new TopicPartition("events", 0);
  private static final TopicPartition REVOKED = new TopicPartition("events", 1);

  @Test
  void theFinalCommitSavesNoOffsetOfAPartitionNoLongerAssigned() throws Exception {
    String url = SERVER.createDatabase("revoked_partition");
    PostgresMemorySinkTask task =
        LocalTasks.started(url, new HandRunTaskContext(OWNED), "table.name.format", "events");
    try {
      String json = "{\"event_id\":\"e0\"}";
      task.put(List.of(new SinkRecord("events", 0, null, null, null, json, 0)));
      Map<TopicPartition, OffsetAndMetadata> committed =
          task.preCommit(
              Map.of(OWNED, new OffsetAndMetadata(1), REVOKED, new OffsetAndMetadata(40)));
      assertEquals(Map.of(OWNED, new OffsetAndMetadata(1)), committed);
    } finally {
      task.stop();
    }
    assertEquals(
        0,
        LocalTasks.count(
            "revoked_partition",
            "SELECT count(*) FROM soma_connect_offsets WHERE kafka_partition = 1"));
  }

  /**
   * Connect commits a partition it is revoking (and, on stop, every partition ever consumed) while
   * the consumer's assignment still lists it, and it hands put() records of a partition already
   * closed, which the task skips: Connect counts them consumed all the same. Saved as "skipped",
   * that position would make the partition's new owner, if it had stored nothing yet, start past
   * records nobody wrote. A rebalance storm showed the save being tried (and refused, the new owner
   * having written first).
   */
  @Test
  void aPartitionClosedButStillListedAsAssignedGetsNoSkippedPosition() throws Exception {
    String url = SERVER.createDatabase("closed_still_listed");
    PostgresMemorySinkTask task =
        LocalTasks.started(
            url, new HandRunTaskContext(OWNED, REVOKED), "table.name.format", "events");
    try {
      task.put(List.of(new SinkRecord("events", 0, null, null, null, "{\"event_id\":\"e0\"}", 0)));
      task.close(List.of(REVOKED));
      List<SinkRecord> lateRecords = new ArrayList<>();
      for (int offset = 0; offset < 40; offset++) {
        lateRecords.add(
            new SinkRecord(
                "events", 1, null, null, null, "{\"event_id\":\"r" + offset + "\"}", offset));
      }
      task.put(lateRecords); // skipped: the partition is closed
      Map<TopicPartition, OffsetAndMetadata> committed =
          task.preCommit(
              Map.of(OWNED, new OffsetAndMetadata(1), REVOKED, new OffsetAndMetadata(40)));
      assertEquals(Map.of(OWNED, new OffsetAndMetadata(1)), committed);
    } finally {
      task.stop();
    }
    assertEquals(
        0,
        LocalTasks.count(
            "closed_still_listed",
            "SELECT count(*) FROM soma_connect_offsets WHERE kafka_partition = 1"));
  }
}
