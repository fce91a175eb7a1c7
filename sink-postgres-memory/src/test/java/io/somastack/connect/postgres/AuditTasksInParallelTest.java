package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * Tasks writing one audit table own different partitions, so different chains: a task must not wait
 * for another's transaction on a chain it does not write (as audit-archive's two tasks would
 * otherwise take turns, and deadlock on two audit tables met in opposite orders).
 */
class AuditTasksInParallelTest {

  private static final TopicPartition FIRST = new TopicPartition("parallel", 0);
  private static final TopicPartition SECOND = new TopicPartition("parallel", 1);
  private static final TopicPartition THIRD = new TopicPartition("parallel", 2);

  @Test
  void aTaskWritesItsChainWhileAnotherTransactionHoldsAnotherChain() throws Exception {
    String database = "audit_parallel";
    String url = SERVER.createDatabase(database);
    write(url, new HandRunTaskContext(FIRST, SECOND), List.of(event(FIRST, 0), event(SECOND, 0)));

    try (Connection other = SERVER.connect(database);
        Statement s = other.createStatement()) {
      other.setAutoCommit(false);
      // what the task owning the first partition holds while it writes a batch
      s.execute("SELECT 1 FROM soma_audit_chain_heads WHERE kafka_partition = 0 FOR UPDATE");
      // without waiting for the other transaction: it would fail at the lock timeout instead
      write(
          url + (url.contains("?") ? "&" : "?") + "options=-c%20lock_timeout=5000",
          new HandRunTaskContext(SECOND),
          List.of(event(SECOND, 1)));
      other.rollback();
    }

    assertEquals(3, LocalTasks.count(database, "SELECT count(*) FROM parallel"));
    assertEquals(
        0, LocalTasks.count(database, "SELECT count(*) FROM soma_audit_verify('parallel')"));
  }

  /**
   * Two connectors (each with its own stored offsets) writing the same new chain at once, the
   * second fewer of its records: it must find the first's rows in the table, rather than start the
   * chain again and move its head back to a row before the first's last. The first is held after it
   * recorded the head, before its rows are written, by a lock on the table.
   */
  @Test
  void twoConnectorsStartingOneChainAtOnceLeaveItWhole() throws Exception {
    String database = "audit_new_chain_race";
    String url = SERVER.createDatabase(database);
    write(url, new HandRunTaskContext(FIRST), List.of(event(FIRST, 0)));
    PostgresMemorySinkTask first = connector(url, "audit-first");
    PostgresMemorySinkTask second = connector(url, "audit-second");
    try {
      // set up before the race: the tables and functions, and the first chain's head
      first.put(List.of(event(FIRST, 1)));
      second.put(List.of(event(FIRST, 1)));
      try (Connection holder = SERVER.connect(database);
          Statement s = holder.createStatement()) {
        holder.setAutoCommit(false);
        s.execute("LOCK TABLE parallel IN SHARE MODE");
        List<SinkRecord> records = List.of(event(THIRD, 0), event(THIRD, 1), event(THIRD, 2));
        CompletableFuture<Void> one = CompletableFuture.runAsync(() -> first.put(records));
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> LocalTasks.waitingForALock(database) == 1);
        CompletableFuture<Void> two =
            CompletableFuture.runAsync(() -> second.put(records.subList(0, 2)));
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> LocalTasks.waitingForALock(database) == 2);
        holder.rollback();
        one.get(30, TimeUnit.SECONDS);
        two.get(30, TimeUnit.SECONDS);
      }
    } finally {
      first.stop();
      second.stop();
    }

    assertEquals(5, LocalTasks.count(database, "SELECT count(*) FROM parallel"));
    assertEquals(
        0, LocalTasks.count(database, "SELECT count(*) FROM soma_audit_verify('parallel')"));
  }

  private static PostgresMemorySinkTask connector(String url, String name) {
    return LocalTasks.started(
        url, new HandRunTaskContext(FIRST, THIRD), "write.mode", "audit", "name", name);
  }

  private static void write(String url, HandRunTaskContext context, List<SinkRecord> records) {
    PostgresMemorySinkTask task = LocalTasks.started(url, context, "write.mode", "audit");
    try {
      task.put(records);
    } finally {
      task.stop();
    }
  }

  private static SinkRecord event(TopicPartition partition, long offset) {
    String json =
        "{\"event_id\":\"e"
            + partition.partition()
            + "-"
            + offset
            + "\",\"timestamp\":\"2026-12-01T00:00:00Z\"}";
    return new SinkRecord(partition.topic(), partition.partition(), null, null, null, json, offset);
  }
}
