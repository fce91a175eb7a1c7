package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.HandRunSourceContext.pollUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Connect stops a source task on the task's own thread once {@code poll()} has returned, and gives
 * up on it after task.shutdown.graceful.timeout.ms (5 s by default). A poll that waits a whole
 * poll.interval.ms for a notification, or a whole retry backoff (30 s by default) while the
 * database is down, makes every stop and rebalance outlast that and the task be cancelled. A poll
 * must return within about a second whatever those settings are, and still read at once on a
 * notification, and at once after a reconnection.
 */
class PollReturnsPromptlyTest {

  private static final Duration PROMPTLY = Duration.ofSeconds(4);
  @RegisterExtension final RelayTask relay = new RelayTask("outbox_prompt_");

  @Test
  void anIdlePollReturnsLongBeforeTheReadIntervalAndANotificationStillReadsAtOnce()
      throws Exception {
    relay.createDatabase();
    Map<String, String> props = relay.props();
    props.put("poll.interval.ms", "20000");
    PostgresOutboxSourceTask task = relay.start(props);

    assertTimeoutPreemptively(PROMPTLY, () -> assertNull(task.poll(), "creates the tables"));
    assertTimeoutPreemptively(PROMPTLY, () -> assertNull(task.poll(), "nothing to relay"));

    try (Connection c = relay.connect();
        Statement s = c.createStatement()) {
      s.execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{}')");
    }
    assertEquals(
        1, pollUntil(task, 1).size(), "the notification read the row, not the 20 s interval");
  }

  /**
   * The notification of a row inserted while the task's connection is gone never arrives: the task
   * must read at once when it has connected again, not at the end of the poll interval it was
   * waiting out when the connection broke.
   */
  @Test
  void aRowInsertedWhileDisconnectedIsReadOnReconnectionNotAtTheEndOfTheInterval()
      throws Exception {
    relay.createDatabase();
    Map<String, String> props = relay.props();
    props.put("poll.interval.ms", "60000");
    props.put("retry.backoff.initial.ms", "10");
    props.put("retry.backoff.max.ms", "100");
    PostgresOutboxSourceTask task = relay.start(props);
    assertNull(task.poll(), "creates the tables, then waits for a notification");

    try (Connection c = relay.connect();
        Statement s = c.createStatement()) {
      s.execute(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
              + " AND pid <> pg_backend_pid()");
      s.execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{}')");
    }
    assertEquals(1, pollUntil(task, 1).size(), "read on reconnection");
  }

  @Test
  void aPollReturnsLongBeforeTheRetryBackoffWhileTheDatabaseIsDown() {
    // nothing listens on port 1: every connection attempt is refused, a transient error
    Map<String, String> props =
        HandRunSourceContext.relayProps("jdbc:postgresql://127.0.0.1:1/none", relay.pg().user());
    props.put("retry.backoff.initial.ms", "20000");
    props.put("retry.backoff.max.ms", "20000");
    PostgresOutboxSourceTask task = relay.start(props);

    assertTimeoutPreemptively(PROMPTLY, () -> assertNull(task.poll(), "the connection fails"));
    assertTimeoutPreemptively(PROMPTLY, () -> assertNull(task.poll(), "still backing off"));
  }
}
