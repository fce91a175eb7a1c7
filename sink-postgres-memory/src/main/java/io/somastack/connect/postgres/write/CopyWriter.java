package io.somastack.connect.postgres.write;

import io.somastack.connect.common.postgres.SqlStates;
import io.somastack.connect.common.sql.SqlIdentifier;
import io.somastack.connect.postgres.record.EventRow;
import java.io.IOException;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.List;
import java.util.stream.Collectors;
import org.postgresql.PGConnection;

/**
 * Append mode's fast path: COPY straight into the table. COPY uses PostgreSQL's multi-insert path,
 * which no INSERT ... SELECT has (measured: the unnest statement tops out near 60 % of COPY). It
 * cannot skip an event id that is already stored, so it runs inside a savepoint and a unique
 * violation sends that chunk down the ON CONFLICT DO NOTHING path instead; since replays are
 * filtered by the offsets table, that happens only for true duplicates at new offsets.
 */
final class CopyWriter {

  private static final String UNIQUE_VIOLATION = "23505";

  private final TableLayout layout;

  CopyWriter(TableLayout layout) {
    this.layout = layout;
  }

  /** Whether this layout can take COPY: append mode, whose columns are all text-encodable. */
  static boolean supports(TableLayout layout) {
    return layout.mode() == io.somastack.connect.postgres.config.WriteMode.APPEND;
  }

  /**
   * Copies the rows, returning how many were written, or -1 when some event id was already stored
   * (the caller then writes the chunk with ON CONFLICT DO NOTHING). Other errors propagate, with
   * the transaction back where it was before the call.
   */
  int copy(Connection c, String table, List<EventRow> rows) throws SQLException {
    Savepoint savepoint = c.setSavepoint();
    try {
      long copied =
          c.unwrap(PGConnection.class)
              .getCopyAPI()
              .copyIn(copySql(table), new StringReader(encode(rows)));
      c.releaseSavepoint(savepoint);
      return (int) copied;
    } catch (SQLException e) {
      c.rollback(savepoint);
      if (UNIQUE_VIOLATION.equals(SqlStates.rootState(e))) {
        return -1;
      }
      throw e;
    } catch (IOException e) {
      c.rollback(savepoint);
      throw new SQLException("COPY failed: " + e.getMessage(), "08006", e);
    }
  }

  private String copySql(String table) {
    String columns =
        layout.columns().stream()
            .map(column -> SqlIdentifier.quote(column.name()))
            .collect(Collectors.joining(", "));
    return "COPY " + table + " (" + columns + ") FROM STDIN";
  }

  /** COPY's text format: tab-separated, \N for null, backslash escapes. */
  private String encode(List<EventRow> rows) {
    StringBuilder out = new StringBuilder(rows.size() * 640);
    for (EventRow row : rows) {
      Object[] values = row.values();
      for (int i = 0; i < values.length; i++) {
        if (i > 0) {
          out.append('\t');
        }
        appendValue(out, values[i]);
      }
      out.append('\n');
    }
    return out.toString();
  }

  private static void appendValue(StringBuilder out, Object value) {
    if (value == null) {
      out.append("\\N");
      return;
    }
    if (value instanceof Boolean b) {
      out.append(b ? 't' : 'f');
      return;
    }
    String text = value.toString();
    for (int i = 0; i < text.length(); i++) {
      char ch = text.charAt(i);
      switch (ch) {
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> out.append(ch);
      }
    }
  }
}
