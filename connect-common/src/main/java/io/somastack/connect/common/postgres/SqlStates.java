package io.somastack.connect.common.postgres;

import java.security.GeneralSecurityException;
import java.sql.SQLException;
import java.sql.SQLTransientException;
import javax.net.ssl.SSLException;

/**
 * What PostgreSQL's errors mean for a connector, by SQLSTATE: retry (the fault goes away by
 * itself), blame the row (its data can never be written), or stop and say so (configuration,
 * permissions, certificates). The PostgreSQL sink and the outbox source both decide with it.
 */
public final class SqlStates {

  private SqlStates() {}

  /**
   * Faults that pass: the connection was lost or refused, the server is starting or shutting down,
   * a serialization failure or deadlock, resources or locks ran short, a session timed out. A
   * certificate that does not verify is never one of them.
   */
  public static boolean isTransient(SQLException e) {
    if (isSecurityFailure(e)) {
      return false;
    }
    if (e instanceof SQLTransientException) {
      return true;
    }
    String state = rootState(e);
    if (state == null || state.length() < 2) {
      // no answer from the server at all: an I/O failure
      return true;
    }
    switch (state.substring(0, 2)) {
      case "08": // connection exception
      case "25": // invalid transaction state: a session ended under us (25P03), an aborted one
      case "40": // transaction rollback: serialization failure, deadlock
      case "53": // insufficient resources: disk, memory, too many connections
      case "55": // object not in prerequisite state: lock not available
      case "57": // operator intervention: shutdown, cannot connect now, statement cancelled
      case "58": // system error: I/O on the server
        return true;
      default:
        return false;
    }
  }

  /**
   * Faults of the data of some row: class 22 (data exception) and 23 (integrity constraint
   * violation). Retrying the same rows cannot help; the rows to blame are dead-lettered.
   */
  public static boolean isDataError(SQLException e) {
    String state = rootState(e);
    return state != null && (state.startsWith("22") || state.startsWith("23"));
  }

  /** The first SQLSTATE in the chain of exceptions, or null. */
  public static String rootState(SQLException e) {
    for (SQLException current = e; current != null; current = current.getNextException()) {
      if (current.getSQLState() != null) {
        return current.getSQLState();
      }
    }
    return null;
  }

  private static boolean isSecurityFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SSLException || t instanceof GeneralSecurityException) {
        return true;
      }
    }
    return false;
  }
}
