package io.somastack.connect.common.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.common.postgres.DeadClientSettings.Setting;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
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
