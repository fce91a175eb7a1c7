package io.somastack.connect.common.postgres;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.slf4j.Logger;

/**
 * Has the server notice a client that vanished (its host lost power, or the network between them
 * was cut) within about a minute, instead of over two hours, and end a lock wait before its client
 * gives up on it.
 *
 * <p>Why: after such a cut the server keeps the session, and with it its locks and any open
 * transaction, until it notices the client is gone. A session waiting for its client sends nothing
 * that could fail sooner, so that is when the operating system's TCP keepalive fires: by default
 * after 7200 s idle plus the probes, over two hours. Meanwhile the outbox relay's table locks stay
 * taken (the table is relayed by nobody), and a sink's open transaction keeps its offsets row lock
 * (the partition's new owner blocks on it until it gives up) and pins the xmin horizon (which holds
 * back every outbox relay on that database). These keepalives of the server's side of the session
 * ({@value #KEEPALIVE_IDLE_S} s idle, then {@value #KEEPALIVE_COUNT} probes {@value
 * #KEEPALIVE_INTERVAL_S} s apart) notice within about a minute. Keepalives are not sent while sent
 * data is unacknowledged (a NOTIFY, or a result, sent into the cut connection), so tcp_user_timeout
 * (PostgreSQL 12 and later) bounds that case. The server ignores them over a Unix socket.
 *
 * <p>A client that gives up on a statement leaves its backend behind too: pgjdbc's socketTimeout
 * (60 s, set on every connection; a URL may set another) closes the socket when an answer is that
 * late, but a backend waiting on a lock (a DBA's LOCK TABLE or ALTER TABLE, VACUUM FULL, a long
 * lock queue) reads nothing from its client, so it waits on, holding its transaction's locks (the
 * sink's offsets row, the relay's table lock), and the retry's new session queues behind it and is
 * abandoned in turn: one more backend, and connection slot, each time. So the session's
 * lock_timeout is set {@value #LOCK_TIMEOUT_MARGIN_MS} ms (at most half of it) below the
 * connection's socket timeout: the server gives up the wait first, and the client gets SQLState
 * 55P03 (transient) on a connection still usable, whose rollback or close ends the transaction. A
 * lock wait only, not statement_timeout: the socket timeout bounds a silence, not a statement, so a
 * COPY still sending a large batch over a slow link, or a long read still streaming, runs as long
 * as data flows, as before. A lock_timeout the session has already (the URL's {@code options=-c
 * lock_timeout=...}, a role's or database's default) is kept when it is lower, and none is set when
 * the socket timeout is 0 (none: the client waits as long as the server). A backend working (not
 * waiting) past the socket timeout, its client gone, is ended by client_connection_check_interval
 * ({@value #CONNECTION_CHECK_INTERVAL_MS} ms, PostgreSQL 14 and later): it checks, while running a
 * statement, that its client is still connected.
 *
 * <p>They only hasten the cleanup: a server (or a proxy, or a fork, or a PostgreSQL older than 14
 * for client_connection_check_interval) that refuses one is warned of once per instance, and the
 * work goes on without it. A statement that fails because the connection itself failed is thrown,
 * so the caller reconnects.
 *
 * <p>Session settings, so set in autocommit mode: a SET in a transaction that is rolled back is
 * undone, and a refused one would abort the transaction (25P02). {@link #apply} refuses a
 * connection in manual-commit mode.
 */
public final class DeadClientSettings {

  public static final int KEEPALIVE_IDLE_S = 30;
  public static final int KEEPALIVE_INTERVAL_S = 10;
  public static final int KEEPALIVE_COUNT = 3;
  public static final int USER_TIMEOUT_MS = 60_000;
  public static final int CONNECTION_CHECK_INTERVAL_MS = 10_000;

  /** How long before the client's socket timeout the server gives up a lock wait. */
  public static final int LOCK_TIMEOUT_MARGIN_MS = 5_000;

  /** One setting and its value, as SET takes them. */
  record Setting(String name, int value) {}

  private static final List<Setting> SETTINGS =
      List.of(
          new Setting("tcp_keepalives_idle", KEEPALIVE_IDLE_S),
          new Setting("tcp_keepalives_interval", KEEPALIVE_INTERVAL_S),
          new Setting("tcp_keepalives_count", KEEPALIVE_COUNT),
          new Setting("tcp_user_timeout", USER_TIMEOUT_MS),
          new Setting("client_connection_check_interval", CONNECTION_CHECK_INTERVAL_MS));

  private final List<Setting> settings;
  private final Logger log;
  private final String who;
  private final String withoutIt;
  private boolean refusedWarned;

  /**
   * @param log the caller's logger, which warns of a refused setting
   * @param who the caller, as the warning names it ("outbox relay")
   * @param withoutIt what a refused setting means, as the warning says it ("relaying without it, a
   *     relay lock may outlive a network cut for longer")
   */
  public DeadClientSettings(Logger log, String who, String withoutIt) {
    this(SETTINGS, log, who, withoutIt);
  }

  /** Tests: other settings, such as one the server refuses. */
  DeadClientSettings(List<Setting> settings, Logger log, String who, String withoutIt) {
    this.settings = List.copyOf(settings);
    this.log = log;
    this.who = who;
    this.withoutIt = withoutIt;
  }

  /**
   * Sets them on {@code connection}'s session, which must be in autocommit mode.
   *
   * @throws SQLException when the connection failed (the caller reconnects), never for a refused
   *     setting
   * @throws IllegalStateException when the connection is in manual-commit mode
   */
  public void apply(Connection connection) throws SQLException {
    if (!connection.getAutoCommit()) {
      throw new IllegalStateException(
          "session settings are set in autocommit mode: a transaction rolled back would undo them");
    }
    for (Setting setting : settings) {
      set(connection, setting);
    }
    boundLockWaits(connection);
  }

  /**
   * The lock_timeout for a connection whose socket timeout is {@code socketTimeoutMs} (above 0):
   * {@value #LOCK_TIMEOUT_MARGIN_MS} ms less, or half of it when that is shorter still.
   */
  public static int lockTimeoutMs(int socketTimeoutMs) {
    return socketTimeoutMs - Math.min(LOCK_TIMEOUT_MARGIN_MS, socketTimeoutMs / 2);
  }

  /**
   * Sets lock_timeout below the connection's socket timeout, unless the session's own is lower
   * already, so the server ends a lock wait before the client gives up on it (see above).
   */
  private void boundLockWaits(Connection connection) throws SQLException {
    int socketTimeoutMs = connection.getNetworkTimeout(); // pgjdbc: socketTimeout, in ms
    if (socketTimeoutMs <= 0) {
      return; // none: the client waits as long as the server does
    }
    int bound = lockTimeoutMs(socketTimeoutMs);
    long current;
    try (Statement s = connection.createStatement();
        ResultSet rs =
            s.executeQuery(
                // in milliseconds, whatever unit it was set in
                "SELECT setting::bigint FROM pg_settings WHERE name = 'lock_timeout'")) {
      current = rs.next() ? rs.getLong(1) : 0;
    } catch (SQLException e) {
      refused(connection, "lock_timeout", e);
      return;
    }
    if (current > 0 && current <= bound) {
      return; // the session's own, lower: kept
    }
    set(connection, new Setting("lock_timeout", bound));
  }

  /** One setting per statement: a refused one does not undo the others. */
  private void set(Connection connection, Setting setting) throws SQLException {
    try (Statement s = connection.createStatement()) {
      s.execute("SET " + setting.name() + " = " + setting.value());
    } catch (SQLException e) {
      refused(connection, setting.name(), e);
    }
  }

  /**
   * Throws {@code e} when the connection failed, else warns (once) that the setting was refused.
   */
  private void refused(Connection connection, String setting, SQLException e) throws SQLException {
    if (connectionFailed(connection, e)) {
      throw e; // not the setting: the caller reconnects
    }
    if (!refusedWarned) {
      refusedWarned = true;
      log.warn(
          "{}: the database refused SET {} (SQLState {}{}); {}",
          who,
          setting,
          e.getSQLState(),
          SqlStates.preparedStatementHint(e.getSQLState()),
          withoutIt);
    }
  }

  /**
   * Whether a refused statement means the connection is gone rather than the statement refused. Not
   * SqlStates.isTransient, which answers another question: a lock timeout (55P03) or a lack of
   * memory (53200) is transient there, yet the connection is still usable and only this setting is
   * refused; the work goes on without it rather than reconnecting for a setting.
   */
  private static boolean connectionFailed(Connection connection, SQLException e) {
    String state = e.getSQLState();
    if (state == null || state.startsWith("08")) {
      return true;
    }
    try {
      return !connection.isValid(5);
    } catch (SQLException invalid) {
      return true;
    }
  }
}
