package io.somastack.connect.it.postgres;

import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/** A database for one test class and the connector configs the tests start from. */
final class PostgresSinkFixture {

  static final String CONNECTOR_CLASS = "io.somastack.connect.postgres.PostgresMemorySinkConnector";

  final PostgresServer server;
  final String database;
  final String url;

  /** A database on the server every test shares. */
  PostgresSinkFixture(String database) {
    this(PostgresServer.shared(), database);
  }

  private PostgresSinkFixture(PostgresServer server, String database) {
    this.server = server;
    this.database = database;
    this.url = server.createDatabase(database);
  }

  /** A database on a server the test may stop, restart or configure: see PostgresServer#owned. */
  static PostgresSinkFixture onOwnedServer(String database) {
    return new PostgresSinkFixture(PostgresServer.owned(), database);
  }

  /** A sink reading schemaless JSON, dead-lettering bad records to {@code dlqTopic}. */
  Map<String, String> sinkConfig(String topics, String mode, String dlqTopic) {
    Map<String, String> config = new HashMap<>();
    config.put("connector.class", CONNECTOR_CLASS);
    config.put("topics", topics);
    config.put("tasks.max", "2");
    config.put("connection.url", url);
    config.put("connection.user", server.user());
    if (server.password() != null) {
      config.put("connection.password", server.password());
    }
    config.put("write.mode", mode);
    config.put("key.converter", "org.apache.kafka.connect.storage.StringConverter");
    config.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
    config.put("value.converter.schemas.enable", "false");
    config.put("errors.tolerance", "all");
    config.put("errors.deadletterqueue.topic.name", dlqTopic);
    config.put("errors.deadletterqueue.topic.replication.factor", "1");
    config.put("errors.deadletterqueue.context.headers.enable", "true");
    config.put("retry.backoff.initial.ms", "100");
    config.put("retry.backoff.max.ms", "1000");
    return config;
  }

  long count(String sql) throws SQLException {
    try (Connection c = server.connect(database);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** 0 when the table does not exist yet (the connector creates it on its first batch). */
  long countRows(String table) {
    return countOrZero("SELECT count(*) FROM " + table);
  }

  private long countOrZero(String sql) {
    try {
      return count(sql);
    } catch (SQLException e) {
      return 0;
    }
  }

  /**
   * The records a connector has written, as its offsets table counts them: on topics made for the
   * test (offsets from 0, no transaction markers) the sum of its next offsets is the number of
   * records it has finished with, rows and offsets committed together. 0 before its first batch.
   */
  long recordsDone(String connector) {
    return countOrZero(
        "SELECT coalesce(sum(next_offset), 0) FROM soma_connect_offsets WHERE connector = '"
            + connector
            + "'");
  }

  /** The first column of each row mapped to the second, both as text. */
  Map<String, String> pairs(String sql) throws SQLException {
    Map<String, String> pairs = new TreeMap<>();
    try (Connection c = server.connect(database);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        pairs.put(rs.getString(1), rs.getString(2));
      }
    }
    return pairs;
  }

  void execute(String sql) throws SQLException {
    try (Connection c = server.connect(database);
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  static String memoryEvent(String eventId, String namespace, String id, int version) {
    return "{\"event_id\":\""
        + eventId
        + "\",\"namespace\":\""
        + namespace
        + "\",\"id\":\""
        + id
        + "\",\"version\":"
        + version
        + ",\"timestamp\":\"2026-11-23T10:00:00Z\",\"payload\":{\"text\":\"remember the milk "
        + version
        + "\",\"importance\":0.5},\"metadata\":{\"tenant_id\":\"t1\",\"schema_version\":\"1.0\"}}";
  }
}
