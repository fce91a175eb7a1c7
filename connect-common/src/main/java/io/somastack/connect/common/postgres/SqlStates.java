package io.somastack.connect.common.postgres;

import java.io.EOFException;
import java.io.FileNotFoundException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.security.GeneralSecurityException;
import java.sql.SQLException;
import java.sql.SQLTransientException;
import java.util.Set;
import javax.net.ssl.SSLException;
import org.postgresql.jdbc.SslMode;
import org.postgresql.util.GT;
import org.postgresql.util.PSQLState;

/**
 * What PostgreSQL's errors mean for a connector, by SQLSTATE: retry (the fault goes away by
 * itself), blame the row (its data can never be written), or stop and say so (configuration,
 * permissions, certificates). The PostgreSQL sink and the outbox source both decide with it.
 */
public final class SqlStates {

  /**
   * pgjdbc's "rejected establishment of connection": no password configured, the server has no TLS
   * for sslmode=require, an authentication method the driver lacks. Configuration, never fixed by
   * waiting, although its class 08 is otherwise the lost-connection class.
   */
  private static final String DRIVER_REFUSED_CONNECTION = "08004";

  private SqlStates() {}

  /**
   * Faults that pass: the connection was lost or refused, the server is starting or shutting down,
   * a serialization failure or deadlock, resources or locks ran short, a session timed out. A
   * certificate that does not verify, a certificate file that cannot be read, a TLS mode the driver
   * does not know and a connection the driver refuses to make are never one of them.
   */
  public static boolean isTransient(SQLException e) {
    if (isLocalSetupFailure(e) || isUnknownSslmode(e)) {
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
    if (DRIVER_REFUSED_CONNECTION.equals(state)) {
      return false;
    }
    switch (state.substring(0, 2)) {
      case "08": // connection exception
      case "40": // transaction rollback: serialization failure, deadlock
      case "53": // insufficient resources: disk, memory, too many connections
        return true;
      default:
        // classes 25, 55, 57 and 58 also hold states that retrying meets for ever (55P02, 25P02,
        // 57P04 database dropped, 58P01 undefined file): only the ones that pass are listed
        return TRANSIENT_STATES.contains(state);
    }
  }

  /**
   * Query canceled: statement_timeout or lock_timeout ended the statement, or pg_cancel_backend.
   */
  public static final String QUERY_CANCELED = "57014";

  private static final Set<String> TRANSIENT_STATES =
      Set.of(
          "25006", // read-only transaction: the primary failed over, a standby answered
          "25P03", // idle_in_transaction_session_timeout ended the session
          "25P04", // transaction_timeout (PostgreSQL 17) ended the session
          "55P03", // lock not available (lock_timeout, NOWAIT)
          "55006", // object in use
          "57P01", // admin shutdown
          "57P02", // crash shutdown
          "57P03", // cannot connect now: the server is starting
          "57P05", // idle_session_timeout ended the session
          QUERY_CANCELED,
          "58030"); // I/O error on the server

  /**
   * PostgreSQL's "program limit exceeded": a value too large for an index entry, a jsonb value or a
   * row beyond its size limits, and also its refusal of every write near transaction-id wraparound.
   */
  private static final String PROGRAM_LIMIT_EXCEEDED = "54000";

  /**
   * Faults of the data of some row: class 22 (data exception), 23 (integrity constraint violation)
   * and 54000 (a value beyond a size limit, such as an id too long for its unique index). Retrying
   * the same rows cannot help; the rows to blame are found alone and dead-lettered. A database that
   * refuses every write (54000 near wraparound) fails each row alone and then the write of the rest
   * too, so the task stops with the SQLSTATE rather than dead-letter good rows.
   */
  public static boolean isDataError(SQLException e) {
    String state = rootState(e);
    return state != null
        && (state.startsWith("22")
            || state.startsWith("23")
            || state.equals(PROGRAM_LIMIT_EXCEEDED));
  }

  /**
   * SQLSTATE classes whose message may quote a value: data exceptions ('value "..." is out of
   * range'), integrity violations, PL/pgSQL's RAISE (a DBA's trigger: 'invalid email %') and
   * unsupported features (a conversion of a value).
   */
  private static final Set<String> CLASSES_QUOTING_VALUES = Set.of("22", "23", "0A", "P0");

  /**
   * undefined_table, undefined_function, undefined_object and invalid_schema_name, and syntax_error
   * and ambiguous_function: their message quotes the name looked up or the text parsed, which for a
   * value of a regclass, regproc, regconfig, regrole, regtype, regnamespace or tsquery column is
   * record data ('improper relation name (too many dotted names): a.b.c.d', 'syntax error in
   * tsquery: "..."', 'more than one function named "..."').
   */
  private static final Set<String> STATES_QUOTING_NAMES_LOOKED_UP =
      Set.of("42P01", "42883", "42704", "3F000", "42601", "42725");

  /**
   * Whether the server's message for this SQLSTATE may quote a value of a row, so that neither a
   * log line, a task's error nor a dead letter's reason may carry it: only the SQLSTATE and the
   * names the server gives apart (column, constraint, type) do.
   */
  public static boolean messageMayQuoteValue(String state) {
    return quotesNameLookedUp(state)
        || (state != null
            && state.length() == 5
            && CLASSES_QUOTING_VALUES.contains(state.substring(0, 2)));
  }

  /**
   * Whether the message quotes a name looked up or text parsed, which a reg* column's value may be:
   * of the catalog states, the ones whose words a task's error about a changed table leaves out.
   */
  public static boolean quotesNameLookedUp(String state) {
    return state != null && STATES_QUOTING_NAMES_LOOKED_UP.contains(state);
  }

  /**
   * What to do when {@code state} says a server-side prepared statement was missing (26000) or
   * already there (42P05): what a pooler in transaction mode that does not track them (PgBouncer
   * before 1.21) makes of pgjdbc's named statements, handing each transaction another server
   * connection. Empty for any other state.
   */
  public static String preparedStatementHint(String state) {
    return "26000".equals(state) || "42P05".equals(state)
        ? " (a server-side prepared statement was missing or already there: behind a pooler in"
            + " transaction mode that does not track them, such as PgBouncer before 1.21, add"
            + " prepareThreshold=0 to connection.url)"
        : "";
  }

  /** read_only_sql_transaction: a write (or a lock) refused by a read-only server. */
  public static final String READ_ONLY_SQL_TRANSACTION = "25006";

  /**
   * What to add to the warning of a retry when {@code state} says the server was read-only: most
   * often a standby that pgjdbc connected to because it answered first (the old primary back after
   * a failover). Empty for any other state.
   */
  public static String readOnlyHint(String state) {
    return READ_ONLY_SQL_TRANSACTION.equals(state)
        ? " (connected to a read-only server (a standby?): list every host in connection.url;"
            + " targetServerType=primary is the default)"
        : "";
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

  /**
   * TLS that does not verify, or a local file (sslrootcert, a client key) that cannot be opened:
   * pgjdbc reports both as a connection failure (08006), which would otherwise be retried. A TLS
   * failure caused by the network (a proxy, PgBouncer or a pod closing the socket mid-handshake:
   * "Remote host terminated the handshake" caused by an EOFException) is not one of them: it passes
   * like any other lost connection.
   */
  private static boolean isLocalSetupFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof GeneralSecurityException || t instanceof FileNotFoundException) {
        return true;
      }
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SSLException) {
        return !causedByNetwork(t);
      }
    }
    return false;
  }

  /**
   * pgjdbc's "Invalid sslmode value", reported as a connection that could not be made (08001).
   * connection.url's validator refuses an unknown sslmode, but a pg_service.conf named by the URL's
   * service parameter, or a property, can still bring one. Told apart by where it is thrown, or,
   * when loginTimeout makes pgjdbc connect in a task of its own and rethrow with a fresh stack
   * trace (top frame Driver$ConnectTask.getResult), by its message: that is translated, so compared
   * with what pgjdbc's own translation gives in this JVM. A refused port is 08001 too, but with a
   * cause.
   */
  private static boolean isUnknownSslmode(SQLException e) {
    if (e.getCause() != null) {
      return false;
    }
    StackTraceElement[] frames = e.getStackTrace();
    if (frames.length > 0 && SslMode.class.getName().equals(frames[0].getClassName())) {
      return true;
    }
    String message = e.getMessage();
    return PSQLState.CONNECTION_UNABLE_TO_CONNECT.getState().equals(e.getSQLState())
        && message != null
        && message.startsWith(unknownSslmodePrefix());
  }

  /**
   * "Invalid sslmode value: " as pgjdbc words it in the default locale; every translation it ships
   * puts the value last. Computed on each call, as pgjdbc reads the locale on each of its own.
   */
  private static String unknownSslmodePrefix() {
    return GT.tr("Invalid sslmode value: {0}", "");
  }

  private static boolean causedByNetwork(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof EOFException
          || t instanceof SocketException
          || t instanceof SocketTimeoutException) {
        return true;
      }
    }
    return false;
  }
}
