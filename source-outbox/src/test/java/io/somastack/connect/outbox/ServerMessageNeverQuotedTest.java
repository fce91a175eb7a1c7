package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.CapturedStderr;
import io.somastack.connect.testing.Causes;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import org.apache.kafka.connect.errors.ConnectException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A DBA's trigger may raise an error quoting a row ("RAISE EXCEPTION 'refused: %', NEW.event"), and
 * a data exception's message quotes the value it refused. The error that stops the task, which
 * Connect logs with its causes and shows in its REST status, keeps the SQLSTATE and the names the
 * server gives, never that message.
 */
class ServerMessageNeverQuotedTest {

  @RegisterExtension final RelayTask relay = new RelayTask("outbox_never_quoted_");

  @Test
  void aTriggersErrorQuotingTheRowStopsTheTaskWithoutTheRow() throws Exception {
    relay.createDatabase();
    Map<String, String> props = relay.props();
    props.put("bad.row.action", "dlq");
    PostgresOutboxSourceTask task = relay.start(props);
    task.poll(); // creates the tables
    try (Connection c = relay.connect();
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
      relay.task().poll();
    }
  }
}
