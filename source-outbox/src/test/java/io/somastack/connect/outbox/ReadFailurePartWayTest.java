package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A poll whose read fails part way (a database error after one table's rows were read, as when the
 * server restarts between two statements) must leave the task where it was: the rows it read come
 * again in the next poll, and marking goes on. Seen in OutboxFaultsIT, where a restart at that
 * moment left the rows out of Kafka and every later row unmarked.
 */
class ReadFailurePartWayTest {

  @RegisterExtension final RelayTask relay = new RelayTask("outbox_part_way_");

  @Test
  void rowsReadBeforeTheFailureAreRelayedOnceAndMarked() throws Exception {
    relay.createDatabase();
    PostgresOutboxSourceTask task = startedTask();
    assertNull(task.poll(), "no rows yet (this poll creates the tables)");
    insert("first", 3);
    insert("second", 2);

    // The second table is locked, so its read times out (lock_timeout, SQLSTATE 55P03, a transient
    // error) after the first table's three rows were read.
    try (Connection locker = relay.connect();
        Statement s = locker.createStatement()) {
      locker.setAutoCommit(false);
      s.execute("LOCK TABLE second IN ACCESS EXCLUSIVE MODE");
      assertNull(task.poll(), "the read failed: nothing is handed to Connect");
      locker.commit();
    }

    List<SourceRecord> relayed = pollUntil(5);
    assertEquals(
        Set.of("first:1", "first:2", "first:3", "second:1", "second:2"), positions(relayed));
    assertEquals(5, relayed.size(), "each row once");

    relayed.forEach(record -> task.commitRecord(record, null)); // as Kafka acknowledges them
    assertNull(task.poll(), "nothing more to relay; this poll marks what Kafka has");
    assertEquals(0, unmarked("first") + unmarked("second"), "every relayed row is marked");
  }

  private PostgresOutboxSourceTask startedTask() {
    Map<String, String> props =
        HandRunSourceContext.relayProps(
            withLockTimeout(relay.pg().jdbcUrl(relay.db())), relay.pg().user());
    props.put("outbox.tables", "public.first,public.second");
    props.put("retry.backoff.initial.ms", "10");
    props.put("retry.backoff.max.ms", "100");
    // the backlog query would meet the lock first; it runs on the first poll only
    props.put("metrics.backlog.interval.ms", "3600000");
    return relay.start(props);
  }

  private static String withLockTimeout(String url) {
    return url + (url.contains("?") ? "&" : "?") + "options=-c%20lock_timeout%3D200";
  }

  /** Polls until {@code count} records came, or fails after many more polls than that needs. */
  private List<SourceRecord> pollUntil(int count) throws InterruptedException {
    List<SourceRecord> relayed = new ArrayList<>();
    for (int poll = 0; poll < 200 && relayed.size() < count; poll++) {
      List<SourceRecord> records = relay.task().poll();
      if (records != null) {
        relayed.addAll(records);
      }
    }
    return relayed;
  }

  private static Set<String> positions(List<SourceRecord> records) {
    Set<String> positions = new TreeSet<>();
    for (SourceRecord record : records) {
      String table = record.sourcePartition().get("table").toString().replace("public.", "");
      positions.add(table + ":" + OutboxCursor.fromOffset(record.sourceOffset()).id());
    }
    return positions;
  }

  private void insert(String table, int rows) throws SQLException {
    try (Connection c = relay.connect();
        Statement s = c.createStatement()) {
      for (int i = 1; i <= rows; i++) {
        s.execute(
            "INSERT INTO " + table + "(topic, payload) VALUES ('t', '{\"n\":" + i + "}'::jsonb)");
      }
    }
  }

  private long unmarked(String table) throws SQLException {
    try (Connection c = relay.connect();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT count(*) FROM " + table + " WHERE published_at IS NULL")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
