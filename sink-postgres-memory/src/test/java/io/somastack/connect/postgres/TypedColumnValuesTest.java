package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A typed column gets the value the event holds, or its record is dead-lettered naming the field:
 * never a different value than the one sent.
 */
class TypedColumnValuesTest {

  private static final String DATABASE = "typed_column_values";
  private static final TopicPartition PARTITION = new TopicPartition("typed", 0);

  private PostgresMemorySinkTask task;

  @AfterEach
  void stopTask() {
    if (task != null) {
      task.stop();
    }
  }

  /**
   * A number beyond double's range would be stored as Infinity, and Java's UUID parser reads
   * "1-2-3-4-5" as 00000001-0002-0003-0004-000000000005: both are values nobody sent.
   */
  @Test
  void valuesTheColumnCannotHoldAsSentAreDeadLetteredNamingTheField() throws SQLException {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task =
        LocalTasks.started(
            SERVER.createDatabase(DATABASE), context, "columns", "score:double:score,ref:uuid:ref");
    String uuid = "123e4567-e89b-12d3-a456-426614174000";
    task.put(
        List.of(
            record(0, "{\"event_id\":\"e0\",\"score\":1e400}"),
            record(1, "{\"event_id\":\"e1\",\"score\":-1e400}"),
            record(2, "{\"event_id\":\"e2\",\"ref\":\"1-2-3-4-5\"}"),
            record(3, "{\"event_id\":\"e3\",\"ref\":\"+1-2-3-4-5\"}"),
            record(
                4, "{\"event_id\":\"e4\",\"score\":2.5,\"ref\":\"" + uuid.toUpperCase() + "\"}")));
    assertEquals(Map.of("e4", "2.5 " + uuid), stored());
    List<Map.Entry<SinkRecord, Throwable>> bad = context.deadLettered();
    assertEquals(4, bad.size());
    for (int i = 0; i < bad.size(); i++) {
      String reason = bad.get(i).getValue().getMessage();
      assertTrue(reason.contains(i < 2 ? "'score'" : "'ref'"), reason);
      assertFalse(reason.contains("400") || reason.contains("1-2-3"), reason);
    }
  }

  private static Map<String, String> stored() throws SQLException {
    Map<String, String> rows = new java.util.HashMap<>();
    try (Connection c = SERVER.connect(DATABASE);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT event_id, score, ref FROM typed")) {
      while (rs.next()) {
        rows.put(rs.getString(1), rs.getString(2) + " " + rs.getString(3));
      }
    }
    return rows;
  }

  private static SinkRecord record(long offset, String json) {
    return new SinkRecord(PARTITION.topic(), 0, null, null, null, json, offset);
  }
}
