package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * KIP-875's alter and reset of a stopped connector's offsets (PATCH and DELETE
 * /connectors/{name}/offsets) reach the offsets the sink keeps in PostgreSQL: changing Connect's
 * consumer group alone would be undone when a task opens its partitions and seeks to them.
 */
class AlterOffsetsTest {

  private static final String DATABASE = "alter_offsets";
  private static final TopicPartition P0 = new TopicPartition("memories", 0);
  private static final TopicPartition P1 = new TopicPartition("memories", 1);

  private String url;
  private PostgresMemorySinkTask task;

  @BeforeEach
  void createDatabase() throws SQLException {
    url = SERVER.createDatabase(DATABASE);
  }

  @AfterEach
  void stopTask() {
    if (task != null) {
      task.stop();
    }
  }

  private Map<String, String> config(String mode) {
    Map<String, String> config = new HashMap<>();
    config.put("name", "local-task");
    config.put("connection.url", url);
    config.put("connection.user", SERVER.user());
    if (SERVER.password() != null) {
      config.put("connection.password", SERVER.password());
    }
    config.put("write.mode", mode);
    return config;
  }

  private static Map<TopicPartition, Long> offsets(Object... partitionsAndOffsets) {
    Map<TopicPartition, Long> offsets = new HashMap<>();
    for (int i = 0; i < partitionsAndOffsets.length; i += 2) {
      offsets.put((TopicPartition) partitionsAndOffsets[i], (Long) partitionsAndOffsets[i + 1]);
    }
    return offsets;
  }

  /** What a task that opens both partitions asks Connect to seek to. */
  private Map<TopicPartition, Long> seeksOfANewTask() {
    HandRunTaskContext context = new HandRunTaskContext(P0, P1);
    task = LocalTasks.started(url, context);
    task.put(List.of()); // an empty put reads the stored offsets
    Map<TopicPartition, Long> seeks = context.requestedOffsets();
    task.stop();
    task = null;
    return seeks;
  }

  @Test
  void anAlteredOffsetIsWhereTheNextTaskStarts() {
    task = LocalTasks.started(url, new HandRunTaskContext(P0, P1));
    task.put(
        List.of(
            new SinkRecord("memories", 0, null, null, null, "{\"event_id\":\"a\"}", 0),
            new SinkRecord("memories", 1, null, null, null, "{\"event_id\":\"b\"}", 0)));
    task.stop();
    task = null;
    assertEquals(Map.of(P0, 1L, P1, 1L), seeksOfANewTask());

    PostgresMemorySinkConnector connector = new PostgresMemorySinkConnector();
    assertTrue(connector.alterOffsets(config("append"), offsets(P0, 7L)));
    assertEquals(Map.of(P0, 7L, P1, 1L), seeksOfANewTask(), "P0 altered, P1 as it was");

    assertTrue(connector.alterOffsets(config("append"), offsets(P0, null, P1, null)));
    assertEquals(Map.of(), seeksOfANewTask(), "reset: the task starts where the group does");
  }

  /**
   * A reset after the consumer group's offsets expired (the connector stopped longer than
   * offsets.retention.minutes): Connect passes no partition, and every stored offset goes.
   */
  @Test
  void aResetOfAGroupWhoseOffsetsExpiredForgetsEveryStoredOffset() {
    PostgresMemorySinkConnector connector = new PostgresMemorySinkConnector();
    assertTrue(connector.alterOffsets(config("append"), offsets(P0, 5L, P1, 9L)));
    assertEquals(Map.of(P0, 5L, P1, 9L), seeksOfANewTask());
    assertTrue(connector.alterOffsets(config("append"), Map.of()));
    assertEquals(Map.of(), seeksOfANewTask());
  }

  @Test
  void aResetOfAConnectorThatNeverWroteMakesNoTable() throws SQLException {
    assertTrue(new PostgresMemorySinkConnector().alterOffsets(config("append"), offsets(P0, null)));
    assertEquals(
        0,
        LocalTasks.count(
            DATABASE, "SELECT count(*) FROM pg_class WHERE relname = 'soma_connect_offsets'"));
  }

  @Test
  void anAuditArchivesOffsetsAreNotAltered() {
    ConnectException e =
        assertThrows(
            ConnectException.class,
            () -> new PostgresMemorySinkConnector().alterOffsets(config("audit"), offsets(P0, 3L)));
    assertTrue(e.getMessage().contains("hash-chained"), e.getMessage());
  }
}
