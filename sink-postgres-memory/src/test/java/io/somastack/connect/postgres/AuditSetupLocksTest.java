package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * How an audit task's setup and chain reads meet the database around them: an operator's long
 * soma_audit_verify, a connection URL that forces binary transfer.
 */
class AuditSetupLocksTest {

  private static final TopicPartition PARTITION = new TopicPartition("audit", 0);

  /**
   * An operator's transaction reading soma_audit_retired (as soma_audit_verify does, for as long as
   * it runs) holds ACCESS SHARE on it: a task starting meanwhile, whose setup finds the retired
   * records' columns in place, must not queue behind it (with a lock_timeout on the database it
   * would fail with 55P03 instead, retried until the verify ends).
   */
  @Test
  void aTaskSetsUpWhileAVerifyReadsTheRetiredRecords() throws Exception {
    String database = "audit_setup_locks";
    String url = SERVER.createDatabase(database);
    put(url, event(0, "2026-12-01T00:00:00Z"));
    LocalTasks.execute(database, "ALTER DATABASE " + database + " SET lock_timeout = '1s'");
    try (Connection reader = SERVER.connect(database);
        Statement s = reader.createStatement()) {
      reader.setAutoCommit(false);
      s.execute("SELECT count(*) FROM soma_audit_retired");
      put(url, event(1, "2026-12-01T00:00:01Z"));
      reader.rollback();
    }
    assertEquals(2, LocalTasks.count(database, "SELECT count(*) FROM audit"));
    assertEquals(0, LocalTasks.count(database, "SELECT count(*) FROM soma_audit_verify('audit')"));
  }

  /**
   * prepareThreshold=-1 in the connection URL makes pgjdbc prepare every statement and ask for
   * binary results: the chain heads' read must still work, and the chain verify.
   */
  @Test
  void aConnectionUrlForcingBinaryTransferWritesAndLinks() throws Exception {
    String database = "audit_forced_binary";
    String url = SERVER.createDatabase(database);
    String forced = url + (url.contains("?") ? "&" : "?") + "prepareThreshold=-1";
    put(forced, event(0, "2026-12-01T00:00:00Z"), event(1, "2026-12-01T00:00:01Z"));
    put(forced, event(2, "2026-12-01T00:00:02Z"));
    assertEquals(3, LocalTasks.count(database, "SELECT count(*) FROM audit"));
    assertEquals(0, LocalTasks.count(database, "SELECT count(*) FROM soma_audit_verify('audit')"));
  }

  /**
   * A setup cut short by the server (an administrator's pg_terminate_backend, a failover) is
   * reported by what cut it: the rollback that follows on the dead connection also fails, and its
   * "connection has been closed" (08003) was thrown in place of the cause (57P01).
   */
  @Test
  void aSetupCutShortIsReportedByItsCauseNotByTheFailedRollback() throws Exception {
    String database = "audit_setup_cut";
    String url = SERVER.createDatabase(database);
    ExecutorService putter = Executors.newSingleThreadExecutor();
    try (Connection holder = SERVER.connect(database);
        Statement s = holder.createStatement()) {
      s.execute("SELECT pg_advisory_lock(hashtext('soma_audit_shared_objects'))");
      Future<?> put = putter.submit(() -> put(url, event(0, "2026-12-01T00:00:00Z")));
      await().atMost(Duration.ofSeconds(30)).until(() -> LocalTasks.waitingForALock(database) == 1);
      s.execute(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"
              + database
              + "' AND wait_event_type = 'Lock'");
      ExecutionException failed = assertThrows(ExecutionException.class, put::get);
      assertTrue(
          failed.getCause().getMessage().contains("SQLSTATE 57P01"),
          "names the termination: " + failed.getCause().getMessage());
    } finally {
      putter.shutdownNow();
    }
  }

  /** A task started anew (its setup runs), putting the records, then stopped. */
  private static void put(String url, SinkRecord... records) {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION);
    PostgresMemorySinkTask task =
        LocalTasks.started(url, context, "write.mode", "audit", "retry.timeout.ms", "0");
    try {
      task.put(List.of(records));
    } finally {
      task.stop();
    }
  }

  private static SinkRecord event(long offset, String time) {
    String json = "{\"event_id\":\"e" + offset + "\",\"timestamp\":\"" + time + "\"}";
    return new SinkRecord(PARTITION.topic(), 0, null, null, null, json, offset);
  }
}
