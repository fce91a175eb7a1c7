package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.OutboxColumns.q;

import io.somastack.connect.common.postgres.ServerVersion;
import io.somastack.connect.outbox.OutboxSourceConfig.AfterPublish;
import io.somastack.connect.outbox.OutboxSourceConfig.TopicMode;
import io.somastack.connect.outbox.OutboxTableCheck.Shape;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The task's one PostgreSQL connection and every statement it runs. All statements run in
 * autocommit (each its own short transaction), so the task never holds a transaction open while it
 * waits for Kafka or for notifications. After any error the caller {@link #close()}s it; the next
 * call connects again.
 *
 * <h2>The visibility horizon</h2>
 *
 * Sequence ids are assigned at insert, but rows become visible at commit, so a row with a lower id
 * can appear after rows with higher ids were read: reading "id > last id" loses it. Instead every
 * row carries {@code txid xid8 DEFAULT pg_current_xact_id()}, the id of its inserting (top-level)
 * transaction, and a read hands out only rows with {@code txid < pg_snapshot_xmin(
 * pg_current_snapshot())} — the horizon, below which every transaction has finished — in {@code
 * (txid, id)} order. Any transaction that can still insert or commit a row has a txid at or above
 * the horizon (transaction ids are assigned in increasing order, and one not yet assigned will be
 * above it too), so the set of rows below a horizon is final: a row that appears later always sorts
 * after every row already handed out. The cursor {@code (txid, id)} of the last row handed out
 * therefore says exactly which rows were relayed. Horizon and rows come from one statement, hence
 * one snapshot.
 */
final class OutboxReader implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(OutboxReader.class);

  private final OutboxSourceConfig config;
  private final OutboxColumns c;

  /**
   * The oldest PostgreSQL the relay runs on: 14. The txid column and the horizon need xid8 and
   * pg_current_xact_id() (13), and the DDL of sql/outbox.sql, which the relay also runs with
   * outbox.table.create=true, needs CREATE OR REPLACE TRIGGER (14).
   */
  static final int MINIMUM_SERVER_VERSION = 140000;

  static final String NEEDS_SERVER_VERSION =
      "the outbox relay needs PostgreSQL 14 or later (xid8, pg_current_xact_id() and CREATE OR"
          + " REPLACE TRIGGER)";

  private final NotifyListener listener;
  private final OutboxTableCheck check;
  private final Map<String, Shape> shapes = new HashMap<>();
  private final Map<String, PreparedStatement> statements = new HashMap<>();

  /** Per table: the position rows were deleted or marked up to on this connection. */
  private final Map<String, OutboxCursor> marked = new HashMap<>();

  /** Per table: how many rows the next read scans (see {@link #fetchBatch}). */
  private final Map<String, Integer> scanLimits = new HashMap<>();

  /** Per table: the bytes of a row as its last read measured them (see {@link #fetchBatch}). */
  private final Map<String, Long> rowBytes = new HashMap<>();

  private Connection connection;
  private boolean prepared;
  private final RelaySession session;

  OutboxReader(OutboxSourceConfig config, NotifyListener listener) {
    this(config, listener, new RelaySession());
  }

  /**
   * @param session the relay's mark on its session ({@link RelaySession}): reads and marks check,
   *     within their statements, that they run in the session that carries it
   */
  OutboxReader(OutboxSourceConfig config, NotifyListener listener, RelaySession session) {
    this.session = session;
    this.config = config;
    this.c = config.columns();
    this.listener = listener;
    this.check = new OutboxTableCheck(config, listener);
  }

  /** The open connection, connecting (and preparing the tables) first when needed. */
  Connection connection(List<OutboxTable> tables) throws SQLException {
    if (connection != null) {
      return connection;
    }
    Properties props = config.connectionProperties();
    Connection conn = DriverManager.getConnection(config.url(), props);
    try {
      conn.setAutoCommit(true);
      ServerVersion.require(conn, MINIMUM_SERVER_VERSION, NEEDS_SERVER_VERSION);
      if (!prepared) { // once: a privilege revoked later fails the statement that needs it
        if (config.createTables()) {
          // first: the privileges of a shadowed table would be asked for the wrong one
          check.refuseShadowing(conn, tables);
        }
        OutboxPrivileges.requireSchemas(conn, config, tables);
        if (config.createTables()) {
          check.createTables(conn, tables);
        }
      }
      for (OutboxTable table : tables) {
        shapes.put(table.name(), check.inspect(conn, table));
      }
      if (!prepared) {
        OutboxPrivileges.requireTables(conn, config, tables);
        if (!config.createTables()) {
          for (OutboxTable table : tables) {
            check.warnWithoutRelayIndex(conn, table);
          }
        }
      }
      listener.listen(conn);
      prepared = true;
    } catch (SQLException | RuntimeException e) {
      conn.close();
      throw e;
    }
    connection = conn;
    return conn;
  }

  boolean connected() {
    return connection != null;
  }

  private PreparedStatement statement(String name, String sql) throws SQLException {
    PreparedStatement s = statements.get(name);
    if (s == null) {
      s = connection.prepareStatement(sql);
      statements.put(name, s);
    }
    return s;
  }

  /**
   * Rows still to relay. A flagged row (error set) is left alone whatever bad.row.action is now: it
   * waits for someone to fix it and clear its error, even after a switch from flag to dlq, so it is
   * neither read (and dead-lettered) nor deleted or marked by a delete/mark up to a later position.
   */
  private String unpublished(OutboxTable table, String alias) {
    return alias
        + q(c.publishedAt())
        + " IS NULL"
        + (shapes.get(table.name()).hasError() ? " AND " + alias + q(c.error()) + " IS NULL" : "");
  }

  /**
   * A table's next rows; the bytes they count against the poll's budget (payloads, keys and headers
   * as the database measures them, rows read as too large included); whether more can be read at
   * once (the batch stopped for rows or bytes with a row below the horizon left: not when it read
   * the last ones, however many); whether it stopped at the bytes it was given (not at its scan
   * limit, which the last rows' sizes set).
   */
  record Batch(List<OutboxRow> rows, long bytes, boolean full, int scanned, boolean bytesCut) {}

  /** {@link #fetchBatch}'s rows. */
  List<OutboxRow> fetch(OutboxTable table, OutboxCursor after, int limit) throws SQLException {
    return fetchBatch(table, after, limit).rows();
  }

  /** A batch read first in its poll: up to {@code maxRows} rows and the whole poll.max.bytes. */
  Batch fetchBatch(OutboxTable table, OutboxCursor after, int maxRows) throws SQLException {
    return fetchBatch(table, after, maxRows, config.pollMaxBytes(), true);
  }

  /**
   * The rows after {@code after} in (txid, id) order, all below the horizon (see the class
   * comment): up to {@code maxRows}, and as many as fit in {@code budget} bytes — what is left of
   * the poll's poll.max.bytes — and, when {@code first} (nothing read in this poll yet), at least
   * one, so that a single larger row is still relayed. A later table's first row that does not fit
   * waits for a poll of its own: a poll reads poll.max.bytes, or one row over it, never more.
   *
   * <p>pgjdbc holds a whole result in memory, so the bound is drawn in SQL: a running sum of each
   * row's bytes (payload, key, headers) keeps the rows that fit, plus one marker row without its
   * contents that says the batch stopped for size. A row whose payload, key and headers together
   * are over payload.max.bytes never leaves the database: all three (and the dedupe key, by default
   * the key's column) come as NULL, with the payload's length and the three's, the bad row's only
   * need (the dead-letter move copies the row in SQL, whole). It still counts, as the work of
   * writing out its text does: a run of huge bad rows is taken a few at a time. Measuring a payload
   * means writing out its text, so the statement scans only as many rows as the last batch's sizes
   * say may fit in poll.max.bytes (twice that), not always {@code maxRows}; a read that fails (a
   * scan of huge rows outlasting the socket timeout) leaves a quarter of its scan for the next. The
   * sum runs over the whole scan, so a table read after others scans only as many rows as its last
   * measured row size says may fit in the {@code budget} left (twice that, and at least one): with
   * 20 backlogged tables of 100 KB rows, the 19 read after the first would otherwise each write out
   * 17 MB of text to find that not one row fits. Its scan limit for when it goes first (with the
   * whole poll.max.bytes) is not lowered by that.
   *
   * <p>The statement reads one row past the scan (and the row after a first row over the budget),
   * neither measured nor its contents sent, to say whether a row is left: a batch that read exactly
   * the last rows is not full, so a drained backlog ends without another poll counted as full.
   */
  Batch fetchBatch(OutboxTable table, OutboxCursor after, int maxRows, long budget, boolean first)
      throws SQLException {
    int limit = Math.min(maxRows, scanLimits.getOrDefault(table.name(), maxRows));
    Long perRowBefore = rowBytes.get(table.name());
    int scan =
        perRowBefore == null
            ? limit
            : (int) Math.min(limit, 2 * Math.max(0, budget) / perRowBefore + 1);
    scanLimits.put(table.name(), Math.max(1, scan / 4)); // until this read succeeds
    PreparedStatement s = statement("fetch:" + table.name(), fetchSql(table));
    s.setInt(1, scan);
    s.setString(2, after.txidText());
    s.setLong(3, after.id());
    s.setInt(4, scan + 1);
    s.setLong(5, budget);
    s.setBoolean(6, first);
    List<OutboxRow> rows = new ArrayList<>();
    long bytes = 0;
    boolean cut = false;
    boolean more = false; // a row after the scan, or after a first row over the budget
    try (ResultSet rs = s.executeQuery()) {
      boolean checked = false;
      while (rs.next()) {
        if (!checked) { // before any row is used: read in the relay's own session, under its locks
          session.require(rs.getString(13));
          checked = true;
        }
        if (rs.getBoolean(12)) {
          more = true; // only says that it is there: read (and measured) by the next batch
          break;
        }
        if (rs.getBoolean(10)) {
          cut = true; // the first row that did not fit: read first next time
          if (rows.isEmpty()) {
            rowBytes.put(table.name(), Math.max(1, rs.getLong(11))); // the one row measured
          }
          break;
        }
        bytes += rs.getLong(11);
        rows.add(row(table, rs));
      }
    }
    if (!rows.isEmpty()) {
      long perRow = Math.max(1, bytes / rows.size());
      rowBytes.put(table.name(), perRow);
      long fits = 2 * (long) config.pollMaxBytes() / perRow + 1;
      scanLimits.put(
          table.name(), (int) Math.min(config.pollMaxRows(), Math.max(rows.size() + 1, fits)));
    } else {
      scanLimits.put(table.name(), limit);
    }
    // no marker when the first row alone passes the budget (nothing before it); the row after it
    // comes as the marker, or as the row past a scan of one, when there is one
    boolean bytesCut = cut || bytes > budget;
    return new Batch(rows, bytes, cut || more, scan, bytesCut);
  }

  private static OutboxRow row(OutboxTable table, ResultSet rs) throws SQLException {
    OffsetDateTime created = rs.getObject(8, OffsetDateTime.class);
    return new OutboxRow(
        table,
        rs.getLong(1),
        Long.parseUnsignedLong(rs.getString(2)),
        rs.getString(3),
        rs.getString(4),
        rs.getString(5),
        rs.getString(6),
        rs.getString(7),
        created == null ? null : created.toInstant(),
        rs.getLong(9),
        rs.getLong(11));
  }

  /**
   * Scan (the next rows in read order, and one more: the extra row, which only says that there is
   * one), measure (the payload written out once, its length in the database's bytes, and the key's
   * and headers' text; not the extra row's payload), sum in read order, and keep the rows that fit.
   * Parameters: the scan's limit, after (txid as text, id), the scan's limit plus one, the bytes
   * left in the poll, whether the first row is taken whatever its size. Columns: id, txid, topic,
   * payload, dedupe key, key, headers, created_at, payload length, marker, bytes, extra, the
   * session's relay mark ({@link RelaySession}).
   */
  private String fetchSql(OutboxTable table) {
    Shape shape = shapes.get(table.name());
    int maxPayload = config.payloadMaxBytes();
    // the rows numbered above the LIMIT, not in the scan: a window below it would keep the LIMIT
    // from the sort, which must then order every unpublished row after the cursor when no (txid,
    // id) index gives the order (a seed table whose rows got one txid from ADD COLUMN, or none)
    String scan =
        "SELECT l.*, row_number() OVER (ORDER BY l.txid, l.id) > ? AS extra FROM (SELECT o."
            + q(c.id())
            + " AS id, o."
            + q(c.txid())
            + " AS txid, "
            + (config.topicMode() == TopicMode.COLUMN ? "o." + q(c.topic()) + "::text" : "NULL")
            + " AS topic, o."
            + q(c.payload())
            + " AS payload, "
            + (shape.hasDedupeKey() ? "o." + q(c.dedupeKey()) + "::text" : "NULL::text")
            + " AS dedupe, "
            + (shape.hasKey() ? "o." + q(c.key()) + "::text" : "NULL::text")
            + " AS rkey, "
            + (shape.hasHeaders() ? "o." + q(c.headers()) + "::text" : "NULL::text")
            + " AS headers, "
            + (shape.hasCreated() ? check.created(shape, "o.") : "NULL::timestamptz")
            + " AS created FROM "
            + table.sql()
            + " o WHERE o."
            + q(c.txid())
            + " < pg_snapshot_xmin(pg_current_snapshot()) AND (o."
            + q(c.txid())
            + ", o."
            + q(c.id())
            + ") > (?::text::xid8, ?) AND "
            + unpublished(table, "o.")
            + " ORDER BY o."
            + q(c.txid())
            + ", o."
            + q(c.id())
            + " LIMIT ?) l";
    // OFFSET 0 keeps the text a column of its own, written out once per row
    String measured =
        "SELECT s.*, p.text, octet_length(p.text) AS len FROM ("
            + scan
            + ") s CROSS JOIN LATERAL (SELECT CASE WHEN s.extra THEN NULL ELSE s.payload::text END"
            + " AS text OFFSET 0) p";
    String sized =
        "SELECT m.*, coalesce(m.len, 0) + coalesce(octet_length(m.rkey), 0)"
            + " + coalesce(octet_length(m.headers), 0) AS bytes FROM ("
            + measured
            + ") m";
    String summed =
        "SELECT z.*, sum(z.bytes) OVER (ORDER BY z.txid, z.id ROWS UNBOUNDED PRECEDING) AS total,"
            + " row_number() OVER (ORDER BY z.txid, z.id) AS n, b.budget, b.take_first FROM ("
            + sized
            + ") z CROSS JOIN (SELECT ?::bigint AS budget, ?::boolean AS take_first) b";
    // kept: within the budget, or the poll's first row; the marker: the first row past it
    String marker = "(w.total > w.budget AND (w.total > w.bytes OR NOT w.take_first))";
    // not read: the contents of the marker, of the extra row and of a row too large to relay (the
    // dedupe key too, the key's column unless column.key names another)
    String withheld = "(" + marker + " OR w.extra OR w.bytes > " + maxPayload + ")";
    return "SELECT w.id, w.txid::text, w.topic, CASE WHEN "
        + withheld
        + " THEN NULL ELSE w.text END, CASE WHEN "
        + withheld
        + " THEN NULL ELSE w.dedupe END, CASE WHEN "
        + withheld
        + " THEN NULL ELSE w.rkey END, CASE WHEN "
        + withheld
        + " THEN NULL ELSE w.headers END, w.created, w.len, "
        + marker
        + ", w.bytes, w.extra, "
        + RelaySession.CURRENT
        + " FROM ("
        + summed
        // and the row after a first row over the budget: the marker, or the extra row
        + ") w WHERE w.total - w.bytes <= w.budget OR w.take_first AND w.n = 2"
        + " ORDER BY w.txid, w.id";
  }

  /** What waits after a position: nothing, rows above the horizon only, or rows to read now. */
  enum Pending {
    NONE,
    HELD_BACK,
    READABLE
  }

  /**
   * What waits after {@code after}, from the first unpublished row after it in read order (the one
   * with the lowest txid): below the horizon, the next read reads it; above it, so is every other.
   * After a short read, rows after it are committed but still above the horizon (an older
   * transaction is running), so the task looks again soon instead of waiting a whole poll interval.
   */
  Pending pending(OutboxTable table, OutboxCursor after) throws SQLException {
    PreparedStatement s =
        statement(
            "next:" + table.name(),
            "SELECT "
                + q(c.txid())
                + " < pg_snapshot_xmin(pg_current_snapshot()) FROM "
                + table.sql()
                + " WHERE ("
                + q(c.txid())
                + ", "
                + q(c.id())
                + ") > (?::text::xid8, ?) AND "
                + unpublished(table, "")
                + " ORDER BY "
                + q(c.txid())
                + ", "
                + q(c.id())
                + " LIMIT 1");
    s.setString(1, after.txidText());
    s.setLong(2, after.id());
    try (ResultSet rs = s.executeQuery()) {
      if (!rs.next()) {
        return Pending.NONE;
      }
      return rs.getBoolean(1) ? Pending.READABLE : Pending.HELD_BACK;
    }
  }

  /**
   * Deletes or marks every unpublished row up to {@code upTo}: all of them are in Kafka (the caller
   * passes only acknowledged prefixes, or the committed offset at start-up).
   *
   * <p>Only the rows after the position this connection last deleted or marked up to ({@link
   * #markedUpTo}; the first time on a connection, every row up to {@code upTo}) are scanned.
   * Bounded only above, each poll of a draining backlog would walk every row relayed so far
   * (planned as most of the table, a sequential scan; an index scan walks every dead entry from the
   * left until VACUUM), and a drain would cost time in the square of the backlog. No unpublished
   * row can lie at or below that position: every row up to it was below the horizon when it was
   * read, so all of them were there, and deleted or marked (or flagged) by that statement; a row
   * made unpublished again later (requeued, a flagged row fixed, a dead letter inserted again) gets
   * a new txid from the triggers, after every position. The position is forgotten with the
   * connection: after a reconnect (perhaps to a standby that had not got the last marks) the first
   * statements cover everything up to {@code upTo} again.
   */
  int markPublished(OutboxTable table, OutboxCursor upTo) throws SQLException {
    OutboxCursor from = markedUpTo(table);
    if (!upTo.isAfter(from)) {
      return 0; // done by an earlier statement on this connection
    }
    int rows = 0;
    String ours = session.mark();
    for (MarkStatement mark : markStatements(table, from, upTo)) {
      PreparedStatement s =
          ours == null
              ? statement(mark.name(), mark.sql())
              : statement("guarded-" + mark.name(), guarded(mark.sql()));
      for (int i = 0; i < mark.parameters().size(); i++) {
        if (mark.parameters().get(i) instanceof Long id) {
          s.setLong(i + 1, id);
        } else {
          s.setString(i + 1, (String) mark.parameters().get(i));
        }
      }
      if (ours == null) {
        rows += s.executeUpdate();
        continue;
      }
      s.setString(mark.parameters().size() + 1, ours);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        session.require(rs.getString(1));
        rows += rs.getInt(2);
      }
    }
    marked.put(table.name(), upTo);
    return rows;
  }

  /**
   * A delete/mark statement that touches rows only in the session carrying the relay's mark, and
   * returns the session's mark and the rows touched: behind a transaction-mode pooler it may run in
   * another server session, one that holds none of the relay's locks. One more parameter: the mark.
   */
  private static String guarded(String markSql) {
    return "WITH d AS ("
        + markSql
        + " AND "
        + RelaySession.CURRENT
        + " = ? RETURNING 1) SELECT "
        + RelaySession.CURRENT
        + ", (SELECT count(*) FROM d)::int";
  }

  /**
   * Where the next {@link #markPublished} of the table starts: after this position, up to which
   * statements on this connection deleted or marked, or {@link OutboxCursor#START}.
   */
  OutboxCursor markedUpTo(OutboxTable table) {
    return marked.getOrDefault(table.name(), OutboxCursor.START);
  }

  /** One delete/mark statement: its name among the prepared ones, its text, its parameters. */
  record MarkStatement(String name, String sql, List<Object> parameters) {}

  /**
   * The statements that delete or mark the unpublished rows after {@code from} and up to {@code
   * upTo}, each a range of the relay index that starts at its lower bound and stops at its upper
   * one. A row comparison alone would say which rows, but as a bound of an index scan (before
   * PostgreSQL 18) it stops the scan by its first column only: {@code (txid, id) <= (t, i)} reads
   * on through every entry of transaction t after id i, every remaining row when one transaction
   * wrote them all (the state an added txid column leaves). And the planner estimates a row
   * comparison by its first column on one side, two of them as two independent halves of the table:
   * a sequential scan on a large one. So: within one transaction, {@code txid = t AND id > i AND id
   * <= j}; across several, the rows after {@code from} in the transactions before the last ({@code
   * txid < t}, and {@code txid >=} the first, which the planner takes for the range it is), then
   * the last transaction's rows up to {@code upTo}. Parameters: txids as text, ids as Long.
   */
  List<MarkStatement> markStatements(OutboxTable table, OutboxCursor from, OutboxCursor upTo) {
    String txid = q(c.txid());
    String id = q(c.id());
    String unpublished = " AND " + unpublished(table, "");
    if (from.txid() == upTo.txid()) {
      return List.of(
          new MarkStatement(
              "mark-within:" + table.name(),
              markSql(
                  table,
                  txid + " = ?::text::xid8 AND " + id + " > ? AND " + id + " <= ?" + unpublished),
              List.of(upTo.txidText(), from.id(), upTo.id())));
    }
    return List.of(
        new MarkStatement(
            "mark-before:" + table.name(),
            markSql(
                table,
                txid
                    + " >= ?::text::xid8 AND "
                    + txid
                    + " < ?::text::xid8 AND ("
                    + txid
                    + ", "
                    + id
                    + ") > (?::text::xid8, ?)"
                    + unpublished),
            List.of(from.txidText(), upTo.txidText(), from.txidText(), from.id())),
        new MarkStatement(
            "mark-last:" + table.name(),
            markSql(table, txid + " = ?::text::xid8 AND " + id + " <= ?" + unpublished),
            List.of(upTo.txidText(), upTo.id())));
  }

  private String markSql(OutboxTable table, String where) {
    return config.afterPublish() == AfterPublish.DELETE
        ? "DELETE FROM " + table.sql() + " WHERE " + where
        : "UPDATE " + table.sql() + " SET " + q(c.publishedAt()) + " = now() WHERE " + where;
  }

  /** Unpublished rows of a table and the creation time of the oldest. */
  record Backlog(long rows, Instant oldest) {}

  /** How long a backlog count may run (see {@link #backlog(OutboxTable, long)}). */
  static final long BACKLOG_TIMEOUT_MS = 2000;

  Backlog backlog(OutboxTable table) throws SQLException {
    return backlog(table, BACKLOG_TIMEOUT_MS);
  }

  /**
   * The backlog of a table, counted under a statement timeout: the count walks every unpublished
   * row, and on a large enough backlog it would outlast the driver's socket timeout (60 s), which
   * takes the connection. The timeout (SQLState 57014) leaves the connection as it was.
   */
  Backlog backlog(OutboxTable table, long timeoutMs) throws SQLException {
    PreparedStatement s = backlogStatement(table);
    return Transaction.run(
        connection,
        () -> {
          try (Statement timeout = connection.createStatement()) {
            timeout.execute("SET LOCAL statement_timeout = " + Math.max(1, timeoutMs));
          }
          try (ResultSet rs = s.executeQuery()) {
            rs.next();
            OffsetDateTime oldest = rs.getObject(2, OffsetDateTime.class);
            return new Backlog(rs.getLong(1), oldest == null ? null : oldest.toInstant());
          }
        });
  }

  private PreparedStatement backlogStatement(OutboxTable table) throws SQLException {
    Shape shape = shapes.get(table.name());
    return statement(
        "backlog:" + table.name(),
        "SELECT count(*), "
            // finite only: -infinity would overflow the age of the oldest row
            + (shape.hasCreated()
                ? "min("
                    + check.created(shape, "")
                    + ") FILTER (WHERE isfinite("
                    + q(c.createdAt())
                    + "))"
                : "NULL::timestamptz")
            + " FROM "
            + table.sql()
            + " WHERE "
            + unpublished(table, ""));
  }

  /** How many rows ahead of the database {@link #rowsAhead} counts at most. */
  static final int ROWS_AHEAD_COUNTED = 10_000;

  /**
   * Unpublished rows whose txid is at or past the database's next transaction id (up to {@link
   * #ROWS_AHEAD_COUNTED}): no transaction of this database made them. pg_dump writes a table's rows
   * before its triggers, so restored rows (or rows copied by logical replication) keep the old
   * cluster's ids, and they stay above the horizon, newer rows relayed before them, until this one
   * catches up. A range scan of the relay index, which finds nothing in the normal case.
   */
  int rowsAhead(OutboxTable table) throws SQLException {
    PreparedStatement s =
        statement(
            "ahead:" + table.name(),
            "SELECT count(*) FROM (SELECT 1 FROM "
                + table.sql()
                + " WHERE "
                + q(c.txid())
                + " >= pg_snapshot_xmax(pg_current_snapshot()) AND "
                + unpublished(table, "")
                + " LIMIT "
                + ROWS_AHEAD_COUNTED
                + ") a");
    try (ResultSet rs = s.executeQuery()) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /** The statement that gives rows ahead of the database the id of its own transaction. */
  String rowsAheadRepair(OutboxTable table) {
    String txid = q(c.txid());
    return "UPDATE "
        + table.sql()
        + " SET "
        + txid
        + " = pg_current_xact_id() WHERE "
        + q(c.publishedAt())
        + " IS NULL AND "
        + txid
        + " >= pg_snapshot_xmax(pg_current_snapshot())";
  }

  /**
   * The transaction id the database will hand out next (the current snapshot's xmax): every
   * transaction that ever committed in this database is below it.
   */
  long nextTxid() throws SQLException {
    try (Statement s = connection.createStatement();
        ResultSet rs = s.executeQuery("SELECT pg_snapshot_xmax(pg_current_snapshot())::text")) {
      rs.next();
      return Long.parseUnsignedLong(rs.getString(1));
    }
  }

  Connection current() {
    return connection;
  }

  @Override
  public void close() {
    statements.clear();
    marked.clear();
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        log.debug("closing the outbox connection: {}", e.toString());
      }
      connection = null;
    }
  }
}
