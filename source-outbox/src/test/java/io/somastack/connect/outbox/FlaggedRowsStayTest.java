package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.HandRunSourceContext.ids;
import static io.somastack.connect.outbox.HandRunSourceContext.relayUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A flagged row stays in the outbox, with its error, until someone fixes it: switching
 * bad.row.action from flag to dlq (or the default) must not delete it, mark it published, or move
 * it to the dead-letter table behind the operator's back.
 */
class FlaggedRowsStayTest {

  @RegisterExtension final RelayTask relay = new RelayTask("outbox_flagged_");

  @Test
  void aFlaggedRowOutlivesARestartInDlqMode() throws Exception {
    relay.createDatabase();
    PostgresOutboxSourceTask task = started("flag", Map.of());
    execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{}'), (NULL, '{}'), ('t', '{}')");
    List<SourceRecord> first = relayUntil(task, 2);
    assertEquals(List.of(1L, 3L), ids(first), "row 2 is flagged");
    task.stop();

    // restarted in dlq mode, from the committed offset of row 3
    SourceRecord last = first.get(first.size() - 1);
    Map<Map<String, ?>, Map<String, Object>> offsets =
        Map.of(last.sourcePartition(), new java.util.HashMap<>(last.sourceOffset()));
    task = started("dlq", offsets);
    execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{}')");
    assertEquals(List.of(4L), ids(relayUntil(task, 1)));

    assertEquals(List.of("2 topic is null or empty"), remaining());
    assertEquals(0, count("SELECT count(*) FROM dlq"), "nothing dead-lettered");
  }

  /** A relay started from scratch in dlq mode skips the flagged row too. */
  @Test
  void aFlaggedRowIsNotReadAgainInDlqMode() throws Exception {
    relay.createDatabase();
    PostgresOutboxSourceTask task = started("flag", Map.of());
    execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{}'), (NULL, '{}')");
    assertEquals(List.of(1L), ids(relayUntil(task, 1)));
    task.stop();

    task = started("dlq", Map.of());
    execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{}')");
    assertEquals(List.of(3L), ids(relayUntil(task, 1)));
    assertEquals(List.of("2 topic is null or empty"), remaining());
    assertEquals(0, count("SELECT count(*) FROM dlq"), "nothing dead-lettered");
  }

  private PostgresOutboxSourceTask started(
      String badRowAction, Map<Map<String, ?>, Map<String, Object>> offsets)
      throws InterruptedException {
    Map<String, String> props = relay.props();
    props.put("bad.row.action", badRowAction);
    props.put("after.publish", "delete");
    PostgresOutboxSourceTask started = relay.start(props, offsets);
    started.poll(); // creates the tables, deletes up to the committed offset
    return started;
  }

  /** The rows left in the outbox, as "id error". */
  private List<String> remaining() throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection c = relay.connect();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT id || ' ' || coalesce(error, '(none)') FROM outbox"
                    + " WHERE published_at IS NULL ORDER BY id")) {
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    }
    return rows;
  }

  private long count(String sql) throws SQLException {
    try (Connection c = relay.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private void execute(String sql) throws SQLException {
    try (Connection c = relay.connect();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}
