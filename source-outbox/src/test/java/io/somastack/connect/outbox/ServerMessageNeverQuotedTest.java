package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.CapturedStderr;
import io.somastack.connect.testing.Causes;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import org.apache.kafka.connect.errors.ConnectException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A DBA's trigger may raise an error quoting a row ("RAISE EXCEPTION 'refused: %', NEW.event"), and
 * a data exception's message quotes the value it refused. The error that stops the task, which
 * Connect logs with its causes and shows in its REST status, keeps the SQLSTATE and the names the
 * server gives, never that message.
 */
class ServerMessageNeverQuotedTest {

  private final PostgresServer pg = PostgresServer.shared();
  private final String db = "outbox_never_quoted_" + System.nanoTime();
  private PostgresOutboxSourceTask task;

  @AfterEach
  void stop() {
    if (task != null) {
      task.stop();
    }
  }

  @Test
  void aTriggersErrorQuotingTheRowStopsTheTaskWithoutTheRow() throws Exception {
    pg.createDatabase(db);
    Map<String, String> props = HandRunSourceContext.relayProps(pg.jdbcUrl(db), pg.user());
    props.put("bad.row.action", "dlq");
    task = HandRunSourceContext.startedTask(props, Map.of());
    task.poll(); // creates the tables
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
              + " $$BEGIN RAISE EXCEPTION 'refused: %', NEW.event; END$$");
      s.execute(
          "CREATE TRIGGER refuse BEFORE INSERT ON dlq FOR EACH ROW EXECUTE FUNCTION refuse()");
      // a bad row (no topic), on its way to the dead-letter table
      s.execute("INSERT INTO outbox(topic, payload) VALUES (NULL, '{\"ssn\":\"123-45-6789\"}')");
    }

    String[] failure = new String[1];
    String logged =
        CapturedStderr.ofWork(
            () ->
                failure[0] =
                    Causes.chain(assertThrows(ConnectException.class, this::pollUntilFailed)));

    assertTrue(failure[0].contains("P0001"), failure[0]);
    assertFalse(failure[0].contains("123-45-6789"), failure[0]);
    assertFalse(logged.contains("123-45-6789"), logged);
  }

  private void pollUntilFailed() throws InterruptedException {
    for (int poll = 0; poll < 20; poll++) {
      task.poll();
    }
  }
}
