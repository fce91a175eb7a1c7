package io.somastack.connect.common.postgres;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.apache.kafka.connect.errors.ConnectException;

/**
 * The oldest PostgreSQL a plugin (or one of its modes) runs on, checked when it connects: an older
 * server would fail later with a syntax error or an unknown function, or worse quietly disagree,
 * which says nothing about the cause.
 */
public final class ServerVersion {

  private ServerVersion() {}

  /**
   * Fails, saying why, when the server is older than {@code minimum} (a server_version_num: 140000
   * for 14). {@code needs} says who needs what and why, such as "the outbox relay needs PostgreSQL
   * 14 or later (xid8 ...)".
   */
  public static void require(Connection connection, int minimum, String needs) throws SQLException {
    try (Statement s = connection.createStatement();
        ResultSet rs = s.executeQuery("SELECT current_setting('server_version_num')::int")) {
      rs.next();
      String problem = tooOld(rs.getInt(1), minimum, needs);
      if (problem != null) {
        throw new ConnectException(problem);
      }
    }
  }

  /** Why a server of this server_version_num is too old, or null. */
  public static String tooOld(int versionNum, int minimum, String needs) {
    if (versionNum >= minimum) {
      return null;
    }
    return needs + "; this server is PostgreSQL " + readable(versionNum);
  }

  /** 130012 is 13.12; before 10 the number had three parts, 90624 is 9.6.24. */
  static String readable(int versionNum) {
    int major = versionNum / 10000;
    if (major >= 10) {
      return major + "." + versionNum % 10000;
    }
    return major + "." + versionNum / 100 % 100 + "." + versionNum % 100;
  }
}
