package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.CapturedStderr;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The warning about a bad row names its table and id, never its topic: the topic of a bad row is
 * row data, which may be megabytes long, hold newlines that forge log lines, or be payload written
 * into the wrong column. (The tests log through slf4j-simple, which writes to System.err.)
 */
class BadRowLogTest {

  private final PostgresServer pg = PostgresServer.shared();
  private final String db = "outbox_badlog_" + System.nanoTime();
  private PostgresOutboxSourceTask task;

  @AfterEach
  void stop() {
    if (task != null) {
      task.stop();
    }
  }

  @Test
  void theWarningAboutABadRowDoesNotQuoteItsTopic() throws Exception {
    pg.createDatabase(db);
    task =
        HandRunSourceContext.startedTask(
            HandRunSourceContext.relayProps(pg.jdbcUrl(db), pg.user()), Map.of());
    task.poll(); // creates the tables
    try (Connection c = pg.connect(db);
        PreparedStatement s =
            c.prepareStatement("INSERT INTO outbox(topic, payload) VALUES (?, '{}')")) {
      s.setString(1, "secret\nFORGED log line " + "x".repeat(10_000));
      s.execute();
    }

    String logged = CapturedStderr.ofWork(this::pollUntilIdle);
    assertTrue(logged.contains("is a bad row"), logged);
    assertFalse(logged.contains("secret") || logged.contains("FORGED"), logged);
  }

  private void pollUntilIdle() throws InterruptedException {
    for (int poll = 0; poll < 3; poll++) {
      task.poll();
    }
  }
}
