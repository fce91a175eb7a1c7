package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.somastack.connect.testing.CapturedStderr;
import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Upsert mode with tombstones=delete and auto.create=false, the table named from the record's key
 * (kv_${key.tenant}): a tombstone whose table does not exist has nothing to delete, so the delete
 * is complete. It was dead-lettered (or, without a dead-letter queue, stopped the task) as if it
 * were a write the table could not take.
 */
class MissingTableTombstonesTest {

  private static final String DATABASE = "missing_table_tombstones";
  private static final TopicPartition PARTITION = new TopicPartition("kv", 0);

  /** What the task logs, once per missing table, for such tombstones. */
  private static final String LOGGED = "that does not exist: nothing to delete";

  private String url;
  private PostgresMemorySinkTask task;

  @BeforeEach
  void createDatabaseAndTheAcmeTable() {
    url = SERVER.createDatabase(DATABASE);
    // made by a task allowed to create it, as a provisioned tenant's table would be
    PostgresMemorySinkTask creator =
        LocalTasks.started(url, new HandRunTaskContext(PARTITION), options("true"));
    try {
      creator.put(List.of(write("acme", "k0", 0)));
    } finally {
      creator.stop();
    }
  }

  @AfterEach
  void stopTask() {
    if (task != null) {
      task.stop();
    }
  }

  /**
   * The tombstones of missing tables are done, counted, logged once per table by position (never
   * the table's name: the key made it) and committed; the table is not created for them. A write to
   * a missing table is still dead-lettered, and the existing table's rows are written and deleted
   * as before.
   */
  @Test
  void aTombstoneOfAMissingTableDeletesNothingAndIsCommitted() throws Exception {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task = LocalTasks.started(url, context, options("false"));
    String firstLog =
        CapturedStderr.ofWork(
            () ->
                task.put(
                    List.of(
                        write("acme", "k1", 1),
                        write("acme", "k2", 2),
                        tombstone("nope", "k1", 3),
                        write("nope", "k9", 4),
                        tombstone("acme", "k2", 5),
                        tombstone("nope", "k2", 6),
                        tombstone("gone", "k1", 7))));

    assertEquals(
        List.of(4L),
        context.deadLettered().stream().map(dead -> dead.getKey().kafkaOffset()).toList());
    assertEquals(
        List.of("k0", "k1"), LocalTasks.strings(DATABASE, "SELECT id FROM kv_acme ORDER BY id"));
    assertEquals(8, nextOffset());
    assertEquals(3.0, context.metric("tombstones-without-table-total"));
    assertEquals(0, tablesNamed("kv_nope", "kv_gone"));
    assertEquals(2, occurrences(firstLog, LOGGED), firstLog);
    assertFalse(firstLog.contains("kv_nope") || firstLog.contains("kv_gone"), firstLog);
    assertFalse(firstLog.contains("nope"), firstLog);

    String secondLog = CapturedStderr.ofWork(() -> task.put(List.of(tombstone("nope", "k3", 8))));
    assertEquals(0, occurrences(secondLog, LOGGED), secondLog); // logged for kv_nope already
    assertEquals(9, nextOffset());
    assertEquals(4.0, context.metric("tombstones-without-table-total"));
    assertEquals(1, context.deadLettered().size());
  }

  /** Without a dead-letter queue such a tombstone stopped the task; it is done instead. */
  @Test
  void withoutADeadLetterQueueATombstoneOfAMissingTableDoesNotStopTheTask() throws Exception {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION);
    task = LocalTasks.started(url, context, options("false"));
    task.put(List.of(tombstone("nope", "k1", 1), write("acme", "k1", 2)));

    assertEquals(3, nextOffset());
    assertEquals(1.0, context.metric("tombstones-without-table-total"));
    assertEquals(0, tablesNamed("kv_nope"));
    assertEquals(
        List.of("k0", "k1"), LocalTasks.strings(DATABASE, "SELECT id FROM kv_acme ORDER BY id"));
  }

  private static String[] options(String autoCreate) {
    return new String[] {
      "write.mode",
      "upsert",
      "key.fields",
      "id",
      "tombstones",
      "delete",
      "auto.create",
      autoCreate,
      "table.name.format",
      "kv_${key.tenant}"
    };
  }

  private static long nextOffset() throws SQLException {
    return LocalTasks.count(
        DATABASE, "SELECT next_offset FROM soma_connect_offsets WHERE kafka_partition = 0");
  }

  private static long tablesNamed(String... tables) throws SQLException {
    return LocalTasks.count(
        DATABASE,
        "SELECT count(*) FROM pg_class WHERE relname IN ('" + String.join("','", tables) + "')");
  }

  private static int occurrences(String text, String part) {
    int count = 0;
    for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) {
      count++;
    }
    return count;
  }

  private static SinkRecord write(String tenant, String id, long offset) {
    return new SinkRecord(
        PARTITION.topic(),
        PARTITION.partition(),
        null,
        Map.of("tenant", tenant, "id", id),
        null,
        "{\"id\":\"" + id + "\",\"n\":" + offset + "}",
        offset);
  }

  private static SinkRecord tombstone(String tenant, String id, long offset) {
    return new SinkRecord(
        PARTITION.topic(),
        PARTITION.partition(),
        null,
        Map.of("tenant", tenant, "id", id),
        null,
        null,
        offset);
  }
}
