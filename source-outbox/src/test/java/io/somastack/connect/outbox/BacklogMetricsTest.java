package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The backlog gauges. The age of the oldest unpublished row was computed against the task's
 * monotonic milliseconds (from its start) instead of the wall clock the row's created_at is on, and
 * was always 0. A task counted the rows of a table another relay holds, so the two relays'
 * backlog-rows, summed on a dashboard, counted those rows twice. And tables-locked-elsewhere kept
 * the last connection's count while the task was disconnected.
 */
class BacklogMetricsTest {

  private static final long HOUR_MS = 3_600_000;
  @RegisterExtension final RelayTask relay = new RelayTask("outbox_backlog_");

  @BeforeEach
  void createOutbox() throws SQLException {
    relay.createDatabase();
    try (Connection c = relay.connect();
        Statement s = c.createStatement()) {
      s.execute(DefaultOutbox.script());
    }
  }

  @Test
  void theOldestUnpublishedAgeIsTheOldestRowsAge() throws Exception {
    insertCreatedAnHourAgo(1);
    HandRunSourceContext context = started();

    relay.task().poll();
    double age = context.metric("oldest-unpublished-age-ms");
    assertTrue(age >= HOUR_MS, "the row is an hour old, the gauge says " + age + " ms");
  }

  @Test
  void aTableAnotherSessionHoldsIsNotCountedInTheBacklog() throws Exception {
    insertCreatedAnHourAgo(2);
    try (Connection holder = relay.connect();
        PreparedStatement lock =
            holder.prepareStatement(
                "SELECT pg_advisory_lock(?, to_regclass('public.outbox')::oid::int4)")) {
      lock.setInt(1, OutboxLocks.NAMESPACE);
      lock.execute();
      HandRunSourceContext context = started();

      assertNull(relay.task().poll(), "another session holds the table");
      assertEquals(1.0, context.metric("tables-locked-elsewhere"));
      assertEquals(0.0, context.metric("backlog-rows"), "the holder's rows, not this task's");
      assertEquals(0.0, context.metric("oldest-unpublished-age-ms"));
    }
  }

  /**
   * While its connection is gone the task holds no table and cannot see another relay's lock: the
   * gauge showed what the lost connection found, for as long as the database stayed away.
   */
  @Test
  void tablesLockedElsewhereIsNotKeptFromALostConnection() throws Exception {
    try (Connection holder = relay.connect();
        PreparedStatement lock =
            holder.prepareStatement(
                "SELECT pg_advisory_lock(?, to_regclass('public.outbox')::oid::int4)");
        Statement s = holder.createStatement()) {
      lock.setInt(1, OutboxLocks.NAMESPACE);
      lock.execute();
      HandRunSourceContext context = started(Map.of("retry.backoff.initial.ms", "30000"));
      assertNull(relay.task().poll(), "another session holds the table");
      assertEquals(1.0, context.metric("tables-locked-elsewhere"));

      s.execute(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
              + " AND pid <> pg_backend_pid()");
      assertNull(relay.task().poll(), "the connection is lost; the task backs off 30 s");
      assertEquals(0.0, context.metric("tables-locked-elsewhere"));
    }
  }

  /**
   * The backlog of tables let go of with a lost connection is no longer this task's: kept, it was
   * counted twice in a sum over tasks once another relay took the table.
   */
  @Test
  void theBacklogIsNotKeptFromALostConnection() throws Exception {
    insertCreatedAnHourAgo(2);
    HandRunSourceContext context = started(Map.of("retry.backoff.initial.ms", "30000"));
    relay.task().poll();
    assertEquals(2.0, context.metric("backlog-rows"));

    try (Connection admin = relay.connect();
        Statement s = admin.createStatement()) {
      s.execute(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
              + " AND pid <> pg_backend_pid()");
    }
    assertNull(relay.task().poll(), "the connection is lost; the task backs off 30 s");
    assertEquals(0.0, context.metric("backlog-rows"));
    assertEquals(0.0, context.metric("oldest-unpublished-age-ms"));
  }

  /**
   * An interval as long as a long ("never", in effect) was added to the task's clock and overflowed
   * to a deadline in the past: the backlog was counted on every poll instead of once.
   */
  @Test
  void aLongestIntervalCountsTheBacklogOnceNotOnEveryPoll() throws Exception {
    HandRunSourceContext context =
        started(Map.of("metrics.backlog.interval.ms", String.valueOf(Long.MAX_VALUE)));
    assertNull(relay.task().poll(), "nothing to relay yet");
    assertEquals(0.0, context.metric("backlog-rows"));

    insertCreatedAnHourAgo(2);
    relay.task().poll();
    assertEquals(0.0, context.metric("backlog-rows"), "the next count is not due");
  }

  private HandRunSourceContext started() {
    return started(Map.of());
  }

  private HandRunSourceContext started(Map<String, String> extra) {
    Map<String, String> props = relay.props();
    props.putAll(extra);
    props.put("outbox.table.create", "false");
    relay.start(props);
    return relay.context();
  }

  private void insertCreatedAnHourAgo(int rows) throws SQLException {
    try (Connection c = relay.connect();
        Statement s = c.createStatement()) {
      for (int i = 0; i < rows; i++) {
        s.execute(
            "INSERT INTO outbox(topic, payload, created_at)"
                + " VALUES ('t', '{}', clock_timestamp() - interval '1 hour')");
      }
    }
  }
}
