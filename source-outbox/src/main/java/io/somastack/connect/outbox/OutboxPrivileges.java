package io.somastack.connect.outbox;

import io.somastack.connect.common.postgres.PgCatalog;
import io.somastack.connect.common.sql.SqlIdentifier;
import io.somastack.connect.outbox.OutboxSourceConfig.AfterPublish;
import io.somastack.connect.outbox.OutboxSourceConfig.BadRowAction;
import io.somastack.connect.outbox.OutboxSourceConfig.TopicMode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
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

  /**
   * Whether a trigger function of that name exists in that schema (null: current_schema()) and
   * connection.user neither owns it nor is a member of its owner.
   */
  private static final String FOREIGN_FUNCTION =
      "EXISTS (SELECT 1 FROM pg_proc WHERE proname = ? AND pronargs = 0"
          + " AND pronamespace = (SELECT oid FROM pg_namespace"
          + " WHERE nspname = coalesce(?, current_schema()))"
          + " AND NOT pg_has_role(proowner, 'USAGE'))";

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
        // owned asked first: exists only then, as one not made yet needs no owner
        if (!PgCatalog.owns(conn, table.sql()) && PgCatalog.exists(conn, table.sql())) {
          missing.add(ownership("table", table.sql(), role));
        }
        for (String function : functions(config)) {
          // the schema the DDL's CREATE OR REPLACE FUNCTION uses: for a table named without one
          // current_schema(), whatever function of that name lies further down the search_path
          if (has(conn, FOREIGN_FUNCTION, function, table.schema())) {
            missing.add(ownership("function", table.sqlSibling(function) + "()", role));
          }
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
   * Once the tables exist: SELECT on the columns the relay reads; DELETE with after.publish=delete,
   * UPDATE of the published-at column with mark; with bad.row.action=dlq DELETE on them and SELECT
   * on every column (a bad row moves whole), the dead-letter table, INSERT on the columns the relay
   * fills and USAGE on the sequences its other columns' defaults draw from; with flag UPDATE of the
   * error column. Column grants count: each statement names the columns it uses.
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
      if (dlq) {
        columns(conn, "SELECT", t, null, " (bad.row.action=dlq moves whole rows)", role, missing);
      } else {
        columns(conn, "SELECT", t, read(config), "", role, missing);
      }
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

  /** The outbox columns the relay's reads, deletes and marks use (those a table lacks aside). */
  private static List<String> read(OutboxSourceConfig config) {
    OutboxColumns c = config.columns();
    List<String> read =
        new ArrayList<>(
            List.of(
                c.id(),
                c.txid(),
                c.payload(),
                c.dedupeKey(),
                c.key(),
                c.createdAt(),
                c.publishedAt(),
                c.error()));
    if (config.topicMode() == TopicMode.COLUMN) {
      read.add(c.topic());
    }
    if (c.headers() != null) {
      read.add(c.headers());
    }
    return read;
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
  private static Missing ownership(String kind, String name, String role) {
    return new Missing(
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
            + SqlIdentifier.quote(role));
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

  /**
   * SELECT or INSERT on the {@code columns} of the table it has (null: all of them), whether
   * granted on the table or column by column.
   */
  private static void columns(
      Connection conn,
      String privilege,
      String table,
      List<String> columns,
      String why,
      String role,
      List<Missing> missing)
      throws SQLException {
    List<String> lacking = new ArrayList<>();
    try (PreparedStatement s =
        conn.prepareStatement(
            "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = to_regclass(?)"
                + " AND a.attnum > 0 AND NOT a.attisdropped AND (? OR a.attname = ANY (?))"
                + " AND NOT has_column_privilege(a.attrelid, a.attnum, ?) ORDER BY a.attnum")) {
      s.setString(1, table);
      s.setBoolean(2, columns == null);
      s.setArray(3, conn.createArrayOf("text", columns == null ? new String[0] : names(columns)));
      s.setString(4, privilege);
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          lacking.add(SqlIdentifier.quote(rs.getString(1)));
        }
      }
    }
    if (lacking.isEmpty()) {
      return;
    }
    if (!has(conn, "has_any_column_privilege(to_regclass(?), '" + privilege + "')", table)) {
      missing.add(grant(privilege + " on " + table + why, privilege + " ON " + table, role));
      return;
    }
    String list = String.join(", ", lacking);
    missing.add(
        grant(
            privilege + " of " + table + " (" + list + ")" + why,
            privilege + " (" + list + ") ON " + table,
            role));
  }

  private static String[] names(List<String> columns) {
    return columns.stream().filter(Objects::nonNull).toArray(String[]::new);
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
    if (!PgCatalog.exists(conn, dlq)) {
      missing.add(
          new Missing(
              "the dead-letter table " + dlq + ", which does not exist",
              "create it as source-outbox/sql/outbox.sql does, or set "
                  + OutboxSourceConfig.TABLE_CREATE
                  + "=true once"));
      return;
    }
    columns(conn, "INSERT", dlq, DeadLetterWriter.COLUMNS, " (bad.row.action=dlq)", role, missing);
    // nextval() needs USAGE on the sequence a default draws from (a serial id's); an identity
    // column's sequence needs none, and a table without such defaults none at all
    try (PreparedStatement s =
        conn.prepareStatement(
            "SELECT DISTINCT quote_ident(n.nspname) || '.' || quote_ident(q.relname)"
                + " FROM pg_attrdef d JOIN pg_attribute a"
                + " ON a.attrelid = d.adrelid AND a.attnum = d.adnum"
                + " JOIN pg_depend p ON p.classid = 'pg_attrdef'::regclass AND p.objid = d.oid"
                + " AND p.refclassid = 'pg_class'::regclass"
                + " JOIN pg_class q ON q.oid = p.refobjid AND q.relkind = 'S'"
                + " JOIN pg_namespace n ON n.oid = q.relnamespace"
                + " WHERE d.adrelid = to_regclass(?) AND NOT a.attname = ANY (?)"
                // CASE: the planner may test rows before the join keeps only sequences
                + " AND CASE WHEN q.relkind = 'S'"
                + " THEN NOT has_sequence_privilege(q.oid, 'USAGE, UPDATE') END")) {
      s.setString(1, dlq);
      s.setArray(2, conn.createArrayOf("text", names(DeadLetterWriter.COLUMNS)));
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          String sequence = rs.getString(1);
          missing.add(
              grant(
                  "USAGE on sequence " + sequence + " (a default of " + dlq + ")",
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
