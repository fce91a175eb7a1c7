package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * Records already linked into an audit table come again without this connector's stored offsets to
 * skip them: the connector was renamed (its offsets are kept under its name, and a new consumer
 * group starts from the earliest offset), or its offsets row was deleted. They must be left out,
 * and the chain must verify: linking them again would move the chain's head to rows the table never
 * gets.
 */
class AuditReplayTest {

  private static final TopicPartition PARTITION = new TopicPartition("audit", 0);
  private static final String DATABASE = "audit_replay";

  @Test
  void aRenamedConnectorReplayingTheTopicLinksOnlyTheNewRows() throws Exception {
    String url = SERVER.createDatabase(DATABASE);
    write(url, "audit-archive", List.of(event(0, "a"), event(1, "b"), event(2, "c")));

    HandRunTaskContext context = new HandRunTaskContext(PARTITION);
    PostgresMemorySinkTask renamed =
        LocalTasks.started(url, context, "name", "audit-archive-v2", "write.mode", "audit");
    try {
      renamed.put(List.of(event(0, "a"), event(1, "b"), event(2, "c"), event(3, "d")));
      renamed.put(List.of(event(4, "e")));
      assertEquals(3.0, context.metric("duplicates-skipped-total"), "the replayed rows");
    } finally {
      renamed.stop();
    }

    assertEquals(5, LocalTasks.count(DATABASE, "SELECT count(*) FROM audit"));
    assertEquals(
        0,
        LocalTasks.count(DATABASE, "SELECT count(*) FROM soma_audit_verify('audit')"),
        "the chain verifies");
  }

  /**
   * A topic deleted and made again starts its offsets at 0: its records sit behind the chain's head
   * but are new, and must be written, not taken for the old ones.
   */
  @Test
  void aRecreatedTopicsRecordsBehindTheHeadAreNewAndWritten() throws Exception {
    String url = SERVER.createDatabase(DATABASE + "_recreated");
    write(url, "audit-archive", List.of(event(0, "a"), event(1, "b"), event(2, "c")));
    write(
        url,
        "audit-archive-after-recreate",
        List.of(event(0, "x", "2026-12-02T00:00:00Z"), event(1, "y", "2026-12-02T00:00:01Z")));
    assertEquals(
        5, LocalTasks.count(DATABASE + "_recreated", "SELECT count(*) FROM audit"), "none lost");
  }

  /**
   * After a restart, Connect skips records (a filter transform dropped them) and commits past them;
   * the next record is beyond the offset read at start but exactly where the database now stands,
   * and is written, not taken for a gap.
   */
  @Test
  void recordsSkippedByConnectAfterARestartAreNotTakenForAGap() throws Exception {
    String database = DATABASE + "_skipped";
    String url = SERVER.createDatabase(database);
    write(url, "audit-archive", List.of(event(0, "a")));
    HandRunTaskContext context = new HandRunTaskContext(PARTITION);
    PostgresMemorySinkTask restarted =
        LocalTasks.started(url, context, "name", "audit-archive", "write.mode", "audit");
    try {
      restarted.put(List.of()); // Connect polled: offsets 1-4 were dropped by a transform
      restarted.preCommit(Map.of(PARTITION, new OffsetAndMetadata(5)));
      restarted.put(List.of(event(5, "f")));
    } finally {
      restarted.stop();
    }
    assertEquals(2, LocalTasks.count(database, "SELECT count(*) FROM audit"), "offset 5 written");
  }

  /** Writes the records with a task of the named connector, which then stops. */
  private static void write(String url, String name, List<SinkRecord> records) {
    PostgresMemorySinkTask task = started(url, name);
    try {
      task.put(records);
    } finally {
      task.stop();
    }
  }

  private static PostgresMemorySinkTask started(String url, String name) {
    return LocalTasks.started(
        url, new HandRunTaskContext(PARTITION), "name", name, "write.mode", "audit");
  }

  private static SinkRecord event(long offset, String id) {
    return event(offset, id, "2026-12-01T00:00:00Z");
  }

  private static SinkRecord event(long offset, String id, String time) {
    String json = "{\"event_id\":\"" + id + "\",\"timestamp\":\"" + time + "\"}";
    return new SinkRecord(PARTITION.topic(), PARTITION.partition(), null, null, null, json, offset);
  }
}
