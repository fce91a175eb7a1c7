package io.somastack.connect.postgres.write;

import io.somastack.connect.common.postgres.SqlStates;
import java.sql.SQLException;
import java.util.Set;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * A table refused a write for what it is, not for the rows: changed under the running task (a
 * column dropped, renamed or altered to another type, the table dropped or renamed, the unique
 * index ON CONFLICT names dropped), or given a NOT NULL column without default that the sink does
 * not write. Never the rows' fault, so never a reason to dead-letter them. Keeps the SQLSTATE.
 */
public final class TableChanged extends SQLException {

  /**
   * What a table changed under statements made for it raises: undefined_column, undefined_table,
   * datatype_mismatch, undefined_function (an operator for the old type), invalid_column_reference
   * (no unique index for ON CONFLICT), feature_not_supported ("cached plan must not change result
   * type").
   */
  private static final Set<String> CATALOG_STATES =
      Set.of("42703", "42P01", "42804", "42883", "42P10", "0A000");

  private static final String NOT_NULL_VIOLATION = "23502";

  private final String table;
  private final String unwrittenColumn;

  private TableChanged(String table, String unwrittenColumn, SQLException cause) {
    super(
        "table " + table + " refused the batch (SQLSTATE " + SqlStates.rootState(cause) + ")",
        SqlStates.rootState(cause),
        cause);
    this.table = table;
    this.unwrittenColumn = unwrittenColumn;
  }

  /** A failure reading {@code table} as a {@link TableChanged} when the table changed, else e. */
  public static SQLException of(String table, SQLException e) {
    return e instanceof TableChanged || !isCatalogState(e) ? e : new TableChanged(table, null, e);
  }

  /**
   * The failure of a write into {@code table} as a {@link TableChanged} when the table is to blame,
   * else {@code e} itself. {@code written} are the columns the sink gives a value.
   */
  public static SQLException of(String table, SQLException e, Set<String> written) {
    if (e instanceof TableChanged) {
      return e;
    }
    if (isCatalogState(e)) {
      return new TableChanged(table, null, e);
    }
    String column = notNullColumn(e);
    if (column != null && !written.contains(column)) {
      return new TableChanged(table, column, e);
    }
    return e;
  }

  /**
   * Whether the statements and catalog knowledge the task holds may be stale: reading the catalog
   * again and writing the batch once more may succeed. Not for a NOT NULL column the sink does not
   * write, which no reading makes it fill.
   */
  public static boolean mayHealOnReread(SQLException e) {
    return isCatalogState(e) && !(e instanceof TableChanged t && t.unwrittenColumn != null);
  }

  /** Whether the table, not some row, is to blame: never dead-letter rows for it. */
  public static boolean blamesTable(SQLException e) {
    return e instanceof TableChanged || isCatalogState(e);
  }

  private static boolean isCatalogState(SQLException e) {
    return CATALOG_STATES.contains(SqlStates.rootState(e));
  }

  private static String notNullColumn(SQLException e) {
    if (!NOT_NULL_VIOLATION.equals(SqlStates.rootState(e))
        || !(e instanceof PSQLException p)
        || p.getServerErrorMessage() == null) {
      return null;
    }
    return p.getServerErrorMessage().getColumn();
  }

  /**
   * What to tell the operator: the table and what it refused, in PostgreSQL's own words, which for
   * these SQLSTATEs name objects and types, never values.
   */
  public static String describe(SQLException e) {
    String state = SqlStates.rootState(e);
    if (e instanceof TableChanged t && t.unwrittenColumn != null) {
      return "table "
          + t.table
          + " has column "
          + t.unwrittenColumn
          + " NOT NULL without a default, and the sink does not write it (SQLSTATE "
          + state
          + "): every row would be refused, so none is dead-lettered. Give the column a default"
          + " or drop its NOT NULL, or extract a value into it with the columns option";
    }
    String where = e instanceof TableChanged t ? "table " + t.table : "a table the task writes";
    return where
        + " does not take the batch even after the task read its catalog again (SQLSTATE "
        + state
        + ": "
        + serverMessage(e)
        + "): it changed under the running task in a way the sink does not adapt to. Restore it,"
        + " or let the sink remake what it lacks (auto.create for a missing table, auto.evolve"
        + " for a missing column or unique index)";
  }

  private static String serverMessage(SQLException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof PSQLException p && p.getServerErrorMessage() != null) {
        ServerErrorMessage m = p.getServerErrorMessage();
        return m.getMessage();
      }
    }
    return "no message";
  }
}
