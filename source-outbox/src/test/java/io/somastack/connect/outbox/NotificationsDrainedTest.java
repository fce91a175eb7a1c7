package io.somastack.connect.outbox;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * pgjdbc queues every notification its connection receives until someone takes them. Under
 * sustained load every poll finds rows and reads at once, without waiting for a notification: if
 * only that wait took them, one queued notification per writing transaction would pile up in the
 * worker's memory for as long as the load lasts.
 */
class NotificationsDrainedTest {

  private static final int TRANSACTIONS = 50;
  @RegisterExtension final RelayTask relay = new RelayTask("outbox_drain_");

  @Test
  void notificationsDoNotPileUpWhileEveryPollFindsRows() throws Exception {
    relay.createDatabase();
    Map<String, String> props = relay.props();
    props.put("poll.max.rows", "1");
    PostgresOutboxSourceTask task = relay.start(props);
    assertNull(task.poll(), "creates the tables and listens");

    try (Connection writer = relay.connect();
        Statement s = writer.createStatement()) {
      for (int i = 0; i < TRANSACTIONS; i++) {
        s.execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{}')"); // one NOTIFY each
        // the row is readable once no older transaction of the cluster is open (a busy
        // machine's autovacuum can hold one for a moment): polls until it is relayed
        await().atMost(Duration.ofSeconds(30)).until(task::poll, Objects::nonNull);
      }
    }
    PGNotification[] queued = task.connection().unwrap(PGConnection.class).getNotifications();
    int count = queued == null ? 0 : queued.length;
    assertTrue(count <= 2, count + " notifications left queued after " + TRANSACTIONS + " polls");
  }
}
