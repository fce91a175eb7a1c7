package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
 * KIP-875's alter of a stopped connector's offsets (PATCH /connectors/{name}/offsets) reaches the
 * offsets the sink keeps in PostgreSQL, which a task seeks to when it opens its partitions (a
 * change of Connect's consumer group alone would be undone); a reset leaves them, so a rewound
 * group writes nothing twice.
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
    return LocalTasks.props(url, "write.mode", mode);
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
  void anAlteredOffsetIsWhereTheNextTaskStartsAndAResetLeavesTheStoredOnes() {
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

    assertFalse(
        connector.alterOffsets(config("append"), offsets(P0, null, P1, null)),
        "a reset: Connect says offsets kept elsewhere are left");
    assertFalse(connector.alterOffsets(config("append"), Map.of()), "a reset of an expired group");
    assertEquals(Map.of(P0, 7L, P1, 1L), seeksOfANewTask(), "a reset leaves the stored offsets");

    assertFalse(connector.alterOffsets(config("append"), offsets(P0, 3L, P1, null)));
    assertEquals(Map.of(P0, 3L, P1, 1L), seeksOfANewTask(), "the alter of a mixed PATCH stored");
  }

  /**
   * Connect checks an offset's sign only after the connector: stored, -1 would fail every start.
   */
  @Test
  void aNegativeOffsetIsRefusedBeforeAnythingIsStored() {
    PostgresMemorySinkConnector connector = new PostgresMemorySinkConnector();
    ConnectException e =
        assertThrows(
            ConnectException.class,
            () -> connector.alterOffsets(config("append"), offsets(P0, 4L, P1, -1L)));
    assertTrue(e.getMessage().contains("memories-1"), e.getMessage());
    assertEquals(Map.of(), seeksOfANewTask(), "nothing stored");
  }

  @Test
  void anAlterOfAConnectorThatNeverWroteMakesTheOffsetsTable() {
    assertTrue(new PostgresMemorySinkConnector().alterOffsets(config("append"), offsets(P1, 4L)));
    assertEquals(Map.of(P1, 4L), seeksOfANewTask());
  }

  @Test
  void anAuditArchivesOffsetsAreNotAlteredAndAResetLeavesThem() {
    PostgresMemorySinkConnector connector = new PostgresMemorySinkConnector();
    ConnectException e =
        assertThrows(
            ConnectException.class, () -> connector.alterOffsets(config("audit"), offsets(P0, 3L)));
    assertTrue(e.getMessage().contains("hash-chained"), e.getMessage());
    assertFalse(connector.alterOffsets(config("audit"), offsets(P0, null)));
  }
}
