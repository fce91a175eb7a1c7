package io.somastack.connect.postgres.write;

import io.somastack.connect.common.postgres.PgCatalog;
import io.somastack.connect.common.postgres.PostgresConnectionConfig;
import io.somastack.connect.common.postgres.SqlStates;
import io.somastack.connect.common.sql.SqlIdentifier;
import io.somastack.connect.postgres.config.PostgresSinkConfig;
import io.somastack.connect.postgres.config.WriteMode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure each table exists with the columns the config asks for: creates a missing table (with
 * its indexes, and for audit its monthly partitions and the verify function), adds newly configured
 * columns, and never drops or rewrites anything. DDL runs in its own short transaction, under an
 * advisory lock so tasks racing to create one table do not collide.
 */
public final class SchemaManager {

  private static final Logger log = LoggerFactory.getLogger(SchemaManager.class);

  private static final String UNIQUE_VIOLATION = "23505";

  /** What a unique index on a partitioned table without its partition key meets. */
  private static final String FEATURE_NOT_SUPPORTED = "0A000";

  private final PostgresSinkConfig config;
  private final TableLayout layout;

  /** The tables the sink keeps for itself, qualified and quoted as a rendered table name is. */
  private final Set<String> ownTables;

  /** Tables known to be ready, with the last month their audit partitions reach. */
  private final Map<String, YearMonth> ready = new HashMap<>();

  /** Tables warned of lacking optional columns: once per task, not at every re-read. */
  private final Set<String> warnedLacking = new HashSet<>();

  /**
   * The table does not exist and auto.create=false: the config's fault when the table name comes
   * from the config, topic or partition, a record's when its key or value names the table. The
   * message names the table.
   */
  public static final class TableMissing extends ConnectException {
    private static final long serialVersionUID = 1L;

    TableMissing(String table) {
      super("table " + table + " does not exist and " + PostgresSinkConfig.AUTO_CREATE + "=false");
    }
  }

  /**
   * A table that is no target for rows: one the sink keeps for itself, a partition of another table
   * (or a name one would take), a table without the sink's layout, or an audit table that cannot
   * get its partitions. The config's fault when the table name comes from the config, topic or
   * partition; a record's when its key or value names the table (then its records are
   * dead-lettered). The message names the table; the sink has changed nothing in it.
   */
  public static final class NotATarget extends ConnectException {
    private static final long serialVersionUID = 1L;

    /** Why the table is no target. */
    public enum Why {
      /** The offsets table, or the audit chain heads or retired anchors. */
      SINK_OWNED,
      /** A partition of another table (an audit table's monthly or default partition). */
      PARTITION,
      /** A table without the layout's JSON document column (payload, or event for dead letters). */
      NOT_SINK_LAYOUT,
      /**
       * An audit table whose default or monthly partition's name another table holds (one made
       * before it, not its partition): it lacks that partition, and is written to no more.
       */
      PARTITION_TAKEN
    }

    private final Why why;

    NotATarget(String table, Why why, String message) {
      super("table " + table + " " + message);
      this.why = why;
    }

    private NotATarget(Why why, String message) {
      super(message);
      this.why = why;
    }

    public Why why() {
      return why;
    }
  }

  public SchemaManager(PostgresSinkConfig config, TableLayout layout) {
    this.config = config;
    this.layout = layout;
    this.ownTables = ownTables(config);
  }

  /**
   * The tables of the sink's own bookkeeping that a table name must never stand for: the offsets
   * table (the configured one, and the default one other connectors of the database may share) and
   * the audit chain tables, in table.schema, the only schema a rendered name lands in. The chain
   * tables live in the sink's current_schema() (see {@link AuditSchema}), which is table.schema
   * unless the role's search_path starts elsewhere; a table.schema that is not it holds no chain
   * table, and its names are refused all the same, as names only the sink should use. Rows written
   * or columns and indexes added there would corrupt the exactly-once offsets or the audit
   * evidence.
   */
  public static Set<String> ownTables(PostgresSinkConfig config) {
    String schema = config.tableSchema();
    return Stream.of(
            config.offsetsTable(),
            DEFAULT_OFFSETS_TABLE,
            AuditSchema.HEADS_TABLE,
            AuditSchema.RETIRED_TABLE)
        .map(name -> SqlIdentifier.qualified(schema, name))
        .collect(Collectors.toUnmodifiableSet());
  }

  /** offsets.table's default: other connectors in the database may keep their offsets there. */
  private static final String DEFAULT_OFFSETS_TABLE = "soma_connect_offsets";

  /** Why a table the sink keeps for itself is no target (the config's fault). */
  public static String sinkOwned(String table) {
    return "table "
        + table
        + " is one the sink keeps for itself ("
        + PostgresSinkConfig.OFFSETS_TABLE
        + ", the default soma_connect_offsets, or the audit chain tables "
        + AuditSchema.HEADS_TABLE
        + " and "
        + AuditSchema.RETIRED_TABLE
        + "): the sink never writes rows into it or alters it. Set "
        + PostgresSinkConfig.TABLE_NAME_FORMAT
        + " to name another table";
  }

  /**
   * Forgets what it knew (after a reconnect, the database may have been replaced; after a table
   * refused a batch for what it is, a DBA may have changed it).
   */
  public void forget() {
    ready.clear();
  }

  /** Ensures the table is ready; commits its own DDL transaction when it had work to do. */
  public void ensure(Connection c, String table) throws SQLException {
    // the next month at least, whatever the config says (0 included): without it an event stamped
    // just past the month's end (a producer's clock a little ahead) lands in the default partition,
    // and PostgreSQL then refuses that month its partition for good
    YearMonth through =
        YearMonth.now(ZoneOffset.UTC).plusMonths(Math.max(1, config.auditPartitionsAhead()));
    YearMonth known = ready.get(table);
    if (known != null && (layout.mode() != WriteMode.AUDIT || !known.isBefore(through))) {
      return;
    }
    if (ownTables.contains(table)) {
      throw new NotATarget(NotATarget.Why.SINK_OWNED, sinkOwned(table));
    }
    try (Statement s = OneOffStatements.create(c)) {
      lockName(s, table);
      boolean created = !PgCatalog.exists(c, table);
      if (created) {
        if (!config.autoCreate()) {
          throw new TableMissing(table);
        }
        refuseIfPartitionName(c, table);
        s.execute(layout.createTableSql(table));
        log.info("Created table {} for write mode {}", table, layout.mode());
      } else {
        refuseIfNotATarget(c, table);
        if (layout.mode() == WriteMode.UPSERT) {
          checkPrimaryKey(c, table);
        }
        if (config.autoEvolve()) {
          addMissingColumns(c, s, table);
          addConflictIndex(c, s, table);
        } else {
          checkColumnsPresent(c, table);
          // every mode relies on it: append for one row per event id, all for ON CONFLICT
          if (!hasUniqueIndexOn(c, table)) {
            throw noConflictIndex(table);
          }
        }
      }
      if (layout.mode() == WriteMode.AUDIT) {
        AuditSchema.ensure(
            s, table, YearMonth.now(ZoneOffset.UTC).minusMonths(1), through, created);
        checkTypedColumnTypes(c, table);
      }
      c.commit();
    } catch (SQLException | RuntimeException e) {
      // on a connection the server cut, the rollback fails too: its "connection has been closed"
      // must not hide what cut it (57P01, or a fatal state that is no reason to retry)
      try {
        c.rollback();
      } catch (SQLException again) {
        e.addSuppressed(again);
      }
      throw e;
    }
    ready.put(table, through);
  }

  /**
   * An existing table the sink must not write into nor alter, checked before anything else: a
   * partition of another table (an audit table's monthly or default one: rows go through its
   * parent, and a column or index added to it would break the parent's layout), or a table without
   * the layout's JSON document column, which every table of the sink has (payload; event for dead
   * letters): another connector's offsets table, a dead-letter table of write.mode=dead_letter
   * under another mode (or the reverse), someone else's table. auto.evolve adds only the columns a
   * table of the sink's layout lacks, never makes a foreign table one.
   */
  private void refuseIfNotATarget(Connection c, String table) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT relispartition FROM pg_class WHERE oid = to_regclass(?)")) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next() && rs.getBoolean(1)) {
          throw new NotATarget(
              table,
              NotATarget.Why.PARTITION,
              "is a partition of another table (such as an audit table's monthly or default"
                  + " partition): the sink never writes into or alters a partition. Set "
                  + PostgresSinkConfig.TABLE_NAME_FORMAT
                  + " to name another table");
        }
      }
    }
    String document = layout.columns().get(layout.payloadIndex()).name();
    if (!CatalogColumns.of(c, table).containsKey(document)) {
      throw new NotATarget(
          table,
          NotATarget.Why.NOT_SINK_LAYOUT,
          "has no column "
              + document
              + ", which every table of write.mode="
              + layout.mode().name().toLowerCase(Locale.ROOT)
              + " has: it is not a table of the sink's layout (another connector's offsets or"
              + " dead letters, or another application's), and the sink neither writes into it"
              + " nor adds its columns there. Set "
              + PostgresSinkConfig.TABLE_NAME_FORMAT
              + " to name another table, or, if the table is meant for the sink, add the column as"
              + " its owner");
    }
  }

  /**
   * A name as an audit table's default or monthly partition is named: base_default, base_2027_06.
   */
  private static final Pattern PARTITION_NAME =
      Pattern.compile("(.+)_(?:default|\\d{4}_(?:0[1-9]|1[0-2]))");

  /**
   * A table about to be made under the name of a partition a partitioned table (an audit table)
   * lacks yet (a month beyond those made ahead): made standalone, it would keep that table from
   * ever getting the partition (CREATE TABLE IF NOT EXISTS ... PARTITION OF skips it). Refused as a
   * partition is. Names shortened to fit PostgreSQL's limit are not traced back to their table; the
   * audit setup's own check ({@code AuditSchema}) still refuses the partition's table then.
   */
  private static void refuseIfPartitionName(Connection c, String table) throws SQLException {
    String bare = bareName(table);
    Matcher m = PARTITION_NAME.matcher(bare);
    if (!m.matches()) {
      return;
    }
    String schemaPrefix = table.substring(0, table.length() - SqlIdentifier.quote(bare).length());
    String parent = schemaPrefix + SqlIdentifier.quote(m.group(1));
    try (PreparedStatement ps =
        c.prepareStatement("SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass(?)")) {
      ps.setString(1, parent);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next() && rs.getBoolean(1)) {
          throw new NotATarget(
              table,
              NotATarget.Why.PARTITION,
              "would take the name of a partition of the partitioned table "
                  + parent
                  + " (such as an audit table's monthly or default one): the sink does not make"
                  + " it. Set "
                  + PostgresSinkConfig.TABLE_NAME_FORMAT
                  + " to name another table");
        }
      }
    }
  }

  /**
   * An audit row's hash covers its typed columns as the text of the value the config's type makes:
   * a column the table holds with another type (made by an earlier config: the sink never rewrites
   * a column) stores that value converted (a double as numeric or text, a timestamptz as text in
   * the session's time zone), and every row would then fail soma_audit_verify. Refused instead.
   */
  private void checkTypedColumnTypes(Connection c, String table) throws SQLException {
    Map<String, String> present = CatalogColumns.of(c, table);
    List<TableLayout.Column> typed =
        layout.columns().subList(layout.mappedFrom(), layout.columns().size());
    for (TableLayout.Column column : typed) {
      String type = present.get(column.name());
      String expected = CopyBinary.typeFor(column);
      if (type != null && !type.equals(expected)) {
        throw new ConnectException(
            "audit table "
                + table
                + " has column "
                + column.name()
                + " as "
                + type
                + " but "
                + PostgresSinkConfig.COLUMNS
                + " makes it "
                + expected
                + ": its hash would not match what the column stores; alter the column to "
                + expected
                + " or extract into another column");
      }
    }
  }

  /**
   * A primary key on other columns than key.fields (made under an earlier key.fields: the sink
   * never drops a constraint) refuses events that ON CONFLICT does not catch: under a widened key,
   * every event whose stored row lacks the new columns. That would dead-letter the stream row by
   * row, so the task stops first. A key that holds all of key.fields, besides columns the sink
   * writes, refuses nothing the unique index on key.fields lets in; nor does a key with a column
   * the sink leaves to the database (a DBA's bigserial). A default on a column the sink writes is
   * never used, so it does not count.
   */
  private void checkPrimaryKey(Connection c, String table) throws SQLException {
    String sql =
        "SELECT a.attname::text, a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> ''"
            + " FROM pg_index i JOIN pg_attribute a"
            + " ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)"
            + " WHERE i.indrelid = to_regclass(?) AND i.indisprimary"
            + " ORDER BY array_position(i.indkey::int2[], a.attnum)";
    Set<String> written =
        layout.columns().stream().map(TableLayout.Column::name).collect(Collectors.toSet());
    List<String> key = new ArrayList<>();
    boolean filledByDatabase = false;
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          key.add(rs.getString(1));
          filledByDatabase |= rs.getBoolean(2) && !written.contains(rs.getString(1));
        }
      }
    }
    List<String> wanted = layout.conflictColumns();
    if (key.isEmpty()
        || filledByDatabase
        || (key.containsAll(wanted) && written.containsAll(key))) {
      return;
    }
    throw new ConnectException(
        "table "
            + table
            + " has primary key ("
            + String.join(", ", key)
            + ") but "
            + PostgresSinkConfig.KEY_FIELDS
            + " makes the key ("
            + String.join(", ", wanted)
            + "): the old key would refuse events the new one lets in. Move the table to the new"
            + " key (fill its columns, then replace the primary key) or write to another table");
  }

  private void addMissingColumns(Connection c, Statement s, String table) throws SQLException {
    Set<String> present = CatalogColumns.of(c, table).keySet();
    List<TableLayout.Column> missing =
        layout.columns().stream().filter(column -> !present.contains(column.name())).toList();
    // Only the owner may add a column. A DBA's table, the connector granted DML only (as the seed
    // file says), goes without the optional ones; lacking a required one, the task stops, naming
    // it and the statement the owner runs (PostgreSQL's "must be owner" names neither)
    boolean lacksWrittenAt = lacksWrittenAt(present);
    boolean mayAlter = (missing.isEmpty() && !lacksWrittenAt) || PgCatalog.owns(c, table);
    List<String> required = new ArrayList<>();
    List<String> additions = new ArrayList<>();
    for (TableLayout.Column column : missing) {
      if (!layout.optional(column.name())) {
        required.add(column.name());
        additions.add(column.definition());
      }
    }
    if (lacksWrittenAt) {
      required.add(layout.writtenAtColumn());
      additions.add(layout.writtenAtDefinition());
    }
    if (!mayAlter && !required.isEmpty()) {
      throw new ConnectException(
          "table "
              + table
              + " lacks column(s) "
              + String.join(", ", required)
              + " that the sink writes, and "
              + PostgresConnectionConfig.USER
              + " does not own it, so it may not add them. As the table's owner, run "
              + addColumns(table, additions)
              + "; (or sql/seed-tables.sql again)");
    }
    List<String> lacking = new ArrayList<>();
    for (TableLayout.Column column : missing) {
      if (!mayAlter && layout.optional(column.name())) {
        lacking.add(column.name());
      } else {
        addColumn(s, table, column.name(), column.definition());
      }
    }
    warnLacking(table, lacking, PostgresConnectionConfig.USER + " does not own it");
    // a table made for another write mode (append's has no updated_at, which upsert sets); the
    // default is evaluated once, so no existing row is rewritten. Only upsert names its time
    // column: the other modes leave it to its default, and a table without it is fine for them
    // (and may belong to a DBA who lets the connector insert but not alter it)
    if (lacksWrittenAt) {
      addColumn(s, table, layout.writtenAtColumn(), layout.writtenAtDefinition());
    }
  }

  /** Upsert sets its time column; the other modes leave a table without it alone. */
  private boolean lacksWrittenAt(Set<String> present) {
    return layout.mode() == WriteMode.UPSERT && !present.contains(layout.writtenAtColumn());
  }

  private static void addColumn(Statement s, String table, String name, String definition)
      throws SQLException {
    s.execute(addColumns(table, List.of(definition)));
    log.info("Added column {} to {}", name, table);
  }

  /**
   * The ALTER TABLE that adds the columns of the definitions given ({@link
   * TableLayout.Column#definition}), each only if missing: run by the sink, or quoted for the
   * table's owner to run.
   */
  private static String addColumns(String table, List<String> definitions) {
    return "ALTER TABLE "
        + table
        + " "
        + definitions.stream()
            .map(definition -> "ADD COLUMN IF NOT EXISTS " + definition)
            .collect(Collectors.joining(", "));
  }

  /**
   * A table made by someone else (the outbox's dlq, a DBA's DDL) may lack the unique index that the
   * sink's ON CONFLICT names; without it every insert would fail.
   */
  private void addConflictIndex(Connection c, Statement s, String table) throws SQLException {
    if (hasUniqueIndexOn(c, table)) {
      return;
    }
    String columns =
        layout.conflictColumns().stream()
            .map(SqlIdentifier::quote)
            .collect(Collectors.joining(", "));
    String index = SqlIdentifier.quote(SqlIdentifier.withSuffix(bareName(table), "_soma_key"));
    String create =
        "CREATE UNIQUE INDEX IF NOT EXISTS " + index + " ON " + table + " (" + columns + ")";
    if (!PgCatalog.owns(c, table)) {
      throw new ConnectException(
          "table "
              + table
              + " has no unique index on "
              + String.join(", ", layout.conflictColumns())
              + ", which the sink's ON CONFLICT needs, and "
              + PostgresConnectionConfig.USER
              + " does not own it, so it may not make one. As the table's owner, run "
              + create
              + ";");
    }
    try {
      s.execute(create);
    } catch (SQLException e) {
      if (UNIQUE_VIOLATION.equals(SqlStates.rootState(e))) {
        throw duplicatesStored(table); // without e: its message may quote a value
      }
      if (FEATURE_NOT_SUPPORTED.equals(SqlStates.rootState(e))) {
        throw partitionedByOtherColumns(table, columns, e);
      }
      throw e;
    }
    if (!hasUniqueIndexOn(c, table)) {
      // IF NOT EXISTS skipped: a relation of that name exists (an index ON CONFLICT cannot use,
      // partial or invalid; or another table's index, a sequence, a view)
      throw new ConnectException(
          "a relation named "
              + index
              + " already exists in the schema of "
              + table
              + " (an index ON CONFLICT cannot use: a WHERE clause, expressions, deferrable or"
              + " invalid; or another object), so the sink cannot add its unique index on ("
              + columns
              + ") under that name: drop or rename that index");
    }
    log.info("Added a unique index on ({}) to {}", columns, table);
  }

  /**
   * Rows that share the conflict columns, stored while the table had no unique index on them (by
   * another writer, or by this sink before it checked for the index at every COPY), keep the index
   * from being made, and the sink from writing without it.
   */
  private ConnectException duplicatesStored(String table) {
    return new ConnectException(
        "table "
            + table
            + " has no unique index on ("
            + String.join(", ", layout.conflictColumns())
            + "), and the sink cannot add one: rows that share those columns were stored while it"
            + " had none (SQLSTATE 23505). Delete the duplicate rows, then restart the task");
  }

  /**
   * Without auto.evolve a column the sink writes that the table lacks (never there, or dropped or
   * renamed by a DBA since) would fail every batch with a bare SQLSTATE 42703: the task stops
   * first, naming the columns.
   */
  private void checkColumnsPresent(Connection c, String table) throws SQLException {
    Set<String> present = CatalogColumns.of(c, table).keySet();
    List<String> missing = new ArrayList<>();
    List<String> lacking = new ArrayList<>();
    for (TableLayout.Column column : layout.columns()) {
      if (!present.contains(column.name())) {
        (layout.optional(column.name()) ? lacking : missing).add(column.name());
      }
    }
    if (lacksWrittenAt(present)) {
      missing.add(layout.writtenAtColumn()); // upserts set it
    }
    if (!missing.isEmpty()) {
      throw new ConnectException(
          "table "
              + table
              + " lacks column(s) "
              + String.join(", ", missing)
              + " that the sink writes, and "
              + PostgresSinkConfig.AUTO_EVOLVE
              + "=false: add them (see the sink's table layout), or set "
              + PostgresSinkConfig.AUTO_EVOLVE
              + "=true for the sink to add them");
    }
    warnLacking(table, lacking, PostgresSinkConfig.AUTO_EVOLVE + "=false");
  }

  /**
   * Optional columns the table lacks, which the sink does not add ({@code why}), are left out of
   * its rows; once per table and task, this says so and how the owner adds them.
   */
  private void warnLacking(String table, List<String> lacking, String why) {
    if (lacking.isEmpty() || !warnedLacking.add(table)) {
      return;
    }
    List<String> definitions =
        lacking.stream()
            .map(name -> layout.columns().get(layout.indexOf(name)).definition())
            .toList();
    String alter = addColumns(table, definitions) + ";";
    log.warn(
        "Table {} lacks column(s) {}, which the sink does not add ({}): its rows are written"
            + " without them, so dead letters land without the key and timestamp a replay needs."
            + " As the table's owner, run {} (or sql/seed-tables.sql again), then restart the task",
        table,
        String.join(", ", lacking),
        why,
        alter);
  }

  /**
   * A table without the unique index the sink relies on: append mode's COPY would store an event id
   * again without an error, and the other modes' ON CONFLICT would fail at the first statement
   * (SQLSTATE 42P10), whatever the records. The task stops first, saying what to add.
   */
  private static ConnectException partitionedByOtherColumns(
      String table, String columns, SQLException e) {
    return new ConnectException(
        "table "
            + table
            + " is partitioned by other columns than ("
            + columns
            + "), and PostgreSQL's unique index on a partitioned table must hold the partition"
            + " key, so the sink cannot add the unique index on ("
            + columns
            + ") it needs (a table partitioned by time cannot be an append table): write to a"
            + " table not partitioned, or partitioned by ("
            + columns
            + ")",
        e);
  }

  private ConnectException noConflictIndex(String table) {
    String key = String.join(", ", layout.conflictColumns());
    return new ConnectException(
        "table "
            + table
            + " has no unique index on ("
            + key
            + ") that "
            + (layout.mode() == WriteMode.APPEND
                ? "keeps one row per event id"
                : "the sink's ON CONFLICT can name")
            + " (one without a WHERE clause or expressions, not deferrable, valid), and "
            + PostgresSinkConfig.AUTO_EVOLVE
            + "=false: add a unique constraint on ("
            + key
            + "), or set "
            + PostgresSinkConfig.AUTO_EVOLVE
            + "=true for the sink to add one");
  }

  /** Whether the table has the unique index on the conflict columns that the sink relies on. */
  private boolean hasUniqueIndexOn(Connection c, String table) throws SQLException {
    return CatalogColumns.hasUniqueIndexOn(c, table, layout.conflictColumns());
  }

  /** The table's own name, unquoted, from a qualified quoted name such as "public"."dlq". */
  static String bareName(String qualified) {
    int dot = qualified.lastIndexOf("\".\"");
    String last = dot >= 0 ? qualified.substring(dot + 2) : qualified;
    return last.substring(1, last.length() - 1).replace("\"\"", "\"");
  }

  /**
   * Takes the transaction's advisory lock on the table's name, so that tasks racing to create it
   * take turns (else 23505 on pg_type).
   */
  static void lockName(Statement s, String table) throws SQLException {
    s.execute("SELECT pg_advisory_xact_lock(hashtext(" + literal(table) + "))");
  }

  static String literal(String text) {
    return "'" + text.replace("'", "''") + "'";
  }

  /** The first day of a month, as a SQL literal. */
  static String monthStart(YearMonth month) {
    return literal(LocalDate.of(month.getYear(), month.getMonth(), 1) + " 00:00:00+00");
  }
}
