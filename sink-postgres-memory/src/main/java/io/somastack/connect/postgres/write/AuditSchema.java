package io.somastack.connect.postgres.write;

import io.somastack.connect.common.postgres.ServerVersion;
import io.somastack.connect.common.sql.SqlIdentifier;
import io.somastack.connect.postgres.config.PostgresSinkConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.YearMonth;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The parts of an audit table besides the parent: monthly range partitions (plus a default one so
 * an event from any time is accepted), the table of chain heads, the SQL function {@code
 * soma_audit_verify(table)} that finds edited and deleted rows, and the operators' {@code
 * soma_audit_retire(table, before)} with its table of anchors.
 */
final class AuditSchema {

  private static final Logger log = LoggerFactory.getLogger(AuditSchema.class);

  static final String HEADS_TABLE = "soma_audit_chain_heads";
  static final String RETIRED_TABLE = "soma_audit_retired";
  private static final String VERIFY_SQL = sqlResource("/sql/soma_audit_verify.sql");

  /**
   * Installed beside the check so the two stay in step; never called by the sink, and the function
   * refuses the role that installs it (the sink's): retiring rows is an operator's action.
   */
  private static final String RETIRE_SQL = sqlResource("/sql/soma_audit_retire.sql");

  private AuditSchema() {}

  /**
   * Creates what the audit table needs besides itself. {@code created}: the table was made just
   * now, in this transaction, so chain heads recorded under its name belong to a table of that name
   * dropped before: refused, see {@link #refuseIfChainsOnRecord}.
   */
  static void ensure(Statement s, String table, YearMonth from, YearMonth through, boolean created)
      throws SQLException {
    ServerVersion.require(s.getConnection(), MINIMUM_SERVER_VERSION, NEEDS_SERVER_VERSION);
    String bare = SchemaManager.bareName(table);
    String schemaPrefix = table.substring(0, table.length() - SqlIdentifier.quote(bare).length());
    String defaultName =
        schemaPrefix + SqlIdentifier.quote(SqlIdentifier.withSuffix(bare, "_default"));
    s.execute("CREATE TABLE IF NOT EXISTS " + defaultName + " PARTITION OF " + table + " DEFAULT");
    refuseIfNotItsPartition(s, table, defaultName);
    Map<YearMonth, String> months = new LinkedHashMap<>();
    for (YearMonth month = from; !month.isAfter(through); month = month.plusMonths(1)) {
      months.put(
          month,
          schemaPrefix
              + SqlIdentifier.quote(
                  SqlIdentifier.withSuffix(
                      bare, String.format("_%04d_%02d", month.getYear(), month.getMonthValue()))));
    }
    // a month whose partition exists needs nothing: not the check of the default partition's rows
    // (which a setup after every reconnect would otherwise repeat), nor the CREATE
    Set<String> present = partitionsOf(s, table, months.values());
    for (Map.Entry<YearMonth, String> entry : months.entrySet()) {
      YearMonth month = entry.getKey();
      String partition = entry.getValue();
      if (present.contains(partition)) {
        continue;
      }
      if (defaultHoldsRowsOf(s, defaultName, month)) {
        // an event dated beyond the months made ahead landed there before: PostgreSQL refuses a
        // partition whose rows the default one holds, so the whole month stays in the default
        log.warn(
            "Audit table {}: its default partition holds rows of {}, so that month gets no"
                + " partition of its own and its rows go to the default partition",
            table,
            month);
      } else {
        // PostgreSQL scans the whole default partition here (under ACCESS EXCLUSIVE on the
        // table) to prove it holds no row of the month: once per month and table, see
        // docs/audit-archival.md
        s.execute(
            "CREATE TABLE IF NOT EXISTS "
                + partition
                + " PARTITION OF "
                + table
                + " FOR VALUES FROM ("
                + SchemaManager.monthStart(month)
                + ") TO ("
                + SchemaManager.monthStart(month.plusMonths(1))
                + ")");
        refuseIfNotItsPartition(s, table, partition);
      }
    }
    // after the months, not before: the index build holds SHARE on the default partition until
    // commit, and a month's CREATE then wanting ACCESS EXCLUSIVE on the table would deadlock with
    // a writer holding ROW EXCLUSIVE on the table and queued on the default partition (40P01)
    indexEventTime(s, table, defaultName);
    // The heads table and the verify function serve every audit table, while the caller's lock
    // covers only this one: tasks setting up two audit tables at once (every month's first
    // minutes) would otherwise collide on them ("tuple concurrently updated", a duplicate type).
    s.execute("SELECT pg_advisory_xact_lock(hashtext('soma_audit_shared_objects'))");
    // named with the schema they have always been made in (unqualified, the first on the sink's
    // search_path), so a table of that name elsewhere on the path is never the one read
    String schema = sharedSchema(s);
    String heads = SqlIdentifier.quote(schema) + "." + SqlIdentifier.quote(HEADS_TABLE);
    String retired = SqlIdentifier.quote(schema) + "." + SqlIdentifier.quote(RETIRED_TABLE);
    s.execute(
        "CREATE TABLE IF NOT EXISTS "
            + heads
            + " (table_name text NOT NULL, kafka_topic text NOT NULL, kafka_partition integer NOT"
            + " NULL, kafka_offset bigint NOT NULL, row_hash bytea NOT NULL,"
            + " PRIMARY KEY (table_name, kafka_topic, kafka_partition))");
    // written by soma_audit_retire only; the check reads it
    s.execute(
        "CREATE TABLE IF NOT EXISTS "
            + retired
            + " (table_name text NOT NULL, kafka_topic text NOT NULL, kafka_partition integer NOT"
            + " NULL, kafka_offset bigint NOT NULL, row_hash bytea NOT NULL, event_time timestamptz"
            + " NOT NULL, retired_before timestamptz NOT NULL, retired_partitions text[] NOT NULL,"
            + " retired_at timestamptz NOT NULL DEFAULT now(), retired_by name NOT NULL DEFAULT"
            + " session_user, superseded_at timestamptz)");
    // a retired row is kept on record as an anchor (rows here link to it), as a follower (it
    // linked to a row here, or started its chain: that row's deletion, or a row forged beside it,
    // must still show), or both; records made before followers were are anchors
    // ALTER TABLE takes ACCESS EXCLUSIVE even when every column exists: a task's setup would queue
    // behind an operator's long soma_audit_verify, and every later reader behind the setup
    if (lacksFollowerColumns(s, retired)) {
      s.execute(
          "ALTER TABLE "
              + retired
              + " ADD COLUMN IF NOT EXISTS prev_hash bytea,"
              + " ADD COLUMN IF NOT EXISTS anchor boolean NOT NULL DEFAULT true,"
              + " ADD COLUMN IF NOT EXISTS follower boolean NOT NULL DEFAULT false");
    }
    s.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS soma_audit_retired_live ON "
            + retired
            + " (table_name, kafka_topic, kafka_partition, row_hash) WHERE superseded_at IS NULL");
    // CREATE OR REPLACE at every setup: a deployment made by an older sink gets these definitions
    // (its functions resolved names through the sink's search_path) at its next task start
    String searchPath = explicitSearchPath(s);
    s.execute(installable(VERIFY_SQL, searchPath, schema));
    s.execute(installable(RETIRE_SQL, searchPath, schema));
    if (created) {
      refuseIfChainsOnRecord(s, table, heads, retired);
    }
  }

  /**
   * A table made just now under a name whose chain heads or live anchors are on record was dropped
   * (or its schema was): made anew, it would verify, and the drop of the old table with every row
   * would leave no trace (the task resumes from the offsets stored beside it). The task stops
   * instead, naming the two ways on: restore the table, or have an operator give the old chains up
   * on purpose. The caller rolls the table's creation back.
   */
  private static void refuseIfChainsOnRecord(
      Statement s, String table, String headsTable, String retiredTable) throws SQLException {
    String key;
    long heads;
    long anchors;
    try (var rs =
        s.executeQuery(
            "SELECT k, (SELECT count(*) FROM "
                + headsTable
                + " WHERE table_name = k), (SELECT count(*) FROM "
                + retiredTable
                + " WHERE table_name = k AND superseded_at IS NULL) FROM CAST("
                + SchemaManager.literal(table)
                + "::regclass::text AS text) k")) {
      rs.next();
      key = rs.getString(1);
      heads = rs.getLong(2);
      anchors = rs.getLong(3);
    }
    if (heads == 0 && anchors == 0) {
      return;
    }
    String named = " WHERE table_name = " + SchemaManager.literal(key);
    throw new ConnectException(
        "audit table "
            + table
            + " does not exist, but "
            + HEADS_TABLE
            + " holds "
            + heads
            + " chain head(s) and "
            + RETIRED_TABLE
            + " "
            + anchors
            + " live anchor record(s) of a table by that name: it was dropped. The sink does not"
            + " make it anew, which would hide the drop of its rows. Restore the table (with its"
            + " rows, from a backup) and restart the task; or, to start new chains under this name"
            + " on purpose, have an operator run: DELETE FROM "
            + HEADS_TABLE
            + named
            + "; UPDATE "
            + RETIRED_TABLE
            + " SET superseded_at = now()"
            + named
            + " AND superseded_at IS NULL; (docs/audit-archival.md, \"An audit table dropped\")");
  }

  /**
   * CREATE TABLE IF NOT EXISTS ... PARTITION OF skips, with a NOTICE only, when a table of the
   * partition's name exists: one made before the audit table, such as a standalone audit table that
   * auto.create made for a record naming it (tenant acme_default before tenant acme). The audit
   * table would then lack its default partition (every event out of the monthly ranges refused) or
   * a month's (its rows in the default one). Refused as a table that is no target: the records
   * naming the audit table are dead-lettered, or the task stops when the config names it; the
   * message names both tables and the way on. The caller rolls back what this setup made.
   */
  private static void refuseIfNotItsPartition(Statement s, String table, String partition)
      throws SQLException {
    if (ask(
        s,
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c"
            + " ON c.oid = i.inhrelid WHERE i.inhrelid = to_regclass("
            + SchemaManager.literal(partition)
            + ") AND i.inhparent = to_regclass("
            + SchemaManager.literal(table)
            + ") AND c.relispartition)")) {
      return;
    }
    throw new SchemaManager.NotATarget(
        table,
        SchemaManager.NotATarget.Why.PARTITION_TAKEN,
        "cannot get its audit partition "
            + partition
            + ": a table of that name exists and is not a partition of "
            + table
            + " (made before it, for instance by "
            + PostgresSinkConfig.AUTO_CREATE
            + " for a record whose "
            + PostgresSinkConfig.TABLE_NAME_FORMAT
            + " value names it). The sink writes nothing into "
            + table
            + " while it lacks that partition. Rename or move the table "
            + partition
            + " (ALTER TABLE "
            + partition
            + " RENAME TO ...), then restart the task; the sink makes the partition");
  }

  /**
   * The oldest PostgreSQL audit mode runs on: 14. Before it, extract(epoch ...) returns double
   * precision, so soma_audit_verify's event time in microseconds is rounded for far-future times
   * and disagrees with the hash the sink computed: every such row would be reported as edited.
   */
  static final int MINIMUM_SERVER_VERSION = 140000;

  private static final String NEEDS_SERVER_VERSION =
      "write.mode=audit needs PostgreSQL 14 or later (before 14 extract(epoch ...) is double"
          + " precision, and soma_audit_verify would not match the sink's hashes)";

  /** Why audit mode cannot run on a server of this server_version_num, or null. */
  static String tooOld(int versionNum) {
    return ServerVersion.tooOld(versionNum, MINIMUM_SERVER_VERSION, NEEDS_SERVER_VERSION);
  }

  /** Whether the retired records' table, made before followers were, lacks their columns. */
  private static boolean lacksFollowerColumns(Statement s, String retired) throws SQLException {
    return ask(
        s,
        "SELECT count(*) < 3 FROM pg_attribute WHERE attrelid = to_regclass("
            + SchemaManager.literal(retired)
            + ") AND attname IN ('prev_hash', 'anchor', 'follower') AND NOT attisdropped");
  }

  /**
   * The schemas the sink's session resolves names in, spelled out: the functions print the audit
   * table's name under it, as the sink's session prints it for the chain heads (a {@code "$user"}
   * kept as such would mean the caller's schema). They resolve nothing else through it.
   */
  private static String explicitSearchPath(Statement s) throws SQLException {
    try (var rs =
        s.executeQuery(
            "SELECT coalesce(string_agg(quote_ident(n), ', ' ORDER BY i), 'pg_catalog')"
                + " FROM unnest(current_schemas(false)) WITH ORDINALITY AS p(n, i)")) {
      rs.next();
      return rs.getString(1);
    }
  }

  /**
   * The schema the shared tables and the functions are made in: the first schema of the sink's
   * search_path that exists, where an unqualified CREATE has always made them.
   */
  private static String sharedSchema(Statement s) throws SQLException {
    try (var rs = s.executeQuery("SELECT pg_catalog.current_schema()")) {
      rs.next();
      String schema = rs.getString(1);
      if (schema == null) {
        throw new ConnectException(
            "write.mode=audit: no schema of the connection's search_path exists to make "
                + HEADS_TABLE
                + ", "
                + RETIRED_TABLE
                + " and the audit functions in");
      }
      return schema;
    }
  }

  /**
   * The SQL of an audit function file with its constants filled in (see soma_audit_verify.sql): the
   * sink's search_path, and the schema of the shared tables and of the functions, each as a string
   * literal's content. The functions themselves run with search_path = pg_catalog, pg_temp.
   */
  private static String installable(String sql, String searchPath, String schema) {
    String filled = sql;
    for (String[] constant :
        new String[][] {
          {"@sink_search_path@", searchPath},
          {"@tables_schema@", schema},
          {"@functions_schema@", schema}
        }) {
      String token = "'" + constant[0] + "'";
      if (!filled.contains(token)) {
        throw new IllegalStateException("an audit function without " + constant[0]);
      }
      if (constant[1].contains("$fn$")) {
        // the literal sits in a body quoted $fn$
        throw new ConnectException(
            "write.mode=audit: the schema names " + constant[1] + " cannot hold \"$fn$\"");
      }
      filled = filled.replace(token, SchemaManager.literal(constant[1]));
    }
    return filled;
  }

  /**
   * Which of the named tables are partitions of the table, in one catalogue query (to_regclass
   * takes no lock): the same test as {@link #refuseIfNotItsPartition}.
   */
  private static Set<String> partitionsOf(Statement s, String table, Collection<String> names)
      throws SQLException {
    Set<String> present = new HashSet<>();
    if (names.isEmpty()) {
      return present;
    }
    String array =
        names.stream().map(SchemaManager::literal).collect(Collectors.joining(", ", "ARRAY[", "]"));
    try (var rs =
        s.executeQuery(
            "SELECT n FROM unnest("
                + array
                + "::text[]) AS n WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i"
                + " JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid"
                + " WHERE i.inhrelid = to_regclass(n) AND i.inhparent = to_regclass("
                + SchemaManager.literal(table)
                + ") AND c.relispartition)")) {
      while (rs.next()) {
        present.add(rs.getString(1));
      }
    }
    return present;
  }

  /**
   * Gives the default partition an index led by event_time, unless it has one (any valid one, not
   * partial: an operator may have built it beforehand with CREATE INDEX CONCURRENTLY), so that
   * {@link #defaultHoldsRowsOf} is an index probe rather than a scan of every backfilled row. On
   * the default partition only: rows landing in the monthly partitions pay nothing for it. Built
   * here at the first setup after the upgrade that brought it, it blocks writes into the default
   * partition (not the monthly ones) while it runs; soma_audit_retire indexes the empty default
   * partition it makes.
   */
  private static void indexEventTime(Statement s, String table, String defaultPartition)
      throws SQLException {
    if (ask(
        s,
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a"
            + " ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
            + " WHERE i.indrelid = to_regclass("
            + SchemaManager.literal(defaultPartition)
            + ") AND a.attname = 'event_time' AND i.indisvalid AND i.indpred IS NULL)")) {
      return;
    }
    log.info(
        "Audit table {}: indexing the event time of its default partition {}",
        table,
        defaultPartition);
    s.execute("CREATE INDEX ON " + defaultPartition + " (\"event_time\")");
  }

  /** A month cannot get its own partition once the default partition holds rows of it. */
  private static boolean defaultHoldsRowsOf(Statement s, String defaultPartition, YearMonth month)
      throws SQLException {
    return ask(
        s,
        "SELECT EXISTS (SELECT 1 FROM "
            + defaultPartition
            + " WHERE event_time >= "
            + SchemaManager.monthStart(month)
            + " AND event_time < "
            + SchemaManager.monthStart(month.plusMonths(1))
            + ")");
  }

  /** The answer of a query of one boolean (SELECT EXISTS ...). */
  private static boolean ask(Statement s, String sql) throws SQLException {
    try (var rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  private static String sqlResource(String path) {
    try (InputStream in = AuditSchema.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + path);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
