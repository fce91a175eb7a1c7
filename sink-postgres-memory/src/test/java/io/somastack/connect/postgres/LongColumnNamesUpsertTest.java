package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Column names of 62 and 63 bytes that share their first 61: PostgreSQL cuts identifiers to 63
 * bytes, so aliases spelled as a prefix and the column's name ("u_" + name) would be one alias
 * twice, and every upsert of the table would fail as ambiguous (SQLSTATE 42702).
 */
class LongColumnNamesUpsertTest {

  private static final TopicPartition PARTITION = new TopicPartition("memories", 0);
  private static final String PREFIX = "a".repeat(61);
  private static final String FIRST = PREFIX + "x";
  private static final String SECOND = PREFIX + "yy";

  private PostgresMemorySinkTask task;
  private final HandRunTaskContext context =
      new HandRunTaskContext(PARTITION).deadLetterQueue(true);

  @AfterEach
  void stopTask() {
    if (task != null) {
      task.stop();
    }
  }

  @Test
  void twoLongTypedColumnsSharing61BytesAreUpserted() throws SQLException {
    String database = "long_column_aliases";
    String url = SERVER.createDatabase(database);
    task =
        LocalTasks.started(
            url,
            context,
            "write.mode",
            "upsert",
            "key.fields",
            "id",
            "columns",
            FIRST + ":text:x," + SECOND + ":text:y");
    task.put(
        List.of(
            record(Map.of("id", "k1", "x", "1", "y", "2"), 0),
            record(Map.of("id", "k1", "x", "3", "y", "4"), 1),
            record(Map.of("id", "k2", "x", "5", "y", "6"), 2)));

    assertEquals(List.of(), context.deadLettered());
    assertEquals(2, LocalTasks.count(database, "SELECT count(*) FROM memories"));
    assertEquals(
        List.of("3|4", "5|6"),
        LocalTasks.strings(
            database,
            "SELECT \"" + FIRST + "\" || '|' || \"" + SECOND + "\" FROM memories ORDER BY id"));
  }

  @Test
  void twoLongKeyFieldsSharing61BytesAreUpsertedAndDeleted() throws SQLException {
    String database = "long_key_aliases";
    String url = SERVER.createDatabase(database);
    task =
        LocalTasks.started(
            url, context, "write.mode", "upsert", "key.fields", FIRST + "," + SECOND);
    task.put(
        List.of(
            record(Map.of(FIRST, "a", SECOND, "b", "v", 1), 0),
            record(Map.of(FIRST, "a", SECOND, "b", "v", 2), 1),
            record(Map.of(FIRST, "a", SECOND, "c", "v", 3), 2),
            new SinkRecord(
                PARTITION.topic(), 0, null, Map.of(FIRST, "a", SECOND, "c"), null, null, 3)));

    assertEquals(List.of(), context.deadLettered());
    assertEquals(1, LocalTasks.count(database, "SELECT count(*) FROM memories"));
    assertEquals(
        2,
        LocalTasks.count(
            database, "SELECT (payload->>'v')::int FROM memories WHERE \"" + SECOND + "\" = 'b'"));
  }

  private static SinkRecord record(Map<String, Object> value, long offset) {
    return new SinkRecord(PARTITION.topic(), 0, null, null, null, value, offset);
  }
}
