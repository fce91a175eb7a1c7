package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.OutboxColumns.q;

import io.somastack.connect.common.postgres.ServerVersion;
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
import java.util.LinkedHashMap;
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

  /**
   * What the task found out about a table when it connected. {@code createdZone}: the zone of a
   * created_at of type timestamp (local times), null for a timestamptz. Not the columns of a dead
   * letter's event: a column added since would be missed (see {@link #eventColumns}).
   */
  private record Shape(
      boolean hasDedupeKey,
      boolean hasKey,
      boolean hasHeaders,
      boolean hasCreated,
      String createdZone,
      boolean hasError) {}

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
      ServerVersion.require(conn, MINIMUM_SERVER_VERSION, NEEDS_SERVER_VERSION);
      if (!prepared) { // once: a privilege revoked later fails the statement that needs it
        if (config.createTables()) {
          // first: the privileges of a shadowed table would be asked for the wrong one
          refuseShadowing(conn, tables);
        }
        OutboxPrivileges.requireSchemas(conn, config, tables);
        if (config.createTables()) {
          createTables(conn, tables);
        }
      }
      for (OutboxTable table : tables) {
        shapes.put(table.name(), inspect(conn, table));
      }
      if (!prepared) {
        OutboxPrivileges.requireTables(conn, config, tables);
        if (!config.createTables()) {
          for (OutboxTable table : tables) {
            warnWithoutRelayIndex(conn, table);
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

  /**
   * A table named without its schema is made, with outbox.table.create=true, in current_schema():
   * CREATE TABLE IF NOT EXISTS looks only there. One of that name further down the search_path
   * (public.outbox, while the role's own schema comes first, as with the default "$user", public)
   * would be shadowed by a new, empty table, and the rows services write into it never relayed:
   * refused. A deployment an earlier version shadowed already (its table in current_schema(), made
   * by the DDL, and another of that name further down, which services may be writing to) may be
   * meant (a schema per tenant): only warned of, naming both.
   */
  private void refuseShadowing(Connection conn, List<OutboxTable> tables) throws SQLException {
    List<OutboxTable> named = new ArrayList<>(tables);
    named.add(config.dlqTable());
    for (OutboxTable table : named) {
      if (table.schema() == null) {
        refuseShadowing(conn, table);
      }
    }
  }

  /**
   * One lookup: the relation the bare name finds (first, if any) and every other table of that name
   * in a schema of the search_path.
   */
  private static void refuseShadowing(Connection conn, OutboxTable table) throws SQLException {
    try (PreparedStatement s =
        conn.prepareStatement(
            "SELECT n.nspname, c.oid IS NOT DISTINCT FROM r.oid AS found, current_schema()"
                + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,"
                + " (SELECT to_regclass(?) AS oid) r WHERE c.relname = ? AND (c.oid = r.oid"
                + " OR c.relkind IN ('r', 'p') AND n.nspname = ANY (current_schemas(false)))"
                + " ORDER BY found DESC")) {
      s.setString(1, table.sql());
      s.setString(2, table.table());
      try (ResultSet rs = s.executeQuery()) {
        if (!rs.next()) {
          return;
        }
        String current = rs.getString(3);
        if (rs.getBoolean(2)) {
          if (!rs.getString(1).equals(current)) {
            throw shadowing(table, rs.getString(1) + "." + table.table(), current);
          }
          if (!rs.next()) {
            return;
          }
        }
        log.warn(
            "outbox relay: table {} is the one in schema {}, while the search_path also has"
                + " {}.{}: rows written to that one are not relayed (or dead letters not put"
                + " there). If it is the one meant, name it with its schema in {} or {}",
            table.name(),
            current,
            rs.getString(1),
            table.table(),
            OutboxSourceConfig.TABLES,
            OutboxSourceConfig.DLQ_TABLE);
      }
    }
  }

  private static ConnectException shadowing(OutboxTable table, String found, String current) {
    return new ConnectException(
        "outbox relay: the search_path finds table "
            + table.name()
            + " as "
            + found
            + ", but "
            + OutboxSourceConfig.TABLE_CREATE
            + "=true would make a new, empty one in "
            + (current == null ? "no schema" : "schema " + current)
            + " (the first of the search_path) and use that instead. Name it with its"
            + " schema ("
            + found
            + ") in "
            + OutboxSourceConfig.TABLES
            + " or "
            + OutboxSourceConfig.DLQ_TABLE
            + ", or set "
            + OutboxSourceConfig.TABLE_CREATE
            + "=false.");
  }

  private void createTables(Connection conn, List<OutboxTable> tables) throws SQLException {
    Transaction.run(
        conn,
        () -> {
          try (Statement s = conn.createStatement()) {
            // tasks of one connector may create shared objects (the notify function) at once
            s.execute("SELECT pg_advisory_xact_lock(7366862069)");
            for (OutboxTable table : tables) {
              createTable(conn, s, table);
            }
          }
          return null;
        });
  }

  private void createTable(Connection conn, Statement s, OutboxTable table) throws SQLException {
    String channel = listener.enabled() ? config.notifyChannel() : null;
    // under the lock: no race for the name. None where the table has one: a DBA's of another
    // name would otherwise get a second index beside it, built on a large table
    String index = hasRelayIndex(conn, table) ? null : OutboxDdl.relayIndexName(conn, table, true);
    for (String sql : OutboxDdl.statements(table, c, channel, config.dlqTable(), index)) {
      s.execute(sql);
    }
  }

  /**
   * A table made beforehand may lack the relay index: sql/outbox.sql names it after the table, so
   * of two tables named alike ("Orders" beside orders) the second one's CREATE INDEX IF NOT EXISTS
   * is skipped. The relay works without it, scanning the whole table each time, so it only warns,
   * with the statement that makes one under a free name. Any index that leads with the txid column
   * serves.
   */
  private void warnWithoutRelayIndex(Connection conn, OutboxTable table) throws SQLException {
    if (hasRelayIndex(conn, table)) {
      return;
    }
    String index = OutboxDdl.relayIndexName(conn, table, false);
    log.warn(
        "outbox table {} has no relay index: every read scans the whole table. Its owner makes"
            + " one with: {}",
        table.name(),
        OutboxDdl.relayIndex(table, c, index));
  }

  /**
   * Whether the table has an index the relay's reads can use: valid, a btree (ranges and order; a
   * hash index on txid serves neither) leading with the txid column, whole or partial on the
   * unpublished rows, as the relay's own is.
   */
  private boolean hasRelayIndex(Connection conn, OutboxTable table) throws SQLException {
    try (PreparedStatement s =
        conn.prepareStatement(
            "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a"
                + " ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
                + " JOIN pg_class x ON x.oid = i.indexrelid JOIN pg_am m ON m.oid = x.relam"
                + " WHERE i.indrelid = to_regclass(?) AND i.indisvalid AND a.attname = ?"
                + " AND m.amname = 'btree' AND (i.indpred IS NULL"
                + " OR pg_get_expr(i.indpred, i.indrelid) = '(' || quote_ident(?) || ' IS NULL)'))")) {
      s.setString(1, table.sql());
      s.setString(2, c.txid());
      s.setString(3, c.publishedAt());
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    }
  }

  /**
   * A column of an outbox table: its name, its type (a domain's: its base type's, through domains
   * over domains) as format_type names it, and whether it is json to to_jsonb (json, a domain over
   * it, an array of either), which would parse it.
   */
  record Column(String name, String type, boolean json) {}

  /**
   * The table's columns, in the table's order, read now (the dead-letter move reads them at each
   * move, under a lock: see {@link DeadLetterWriter}).
   */
  static List<Column> columns(Connection conn, OutboxTable table) throws SQLException {
    List<Column> columns = new ArrayList<>();
    try (PreparedStatement s = conn.prepareStatement(COLUMN_TYPES)) {
      s.setString(1, table.sql());
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          columns.add(new Column(rs.getString(1), rs.getString(2), rs.getBoolean(3)));
        }
      }
    }
    return columns;
  }

  /**
   * Each column's chain of types: from a domain to its base type, from an array to its element
   * type. The first type that is no domain is the column's; json anywhere in it makes a json
   * column.
   */
  private static final String COLUMN_TYPES =
      "WITH RECURSIVE chain(attnum, attname, typ, depth) AS ("
          + "SELECT a.attnum, a.attname, a.atttypid, 0 FROM pg_attribute a"
          + " WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped"
          + " UNION ALL SELECT c.attnum, c.attname,"
          + " CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.typelem END, c.depth + 1"
          + " FROM chain c JOIN pg_type t ON t.oid = c.typ"
          + " WHERE t.typtype = 'd' OR t.typcategory = 'A' AND t.typelem <> 0)"
          + " SELECT c.attname, format_type((array_agg(c.typ ORDER BY c.depth)"
          + " FILTER (WHERE t.typtype <> 'd'))[1], NULL), bool_or(c.typ = 'json'::regtype)"
          + " FROM chain c JOIN pg_type t ON t.oid = c.typ"
          + " GROUP BY c.attnum, c.attname ORDER BY c.attnum";

  /**
   * The payload column types whose text, as the relay reads it, is the payload as written. A
   * bytea's text is hex (the bytes of {@code {}} read as {@code \x7b7d}), and would be relayed so,
   * or fail every row as JSON, silently.
   */
  static final Set<String> PAYLOAD_TYPES = Set.of("json", "jsonb", "text", "character varying");

  /**
   * Refuses payload, headers, key and topic columns whose text is not their value: a payload or
   * headers column of a type other than {@link #PAYLOAD_TYPES}, and a bytea key, or topic with
   * topic.mode=column (any other type, uuid, integer, ..., is read as its text, which is its value;
   * a bytea topic's hex text is no legal topic name, so every row would be a bad one).
   */
  private void requireReadableTypes(OutboxTable table, Map<String, String> types) {
    refuseType(
        table,
        OutboxSourceConfig.COLUMN_PAYLOAD,
        c.payload(),
        types,
        !PAYLOAD_TYPES.contains(types.get(c.payload())));
    if (c.headers() != null && types.containsKey(c.headers())) {
      refuseType(
          table,
          OutboxSourceConfig.COLUMN_HEADERS,
          c.headers(),
          types,
          !PAYLOAD_TYPES.contains(types.get(c.headers())));
    }
    // the dedupe key first: column.key unset, the key is the same column
    Map<String, String> textual = new LinkedHashMap<>();
    textual.put(OutboxSourceConfig.COLUMN_DEDUPE_KEY, c.dedupeKey());
    textual.put(OutboxSourceConfig.COLUMN_KEY, c.key());
    if (config.topicMode() == TopicMode.COLUMN) {
      textual.put(OutboxSourceConfig.COLUMN_TOPIC, c.topic());
    }
    textual.forEach(
        (option, column) ->
            refuseType(table, option, column, types, "bytea".equals(types.get(column))));
  }

  private static void refuseType(
      OutboxTable table, String option, String column, Map<String, String> types, boolean refused) {
    if (refused) {
      throw new ConnectException(
          "outbox table "
              + table.name()
              + " has column "
              + column
              + " of type "
              + types.get(column)
              + ", which the relay reads as its PostgreSQL text"
              + ("bytea".equals(types.get(column)) ? " (hex: \\x...), not its bytes" : "")
              + ". A payload or headers column must be json, jsonb, text or varchar, a key or"
              + " topic column any type but bytea: change its type (ALTER TABLE ... ALTER COLUMN "
              + column
              + " TYPE ... USING ...), or name another column in its option, "
              + option
              + ".");
    }
  }

  private Shape inspect(Connection conn, OutboxTable table) throws SQLException {
    Map<String, String> types = new LinkedHashMap<>();
    columns(conn, table).forEach(column -> types.put(column.name(), column.type()));
    Set<String> columns = types.keySet();
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
    if (config.keyColumnSet()) {
      // read as NULL instead, it would leave every record unkeyed: an aggregate's order lost
      required.add(c.key());
    }
    for (String column : required) {
      if (!columns.contains(column)) {
        throw new ConnectException(
            "outbox table " + table.name() + " has no column " + column + missingHint(column));
      }
    }
    requireReadableTypes(table, types);
    return new Shape(
        columns.contains(c.dedupeKey()),
        columns.contains(c.key()),
        c.headers() != null && columns.contains(c.headers()),
        columns.contains(c.createdAt()),
        createdZone(conn, table, types.get(c.createdAt())),
        columns.contains(c.error()));
  }

  /**
   * The zone of a created_at of type timestamp, whose values are local times of the writers'
   * sessions: created.at.time.zone, which must be set, as the relay cannot see that zone (pgjdbc
   * gives its session the worker JVM's) and read as UTC or as the JVM's zone they would shift every
   * record timestamp and the backlog age silently. Null for any other type.
   */
  private String createdZone(Connection conn, OutboxTable table, String type) throws SQLException {
    if (!"timestamp without time zone".equals(type)) {
      return null;
    }
    String zone = config.createdAtTimeZone();
    if (zone == null) {
      throw new ConnectException(
          "outbox table "
              + table.name()
              + " has column "
              + c.createdAt()
              + " of type timestamp without time zone, whose values are local times: set "
              + OutboxSourceConfig.CREATED_AT_TIME_ZONE
              + " to the TimeZone of the sessions that write them (e.g. Europe/Berlin), or make"
              + " it timestamptz (ALTER TABLE ... ALTER COLUMN "
              + c.createdAt()
              + " TYPE timestamptz USING "
              + c.createdAt()
              + " AT TIME ZONE '<their zone>').");
    }
    requireZoneRules(conn, zone);
    return zone;
  }

  /**
   * Requires a zone this server knows whose local times AT TIME ZONE reads by its rules. AT TIME
   * ZONE looks a name up among the abbreviations (pg_timezone_abbrevs, each a fixed offset) before
   * the zones: CET there is +01:00 all year, while a session of TimeZone CET writes summer times at
   * +02:00, so they would be read an hour late. Such a name is refused, but for the names of UTC,
   * which mean +00:00 either way. Asked in the relay's own session, whose timezone_abbreviations
   * set is the one its reads use. Names compare in any letter case, as PostgreSQL reads them.
   */
  static void requireZoneRules(Connection conn, String zone) throws SQLException {
    try (PreparedStatement s =
        conn.prepareStatement(
            "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE lower(name) = lower(?)),"
                + " (SELECT min(utc_offset)::text FROM pg_timezone_abbrevs"
                + " WHERE lower(abbrev) = lower(?) AND NOT (lower(abbrev) IN ('utc', 'gmt', 'uct',"
                + " 'zulu') AND utc_offset = interval '0' AND NOT is_dst))")) {
      s.setString(1, zone);
      s.setString(2, zone);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        if (!rs.getBoolean(1)) {
          throw new ConnectException(
              OutboxSourceConfig.CREATED_AT_TIME_ZONE
                  + "="
                  + zone
                  + " is not a time zone this PostgreSQL server knows (pg_timezone_names)");
        }
        if (rs.getString(2) != null) {
          // the validator refused the Default set's, naming their regions; this one it did not know
          throw new ConnectException(
              OutboxSourceConfig.CREATED_AT_TIME_ZONE
                  + "="
                  + zone
                  + " is "
                  + CreatedAtZone.abbreviation(zone, rs.getString(2), null)
                  + ".");
        }
      }
    }
  }

  /**
   * The creation time as a timestamptz: a timestamp column's local time read in its zone (AT TIME
   * ZONE, as PostgreSQL itself converts it), so no reader takes it for UTC.
   */
  private String created(Shape shape, String alias) {
    String column = alias + q(c.createdAt());
    return shape.createdZone() == null
        ? column
        : "(" + column + " AT TIME ZONE '" + shape.createdZone().replace("'", "''") + "')";
  }

  private String missingHint(String column) {
    if (column.equals(c.txid())) {
      return "; add it: ALTER TABLE ... ADD COLUMN "
          + column
          + " xid8 NOT NULL DEFAULT pg_current_xact_id() (see sql/outbox.sql)";
    }
    return column.equals(c.key()) && config.keyColumnSet()
        ? " (" + OutboxSourceConfig.COLUMN_KEY + "): add it, or correct the option"
        : "";
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
      while (rs.next()) {
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
   * payload, dedupe key, key, headers, created_at, payload length, marker, bytes, extra.
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
            + (shape.hasCreated() ? created(shape, "o.") : "NULL::timestamptz")
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
        + ", w.bytes, w.extra FROM ("
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
    for (MarkStatement mark : markStatements(table, from, upTo)) {
      PreparedStatement s = statement(mark.name(), mark.sql());
      for (int i = 0; i < mark.parameters().size(); i++) {
        if (mark.parameters().get(i) instanceof Long id) {
          s.setLong(i + 1, id);
        } else {
          s.setString(i + 1, (String) mark.parameters().get(i));
        }
      }
      rows += s.executeUpdate();
    }
    marked.put(table.name(), upTo);
    return rows;
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
                    + created(shape, "")
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
