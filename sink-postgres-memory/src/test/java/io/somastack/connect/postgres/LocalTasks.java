package io.somastack.connect.postgres;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Sink tasks run by hand (no Connect worker) against the tests' shared PostgreSQL. */
final class LocalTasks {

  static final PostgresServer SERVER = PostgresServer.shared();

  private LocalTasks() {}

  /**
   * A task started with the database at {@code url} and the given options, its context's partitions
   * opened.
   */
  static PostgresMemorySinkTask started(
      String url, HandRunTaskContext context, String... keyValues) {
    return started(new PostgresMemorySinkTask(), url, context, keyValues);
  }

  /** As above, for a task made by the caller (with a clock of its own, say). */
  static PostgresMemorySinkTask started(
      PostgresMemorySinkTask task, String url, HandRunTaskContext context, String... keyValues) {
    task.initialize(context);
    task.start(props(url, keyValues));
    task.open(context.assignment());
    return task;
  }

  /**
   * The config of connector "local-task" (as {@code name} may override) writing to the database at
   * {@code url}, with the given options: what its tasks get, and what its offset alter gets.
   */
  static Map<String, String> props(String url, String... keyValues) {
    Map<String, String> props = new HashMap<>();
    props.put("name", "local-task");
    props.put("connection.url", url);
    props.put("connection.user", SERVER.user());
    if (SERVER.password() != null) {
      props.put("connection.password", SERVER.password());
    }
    for (int i = 0; i < keyValues.length; i += 2) {
      props.put(keyValues[i], keyValues[i + 1]);
    }
    return props;
  }

  /** The single number a query returns. */
  static long count(String database, String sql) throws SQLException {
    try (Connection c = SERVER.connect(database);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** The first column of every row of the query, as text. */
  static List<String> strings(String database, String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = SERVER.connect(database);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  /** How many sessions of the database wait for a lock (a table's, an advisory one). */
  static long waitingForALock(String database) throws SQLException {
    return count(
        database,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = '"
            + database
            + "' AND wait_event_type = 'Lock'");
  }

  static void execute(String database, String sql) throws SQLException {
    try (Connection c = SERVER.connect(database);
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  /**
   * A login role (its password its name) that may not create in public, made afresh: roles are the
   * cluster's, and one left by an earlier run holds nothing now its database is gone.
   */
  static void loginRoleWithoutCreate(String database, String role) throws SQLException {
    execute(
        database,
        "DROP ROLE IF EXISTS "
            + role
            + "; CREATE ROLE "
            + role
            + " LOGIN PASSWORD '"
            + role
            + "'; REVOKE CREATE ON SCHEMA public FROM PUBLIC");
  }
}
