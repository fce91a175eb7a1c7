package io.somastack.connect.postgres.write;

import io.somastack.connect.postgres.record.EventRow;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the rows a step fails on for their data, by running the step on halves inside savepoints
 * until each culprit stands alone: a batch of n rows with k bad ones costs about 2k log n tries
 * instead of n. Whatever the step writes meanwhile is rolled back by the caller.
 */
final class RejectedRows {

  /** A statement (or several) over some rows that throws when the database refuses one of them. */
  interface Step {
    void run(List<EventRow> rows) throws SQLException;
  }

  private RejectedRows() {}

  static Map<EventRow, SQLException> find(Connection c, List<EventRow> rows, Step step)
      throws SQLException {
    Map<EventRow, SQLException> rejected = new LinkedHashMap<>();
    bisect(c, rows, step, rejected);
    return rejected;
  }

  private static void bisect(
      Connection c, List<EventRow> rows, Step step, Map<EventRow, SQLException> rejected)
      throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    Savepoint savepoint = c.setSavepoint();
    try {
      step.run(rows);
      c.releaseSavepoint(savepoint);
    } catch (SQLException e) {
      c.rollback(savepoint);
      // a catalog state too: a row's value may raise it (a regclass naming no table); a table
      // that refuses every row so is found out by the caller (TableChanged.refusedEveryRow)
      if (!TableChanged.mayBlameRows(e, true)) {
        throw e;
      }
      if (rows.size() == 1) {
        rejected.put(rows.get(0), e);
        return;
      }
      int half = rows.size() / 2;
      bisect(c, rows.subList(0, half), step, rejected);
      bisect(c, rows.subList(half, rows.size()), step, rejected);
    }
  }
}
