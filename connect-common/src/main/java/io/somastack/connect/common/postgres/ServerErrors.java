package io.somastack.connect.common.postgres;

import java.sql.SQLException;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * PostgreSQL's errors as a connector may show them: in a log line, a task's failure (which the
 * worker logs with its causes and Connect's REST status shows) or a dead letter's reason, without
 * the values a server message may quote ({@link SqlStates#messageMayQuoteValue}).
 */
public final class ServerErrors {

  private ServerErrors() {}

  /**
   * The driver's exception to keep as a failure's cause: e, or for a SQLSTATE whose message may
   * quote a value an exception with the SQLSTATE and the names the server gave only.
   */
  public static SQLException loggable(SQLException e) {
    String state = SqlStates.rootState(e);
    if (!SqlStates.messageMayQuoteValue(state)) {
      return e;
    }
    SQLException clean =
        new SQLException(
            "SQLSTATE "
                + state
                + names(e)
                + " (the database's message is left out: it may quote a value)",
            state);
    clean.setStackTrace(e.getStackTrace());
    return clean;
  }

  /** The column, type and constraint the server named with an error, where it did. */
  public static String names(SQLException e) {
    ServerErrorMessage m = of(e);
    if (m == null) {
      return "";
    }
    StringBuilder names = new StringBuilder();
    if (m.getColumn() != null) {
      names.append(", column ").append(m.getColumn());
    }
    if (m.getDatatype() != null) {
      names.append(", type ").append(m.getDatatype());
    }
    if (m.getConstraint() != null) {
      names.append(", constraint ").append(m.getConstraint());
    }
    return names.toString();
  }

  /** The server's error in the chain, through causes and next exceptions (a batch's), or null. */
  public static ServerErrorMessage of(SQLException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      for (Throwable s = t; s != null; ) {
        if (s instanceof PSQLException p && p.getServerErrorMessage() != null) {
          return p.getServerErrorMessage();
        }
        s = s instanceof SQLException q && q.getNextException() != s ? q.getNextException() : null;
      }
    }
    return null;
  }
}
