package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import org.apache.kafka.connect.errors.ConnectException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A stored position ahead of the database's transaction ids (a restore, a failover to a standby
 * that was behind) would skip and mark the database's new rows without relaying them: the task must
 * stop instead, and touch no row.
 */
class PositionAheadOfDatabaseTest {

  @RegisterExtension final RelayTask relay = new RelayTask("outbox_ahead_");

  @Test
  void aPositionAheadOfTheDatabaseStopsTheTaskAndMarksNothing() throws Exception {
    relay.createDatabase();
    try (Connection c = relay.connect();
        Statement s = c.createStatement()) {
      s.execute(OutboxDdl.script(table(), OutboxColumns.defaults(), "soma_outbox", dlq()));
      s.execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{}')");
    }
    // as stored by a relay of a database whose transaction ids had gone far beyond this one's
    OutboxCursor stored = new OutboxCursor(1L << 40, 7);
    PostgresOutboxSourceTask task = started(Map.of(table().sourcePartition(), stored.toOffset()));

    ConnectException stopped = assertThrows(ConnectException.class, task::poll);
    assertTrue(stopped.getMessage().contains("is ahead of this database"), stopped::getMessage);
    try (Connection c = relay.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM outbox WHERE published_at IS NULL")) {
      rs.next();
      assertEquals(1, rs.getLong(1), "the new row is neither marked nor skipped");
    }
  }

  @Test
  void aPositionBehindTheDatabaseRelaysOn() throws Exception {
    relay.createDatabase();
    PostgresOutboxSourceTask task =
        started(Map.of(table().sourcePartition(), new OutboxCursor(3, 1).toOffset()));
    assertNull(task.poll(), "nothing to relay, and no complaint");
  }

  private PostgresOutboxSourceTask started(Map<Map<String, ?>, Map<String, Object>> offsets) {
    return relay.start(relay.props(), offsets);
  }

  private static OutboxTable table() {
    return OutboxTable.parse("public.outbox");
  }

  private static OutboxTable dlq() {
    return OutboxTable.parse("public.dlq");
  }
}
