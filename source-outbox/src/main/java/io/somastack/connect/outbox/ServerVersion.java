package io.somastack.connect.outbox;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.apache.kafka.connect.errors.ConnectException;

/**
 * The oldest PostgreSQL the relay runs on: 14. The txid column and the horizon need xid8 and
 * pg_current_xact_id() (13), and the DDL of sql/outbox.sql, which the relay also runs with
 * outbox.table.create=true, needs CREATE OR REPLACE TRIGGER (14). An older server would fail later
 * with a syntax error or an unknown function, which says nothing about the cause.
 */
final class ServerVersion {

  static final int MINIMUM = 140000;

  private ServerVersion() {}

  /** Fails, saying why, when the server is older than {@link #MINIMUM}. */
  static void check(Connection connection) throws SQLException {
    try (Statement s = connection.createStatement();
        ResultSet rs = s.executeQuery("SELECT current_setting('server_version_num')::int")) {
      rs.next();
      String problem = tooOld(rs.getInt(1));
      if (problem != null) {
        throw new ConnectException(problem);
      }
    }
  }

  /** Why a server of this server_version_num is too old, or null. */
  static String tooOld(int versionNum) {
    if (versionNum >= MINIMUM) {
      return null;
    }
    return "the outbox relay needs PostgreSQL 14 or later (xid8, pg_current_xact_id() and CREATE OR"
        + " REPLACE TRIGGER); this server is PostgreSQL "
        + readable(versionNum);
  }

  /** 130012 is 13.12; before 10 the number had three parts, 90624 is 9.6.24. */
  private static String readable(int versionNum) {
    int major = versionNum / 10000;
    if (major >= 10) {
      return major + "." + versionNum % 10000;
    }
    return major + "." + versionNum / 100 % 100 + "." + versionNum % 100;
  }
}
