package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.transforms.RegexRouter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A topic-renaming transform in the sink's own {@code transforms} (Kafka's RegexRouter here, or
 * RouteByField) changes a record's topic, but Connect assigns, seeks and commits the partitions it
 * consumed: the original ones. Two source topics merged into one table keep apart everything that
 * is keyed by position (stored offsets, skips, rewinds, audit chains, upsert staleness), while the
 * table is the renamed topic's, as the transform asks.
 */
class RenamedTopicsTest {

  private static final TopicPartition A = new TopicPartition("agent-a", 0);
  private static final TopicPartition B = new TopicPartition("agent-b", 0);
  private static final String TABLE = "agent_events";

  private final RegexRouter<SinkRecord> router = new RegexRouter<>();
  private final List<PostgresMemorySinkTask> tasks = new ArrayList<>();

  RenamedTopicsTest() {
    router.configure(Map.of("regex", "agent-(.*)", "replacement", TABLE));
  }

  @AfterEach
  void stop() {
    tasks.forEach(PostgresMemorySinkTask::stop);
    router.close();
  }

  /**
   * The reviewer's sequence: agent-a@1000 and agent-b@10, then agent-b@11 and @12. Keyed by the
   * renamed topic, the second put was taken for records already written (11 < 1001) and lost.
   */
  @Test
  void appendModeStoresAndReportsTheOffsetsOfTheOriginalPartitions() throws Exception {
    String database = "renamed_append";
    String url = SERVER.createDatabase(database);
    PostgresMemorySinkTask task =
        started(url, new HandRunTaskContext(A, B), "write.mode", "append");
    task.put(routed(event(A, 1000, "a1000"), event(B, 10, "b10")));
    task.put(routed(event(B, 11, "b11"), event(B, 12, "b12")));

    assertEquals(4, LocalTasks.count(database, "SELECT count(*) FROM " + TABLE));
    Map<TopicPartition, OffsetAndMetadata> consumed =
        Map.of(A, new OffsetAndMetadata(1001), B, new OffsetAndMetadata(13));
    assertEquals(consumed, task.preCommit(consumed));
    assertEquals(
        List.of("agent-a-0=1001", "agent-b-0=13"),
        LocalTasks.strings(
            database,
            "SELECT topic || '-' || kafka_partition || '=' || next_offset"
                + " FROM soma_connect_offsets ORDER BY topic"));
    assertEquals(
        List.of("agent-a-0@1000", "agent-b-0@10", "agent-b-0@11", "agent-b-0@12"),
        positions(database));

    // a restart (new task, same database) resumes each original partition where it stopped
    HandRunTaskContext again = new HandRunTaskContext(A, B);
    PostgresMemorySinkTask restarted = started(url, again, "write.mode", "append");
    assertEquals(Map.of(A, 1001L, B, 13L), again.requestedOffsets());
    restarted.put(routed(event(B, 12, "b12"), event(B, 13, "b13"), event(A, 1001, "a1001")));
    assertEquals(6, LocalTasks.count(database, "SELECT count(*) FROM " + TABLE));
    assertEquals(
        Map.of(A, new OffsetAndMetadata(1002), B, new OffsetAndMetadata(14)),
        restarted.preCommit(Map.of(A, new OffsetAndMetadata(1002), B, new OffsetAndMetadata(14))));
  }

  /**
   * Records of two topics at the same offsets land in one audit table: each is its own row, linked
   * in the chain of its original partition, and the table verifies.
   */
  @Test
  void auditChainsArePerOriginalPartitionAndVerify() throws Exception {
    String database = "renamed_audit";
    String url = SERVER.createDatabase(database);
    PostgresMemorySinkTask task = started(url, new HandRunTaskContext(A, B), "write.mode", "audit");
    task.put(routed(event(A, 0, "a0"), event(B, 0, "b0"), event(A, 1, "a1")));
    task.put(routed(event(B, 1, "b1")));

    assertEquals(
        List.of("agent-a-0@0", "agent-a-0@1", "agent-b-0@0", "agent-b-0@1"), positions(database));
    assertEquals(
        List.of("agent-a-0@1", "agent-b-0@1"),
        LocalTasks.strings(
            database,
            "SELECT kafka_topic || '-' || kafka_partition || '@' || kafka_offset"
                + " FROM soma_audit_chain_heads ORDER BY kafka_topic"));
    assertEquals(
        List.of(),
        LocalTasks.strings(
            database,
            "SELECT kafka_offset || ': ' || problem FROM soma_audit_verify('public."
                + TABLE
                + "')"));
  }

  /**
   * Without a version, an event replaces a key's row unless the row is at or after it in the same
   * partition: agent-b@5 is not older than agent-a@100, which another partition wrote.
   */
  @Test
  void upsertStalenessComparesOffsetsOfOneOriginalPartitionOnly() throws Exception {
    String database = "renamed_upsert";
    String url = SERVER.createDatabase(database);
    PostgresMemorySinkTask task =
        started(
            url, new HandRunTaskContext(A, B), "write.mode", "upsert", "key.fields", "entity_id");
    task.put(routed(event(A, 100, "a100")));
    task.put(routed(event(B, 5, "b5")));

    assertEquals(List.of("agent-b-0@5"), positions(database));
  }

  /** Dead letters of two topics at one offset are two rows: their position is their key. */
  @Test
  void deadLettersOfTwoTopicsAtOneOffsetAreTwoRows() throws Exception {
    String database = "renamed_dead_letter";
    String url = SERVER.createDatabase(database);
    PostgresMemorySinkTask task =
        started(url, new HandRunTaskContext(A, B), "write.mode", "dead_letter");
    task.put(routed(event(A, 0, "a0"), event(B, 0, "b0")));

    assertEquals(List.of("agent-a-0@0", "agent-b-0@0"), positions(database));
  }

  /**
   * After a put that failed transiently, Connect delivers its records again less those of the
   * partitions a rebalance revoked, which it finds by their topic after the transforms: under a
   * renaming transform it still delivers them after close. Kept in the batch, their offsets (now
   * another task's to store) made every write fail as a conflict until retry.timeout.ms, and the
   * partitions the task still owned made no progress.
   */
  @Test
  void recordsOfAPartitionClosedByARebalanceAreLeftToItsNewOwner() throws Exception {
    String database = "renamed_closed_partition";
    String url = SERVER.createDatabase(database);
    HandRunTaskContext context = new HandRunTaskContext(A, B);
    PostgresMemorySinkTask task = started(url, context, "write.mode", "append");
    task.put(routed(event(A, 0, "a0"), event(B, 0, "b0")));
    task.close(List.of(B));

    task.put(routed(event(A, 1, "a1"), event(B, 1, "b1"), event(B, 2, "b2")));

    assertEquals(
        List.of("a0", "a1", "b0"),
        LocalTasks.strings(database, "SELECT event_id FROM " + TABLE + " ORDER BY 1"));
    assertEquals(2.0, context.metric("records-skipped-closed-partition-total"));
    assertEquals(0.0, context.metric("retries-total"));
    assertEquals(
        Map.of(A, new OffsetAndMetadata(2)),
        task.preCommit(Map.of(A, new OffsetAndMetadata(2), B, new OffsetAndMetadata(3))));

    // assigned again, the partition's records are the task's to write once more
    task.open(List.of(B));
    task.put(routed(event(B, 1, "b1")));
    assertEquals(4, LocalTasks.count(database, "SELECT count(*) FROM " + TABLE));
  }

  private PostgresMemorySinkTask started(
      String url, HandRunTaskContext context, String... keyValues) {
    PostgresMemorySinkTask task = LocalTasks.started(url, context, keyValues);
    tasks.add(task);
    return task;
  }

  /** The records as the sink gets them, after Connect ran the connector's RegexRouter. */
  private List<SinkRecord> routed(SinkRecord... records) {
    List<SinkRecord> out = new ArrayList<>();
    for (SinkRecord record : records) {
      out.add(router.apply(record));
    }
    return out;
  }

  private static SinkRecord event(TopicPartition tp, long offset, String id) {
    String json =
        "{\"event_id\":\"" + id + "\",\"entity_id\":\"k\",\"timestamp\":\"2026-12-01T00:00:00Z\"}";
    return new SinkRecord(tp.topic(), tp.partition(), null, null, null, json, offset);
  }

  /** The rows' kafka_* columns, as topic-partition@offset, in order. */
  private static List<String> positions(String database) throws SQLException {
    return LocalTasks.strings(
        database,
        "SELECT kafka_topic || '-' || kafka_partition || '@' || kafka_offset FROM "
            + TABLE
            + " ORDER BY 1");
  }
}
