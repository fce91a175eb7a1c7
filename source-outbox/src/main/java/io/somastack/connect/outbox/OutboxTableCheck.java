package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.OutboxColumns.q;

import io.somastack.connect.outbox.OutboxSourceConfig.BadRowAction;
import io.somastack.connect.outbox.OutboxSourceConfig.TopicMode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What shape an outbox table has and whether the relay may read it, settled when a task connects
 * (see {@link OutboxReader#connection}): a bare table name that a new one would shadow refused, the
 * tables made with outbox.table.create=true, each table's columns and their types checked, a
 * missing relay index warned of. {@link OutboxPrivileges} checks what connection.user may do, in
 * between; {@link OutboxDdl} has the statements that make a table.
 */
final class OutboxTableCheck {

  private static final Logger log = LoggerFactory.getLogger(OutboxTableCheck.class);

  /**
   * What the task found out about a table when it connected. {@code createdZone}: the zone of a
   * created_at of type timestamp (local times), null for a timestamptz. Not the columns of a dead
   * letter's event: a column added since would be missed (so {@link DeadLetterWriter} reads them
   * again at each move).
   */
  record Shape(
      boolean hasDedupeKey,
      boolean hasKey,
      boolean hasHeaders,
      boolean hasCreated,
      String createdZone,
      boolean hasError) {}

  private final OutboxSourceConfig config;
  private final OutboxColumns c;
  private final NotifyListener listener;

  OutboxTableCheck(OutboxSourceConfig config, NotifyListener listener) {
    this.config = config;
    this.c = config.columns();
    this.listener = listener;
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
  void refuseShadowing(Connection conn, List<OutboxTable> tables) throws SQLException {
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

  void createTables(Connection conn, List<OutboxTable> tables) throws SQLException {
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
  void warnWithoutRelayIndex(Connection conn, OutboxTable table) throws SQLException {
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

  Shape inspect(Connection conn, OutboxTable table) throws SQLException {
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
  String created(Shape shape, String alias) {
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
}
