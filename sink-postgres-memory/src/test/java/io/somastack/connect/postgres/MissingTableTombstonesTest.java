package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.somastack.connect.testing.CapturedStderr;
import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Upsert mode with tombstones=delete and auto.create=false, the table named from the record's key
 * (kv_${key.tenant}): with a dead-letter queue, a tombstone whose table does not exist follows the
 * table's writes there, in order; without one it is done (nothing to delete), where it stopped the
 * task.
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
   * With a dead-letter queue, a missing table's tombstones go there with its writes, in their
   * order: replayed once the table exists, the queue ends as the stream would have. Were the
   * tombstones dropped as done, a replay would bring back the rows they deleted (k1 below: written,
   * then deleted). The existing table's rows are written and deleted as before, and no table is
   * created.
   */
  @Test
  void withADeadLetterQueueAMissingTablesTombstonesFollowItsWritesThere() throws Exception {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task =
        LocalTasks.started(
            url,
            context,
            options(
                "false", "errors.tolerance", "all", "errors.deadletterqueue.topic.name", "kv.dlq"));
    task.put(
        List.of(
            write("acme", "k1", 1),
            write("acme", "k2", 2),
            write("nope", "k1", 3),
            tombstone("nope", "k1", 4),
            tombstone("acme", "k2", 5)));
    task.put(List.of(write("nope", "k2", 6)));
    task.put(List.of(tombstone("nope", "k2", 7)));

    assertEquals(
        List.of(3L, 4L, 6L, 7L),
        context.deadLettered().stream().map(dead -> dead.getKey().kafkaOffset()).toList());
    assertEquals(
        List.of("k0", "k1"), LocalTasks.strings(DATABASE, "SELECT id FROM kv_acme ORDER BY id"));
    assertEquals(8, nextOffset());
    assertEquals(0.0, context.metric("tombstones-without-table-total"));
    assertEquals(0, tablesNamed("kv_nope"));

    // the replay, once the table may be made: the queue's records in their order
    PostgresMemorySinkTask replay =
        LocalTasks.started(
            url, new HandRunTaskContext(new TopicPartition("dlq", 0)), options("true"));
    try {
      List<SinkRecord> deadLetters = new ArrayList<>();
      long offset = 0;
      for (Map.Entry<SinkRecord, Throwable> dead : context.deadLettered()) {
        SinkRecord r = dead.getKey();
        deadLetters.add(new SinkRecord("dlq", 0, null, r.key(), null, r.value(), offset++));
      }
      replay.put(deadLetters);
    } finally {
      replay.stop();
    }
    assertEquals(List.of(), LocalTasks.strings(DATABASE, "SELECT id FROM kv_nope ORDER BY id"));
  }

  /**
   * Without a dead-letter queue a tombstone of a missing table is done: counted, logged once per
   * table by position (never the table's name: the key made it) and committed, the table not
   * created for it. It stopped the task. (A write to the table still stops it, before any later
   * record is committed.)
   */
  @Test
  void withoutADeadLetterQueueATombstoneOfAMissingTableIsDone() throws Exception {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION);
    task = LocalTasks.started(url, context, options("false"));
    String firstLog =
        CapturedStderr.ofWork(
            () ->
                task.put(
                    List.of(
                        tombstone("nope", "k1", 1),
                        write("acme", "k1", 2),
                        tombstone("nope", "k2", 3),
                        tombstone("gone", "k1", 4))));

    assertEquals(5, nextOffset());
    assertEquals(3.0, context.metric("tombstones-without-table-total"));
    assertEquals(0, tablesNamed("kv_nope", "kv_gone"));
    assertEquals(
        List.of("k0", "k1"), LocalTasks.strings(DATABASE, "SELECT id FROM kv_acme ORDER BY id"));
    assertEquals(2, occurrences(firstLog, LOGGED), firstLog);
    assertFalse(firstLog.contains("nope") || firstLog.contains("gone"), firstLog);

    String secondLog = CapturedStderr.ofWork(() -> task.put(List.of(tombstone("nope", "k3", 5))));
    assertEquals(0, occurrences(secondLog, LOGGED), secondLog); // logged for kv_nope already
    assertEquals(6, nextOffset());
    assertEquals(4.0, context.metric("tombstones-without-table-total"));
  }

  /**
   * Connect gives the task an errant record reporter for errors.log.enable alone, and with
   * errors.tolerance=none its report fails the task: that is no dead-letter queue, and a missing
   * table's tombstone is done there, not reported (which stopped the task at every restart).
   */
  @Test
  void withErrorsOnlyLoggedATombstoneOfAMissingTableIsDone() throws Exception {
    HandRunTaskContext context =
        new HandRunTaskContext(PARTITION)
            .deadLetterQueueThrowing(new ConnectException("Tolerance exceeded in error handler"));
    task =
        LocalTasks.started(
            url,
            context,
            options("false", "errors.log.enable", "true", "errors.tolerance", "none"));
    task.put(List.of(tombstone("nope", "k1", 1), write("acme", "k1", 2)));

    assertEquals(3, nextOffset());
    assertEquals(1.0, context.metric("tombstones-without-table-total"));
    assertEquals(0, context.deadLettered().size());
  }

  /** Upsert into kv_${key.tenant}, deleting on tombstones, then {@code more} options. */
  private static String[] options(String autoCreate, String... more) {
    List<String> options =
        new ArrayList<>(
            List.of(
                "write.mode",
                "upsert",
                "key.fields",
                "id",
                "tombstones",
                "delete",
                "auto.create",
                autoCreate,
                "table.name.format",
                "kv_${key.tenant}"));
    options.addAll(List.of(more));
    return options.toArray(new String[0]);
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
