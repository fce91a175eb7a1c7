package io.somastack.connect.outbox;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The backlog gauges count the whole backlog, before every read once the interval has passed and at
 * once after every reconnection. On a backlog large enough, the count outlasted the driver's socket
 * timeout: a transient error, a reconnection, the same count again, and no row was ever relayed.
 * The count now runs under a statement timeout whose expiry keeps the last values.
 */
class BacklogTimeoutTest {

  private static final int ROWS = 100_000;
  private final PostgresServer pg = PostgresServer.shared();
  private final String db = "outbox_backlog_timeout_" + System.nanoTime();
  private PostgresOutboxSourceTask task;

  @AfterEach
  void stop() {
    if (task != null) {
      task.stop();
    }
  }

  @Test
  void aBacklogCountThatTimesOutKeepsTheGaugeAndRowsAreStillRelayed() throws Exception {
    pg.createDatabase(db);
    Map<String, String> props = HandRunSourceContext.relayProps(pg.jdbcUrl(db), pg.user());
    props.put("metrics.backlog.interval.ms", "100");
    HandRunSourceContext context = new HandRunSourceContext(props, Map.of());
    task = new PostgresOutboxSourceTask();
    task.initialize(context);
    task.start(props);
    task.poll(); // creates the table
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO outbox(topic, payload) SELECT 't', '{}' FROM generate_series(1, "
              + ROWS
              + ")");
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              task.poll();
              return context.metric("backlog-rows") == ROWS; // counted with time to spare
            });

    task.backlogTimeoutMs(1); // no count of the backlog finishes in a millisecond
    long timeoutsBefore = task.backlogTimeouts();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              List<SourceRecord> records = task.poll();
              assertFalse(records == null || records.isEmpty(), "rows are relayed on every poll");
              return task.backlogTimeouts() > timeoutsBefore;
            });
    assertEquals(ROWS, context.metric("backlog-rows"), "the last count, not 0");
  }
}
