package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Table names made from the event itself, as the shipped converters deliver it. */
class TemplatedTablesTest {

  private static final String DATABASE = "templated_tables";
  private static final TopicPartition PARTITION = new TopicPartition("memories", 0);

  private String url;
  private PostgresMemorySinkTask task;

  @BeforeEach
  void createDatabase() {
    url = SERVER.createDatabase(DATABASE);
  }

  @AfterEach
  void stopTask() {
    if (task != null) {
      task.stop();
    }
  }

  /**
   * ${value.tenant} reads the event's field whether the event came as JSON text (StringConverter)
   * or JSON bytes (ByteArrayConverter), as from a Map (JsonConverter).
   */
  @Test
  void aValueFieldNamesTheTableForJsonTextAndBytesValues() throws SQLException {
    task =
        LocalTasks.started(
            url,
            new HandRunTaskContext(PARTITION),
            "write.mode",
            "append",
            "table.name.format",
            "mem_${value.tenant}");
    task.put(
        List.of(
            record("{\"event_id\":\"e1\",\"tenant\":\"acme\"}", 0),
            record("{\"event_id\":\"e2\",\"tenant\":\"beta\"}".getBytes(StandardCharsets.UTF_8), 1),
            record(java.util.Map.of("event_id", "e3", "tenant", "acme"), 2)));

    assertEquals(2, LocalTasks.count(DATABASE, "SELECT count(*) FROM mem_acme"));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM mem_beta"));
  }

  /**
   * A tombstone the mode skips (append, audit, or upsert with tombstones=ignore) is counted and
   * skipped, as documented, whatever the table name template reads: it names no table, and needs
   * none. It had been dead-lettered for the template's missing field.
   */
  @Test
  void skippedTombstonesNeedNoTableName() throws SQLException {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task =
        LocalTasks.started(
            url, context, "write.mode", "append", "table.name.format", "mem_${value.tenant}");
    task.put(
        List.of(
            record("{\"event_id\":\"e1\",\"tenant\":\"acme\"}", 0),
            new SinkRecord(PARTITION.topic(), 0, null, "e1", null, null, 1)));
    assertEquals(List.of(), context.deadLettered());
    assertEquals(1, context.metric("tombstones-ignored-total"));
    task.stop();
    HandRunTaskContext upsert = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task =
        LocalTasks.started(
            url,
            upsert,
            "write.mode",
            "upsert",
            "key.fields",
            "event_id",
            "tombstones",
            "ignore",
            "offsets.table",
            "upsert_offsets",
            "table.name.format",
            "kv_${value.tenant}");
    task.put(
        List.of(
            record("{\"event_id\":\"e1\",\"tenant\":\"acme\"}", 0),
            new SinkRecord(PARTITION.topic(), 0, null, "e1", null, null, 1)));

    assertEquals(List.of(), upsert.deadLettered());
    assertEquals(1, upsert.metric("tombstones-ignored-total"));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM mem_acme"));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM kv_acme"));
  }

  private static SinkRecord record(Object value, long offset) {
    return new SinkRecord(PARTITION.topic(), 0, null, null, null, value, offset);
  }
}
