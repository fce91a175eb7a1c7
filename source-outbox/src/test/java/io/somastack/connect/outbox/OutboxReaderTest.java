package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.errors.ConnectException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The reader against a real PostgreSQL: the horizon, marking, dead letters, table creation. */
class OutboxReaderTest {

  private static final OutboxTable TABLE = OutboxTable.parse("public.outbox");
  private PostgresServer pg;
  private String db;
  private OutboxReader reader;

  @BeforeEach
  void setUp() {
    pg = PostgresServer.shared();
    db = "outbox_reader_" + System.nanoTime();
    pg.createDatabase(db);
  }

  @AfterEach
  void tearDown() {
    if (reader != null) {
      reader.close();
    }
  }

  private OutboxReader reader(String afterPublish) throws SQLException {
    return reader(afterPublish, Map.of());
  }

  private OutboxReader reader(String afterPublish, Map<String, String> more) throws SQLException {
    Map<String, String> props = new HashMap<>(more);
    props.put("connection.url", pg.jdbcUrl(db));
    props.put("connection.user", pg.user());
    props.put("outbox.table.create", "true");
    props.put("after.publish", afterPublish);
    OutboxSourceConfig config = new OutboxSourceConfig(props);
    reader = new OutboxReader(config, new NotifyListener(config.notifyChannel()));
    reader.connection(List.of(TABLE));
    return reader;
  }

  private static void insert(Connection c, String key) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("INSERT INTO outbox(topic, payload, dedupe_key) VALUES ('t', '{}', '" + key + "')");
    }
  }

  private static List<String> keys(List<OutboxRow> rows) {
    return rows.stream().map(OutboxRow::dedupeKey).toList();
  }

  @Test
  void aRowWhoseTransactionCommitsLateIsHeldBackNotLost() throws Exception {
    OutboxReader reader = reader("delete");
    try (Connection late = pg.connect(db);
        Connection fast = pg.connect(db)) {
      late.setAutoCommit(false);
      insert(late, "early-insert-late-commit"); // lower id, lower txid, still open
      insert(fast, "fast-1"); // autocommit: higher id, committed first
      insert(fast, "fast-2");

      // an id cursor would hand out fast-1 and fast-2 now and never see the late row
      assertTrue(reader.fetch(TABLE, OutboxCursor.START, 100).isEmpty());
      assertEquals(OutboxReader.Pending.HELD_BACK, reader.pending(TABLE, OutboxCursor.START));

      late.commit();
      List<OutboxRow> rows = reader.fetch(TABLE, OutboxCursor.START, 100);
      assertEquals(List.of("early-insert-late-commit", "fast-1", "fast-2"), keys(rows));

      OutboxCursor cursor = rows.get(2).cursor();
      assertTrue(reader.fetch(TABLE, cursor, 100).isEmpty());
      insert(fast, "next");
      assertEquals(List.of("next"), keys(reader.fetch(TABLE, cursor, 100)));
      // batch limit and resume
      assertEquals(
          List.of("early-insert-late-commit"), keys(reader.fetch(TABLE, OutboxCursor.START, 1)));
    }
  }

  /**
   * A batch is full when a row below the horizon is left after it: not when it read exactly the
   * last rows, nor when the row after them is held back by a transaction still open. The row that
   * tells is not handed out.
   */
  @Test
  void aBatchIsFullOnlyWithARowLeftToReadNow() throws Exception {
    OutboxReader reader = reader("delete");
    try (Connection c = pg.connect(db);
        Connection late = pg.connect(db)) {
      for (int i = 0; i < 3; i++) {
        insert(c, "k" + i);
      }
      OutboxReader.Batch two = reader.fetchBatch(TABLE, OutboxCursor.START, 2);
      assertEquals(List.of("k0", "k1"), keys(two.rows()));
      assertTrue(two.full(), "k2 is left");
      OutboxReader.Batch three = reader.fetchBatch(TABLE, OutboxCursor.START, 3);
      assertEquals(List.of("k0", "k1", "k2"), keys(three.rows()));
      assertFalse(three.full(), "the last three rows of three");
      OutboxCursor last = three.rows().get(2).cursor();
      assertEquals(OutboxReader.Pending.NONE, reader.pending(TABLE, last));

      late.setAutoCommit(false);
      insert(late, "late"); // open: k3, committed after it began, is above the horizon
      insert(c, "k3");
      assertFalse(reader.fetchBatch(TABLE, OutboxCursor.START, 3).full(), "k3 is held back");
      assertEquals(OutboxReader.Pending.HELD_BACK, reader.pending(TABLE, last));
      late.commit();
      OutboxReader.Batch now = reader.fetchBatch(TABLE, OutboxCursor.START, 3);
      assertEquals(List.of("k0", "k1", "k2"), keys(now.rows()));
      assertTrue(now.full(), "late and k3 are left");
      assertEquals(OutboxReader.Pending.READABLE, reader.pending(TABLE, last));
    }
  }

  /** An infinite creation time counts in the backlog but is not its oldest row's age. */
  @Test
  void theBacklogsOldestRowIgnoresInfiniteCreationTimes() throws Exception {
    OutboxReader reader = reader("mark");
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO outbox(topic, payload, created_at) VALUES ('t', '{}', '-infinity'),"
              + " ('t', '{}', '2026-01-01T00:00:00Z'), ('t', '{}', 'infinity')");
      OutboxReader.Backlog backlog = reader.backlog(TABLE);
      assertEquals(3, backlog.rows());
      assertEquals(java.time.Instant.parse("2026-01-01T00:00:00Z"), backlog.oldest());
    }
  }

  /**
   * A misspelt column.key would otherwise read as NULL: every record unkeyed, one aggregate's
   * events spread over the partitions and their order lost, with no error anywhere.
   */
  @Test
  void aKeyColumnTheTableLacksStopsTheTaskNamingTableAndColumn() throws Exception {
    reader("delete").close(); // an existing table (a new one would get the column)
    ConnectException e =
        assertThrows(
            ConnectException.class, () -> reader("delete", Map.of("column.key", "aggregateid")));
    assertTrue(e.getMessage().contains("public.outbox"), e.getMessage());
    assertTrue(e.getMessage().contains("aggregateid"), e.getMessage());
    assertTrue(e.getMessage().contains("column.key"), e.getMessage());
  }

  @Test
  void theDefaultKeyColumnMayBeMissing() throws Exception {
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE outbox(id bigserial PRIMARY KEY, topic text, payload jsonb,"
              + " published_at timestamptz, txid xid8 NOT NULL DEFAULT pg_current_xact_id())");
      s.execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{}')");
    }
    List<OutboxRow> rows = reader("delete").fetch(TABLE, OutboxCursor.START, 10);
    assertEquals(1, rows.size());
    assertNull(rows.get(0).key());
  }

  @Test
  void deleteAndMarkUpToACursor() throws Exception {
    OutboxReader reader = reader("mark");
    try (Connection c = pg.connect(db)) {
      for (int i = 0; i < 3; i++) {
        insert(c, "k" + i);
      }
      List<OutboxRow> rows = reader.fetch(TABLE, OutboxCursor.START, 100);
      assertEquals(3, reader.backlog(TABLE).rows());
      assertEquals(2, reader.markPublished(TABLE, rows.get(1).cursor()));
      assertEquals(1, reader.backlog(TABLE).rows());
      // marked rows are not read again even from the start
      assertEquals(List.of("k2"), keys(reader.fetch(TABLE, OutboxCursor.START, 100)));
      assertEquals(OutboxReader.Pending.NONE, reader.pending(TABLE, rows.get(2).cursor()));
      try (Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL")) {
        rs.next();
        assertEquals(2, rs.getInt(1));
      }
    }
  }

  @Test
  void badRowsMoveToTheDeadLetterTableWithTheirReason() throws Exception {
    OutboxReader reader = reader("delete");
    try (Connection c = pg.connect(db)) {
      insert(c, "good");
      try (Statement s = c.createStatement()) {
        s.execute("INSERT INTO outbox(topic, payload, dedupe_key) VALUES (NULL, '{}', 'bad')");
      }
      Map<String, String> props = new HashMap<>();
      props.put("connection.url", pg.jdbcUrl(db));
      OutboxSourceConfig config = new OutboxSourceConfig(props);
      RowMapper mapper = new RowMapper(config);
      List<RowMapper.Bad> bad =
          reader.fetch(TABLE, OutboxCursor.START, 100).stream()
              .map(mapper::map)
              .filter(RowMapper.Bad.class::isInstance)
              .map(RowMapper.Bad.class::cast)
              .toList();
      assertEquals(1, bad.size());
      assertEquals(1, new DeadLetterWriter(config).write(reader.current(), TABLE, bad));
      assertEquals(List.of("good"), keys(reader.fetch(TABLE, OutboxCursor.START, 100)));
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT error, event->>'dedupe_key', topic FROM dlq")) {
        assertTrue(rs.next());
        assertEquals("topic is null or empty", rs.getString(1));
        assertEquals("bad", rs.getString(2));
        assertEquals(null, rs.getString(3));
      }
    }
  }
}
