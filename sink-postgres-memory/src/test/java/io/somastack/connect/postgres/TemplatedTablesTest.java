package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
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
   * ${key.tenant} reads a key of JSON object text (StringConverter, as the shipped connector
   * configs set key.converter) or JSON bytes (ByteArrayConverter), as key.fields reads a
   * tombstone's key: the rows land in the tenant's table, and the tombstone of the same key deletes
   * its row there. Every such record had been dead-lettered for a field its key "does not have".
   */
  @Test
  void aKeyFieldNamesTheTableForJsonTextAndBytesKeys() throws SQLException {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task =
        LocalTasks.started(
            url,
            context,
            "write.mode",
            "upsert",
            "key.fields",
            "id",
            "table.name.format",
            "kv_${key.tenant}");
    String t1Key = "{\"tenant\":\"t1\",\"id\":\"m1\"}";
    task.put(
        List.of(
            keyed(t1Key, "{\"id\":\"m1\",\"text\":\"one\"}", 0),
            keyed(
                "{\"tenant\":\"t2\",\"id\":\"m2\"}".getBytes(StandardCharsets.UTF_8),
                "{\"id\":\"m2\",\"text\":\"two\"}",
                1),
            keyed("{\"tenant\":\"t1\",\"id\":\"m3\"}", "{\"id\":\"m3\",\"text\":\"3\"}", 2)));

    assertEquals(List.of(), context.deadLettered());
    assertEquals(2, LocalTasks.count(DATABASE, "SELECT count(*) FROM kv_t1"));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM kv_t2"));

    task.put(List.of(keyed(t1Key, null, 3)));
    assertEquals(List.of(), context.deadLettered());
    assertEquals(
        1, LocalTasks.count(DATABASE, "SELECT count(*) FROM kv_t1 WHERE payload->>'id' = 'm3'"));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM kv_t1"));
  }

  /**
   * ${key} of a key a JSON serializer wrote ("acme" with its quotes) is acme, the text the key
   * columns take from it, not a table named with the quotes.
   */
  @Test
  void theWholeKeyOfJsonStringTextNamesTheTableWithoutItsQuotes() throws SQLException {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task =
        LocalTasks.started(url, context, "write.mode", "append", "table.name.format", "mem_${key}");
    task.put(List.of(keyed("\"acme\"", "{\"event_id\":\"e1\"}", 0)));
    assertEquals(List.of(), context.deadLettered());
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM mem_acme"));
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

  /**
   * With auto.create=false, a record whose own data names a table that does not exist (a tenant not
   * provisioned, a typo) is that record's fault: dead-lettered with a reason that quotes none of
   * its data, while the records of the other tables are written, now and at later puts.
   */
  @Test
  void aRecordNamingAMissingTableWithoutAutoCreateIsDeadLetteredAndTheRestWritten()
      throws SQLException {
    LocalTasks.execute(DATABASE, MEM_ACME);
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task = startedWithoutAutoCreate(context, "mem_${value.tenant}");
    task.put(
        List.of(
            record("{\"event_id\":\"e1\",\"tenant\":\"acme\"}", 0),
            record("{\"event_id\":\"e2\",\"tenant\":\"acmee\"}", 1),
            record("{\"event_id\":\"e2\",\"tenant\":\"acmee\"}", 2),
            record("{\"event_id\":\"e3\",\"tenant\":\"acme\"}", 3)));
    task.put(List.of(record("{\"event_id\":\"e4\",\"tenant\":\"acme\"}", 4)));

    assertEquals(3, LocalTasks.count(DATABASE, "SELECT count(*) FROM mem_acme"));
    assertEquals(
        List.of(1L, 2L),
        context.deadLettered().stream().map(dead -> dead.getKey().kafkaOffset()).toList());
    String reason = context.deadLettered().get(0).getValue().getMessage();
    assertTrue(reason.contains("does not exist"), reason);
    assertTrue(reason.contains("auto.create=false"), reason);
    assertFalse(reason.contains("acmee"), reason);
    assertEquals(5, LocalTasks.count(DATABASE, "SELECT next_offset FROM soma_connect_offsets"));
    assertEquals(2.0, context.metric("records-dead-lettered-total"));

    LocalTasks.execute(DATABASE, MEM_ACME.replace("mem_acme", "mem_acmee")); // made later
    task.put(List.of(record("{\"event_id\":\"e5\",\"tenant\":\"acmee\"}", 5)));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM mem_acmee"));
    assertEquals(2, context.deadLettered().size());
  }

  /**
   * Without a dead-letter queue the task stops, naming the record by topic, partition and offset,
   * not by the table its data names; nothing of the batch is written.
   */
  @Test
  void aRecordNamingAMissingTableWithoutADeadLetterQueueStopsTheTaskNamingItsPosition()
      throws SQLException {
    LocalTasks.execute(DATABASE, MEM_ACME);
    task = startedWithoutAutoCreate(new HandRunTaskContext(PARTITION), "mem_${value.tenant}");
    ConnectException e =
        assertThrows(
            ConnectException.class,
            () ->
                task.put(
                    List.of(
                        record("{\"event_id\":\"e1\",\"tenant\":\"acme\"}", 0),
                        record("{\"event_id\":\"e2\",\"tenant\":\"acmee\"}", 1))));
    assertTrue(e.getMessage().contains("memories-0@1"), e.getMessage());
    assertFalse(e.getMessage().contains("acmee"), e.getMessage());
    assertEquals(0, LocalTasks.count(DATABASE, "SELECT count(*) FROM mem_acme"));
  }

  /**
   * A table named from the topic alone is the config's: a missing one stops the task, naming it.
   */
  @Test
  void aMissingTableNamedFromTheTopicStopsTheTask() {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task = startedWithoutAutoCreate(context, "mem_${topic}");
    ConnectException e =
        assertThrows(
            ConnectException.class,
            () -> task.put(List.of(record("{\"event_id\":\"e1\",\"tenant\":\"acme\"}", 0))));
    assertTrue(e.getMessage().contains("mem_memories"), e.getMessage());
    assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    assertEquals(List.of(), context.deadLettered());
  }

  /**
   * An audit table is evidence: one missing (dropped, perhaps, with its chains on record) stops the
   * task even when the record's data names it, instead of sending that tenant's audit events to the
   * dead-letter queue as a typo.
   */
  @Test
  void aMissingAuditTableNamedByRecordDataStopsTheTask() {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task =
        LocalTasks.started(
            url,
            context,
            "write.mode",
            "audit",
            "auto.create",
            "false",
            "table.name.format",
            "audit_${value.tenant}");
    ConnectException e =
        assertThrows(
            ConnectException.class,
            () ->
                task.put(
                    List.of(
                        record(
                            "{\"event_id\":\"e1\",\"tenant\":\"acme\",\"timestamp\":\""
                                + Instant.now()
                                + "\"}",
                            0))));
    assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    assertEquals(List.of(), context.deadLettered());
  }

  private static final String MEM_ACME =
      "CREATE TABLE mem_acme (event_id text NOT NULL UNIQUE, payload jsonb NOT NULL,"
          + " kafka_topic text NOT NULL, kafka_partition integer NOT NULL,"
          + " kafka_offset bigint NOT NULL, ingested_at timestamptz NOT NULL DEFAULT now())";

  private PostgresMemorySinkTask startedWithoutAutoCreate(
      HandRunTaskContext context, String tableNameFormat) {
    return LocalTasks.started(
        url,
        context,
        "write.mode",
        "append",
        "auto.create",
        "false",
        "table.name.format",
        tableNameFormat);
  }

  private static SinkRecord record(Object value, long offset) {
    return new SinkRecord(PARTITION.topic(), 0, null, null, null, value, offset);
  }

  private static SinkRecord keyed(Object key, Object value, long offset) {
    return new SinkRecord(PARTITION.topic(), 0, null, key, null, value, offset);
  }
}
