package io.somastack.connect.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The rows the progress report counts, on a real PostgreSQL. */
class ProgressReporterTest {

  /**
   * With SOMA_PG_URL the tables may hold an earlier run's rows: "landed" counted them too. It is
   * what each table gained since the baseline; a table created after it counts from 0.
   */
  @Test
  void landedIsWhatEachTableGainedSinceTheBaseline() throws Exception {
    PostgresServer server = PostgresServer.shared();
    server.createDatabase("progress_baseline");
    try (Connection c = server.connect("progress_baseline");
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE memory_replica (id int)");
      s.execute("INSERT INTO memory_replica SELECT generate_series(1, 7)");
      ProgressReporter progress = new ProgressReporter(null, server, "progress_baseline");
      assertEquals(Set.of(), progress.takeBaseline());

      s.execute("INSERT INTO memory_replica SELECT generate_series(1, 3)");
      s.execute("CREATE TABLE dlq (id int)");
      s.execute("INSERT INTO dlq VALUES (1)");

      assertEquals(
          Map.of("memory_replica", 3L, "dlq", 1L),
          progress.landed(progress.countRows(new TreeSet<>())));
    }
  }

  /**
   * A count on a table someone holds locked blocked the reading, and with it --timeout, for as long
   * as the lock was held. The statement timeout ends it: the table keeps its last count (no
   * progress that reading) and is named.
   */
  @Test
  void aLockedTableDoesNotHoldUpTheReading() throws Exception {
    PostgresServer server = PostgresServer.shared();
    server.createDatabase("progress_locked");
    try (Connection c = server.connect("progress_locked");
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE memory_kv (id int)");
      ProgressReporter progress =
          new ProgressReporter(null, server, "progress_locked", Duration.ofMillis(300));
      progress.takeBaseline();
      s.execute("INSERT INTO memory_kv SELECT generate_series(1, 4)");
      assertEquals(Map.of("memory_kv", 4L), progress.landed(progress.countRows(new TreeSet<>())));

      try (Connection locker = server.connect("progress_locked");
          Statement l = locker.createStatement()) {
        locker.setAutoCommit(false);
        l.execute("INSERT INTO memory_kv VALUES (5)");
        l.execute("LOCK TABLE memory_kv IN ACCESS EXCLUSIVE MODE");

        Set<String> uncounted = new TreeSet<>();
        Map<String, Long> counts =
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> progress.countRows(uncounted));

        assertEquals(Set.of("memory_kv"), uncounted);
        assertEquals(Map.of("memory_kv", 4L), progress.landed(counts));
        locker.rollback();
      }
    }
  }
}
