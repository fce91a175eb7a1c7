package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.HandRunSourceContext.ids;
import static io.somastack.connect.outbox.HandRunSourceContext.relayUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A row that becomes unpublished again after the relay has passed its position — a flagged row
 * fixed by clearing its error, a marked row set back to unpublished, a dead letter inserted again
 * with its old columns — must be relayed, not left behind the relay's position, where the next
 * delete/mark would take it out without relaying it.
 */
class RequeuedRowsTest {

  @RegisterExtension final RelayTask relay = new RelayTask("outbox_requeue_");

  @Test
  void aFlaggedRowFixedByClearingItsErrorIsRelayed() throws Exception {
    PostgresOutboxSourceTask task = started("flag");
    execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{}'), (NULL, '{}'), ('t', '{}')");
    assertEquals(List.of(1L, 3L), ids(relayUntil(task, 2)), "row 2 is flagged");

    execute("UPDATE outbox SET topic = 't', error = NULL WHERE id = 2");
    assertEquals(List.of(2L), ids(relayUntil(task, 1)), "the fixed row is relayed");
    assertEquals(0, unpublished(), "and marked once Kafka has it");
  }

  @Test
  void aRowSetBackToUnpublishedIsRelayedAgain() throws Exception {
    PostgresOutboxSourceTask task = started("dlq");
    execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{}'), ('t', '{}')");
    assertEquals(List.of(1L, 2L), ids(relayUntil(task, 2)));
    relayUntil(task, 0); // marks them

    execute("UPDATE outbox SET published_at = NULL WHERE id = 1");
    assertEquals(List.of(1L), ids(relayUntil(task, 1)));
    assertEquals(0, unpublished());
  }

  @Test
  void aDeadLetterInsertedAgainWithItsOldColumnsIsRelayed() throws Exception {
    PostgresOutboxSourceTask task = started("dlq");
    execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{}'), (NULL, '{}'), ('t', '{}')");
    assertEquals(List.of(1L, 3L), ids(relayUntil(task, 2)), "row 2 is dead-lettered");

    // the whole row comes back, its txid included, which is behind the relay's position
    execute(
        "INSERT INTO outbox SELECT * FROM jsonb_populate_record(NULL::outbox,"
            + " (SELECT event || '{\"topic\": \"t\"}' FROM dlq))");
    assertEquals(List.of(2L), ids(relayUntil(task, 1)));
    assertEquals(0, unpublished());
  }

  private PostgresOutboxSourceTask started(String badRowAction) throws InterruptedException {
    Map<String, String> props = relay.props();
    props.put("bad.row.action", badRowAction);
    relay.createDatabase();
    PostgresOutboxSourceTask started = relay.start(props);
    started.poll(); // creates the tables
    return started;
  }

  private void execute(String sql) throws SQLException {
    try (Connection c = relay.connect();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private long unpublished() throws SQLException {
    try (Connection c = relay.connect();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*) FROM outbox WHERE published_at IS NULL AND error IS NULL")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
