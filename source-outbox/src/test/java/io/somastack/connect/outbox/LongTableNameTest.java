package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.HandRunSourceContext.ids;
import static io.somastack.connect.outbox.HandRunSourceContext.relayUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The names of the objects made for an outbox table (its relay index, its txid, requeue and notify
 * triggers) are the table's name and a suffix. For a table name near PostgreSQL's 63 bytes they
 * must not be cut back to one shared name: the triggers would replace one another (the txid trigger
 * lost, so a requeued row would be taken out without being relayed) and the index would take the
 * table's own name and never be made.
 */
class LongTableNameTest {

  private static final String TABLE = "o".repeat(62);

  @RegisterExtension final RelayTask relay = new RelayTask("outbox_long_name_");

  @Test
  void everyObjectOfATableWithALongNameIsMadeAndRowsAreRelayed() throws Exception {
    Map<String, String> props = relay.props();
    props.put("outbox.tables", TABLE);
    props.put("bad.row.action", "dlq");
    relay.createDatabase();
    PostgresOutboxSourceTask task = relay.start(props);
    task.poll(); // creates the tables

    assertEquals(
        3,
        count(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = ?::regclass"
                + " AND NOT tgisinternal"),
        "the txid, requeue and notify triggers");
    assertEquals(
        1,
        count(
            "SELECT count(*) FROM pg_index WHERE indrelid = ?::regclass" + " AND NOT indisprimary"),
        "the relay index");

    execute("INSERT INTO " + TABLE + "(topic, payload) VALUES ('t', '{}'), ('t', '{}')");
    assertEquals(List.of(1L, 2L), ids(relayUntil(task, 2)));
    relayUntil(task, 0); // marks them

    // needs the requeue trigger
    execute("UPDATE " + TABLE + " SET published_at = NULL WHERE id = 1");
    assertEquals(List.of(1L), ids(relayUntil(task, 1)));
    // needs the txid trigger: the row comes back with its old txid, behind the relay's position
    execute(
        "INSERT INTO "
            + TABLE
            + " SELECT (jsonb_populate_record(NULL::"
            + TABLE
            + ", to_jsonb(o) || '{\"id\": 3, \"published_at\": null}')).* FROM "
            + TABLE
            + " o WHERE id = 2");
    assertEquals(List.of(3L), ids(relayUntil(task, 1)));
    assertEquals(0, count("SELECT count(*) FROM " + TABLE + " WHERE published_at IS NULL"));
  }

  private void execute(String sql) throws SQLException {
    try (Connection c = relay.connect();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private long count(String sql) throws SQLException {
    try (Connection c = relay.connect();
        PreparedStatement s = c.prepareStatement(sql)) {
      if (sql.contains("?")) {
        s.setString(1, TABLE);
      }
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
