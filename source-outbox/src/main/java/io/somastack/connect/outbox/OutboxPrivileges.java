package io.somastack.connect.outbox;

import io.somastack.connect.common.sql.SqlIdentifier;
import io.somastack.connect.outbox.OutboxSourceConfig.AfterPublish;
import io.somastack.connect.outbox.OutboxSourceConfig.BadRowAction;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.kafka.connect.errors.ConnectException;

/**
 * What connection.user must be allowed to do, checked once when a task first connects. A role short
 * of a privilege would otherwise meet it as a raw SQL error, and some only late: the delete or mark
 * after Kafka has the rows, the dead-lettering of the first bad row, days later. The check names
 * every missing privilege at once, with the statements that grant it.
 */
final class OutboxPrivileges {

  /** Something connection.user lacks, and the statement that gives it. */
  private record Missing(String what, String fix) {}

  private static final String SEE = " See source-outbox/README.md, \"Privileges\".";

  private OutboxPrivileges() {}

  /**
   * Before anything is looked up or made: USAGE on the schemas (without it even finding a table
   * fails), and with outbox.table.create=true what its DDL needs, CREATE on them and ownership of
   * the tables and trigger functions it alters or replaces.
   */
  static void requireSchemas(Connection conn, OutboxSourceConfig config, List<OutboxTable> tables)
      throws SQLException {
    String role = currentUser(conn);
    boolean create = config.createTables();
    Set<String> schemas = new LinkedHashSet<>();
    tables.forEach(t -> schemas.add(t.schema()));
    if (create || config.badRowAction() == BadRowAction.DLQ) {
      schemas.add(config.dlqTable().schema());
    }
    List<Missing> missing = new ArrayList<>();
    boolean usable = true;
    for (String schema : schemas) {
      usable &= schema(conn, schema, create, role, missing);
    }
    if (create && usable) { // without USAGE even looking the tables up fails
      for (OutboxTable table : tables) {
        owned(conn, "table", table.sql(), role, missing);
        for (String function : functions(config)) {
          owned(conn, "function", table.sqlSibling(function) + "()", role, missing);
        }
      }
    }
    if (!missing.isEmpty()) {
      throw new ConnectException(
          message(role, missing)
              + (create
                  ? " Or have the owner run the relay's DDL beforehand (source-outbox/sql/outbox.sql"
                      + " with the configured names) and set "
                      + OutboxSourceConfig.TABLE_CREATE
                      + "=false."
                  : "")
              + SEE);
    }
  }

  /**
   * Once the tables exist: SELECT on them; DELETE with after.publish=delete, UPDATE of the
   * published-at column with mark; with bad.row.action=dlq DELETE on them, the dead-letter table
   * and INSERT on it and USAGE on its id sequence; with flag UPDATE of the error column.
   */
  static void requireTables(Connection conn, OutboxSourceConfig config, List<OutboxTable> tables)
      throws SQLException {
    String role = currentUser(conn);
    OutboxColumns c = config.columns();
    boolean dlq = config.badRowAction() == BadRowAction.DLQ;
    List<Missing> missing = new ArrayList<>();
    for (OutboxTable table : tables) {
      String t = table.sql();
      boolean delete = config.afterPublish() == AfterPublish.DELETE;
      table(conn, "SELECT", t, "", role, missing);
      if (delete || dlq) {
        String why =
            delete && dlq
                ? " (after.publish=delete, bad.row.action=dlq)"
                : delete ? " (after.publish=delete)" : " (bad.row.action=dlq)";
        table(conn, "DELETE", t, why, role, missing);
      }
      if (!delete) {
        column(conn, t, c.publishedAt(), " (after.publish=mark)", role, missing);
      }
      if (!dlq) {
        column(conn, t, c.error(), " (bad.row.action=flag)", role, missing);
      }
    }
    if (dlq) {
      deadLetters(conn, config.dlqTable().sql(), role, missing);
    }
    if (!missing.isEmpty()) {
      throw new ConnectException(message(role, missing) + SEE);
    }
  }

  /** The trigger functions the DDL replaces. */
  private static List<String> functions(OutboxSourceConfig config) {
    return config.notifyChannel() == null
        ? List.of("soma_outbox_txid")
        : List.of("soma_outbox_txid", "soma_outbox_notify");
  }

  /** Whether the schema exists and may be used. */
  private static boolean schema(
      Connection conn, String schema, boolean create, String role, List<Missing> missing)
      throws SQLException {
    try (PreparedStatement s =
        conn.prepareStatement(
            "SELECT n.nspname, has_schema_privilege(n.oid, 'USAGE'),"
                + " has_schema_privilege(n.oid, 'CREATE') FROM pg_namespace n"
                + " WHERE n.nspname = coalesce(?, current_schema())")) {
      s.setString(1, schema);
      try (ResultSet rs = s.executeQuery()) {
        if (!rs.next()) {
          if (schema != null) {
            String name = SqlIdentifier.quote(schema);
            missing.add(
                new Missing("schema " + name + ", which does not exist", "CREATE SCHEMA " + name));
          }
          return false;
        }
        String name = SqlIdentifier.quote(rs.getString(1));
        if (!rs.getBoolean(2)) {
          missing.add(grant("USAGE on schema " + name, "USAGE ON SCHEMA " + name, role));
        }
        if (create && !rs.getBoolean(3)) {
          missing.add(
              grant(
                  "CREATE on schema " + name + " (" + OutboxSourceConfig.TABLE_CREATE + "=true)",
                  "CREATE ON SCHEMA " + name,
                  role));
        }
        return rs.getBoolean(2);
      }
    }
  }

  /** An existing table or function the DDL alters or replaces, which only its owner may. */
  private static void owned(
      Connection conn, String kind, String name, String role, List<Missing> missing)
      throws SQLException {
    String catalog = kind.equals("table") ? "pg_class" : "pg_proc";
    String owner = kind.equals("table") ? "relowner" : "proowner";
    String lookup = kind.equals("table") ? "to_regclass(?)" : "to_regprocedure(?)";
    try (PreparedStatement s =
        conn.prepareStatement(
            "SELECT pg_has_role("
                + owner
                + ", 'USAGE') FROM "
                + catalog
                + " WHERE oid = "
                + lookup)) {
      s.setString(1, name);
      try (ResultSet rs = s.executeQuery()) {
        if (rs.next() && !rs.getBoolean(1)) {
          missing.add(
              new Missing(
                  "ownership of "
                      + kind
                      + " "
                      + name
                      + " ("
                      + OutboxSourceConfig.TABLE_CREATE
                      + "=true alters or replaces it)",
                  "ALTER "
                      + kind.toUpperCase(Locale.ROOT)
                      + " "
                      + name
                      + " OWNER TO "
                      + SqlIdentifier.quote(role)));
        }
      }
    }
  }

  private static void table(
      Connection conn,
      String privilege,
      String table,
      String why,
      String role,
      List<Missing> missing)
      throws SQLException {
    if (!has(conn, "has_table_privilege(to_regclass(?), '" + privilege + "')", table)) {
      missing.add(grant(privilege + " on " + table + why, privilege + " ON " + table, role));
    }
  }

  private static void column(
      Connection conn, String table, String column, String why, String role, List<Missing> missing)
      throws SQLException {
    if (!has(conn, "has_column_privilege(to_regclass(?), ?, 'UPDATE')", table, column)) {
      String quoted = SqlIdentifier.quote(column);
      missing.add(
          grant(
              "UPDATE of " + table + "." + quoted + why,
              "UPDATE (" + quoted + ") ON " + table,
              role));
    }
  }

  /** The dead-letter table must exist (its rows would find it missing only when one comes). */
  private static void deadLetters(Connection conn, String dlq, String role, List<Missing> missing)
      throws SQLException {
    if (!has(conn, "to_regclass(?) IS NOT NULL", dlq)) {
      missing.add(
          new Missing(
              "the dead-letter table " + dlq + ", which does not exist",
              "create it as source-outbox/sql/outbox.sql does, or set "
                  + OutboxSourceConfig.TABLE_CREATE
                  + "=true once"));
      return;
    }
    table(conn, "INSERT", dlq, " (bad.row.action=dlq)", role, missing);
    try (PreparedStatement s =
        conn.prepareStatement(
            "SELECT q, has_sequence_privilege(q, 'USAGE, UPDATE')"
                + " FROM pg_get_serial_sequence(?, 'id') q WHERE q IS NOT NULL")) {
      s.setString(1, dlq);
      try (ResultSet rs = s.executeQuery()) {
        if (rs.next() && !rs.getBoolean(2)) {
          String sequence = rs.getString(1);
          missing.add(
              grant(
                  "USAGE on sequence " + sequence + " (" + dlq + "'s ids)",
                  "USAGE ON SEQUENCE " + sequence,
                  role));
        }
      }
    }
  }

  private static Missing grant(String what, String privilege, String role) {
    return new Missing(what, "GRANT " + privilege + " TO " + SqlIdentifier.quote(role));
  }

  private static boolean has(Connection conn, String expression, String... params)
      throws SQLException {
    try (PreparedStatement s = conn.prepareStatement("SELECT " + expression)) {
      for (int i = 0; i < params.length; i++) {
        s.setString(i + 1, params[i]);
      }
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    }
  }

  private static String currentUser(Connection conn) throws SQLException {
    try (PreparedStatement s = conn.prepareStatement("SELECT current_user");
        ResultSet rs = s.executeQuery()) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static String message(String role, List<Missing> missing) {
    return "outbox relay: the role "
        + SqlIdentifier.quote(role)
        + " (connection.user) needs "
        + String.join("; ", missing.stream().map(Missing::what).toList())
        + ". Fix, as the owner: "
        + String.join("; ", missing.stream().map(Missing::fix).toList())
        + ".";
  }
}
