package io.somastack.connect.postgres.write;

import io.somastack.connect.common.postgres.DeadClientSettings;
import io.somastack.connect.common.postgres.PostgresConnectionConfig;
import io.somastack.connect.postgres.config.PostgresSinkConfig;
import java.sql.Connection;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The task's one connection, opened on first use and opened again after a failure. Statements
 * prepared on it are forgotten with it.
 */
public final class PostgresSession implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PostgresSession.class);

  private final PostgresSinkConfig config;
  private Connection connection;

  /** Whether the last try to open a connection failed: a failure then is no batch's. */
  private boolean openFailed;

  /**
   * Has the server end this session within about a minute or two of its worker vanishing (power
   * lost, network cut mid-put) rather than over two hours: until then the session's open
   * transaction keeps the partition's offsets row locked, so the partition's new owner blocks on it
   * until it gives up, and pins the xmin horizon, which holds back every outbox relay on the
   * database.
   */
  private final DeadClientSettings deadClientSettings =
      new DeadClientSettings(
          log,
          "PostgreSQL sink",
          "writing without it, the transaction of a worker cut off may keep its locks for longer");

  public PostgresSession(PostgresSinkConfig config) {
    this.config = config;
  }

  /** The open connection, in manual-commit mode. */
  public Connection connection() throws SQLException {
    if (connection == null || connection.isClosed()) {
      // The driver is used directly, not through DriverManager, which cannot always see
      // drivers loaded by a Connect plugin's isolated class loader.
      Connection opened;
      openFailed = true;
      try {
        opened = new org.postgresql.Driver().connect(config.url(), config.connectionProperties());
      } catch (SQLException e) {
        // pgjdbc quotes a URL it cannot parse, and the task's failure and the worker's log would
        // carry it: a password in its parameters with it
        throw PostgresConnectionConfig.withoutUrl(e, config.url());
      }
      if (opened == null) {
        throw new SQLException("pgjdbc does not accept the URL in connection.url", "08001");
      }
      try {
        // before the first transaction: in one, a rollback would undo them, and a refused one
        // would abort it (the connection opens in autocommit mode)
        deadClientSettings.apply(opened);
        opened.setAutoCommit(false);
      } catch (SQLException | RuntimeException e) {
        closeQuietly(opened);
        throw e;
      }
      connection = opened;
      openFailed = false;
      log.info("Connected to PostgreSQL");
    }
    return connection;
  }

  /**
   * Whether the task could not connect at its last try: the failure at hand is then the server's
   * answer to the login (credentials, TLS, pg_hba.conf), not to a batch.
   */
  public boolean openFailed() {
    return openFailed;
  }

  private static void closeQuietly(Connection opened) {
    try {
      opened.close();
    } catch (SQLException e) {
      log.debug("closing a failed connection: {}", e.toString());
    }
  }

  /** Drops the connection after a failure; the next {@link #connection()} opens a new one. */
  public void reset() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        log.debug("closing a failed connection: {}", e.toString());
      }
      connection = null;
    }
  }

  public void rollbackQuietly() {
    if (connection != null) {
      try {
        connection.rollback();
      } catch (SQLException e) {
        reset();
      }
    }
  }

  @Override
  public void close() {
    reset();
  }
}
