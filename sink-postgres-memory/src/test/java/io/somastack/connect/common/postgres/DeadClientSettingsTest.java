package io.somastack.connect.common.postgres;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.common.postgres.DeadClientSettings.Setting;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Against the tests' PostgreSQL over TCP (over a Unix socket the server ignores keepalives and
 * shows 0). Here, not in connect-common, whose tests have no PostgreSQL of their own: test-support
 * (which starts one) depends on connect-common. In connect-common's package, for the
 * package-private constructor that takes the settings.
 */
class DeadClientSettingsTest {

  private static final Logger log = LoggerFactory.getLogger(DeadClientSettingsTest.class);

  @Test
  void theServerNoticesADeadClientWithinAboutAMinute() throws SQLException {
    try (Connection c = connect()) {
      new DeadClientSettings(log, "test", "going on").apply(c);
      assertEquals("30", show(c, "tcp_keepalives_idle"));
      assertEquals("10", show(c, "tcp_keepalives_interval"));
      assertEquals("3", show(c, "tcp_keepalives_count"));
      assertEquals("60000", show(c, "tcp_user_timeout"));
      assertEquals("10s", show(c, "client_connection_check_interval"));
    }
  }

  /**
   * The server gives up a lock wait 5 s before the client's socket timeout (socketTimeout, 60 s by
   * the connectors' properties) would close the socket on it and leave the backend waiting; half
   * the socket timeout when that is shorter than 5 s. A lock wait, not a statement: a COPY still
   * sending, a read still streaming, runs as long as data flows, which the socket timeout allows.
   */
  @Test
  void theServerEndsALockWaitBeforeTheClientGivesUpOnIt() throws SQLException {
    try (Connection c = connect("socketTimeout=60")) {
      assertEquals(60_000, c.getNetworkTimeout(), "pgjdbc's socketTimeout, in ms");
      new DeadClientSettings(log, "test", "going on").apply(c);
      assertEquals("55s", show(c, "lock_timeout"));
      assertEquals("0", show(c, "statement_timeout"));
    }
    try (Connection c = connect("socketTimeout=3")) {
      new DeadClientSettings(log, "test", "going on").apply(c);
      assertEquals("1500ms", show(c, "lock_timeout"));
    }
  }

  /**
   * The socket timeout bounds a silence, not a statement: a read whose rows keep coming runs past
   * it, and so must it with these settings (a statement_timeout below the socket timeout cut it at
   * 1 s here, and as well a COPY still sending a large batch over a slow link).
   */
  @Test
  void aReadStillStreamingPastTheSocketTimeoutIsNotCutShort() throws SQLException {
    try (Connection c = connect("socketTimeout=2");
        Statement s = c.createStatement()) {
      new DeadClientSettings(log, "test", "going on").apply(c);
      int rows = 0;
      try (ResultSet rs =
          s.executeQuery("SELECT pg_sleep(0.5), repeat('x', 100000) FROM generate_series(1, 6)")) {
        while (rs.next()) {
          rows++;
        }
      }
      assertEquals(6, rows, "3 s of rows, one every 0.5 s, past the 2 s socket timeout");
    }
  }

  /** No socket timeout: the client waits as long as the server, and no lock wait is cut short. */
  @Test
  void withoutASocketTimeoutNoLockTimeoutIsSet() throws SQLException {
    try (Connection c = connect("socketTimeout=0")) {
      new DeadClientSettings(log, "test", "going on").apply(c);
      assertEquals("0", show(c, "lock_timeout"));
    }
  }

  /** The user's lock_timeout (here the URL's options) is kept when lower, lowered when not. */
  @Test
  void aLowerLockTimeoutOfTheUsersIsKept() throws SQLException {
    try (Connection c = connect("socketTimeout=60&options=-c%20lock_timeout%3D1234")) {
      new DeadClientSettings(log, "test", "going on").apply(c);
      assertEquals("1234ms", show(c, "lock_timeout"));
    }
    try (Connection c = connect("socketTimeout=60&options=-c%20lock_timeout%3D2min")) {
      new DeadClientSettings(log, "test", "going on").apply(c);
      assertEquals("55s", show(c, "lock_timeout"));
    }
  }

  /**
   * A backend waiting on a lock reads nothing from its client: one whose client gave up (its socket
   * timeout closed the socket) and whose statement no timeout ends would wait, holding its locks,
   * for as long as the lock does. client_connection_check_interval has it notice and end.
   */
  @Test
  void aBackendWhoseClientGaveUpEndsSoon() throws SQLException {
    try (Connection setup = connect();
        Statement s = setup.createStatement()) {
      s.execute("DROP TABLE IF EXISTS dead_client_locked");
      s.execute("CREATE TABLE dead_client_locked (n int)");
    }
    try (Connection holder = connect();
        Connection client = connect("socketTimeout=2")) {
      new DeadClientSettings(log, "test", "going on").apply(client);
      try (Statement s = client.createStatement()) {
        s.execute("SET lock_timeout = 0"); // as for a wait no timeout ends
      }
      int pid = pid(client);
      holder.setAutoCommit(false);
      try (Statement s = holder.createStatement()) {
        s.execute("LOCK TABLE dead_client_locked IN ACCESS EXCLUSIVE MODE");
      }
      try (Statement s = client.createStatement()) {
        SQLException e =
            assertThrows(
                SQLException.class, () -> s.executeQuery("SELECT * FROM dead_client_locked"));
        assertEquals("08006", e.getSQLState(), "the client's socket timeout");
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> !backendExists(pid));
      holder.rollback();
    }
  }

  /**
   * A setting the server refuses (unknown to it, or not settable in a session) is skipped: the
   * settings after it are still set, and the connection goes on in autocommit mode.
   */
  @Test
  void aRefusedSettingIsSkippedAndTheOthersAreSet() throws SQLException {
    try (Connection c = connect()) {
      new DeadClientSettings(
              List.of(
                  new Setting("soma_no_such_setting", 1), // 42704
                  new Setting("max_connections", 1), // 55P02: only at server start
                  new Setting("tcp_keepalives_idle", 42)),
              log,
              "test",
              "going on")
          .apply(c);
      assertEquals("42", show(c, "tcp_keepalives_idle"));
      assertTrue(c.getAutoCommit());
    }
  }

  /** In a transaction a rollback would undo them, and a refused one abort it. */
  @Test
  void aConnectionInATransactionIsRefused() throws SQLException {
    try (Connection c = connect()) {
      c.setAutoCommit(false);
      DeadClientSettings settings = new DeadClientSettings(log, "test", "going on");
      assertThrows(IllegalStateException.class, () -> settings.apply(c));
    }
  }

  /** A SET failing because the session is gone is no refusal: the caller reconnects. */
  @Test
  void aSetFailingWithTheConnectionIsThrown() throws SQLException {
    try (Connection c = connect()) {
      int pid = pid(c);
      try (Connection other = connect();
          Statement s = other.createStatement()) {
        s.execute("SELECT pg_terminate_backend(" + pid + ", 10000)");
      }
      DeadClientSettings settings = new DeadClientSettings(log, "test", "going on");
      assertThrows(SQLException.class, () -> settings.apply(c));
    }
  }

  private static Connection connect() throws SQLException {
    return PostgresServer.shared().connect("postgres");
  }

  /** A connection with the given URL parameters, as a connector's URL may have them. */
  private static Connection connect(String parameters) throws SQLException {
    PostgresServer server = PostgresServer.shared();
    String url = server.jdbcUrl("postgres");
    Properties props = new Properties();
    props.setProperty("user", server.user());
    if (server.password() != null) {
      props.setProperty("password", server.password());
    }
    if (server.sslPassword() != null) {
      props.setProperty("sslpassword", server.sslPassword());
    }
    return DriverManager.getConnection(url + (url.contains("?") ? "&" : "?") + parameters, props);
  }

  private static boolean backendExists(int pid) throws SQLException {
    try (Connection c = connect();
        PreparedStatement s =
            c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE pid = ?")) {
      s.setInt(1, pid);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getInt(1) > 0;
      }
    }
  }

  private static int pid(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static String show(Connection c, String setting) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW " + setting)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
