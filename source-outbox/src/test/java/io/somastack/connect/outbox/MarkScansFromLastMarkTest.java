package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * While a backlog drains, each poll's delete/mark covers only the rows acknowledged since the last
 * one: its statements scan the relay index from the position the last ones reached to the new one,
 * not every row relayed so far (which made a drain cost time in the square of the backlog). Shown
 * by the plans of the statements the reader issues next, custom and generic, on a table half
 * relayed, where a statement bounded only above is planned as a sequential scan; and by the index
 * pages a scan reads, which do not depend on how many rows follow.
 */
class MarkScansFromLastMarkTest {

  private static final OutboxTable TABLE = OutboxTable.parse("public.outbox");
  private static final int ROWS = 40_000;

  private PostgresServer pg;
  private String db;
  private OutboxReader reader;

  @BeforeEach
  void setUp() {
    pg = PostgresServer.shared();
    db = "outbox_mark_bound_" + System.nanoTime();
    pg.createDatabase(db);
  }

  @AfterEach
  void tearDown() {
    if (reader != null) {
      reader.close();
    }
  }

  /**
   * A window of 1000 rows spans two of the backlog's transactions (1000 rows each, the position at
   * the first row of one), a window of 500 lies within one.
   */
  @ParameterizedTest(name = "{0}, {1}, {2} rows")
  @CsvSource({
    "mark, force_custom_plan, 1000",
    "mark, force_generic_plan, 1000",
    "delete, force_custom_plan, 1000",
    "delete, force_generic_plan, 1000",
    "mark, force_custom_plan, 500",
    "mark, force_generic_plan, 500",
    "delete, force_custom_plan, 500",
    "delete, force_generic_plan, 500"
  })
  void theNextDeleteOrMarkScansTheRelayIndexFromTheLastPosition(
      String afterPublish, String mode, int window) throws Exception {
    reader = reader(afterPublish);
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      fill(s, 1_000);

      // half relayed: read and deleted/marked in polls, as the task does
      OutboxCursor position = OutboxCursor.START;
      int done = 0;
      while (done < ROWS / 2) {
        List<OutboxRow> rows = reader.fetch(TABLE, position, 5_000);
        position = rows.get(rows.size() - 1).cursor();
        assertEquals(rows.size(), reader.markPublished(TABLE, position));
        done += rows.size();
      }
      assertEquals(position, reader.markedUpTo(TABLE));
      s.execute("ANALYZE outbox");

      List<OutboxRow> next = reader.fetch(TABLE, position, window);
      OutboxCursor upTo = next.get(next.size() - 1).cursor();
      List<OutboxReader.MarkStatement> statements = reader.markStatements(TABLE, position, upTo);
      assertEquals(window == 1000 ? 2 : 1, statements.size());
      for (OutboxReader.MarkStatement statement : statements) {
        String plan = plan(s, mode, statement);
        assertFalse(plan.contains("Seq Scan"), plan);
        assertTrue(plan.contains("Index Cond:"), plan);
        // planned as the small range it is, at most the rows acknowledged: an estimate that grows
        // with the table (the planner takes two row comparisons for two independent halves of it)
        // turns into a sequential scan once the table is large enough (2 million rows)
        long estimated = estimatedRows(plan);
        assertTrue(estimated <= next.size(), "estimated " + estimated + " rows: " + plan);
      }

      // and the statements do what they did: those rows, no other
      assertEquals(next.size(), reader.markPublished(TABLE, upTo));
      assertEquals(ROWS - done - next.size(), reader.backlog(TABLE).rows());
      assertEquals(0, reader.markPublished(TABLE, upTo), "nothing left up to there");
    }
  }

  /**
   * All rows written by one transaction, as adding the txid column to an existing table leaves
   * them: a scan bounded above by a row comparison would read on to the transaction's last entry,
   * every remaining row, on each poll. The pages read for 1000 rows at the start and at the end of
   * the table are the same few (the 1000 rows take up some 35).
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource({"mark", "delete"})
  void aScanStopsAtTheNewPositionWithinOneTransaction(String afterPublish) throws Exception {
    reader = reader(afterPublish);
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      fill(s, ROWS + 1);
      s.execute("VACUUM ANALYZE outbox");
      List<OutboxRow> rows = new ArrayList<>();
      OutboxCursor after = OutboxCursor.START;
      while (rows.size() < ROWS) {
        List<OutboxRow> read = reader.fetch(TABLE, after, 10_000);
        rows.addAll(read);
        after = read.get(read.size() - 1).cursor();
      }
      long first = pagesScanned(s, rows.get(999).cursor(), rows.get(1999).cursor());
      long last = pagesScanned(s, rows.get(ROWS - 2001).cursor(), rows.get(ROWS - 1001).cursor());
      String pages = first + " pages scanned for rows 1000-2000, " + last + " for 1000 at the end";
      assertTrue(first <= last + 5, pages);
      assertTrue(last * 10 < tablePages(s), pages + ", of " + tablePages(s));
    }
  }

  private static long tablePages(Statement s) throws SQLException {
    try (ResultSet rs = s.executeQuery("SELECT pg_relation_size('outbox') / 8192")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * The position is the connection's: after a reconnect (perhaps to a standby that had not got the
   * last marks) the first delete/mark covers every row up to its end again.
   */
  @Test
  void aReconnectForgetsThePosition() throws Exception {
    reader = reader("mark");
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      s.execute("INSERT INTO outbox(topic, payload) SELECT 't', '{}' FROM generate_series(1, 3)");
      List<OutboxRow> rows = reader.fetch(TABLE, OutboxCursor.START, 10);
      assertEquals(2, reader.markPublished(TABLE, rows.get(1).cursor()));

      // the marks lost: a standby behind, promoted (the triggers would give the rows new txids)
      s.execute("ALTER TABLE outbox DISABLE TRIGGER USER");
      s.execute("UPDATE outbox SET published_at = NULL");
      s.execute("ALTER TABLE outbox ENABLE TRIGGER USER");
      reader.close();
      reader.connection(List.of(TABLE));

      assertEquals(OutboxCursor.START, reader.markedUpTo(TABLE));
      assertEquals(3, reader.markPublished(TABLE, rows.get(2).cursor()));
    }
  }

  /**
   * A backlog of {@link #ROWS} rows, {@code perTransaction} rows to a transaction: txids given, as
   * rows restored keep theirs (the triggers would give them the one of this insert).
   */
  private static void fill(Statement s, int perTransaction) throws SQLException {
    s.execute("ALTER TABLE outbox DISABLE TRIGGER USER");
    s.execute(
        "INSERT INTO outbox(topic, payload, dedupe_key, txid) SELECT 't',"
            + " jsonb_build_object('n', g, 'pad', repeat('x', 200)), 'k' || g, (3 + g / "
            + perTransaction
            + ")::text::xid8 FROM generate_series(1, "
            + ROWS
            + ") g");
    s.execute("ALTER TABLE outbox ENABLE TRIGGER USER");
  }

  /**
   * The pages the scans of the statements that delete/mark the rows after {@code from} and up to
   * {@code upTo} read (index and table, not the update's own work), run in a transaction rolled
   * back.
   */
  private long pagesScanned(Statement s, OutboxCursor from, OutboxCursor upTo) throws SQLException {
    long pages = 0;
    s.execute("BEGIN");
    try {
      for (OutboxReader.MarkStatement statement : reader.markStatements(TABLE, from, upTo)) {
        String plan =
            explain(s, "EXPLAIN (ANALYZE, BUFFERS) ", statement.sql(), statement.parameters());
        Matcher scan =
            Pattern.compile(
                    "Scan[^\\n]*\\n(?:[^\\n]*\\n)*?\\s*Buffers: shared hit=(\\d+)(?: read=(\\d+))?")
                .matcher(plan);
        assertTrue(scan.find(), plan);
        pages += Long.parseLong(scan.group(1));
        pages += scan.group(2) == null ? 0 : Long.parseLong(scan.group(2));
      }
    } finally {
      s.execute("ROLLBACK");
    }
    return pages;
  }

  /**
   * The plan of a delete/mark statement the reader issues, with its parameters. Prepared, as pgjdbc
   * prepares a statement run often, for plan_cache_mode to choose between a plan made for the
   * parameters (custom) and one for any (generic): an EXPLAIN of the statement with parameters
   * would always plan for them.
   */
  private String plan(Statement s, String mode, OutboxReader.MarkStatement statement)
      throws SQLException {
    s.execute("SET plan_cache_mode = " + mode); // this test session's
    return explain(s, "EXPLAIN ", statement.sql(), statement.parameters());
  }

  /** EXPLAIN (with the options) EXECUTE of the statement prepared with its parameters. */
  private static String explain(Statement s, String explain, String sql, List<Object> parameters)
      throws SQLException {
    StringBuilder numbered = new StringBuilder();
    int parameter = 0;
    for (char ch : sql.toCharArray()) {
      numbered.append(ch == '?' ? "$" + ++parameter : String.valueOf(ch));
    }
    s.execute("DEALLOCATE ALL");
    s.execute("PREPARE mark AS " + numbered);
    List<String> values = new ArrayList<>();
    for (Object value : parameters) {
      values.add(value instanceof String text ? "'" + text + "'" : value.toString());
    }
    try (ResultSet rs =
        s.executeQuery(explain + "EXECUTE mark(" + String.join(", ", values) + ")")) {
      List<String> lines = new ArrayList<>();
      while (rs.next()) {
        lines.add(rs.getString(1));
      }
      return String.join("\n", lines);
    }
  }

  /** The rows the plan's scan of the table is estimated to return. */
  private static long estimatedRows(String plan) {
    Matcher scan = Pattern.compile("Scan (?:using \\S+ )?on outbox .*rows=(\\d+)").matcher(plan);
    assertTrue(scan.find(), plan);
    return Long.parseLong(scan.group(1));
  }

  private OutboxReader reader(String afterPublish) throws SQLException {
    Map<String, String> props = new HashMap<>();
    props.put("connection.url", pg.jdbcUrl(db));
    props.put("connection.user", pg.user());
    props.put("outbox.table.create", "true");
    props.put("after.publish", afterPublish);
    props.put("notify.channel", "");
    OutboxSourceConfig config = new OutboxSourceConfig(props);
    OutboxReader opened = new OutboxReader(config, new NotifyListener(config.notifyChannel()));
    opened.connection(List.of(TABLE));
    return opened;
  }
}
