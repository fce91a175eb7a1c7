package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Upsert mode's counters say what happened to each record: stale-updates-refused counts the writes
 * and tombstones older than the row they would replace or delete, duplicates-skipped the records a
 * later record of their key superseded within a batch. A tombstone whose key has no row deletes
 * nothing and is neither; a lower version is stale whether or not it shares a batch with the higher
 * one.
 */
class UpsertCountsTest {

  private static final String DATABASE = "upsert_counts";
  private static final TopicPartition PARTITION = new TopicPartition("kv", 0);

  /** The task's counters once its batches are written (its metrics go away when it stops). */
  private record Counts(double written, double duplicates, double stale) {}

  private String url;

  @BeforeEach
  void createDatabase() throws SQLException {
    url = SERVER.createDatabase(DATABASE);
  }

  @Test
  void aTombstoneOfAKeyWithoutARowIsNoStaleUpdate() {
    Counts counts =
        run(
            "local-task",
            List.of(
                List.of(write("k", 0, 0)),
                List.of(tombstone("never-written", 1)),
                List.of(write("j", 0, 2), tombstone("j", 3)))); // j's write is superseded
    assertEquals(new Counts(1, 1, 0), counts);
  }

  /** A second connector replaying the topic meets rows newer than its tombstones. */
  @Test
  void aTombstoneOlderThanTheStoredRowIsAStaleUpdate() throws SQLException {
    run("first", List.of(List.of(write("k", 0, 5))));
    Counts replay = run("replay", List.of(List.of(tombstone("k", 3))));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM kv"));
    assertEquals(new Counts(0, 0, 1), replay);
  }

  @Test
  void aVersionNotAboveTheKeptOneIsStaleInOneBatchAsAcrossBatches() throws SQLException {
    List<SinkRecord> stream = List.of(write("k", 5, 0), write("k", 3, 1), write("k", 5, 2));
    Counts oneBatch = run("local-task", List.of(stream), "version.field", "v");
    url = SERVER.createDatabase(DATABASE);
    Counts eachAlone =
        run("local-task", stream.stream().map(List::of).toList(), "version.field", "v");
    assertEquals(new Counts(1, 0, 2), oneBatch);
    assertEquals(new Counts(1, 0, 2), eachAlone);
  }

  /**
   * Tombstone, write, tombstone, write of one key in one batch: the first tombstone is superseded
   * by the second, which is kept ahead of the last write, so each record is counted once.
   */
  @Test
  void aSupersededKeptTombstoneIsADuplicate() throws SQLException {
    Counts counts =
        run(
            "local-task",
            List.of(
                List.of(tombstone("k", 0), write("k", 1, 1), tombstone("k", 2), write("k", 2, 3))),
            "version.field",
            "v");
    assertEquals(2, LocalTasks.count(DATABASE, "SELECT event_version FROM kv WHERE id = 'k'"));
    assertEquals(new Counts(1, 2, 0), counts, "a write and a tombstone superseded");
  }

  private Counts run(String name, List<List<SinkRecord>> batches, String... extra) {
    List<String> props =
        new ArrayList<>(List.of("name", name, "write.mode", "upsert", "key.fields", "id"));
    props.addAll(List.of(extra));
    HandRunTaskContext context = new HandRunTaskContext(PARTITION);
    PostgresMemorySinkTask task = LocalTasks.started(url, context, props.toArray(new String[0]));
    try {
      batches.forEach(task::put);
      return new Counts(
          context.metric("records-written-total"),
          context.metric("duplicates-skipped-total"),
          context.metric("stale-updates-refused-total"));
    } finally {
      task.stop();
    }
  }

  private static SinkRecord write(String id, int version, long offset) {
    String json = "{\"id\":\"" + id + "\",\"v\":" + version + "}";
    return new SinkRecord(PARTITION.topic(), 0, null, id, null, json, offset);
  }

  private static SinkRecord tombstone(String id, long offset) {
    return new SinkRecord(PARTITION.topic(), 0, null, id, null, null, offset);
  }
}
