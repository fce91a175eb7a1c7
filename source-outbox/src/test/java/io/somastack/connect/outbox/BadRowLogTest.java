package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.CapturedStderr;
import java.sql.Connection;
import java.sql.PreparedStatement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The warning about a bad row names its table and id, never its topic: the topic of a bad row is
 * row data, which may be megabytes long, hold newlines that forge log lines, or be payload written
 * into the wrong column. (The tests log through slf4j-simple, which writes to System.err.)
 */
class BadRowLogTest {

  @RegisterExtension final RelayTask relay = new RelayTask("outbox_badlog_");

  @Test
  void theWarningAboutABadRowDoesNotQuoteItsTopic() throws Exception {
    relay.createDatabase();
    PostgresOutboxSourceTask task = relay.start(relay.props());
    task.poll(); // creates the tables
    try (Connection c = relay.connect();
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
      relay.task().poll();
    }
  }
}
