package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * Table names made from topics fit PostgreSQL's 63 bytes, and two topics never share a table just
 * because their names are long and start alike.
 */
class LongTopicTablesTest {

  private static final String DATABASE = "long_topic_tables";

  /** 63 characters: its table name fits as it is. */
  private static final String PREFIX =
      "prod.eu-west-1.soma.memory.agent-events.customer-success-team.x";

  /**
   * Cut plainly to 63 bytes, both topics would land in one table, where the second event, sharing
   * the first one's id, would be skipped as a duplicate: an event lost.
   */
  @Test
  void topicsThatShareTheirFirst63CharactersGetATableEach() throws SQLException {
    List<String> topics = List.of(PREFIX, PREFIX + ".v1", PREFIX + ".v2");
    List<TopicPartition> partitions = new ArrayList<>();
    topics.forEach(t -> partitions.add(new TopicPartition(t, 0)));
    PostgresMemorySinkTask task =
        LocalTasks.started(
            SERVER.createDatabase(DATABASE),
            new HandRunTaskContext(partitions.toArray(TopicPartition[]::new)));
    try {
      List<SinkRecord> records = new ArrayList<>();
      topics.forEach(t -> records.add(new SinkRecord(t, 0, null, null, null, EVENT, 0)));
      task.put(records);
    } finally {
      task.stop();
    }
    List<String> tables = tables();
    assertEquals(3, tables.size(), tables.toString());
    assertTrue(tables.contains(PREFIX.replace('.', '_').replace('-', '_')), "fits, so not cut");
    for (String table : tables) {
      assertEquals(63, table.length(), table);
      assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM \"" + table + "\""));
    }
  }

  private static final String EVENT = "{\"event_id\":\"e1\"}";

  private static List<String> tables() throws SQLException {
    List<String> tables = new ArrayList<>();
    try (Connection c = SERVER.connect(DATABASE);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    + " AND tablename LIKE 'prod%' ORDER BY tablename")) {
      while (rs.next()) {
        tables.add(rs.getString(1));
      }
    }
    return tables;
  }
}
