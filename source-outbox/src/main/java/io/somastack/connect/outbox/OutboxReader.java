package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.OutboxColumns.q;

import io.somastack.connect.outbox.OutboxSourceConfig.AfterPublish;
import io.somastack.connect.outbox.OutboxSourceConfig.BadRowAction;
import io.somastack.connect.outbox.OutboxSourceConfig.TopicMode;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.connect.errors.ConnectException;
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

  /** What the task found out about a table when it connected. */
  private record Shape(
      boolean hasDedupeKey, boolean hasKey, boolean hasHeaders, boolean hasCreated) {}

  private final OutboxSourceConfig config;
  private final OutboxColumns c;
  private final NotifyListener listener;
  private final Map<String, Shape> shapes = new HashMap<>();
  private final Map<String, PreparedStatement> statements = new HashMap<>();
  private Connection connection;
  private boolean prepared;

  OutboxReader(OutboxSourceConfig config, NotifyListener listener) {
    this.config = config;
    this.c = config.columns();
    this.listener = listener;
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
      if (!prepared && config.createTables()) {
        createTables(conn, tables);
      }
      for (OutboxTable table : tables) {
        shapes.put(table.name(), inspect(conn, table));
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

  private void createTables(Connection conn, List<OutboxTable> tables) throws SQLException {
    conn.setAutoCommit(false);
    try (Statement s = conn.createStatement()) {
      // tasks of one connector may create shared objects (the notify function) at the same time
      s.execute("SELECT pg_advisory_xact_lock(7366862069)");
      for (OutboxTable table : tables) {
        for (String sql :
            OutboxDdl.statements(
                table, c, listener.enabled() ? config.notifyChannel() : null, config.dlqTable())) {
          s.execute(sql);
        }
      }
      conn.commit();
    } catch (SQLException e) {
      conn.rollback();
      throw e;
    } finally {
      conn.setAutoCommit(true);
    }
  }

  private Shape inspect(Connection conn, OutboxTable table) throws SQLException {
    Set<String> columns = new HashSet<>();
    try (PreparedStatement s =
        conn.prepareStatement(
            "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = to_regclass(?)"
                + " AND a.attnum > 0 AND NOT a.attisdropped")) {
      s.setString(1, table.sql());
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          columns.add(rs.getString(1));
        }
      }
    }
    if (columns.isEmpty()) {
      throw new ConnectException(
          "outbox table "
              + table.name()
              + " does not exist: create it with source-outbox/sql/outbox.sql or set "
              + OutboxSourceConfig.TABLE_CREATE
              + "=true");
    }
    List<String> required =
        new ArrayList<>(List.of(c.id(), c.txid(), c.payload(), c.publishedAt()));
    if (config.topicMode() == TopicMode.COLUMN) {
      required.add(c.topic());
    }
    if (config.badRowAction() == BadRowAction.FLAG) {
      required.add(c.error());
    }
    for (String column : required) {
      if (!columns.contains(column)) {
        throw new ConnectException(
            "outbox table "
                + table.name()
                + " has no column "
                + column
                + (column.equals(c.txid())
                    ? "; add it: ALTER TABLE ... ADD COLUMN "
                        + column
                        + " xid8 NOT NULL DEFAULT pg_current_xact_id() (see sql/outbox.sql)"
                    : ""));
      }
    }
    return new Shape(
        columns.contains(c.dedupeKey()),
        columns.contains(c.key()),
        c.headers() != null && columns.contains(c.headers()),
        columns.contains(c.createdAt()));
  }

  private PreparedStatement statement(String name, String sql) throws SQLException {
    PreparedStatement s = statements.get(name);
    if (s == null) {
      s = connection.prepareStatement(sql);
      statements.put(name, s);
    }
    return s;
  }

  private String unpublished(String alias) {
    return alias
        + q(c.publishedAt())
        + " IS NULL"
        + (config.badRowAction() == BadRowAction.FLAG
            ? " AND " + alias + q(c.error()) + " IS NULL"
            : "");
  }

  /**
   * Up to {@code limit} rows after {@code after} in (txid, id) order, all below the horizon (see
   * the class comment).
   */
  List<OutboxRow> fetch(OutboxTable table, OutboxCursor after, int limit) throws SQLException {
    Shape shape = shapes.get(table.name());
    String sql =
        "SELECT o."
            + q(c.id())
            + ", o."
            + q(c.txid())
            + "::text, "
            + (config.topicMode() == TopicMode.COLUMN ? "o." + q(c.topic()) + "::text" : "NULL")
            + ", o."
            + q(c.payload())
            + "::text, "
            + (shape.hasDedupeKey() ? "o." + q(c.dedupeKey()) + "::text" : "NULL")
            + ", "
            + (shape.hasKey() ? "o." + q(c.key()) + "::text" : "NULL")
            + ", "
            + (shape.hasHeaders() ? "o." + q(c.headers()) + "::text" : "NULL")
            + ", "
            + (shape.hasCreated() ? "o." + q(c.createdAt()) : "NULL::timestamptz")
            + " FROM "
            + table.sql()
            + " o WHERE o."
            + q(c.txid())
            + " < pg_snapshot_xmin(pg_current_snapshot()) AND (o."
            + q(c.txid())
            + ", o."
            + q(c.id())
            + ") > (?::text::xid8, ?) AND "
            + unpublished("o.")
            + " ORDER BY o."
            + q(c.txid())
            + ", o."
            + q(c.id())
            + " LIMIT ?";
    PreparedStatement s = statement("fetch:" + table.name(), sql);
    s.setString(1, after.txidText());
    s.setLong(2, after.id());
    s.setInt(3, limit);
    List<OutboxRow> rows = new ArrayList<>();
    try (ResultSet rs = s.executeQuery()) {
      while (rs.next()) {
        OffsetDateTime created = rs.getObject(8, OffsetDateTime.class);
        rows.add(
            new OutboxRow(
                table,
                rs.getLong(1),
                Long.parseUnsignedLong(rs.getString(2)),
                rs.getString(3),
                rs.getString(4),
                rs.getString(5),
                rs.getString(6),
                rs.getString(7),
                created == null ? null : created.toInstant()));
      }
    }
    return rows;
  }

  /**
   * Whether unpublished rows exist after {@code after} at all: after a short read, such rows are
   * committed but still above the horizon (an older transaction is running), so the task looks
   * again soon instead of waiting a whole poll interval.
   */
  boolean hasRowsAfter(OutboxTable table, OutboxCursor after) throws SQLException {
    PreparedStatement s =
        statement(
            "pending:" + table.name(),
            "SELECT EXISTS (SELECT 1 FROM "
                + table.sql()
                + " WHERE ("
                + q(c.txid())
                + ", "
                + q(c.id())
                + ") > (?::text::xid8, ?) AND "
                + unpublished("")
                + ")");
    s.setString(1, after.txidText());
    s.setLong(2, after.id());
    try (ResultSet rs = s.executeQuery()) {
      return rs.next() && rs.getBoolean(1);
    }
  }

  /**
   * Deletes or marks every unpublished row up to {@code upTo}: all of them are in Kafka (the caller
   * passes only acknowledged prefixes, or the committed offset at start-up).
   */
  int markPublished(OutboxTable table, OutboxCursor upTo) throws SQLException {
    String where =
        " WHERE ("
            + q(c.txid())
            + ", "
            + q(c.id())
            + ") <= (?::text::xid8, ?) AND "
            + unpublished("");
    String sql =
        config.afterPublish() == AfterPublish.DELETE
            ? "DELETE FROM " + table.sql() + where
            : "UPDATE " + table.sql() + " SET " + q(c.publishedAt()) + " = now()" + where;
    PreparedStatement s = statement("mark:" + table.name(), sql);
    s.setString(1, upTo.txidText());
    s.setLong(2, upTo.id());
    return s.executeUpdate();
  }

  /** Unpublished rows of a table and the creation time of the oldest. */
  record Backlog(long rows, Instant oldest) {}

  Backlog backlog(OutboxTable table) throws SQLException {
    Shape shape = shapes.get(table.name());
    PreparedStatement s =
        statement(
            "backlog:" + table.name(),
            "SELECT count(*), "
                // finite only: -infinity would overflow the age of the oldest row
                + (shape.hasCreated()
                    ? "min("
                        + q(c.createdAt())
                        + ") FILTER (WHERE isfinite("
                        + q(c.createdAt())
                        + "))"
                    : "NULL::timestamptz")
                + " FROM "
                + table.sql()
                + " WHERE "
                + unpublished(""));
    try (ResultSet rs = s.executeQuery()) {
      rs.next();
      OffsetDateTime oldest = rs.getObject(2, OffsetDateTime.class);
      return new Backlog(rs.getLong(1), oldest == null ? null : oldest.toInstant());
    }
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
