package io.somastack.connect.quickstart;

import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.UUID;

/**
 * Writes rows into the outbox table the way a service does, inside its own transactions:
 * DelegatedTask events for somastack.delegation, and one row with no topic that the relay must move
 * to the dlq table rather than skip.
 */
final class OutboxWriter {

  /** The topic of the outbox rows; the relay writes it in Kafka transactions. */
  static final String TOPIC = "somastack.delegation";

  private final PostgresServer postgres;
  private final String database;
  private final Expected expected;
  int written;
  int bad;

  OutboxWriter(PostgresServer postgres, String database, Expected expected) {
    this.postgres = postgres;
    this.database = database;
    this.expected = expected;
  }

  void write(int rows) throws SQLException {
    String table = EventGenerator.topicTable(TOPIC); // somastack-events' table for TOPIC
    try (Connection c = postgres.connect(database);
        PreparedStatement insert =
            c.prepareStatement(
                "INSERT INTO outbox (topic, payload, dedupe_key) VALUES (?, ?::jsonb, ?)")) {
      c.setAutoCommit(false);
      int pending = 0;
      for (int i = 0; i < rows; i++) {
        String taskId = UUID.randomUUID().toString();
        insert.setString(1, TOPIC);
        insert.setString(2, delegatedTask(taskId, i));
        insert.setString(3, taskId);
        insert.addBatch();
        pending++;
        if (i % 10 == 9) {
          insert.executeBatch();
          c.commit(); // a service's transaction: its business rows and its outbox rows together
          written += pending;
          expected.rows(table, pending); // counted once committed: only then relayed
          pending = 0;
        }
      }
      insert.setNull(1, java.sql.Types.VARCHAR);
      insert.setString(2, "{\"note\":\"a row without a topic\"}");
      insert.setString(3, UUID.randomUUID().toString());
      insert.addBatch();
      insert.executeBatch();
      c.commit();
      written += pending;
      expected.rows(table, pending);
      bad++;
      expected.row(Expected.DEAD_LETTERS); // the relay moves it to the dlq table
    }
  }

  private static String delegatedTask(String taskId, int i) {
    String tenant = i % 2 == 0 ? "acme" : "globex";
    return "{\"event_id\":\""
        + UUID.randomUUID()
        + "\",\"task_id\":\""
        + taskId
        + "\","
        + "\"type\":\"schedule:run\",\"payload\":{\"cron\":\"0 9 * * *\",\"job\":\"daily_report\"},"
        + "\"tenant_id\":\""
        + tenant
        + "\",\"priority\":5,\"metadata\":{\"schema_version\":\"1.0\"}}";
  }
}
