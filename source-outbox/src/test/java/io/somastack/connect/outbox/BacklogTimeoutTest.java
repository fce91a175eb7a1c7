package io.somastack.connect.outbox;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The backlog gauges count the whole backlog, before every read once the interval has passed and at
 * once after every reconnection. On a backlog large enough, the count outlasted the driver's socket
 * timeout: a transient error, a reconnection, the same count again, and no row was ever relayed.
 * The count now runs under a statement timeout whose expiry keeps the last values.
 */
class BacklogTimeoutTest {

  private static final int ROWS = 100_000;
  @RegisterExtension final RelayTask relay = new RelayTask("outbox_backlog_timeout_");

  @Test
  void aBacklogCountThatTimesOutKeepsTheGaugeAndRowsAreStillRelayed() throws Exception {
    relay.createDatabase();
    Map<String, String> props = relay.props();
    props.put("metrics.backlog.interval.ms", "100");
    PostgresOutboxSourceTask task = relay.start(props);
    HandRunSourceContext context = relay.context();
    task.poll(); // creates the table
    try (Connection c = relay.connect();
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
