package io.somastack.connect.postgres.write;

import io.somastack.connect.common.postgres.ServerErrors;
import io.somastack.connect.common.postgres.SqlStates;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.postgresql.util.ServerErrorMessage;

/**
 * A table refused a write for what it is, not for the rows: changed under the running task (a
 * column dropped, renamed or altered to another type, the table dropped or renamed, the unique
 * index ON CONFLICT names dropped), or given a NOT NULL column without default that the sink does
 * not write and nothing fills. Never the rows' fault, so never a reason to dead-letter them. Keeps
 * the SQLSTATE.
 */
public final class TableChanged extends SQLException {

  /**
   * What a table changed under statements made for it raises: undefined_column, undefined_table,
   * datatype_mismatch, undefined_function (an operator for the old type), invalid_column_reference
   * (no unique index for ON CONFLICT), undefined_object and invalid_schema_name (a type or schema
   * dropped), and feature_not_supported when it is "cached plan must not change result type"
   * ({@link #REPLAN_ROUTINE}). Some rows can raise them too (a value of a DBA's regclass column
   * naming no table, of a regconfig, regrole, regtype or regnamespace column naming no object or
   * schema; 0A000 for a JSON escape a SQL_ASCII database cannot store): bisection tells them apart,
   * as rows refused while others of the table write.
   */
  private static final Set<String> CATALOG_STATES =
      Set.of("42703", "42P01", "42804", "42883", "42P10", "42704", "3F000");

  private static final String FEATURE_NOT_SUPPORTED = "0A000";

  /** The server routine raising "cached plan must not change result type" (as pgjdbc checks). */
  private static final String REPLAN_ROUTINE = "RevalidateCachedQuery";

  /**
   * The server routine raising 0A000 for a JSON unicode escape the encoding cannot hold (any above
   * 0x7F in a SQL_ASCII database): the value's fault, even when it is the only row.
   */
  private static final String UNICODE_ESCAPE_ROUTINE = "pg_unicode_to_server";

  /**
   * The server routine raising 23514 for a row no partition of a partitioned table takes: the
   * table's fault when every row of a batch of several meets it (no partition for them yet), a
   * row's when only some do, or the batch is that row alone (a far-future timestamp).
   */
  private static final String NO_PARTITION_ROUTINE = "ExecFindPartition";

  private static final String NOT_NULL_VIOLATION = "23502";

  /** A server error's CONTEXT line naming the function that raised it. */
  private static final Pattern FUNCTION_CONTEXT = Pattern.compile("(^|\\n)(PL/\\S+|SQL) function ");

  /**
   * Whether the NOT NULL column an error names is one nothing fills: not generated, no default, and
   * no enabled BEFORE row trigger on insert or update that might set it from the row. The relation
   * the error names (schema and table) is the table the sink names, or a partition of it: on a
   * partitioned table (every audit table) PostgreSQL names the leaf the row went to. Its own
   * attribute and triggers are read (a partitioned table's row triggers are cloned onto each
   * partition), and the table's attribute too, whose default a row routed through it takes.
   */
  private static final String UNFILLED =
      "SELECT a.attgenerated = '' AND a.attidentity = '' AND NOT a.atthasdef AND NOT EXISTS"
          + " (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = a.attrelid AND g.tgenabled <> 'D'"
          + " AND (g.tgtype & 1) = 1 AND (g.tgtype & 66) = 2 AND (g.tgtype & 20) <> 0)"
          + " AND NOT EXISTS (SELECT 1 FROM pg_attribute p WHERE p.attrelid = t.oid"
          + " AND p.attname = a.attname AND NOT p.attisdropped"
          + " AND (p.atthasdef OR p.attgenerated <> '' OR p.attidentity <> ''))"
          + " FROM (SELECT to_regclass(?) AS oid) t, pg_attribute a"
          + " JOIN pg_class r ON r.oid = a.attrelid"
          + " JOIN pg_namespace n ON n.oid = r.relnamespace"
          + " WHERE n.nspname = ? AND r.relname = ?"
          + " AND (r.oid = t.oid OR pg_partition_root(r.oid) = t.oid)"
          + " AND a.attname = ? AND NOT a.attisdropped";

  /** Where the task stands when a table refuses the batch, for the words of its error. */
  public enum Moment {
    /** The first try, or outside the write of a batch: no catalog read again yet. */
    FIRST_TRY,
    /** The try after the task read the catalog again. */
    AFTER_REREAD
  }

  private final String table;
  private final String unwrittenColumn;
  private final boolean sinkOwn;

  private TableChanged(String table, String unwrittenColumn, boolean sinkOwn, SQLException cause) {
    super(
        "table " + table + " refused the batch (SQLSTATE " + SqlStates.rootState(cause) + ")",
        SqlStates.rootState(cause),
        cause);
    this.table = table;
    this.unwrittenColumn = unwrittenColumn;
    this.sinkOwn = sinkOwn;
  }

  /**
   * A failure reading or writing {@code table} as a {@link TableChanged} when it changed, else e.
   */
  public static SQLException of(String table, SQLException e) {
    return e instanceof TableChanged || !isCatalogState(e)
        ? e
        : new TableChanged(table, null, false, e);
  }

  /**
   * A failure of the sink's own {@code table} (its offsets) as a {@link TableChanged} when it
   * changed, else e: reading the catalog again does not make it anew, a restart does.
   */
  public static SQLException ofSinkTable(String table, SQLException e) {
    return e instanceof TableChanged || !isCatalogState(e)
        ? e
        : new TableChanged(table, null, true, e);
  }

  /**
   * A NOT NULL violation (SQLSTATE 23502) of {@code table} as the table's fault when the column is
   * one the sink does not give a value ({@code written} are those it does) and nothing else fills:
   * then every row would be refused. Null when the rows may be to blame: another table's column (a
   * trigger's), a generated column or one a BEFORE trigger sets from the row, which are null for
   * some rows only. Asks the catalog, so {@code c} must not be in a failed transaction.
   */
  public static TableChanged unfilledColumn(
      Connection c, String table, SQLException e, Set<String> written) throws SQLException {
    ServerErrorMessage m = ServerErrors.of(e);
    if (!NOT_NULL_VIOLATION.equals(SqlStates.rootState(e))
        || m == null
        || m.getColumn() == null
        || m.getTable() == null
        || written.contains(m.getColumn())) {
      return null;
    }
    try (PreparedStatement ps = c.prepareStatement(UNFILLED)) {
      ps.setString(1, table);
      ps.setString(2, m.getSchema());
      ps.setString(3, m.getTable());
      ps.setString(4, m.getColumn());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getBoolean(1)
            ? new TableChanged(table, m.getColumn(), false, e)
            : null;
      }
    }
  }

  /** The column a NOT NULL violation (SQLSTATE 23502) names, else null. */
  public static String notNullColumn(SQLException e) {
    ServerErrorMessage m = ServerErrors.of(e);
    return NOT_NULL_VIOLATION.equals(SqlStates.rootState(e)) && m != null ? m.getColumn() : null;
  }

  /**
   * Whether the table's refusal of a whole table's rows, one by one, each for no fault of its data
   * (a catalog state, 0A000 for a rule that forbids ON CONFLICT, no partition for the row: any
   * SQLSTATE but a data error's), says the table is to blame after all: then it is, as {@link
   * TableChanged}; else null.
   */
  public static TableChanged refusedEveryRow(
      String table, int rows, Map<?, SQLException> rejected) {
    if (rows == 0 || rejected.size() < rows) {
      return null;
    }
    for (SQLException e : rejected.values()) {
      // a lone row without a partition (a far-future time, at low traffic) stays the row's
      boolean tablesFault = isPartitionless(e) && rows > 1;
      if ((SqlStates.isDataError(e) && !tablesFault) || isUnconvertibleEscape(e)) {
        return null;
      }
    }
    SQLException first = rejected.values().iterator().next();
    return first instanceof TableChanged t ? t : new TableChanged(table, null, false, first);
  }

  /**
   * Whether the statements and catalog knowledge the task holds may be stale: reading the catalog
   * again and writing the batch once more may succeed. Not for a NOT NULL column the sink does not
   * write, which no reading makes it fill, nor for the sink's own tables.
   */
  public static boolean mayHealOnReread(SQLException e) {
    return isCatalogState(e)
        && !(e instanceof TableChanged t && (t.unwrittenColumn != null || t.sinkOwn));
  }

  /** Whether the table, not some row, is to blame: never dead-letter rows for it. */
  public static boolean blamesTable(SQLException e) {
    return e instanceof TableChanged || isCatalogState(e);
  }

  /**
   * Whether some rows may be to blame, so that the batch is bisected to find them: a data error,
   * 0A000 other than a cached plan's (a value the database cannot convert), and, when {@code
   * catalogStatesToo}, a catalog state (after reading the catalog again: a row's value may raise
   * it, and a table that refuses every row is still found out by {@link #refusedEveryRow}) unless
   * raised inside a function (a trigger's statement naming a table dropped since): that is the
   * table's, though only the rows that fire the trigger fail.
   */
  public static boolean mayBlameRows(SQLException e, boolean catalogStatesToo) {
    if (e instanceof TableChanged t && (t.unwrittenColumn != null || t.sinkOwn)) {
      return false;
    }
    if (isCatalogState(e)) {
      return catalogStatesToo && !raisedInFunction(e);
    }
    return SqlStates.isDataError(e) || FEATURE_NOT_SUPPORTED.equals(SqlStates.rootState(e));
  }

  private static boolean isUnconvertibleEscape(SQLException e) {
    ServerErrorMessage m = ServerErrors.of(e);
    return FEATURE_NOT_SUPPORTED.equals(SqlStates.rootState(e))
        && m != null
        && UNICODE_ESCAPE_ROUTINE.equals(m.getRoutine());
  }

  /** Whether no partition of a partitioned table takes the row (23514 from ExecFindPartition). */
  private static boolean isPartitionless(SQLException e) {
    ServerErrorMessage m = ServerErrors.of(e);
    return m != null && NO_PARTITION_ROUTINE.equals(m.getRoutine());
  }

  private static boolean isCatalogState(SQLException e) {
    String state = SqlStates.rootState(e);
    if (state == null) {
      return false; // an I/O failure, or the driver's own (binary COPY refused): not the catalog
    }
    if (FEATURE_NOT_SUPPORTED.equals(state)) {
      ServerErrorMessage m = ServerErrors.of(e);
      return m != null && REPLAN_ROUTINE.equals(m.getRoutine());
    }
    return CATALOG_STATES.contains(state);
  }

  /**
   * Whether the server raised the error inside a function: its CONTEXT names one ("PL/pgSQL
   * function ...", "SQL function ..."). A COPY's context ("COPY t, line 3, column ref: ...") names
   * none.
   */
  private static boolean raisedInFunction(SQLException e) {
    ServerErrorMessage m = ServerErrors.of(e);
    String where = m == null ? null : m.getWhere();
    return where != null && FUNCTION_CONTEXT.matcher(where).find();
  }

  /**
   * What to tell the operator: the table and what it refused, in PostgreSQL's own words where they
   * name objects and types only (never for the states whose words quote a name looked up, which a
   * reg* column's value may be: {@link SqlStates#quotesNameLookedUp}).
   */
  public static String describe(SQLException e, Moment moment) {
    String state = SqlStates.rootState(e);
    if (e instanceof TableChanged t && t.unwrittenColumn != null) {
      return "table "
          + t.table
          + " has column "
          + t.unwrittenColumn
          + " NOT NULL without a default, and neither the sink nor the table (a generated column,"
          + " a trigger) fills it (SQLSTATE "
          + state
          + "): every row would be refused, so none is dead-lettered. Give the column a default"
          + " or drop its NOT NULL, or extract a value into it with the columns option";
    }
    if (e instanceof TableChanged t && t.sinkOwn) {
      return "the sink's offsets table "
          + t.table
          + " was dropped or changed under the running task (SQLSTATE "
          + state
          + what(e, state)
          + "): restart the task to create it again. Without it the task resumes from the"
          + " consumer group's offsets";
    }
    if (e instanceof TableChanged t && isPartitionless(e)) {
      return "table "
          + t.table
          + " has no partition for any row of the batch (SQLSTATE "
          + state
          + what(e, state)
          + "): every row would be refused, so none is dead-lettered. Create the partition(s)"
          + " the rows belong in, or a DEFAULT partition";
    }
    String where = e instanceof TableChanged t ? "table " + t.table : "a table the task writes";
    return where
        + (moment == Moment.AFTER_REREAD
            ? " does not take the batch even after the task read its catalog again"
            : " refused the batch for what it is, not for its rows")
        + " (SQLSTATE "
        + state
        + what(e, state)
        + "): it changed under the running task in a way the sink does not adapt to. Restore it,"
        + " or let the sink remake what it lacks (auto.create for a missing table, auto.evolve"
        + " for a missing column or unique index; the sink's own offsets and audit heads tables"
        + " come back when the task restarts)";
  }

  private static String what(SQLException e, String state) {
    if (SqlStates.quotesNameLookedUp(state)) {
      return "";
    }
    ServerErrorMessage m = ServerErrors.of(e);
    return ": " + (m == null ? "no message" : m.getMessage());
  }
}
