package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A batch collapses the records of one key (or event id) to one row before writing. When the
 * database refuses that row, the refused record alone is dead-lettered and the key ends as the
 * batch's other records leave it, applied record by record: the rows the refused one superseded are
 * written in its stead, not lost with their offsets committed.
 */
class RefusedCollapsedRowTest {

  private static final String DATABASE = "refused_collapsed_row";
  private static final TopicPartition KV = new TopicPartition("kv", 0);
  private static final TopicPartition EVENTS = new TopicPartition("events", 0);

  /** A row whose text is this is refused by the table's CHECK constraint. */
  private static final String REFUSED = "refused";

  private String url;
  private HandRunTaskContext context;
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

  @Test
  void aRefusedUpsertLeavesTheEarlierWriteOfItsKey() throws SQLException {
    startUpsert();
    seedAndRefuse(KV, upsert(0, "k", null, "old"));
    task.put(List.of(upsert(1, "k", null, "w1"), upsert(2, "k", null, REFUSED)));

    assertEquals(List.of("k:w1"), upsertRows());
    assertEquals(List.of(2L), deadLetteredOffsets());
  }

  @Test
  void aRefusedUpsertAfterATombstoneLeavesTheKeyDeleted() throws SQLException {
    startUpsert();
    seedAndRefuse(KV, upsert(0, "k", null, "old"), upsert(1, "j", null, "other"));
    task.put(List.of(tombstone(2, "k"), upsert(3, "k", null, REFUSED)));

    assertEquals(List.of("j:other"), upsertRows());
    assertEquals(List.of(3L), deadLetteredOffsets());
  }

  @Test
  void aRefusedHigherVersionLeavesTheLowerVersionOfTheBatch() throws SQLException {
    startUpsert("version.field", "version");
    seedAndRefuse(KV, upsert(0, "k", 1L, "old"));
    task.put(List.of(upsert(1, "k", 5L, REFUSED), upsert(2, "k", 3L, "three")));

    assertEquals(List.of("k:three"), upsertRows());
    assertEquals(3L, LocalTasks.count(DATABASE, "SELECT event_version FROM kv"));
    assertEquals(List.of(1L), deadLetteredOffsets());
  }

  @Test
  void aRefusedVersionedWriteAfterATombstoneLeavesTheKeyDeleted() throws SQLException {
    startUpsert("version.field", "version");
    seedAndRefuse(KV, upsert(0, "k", 7L, "old"));
    task.put(List.of(tombstone(1, "k"), upsert(2, "k", 1L, REFUSED)));

    assertEquals(List.of(), upsertRows());
    assertEquals(List.of(2L), deadLetteredOffsets());
  }

  /**
   * The row a refused one leaves in its stead is tried too: refused as well, it is dead-lettered
   * rather than fail the task, and the key keeps its stored row.
   */
  @Test
  void everyRefusedWriteOfAKeyIsDeadLetteredAndTheStoredRowStays() throws SQLException {
    startUpsert();
    seedAndRefuse(KV, upsert(0, "k", null, "old"));
    task.put(
        List.of(
            upsert(1, "k", null, "w1"),
            upsert(2, "k", null, REFUSED),
            upsert(3, "j", null, "other"),
            upsert(4, "k", null, REFUSED)));

    assertEquals(List.of("j:other", "k:w1"), upsertRows());
    assertEquals(List.of(2L, 4L), deadLetteredOffsets());

    context.deadLettered().clear();
    task.put(List.of(upsert(5, "k", null, REFUSED), upsert(6, "k", null, REFUSED)));
    assertEquals(List.of("j:other", "k:w1"), upsertRows());
    assertEquals(List.of(5L, 6L), deadLetteredOffsets());
  }

  @Test
  void aRefusedFirstEventLeavesItsDuplicateStored() throws SQLException {
    context = new HandRunTaskContext(EVENTS).deadLetterQueue(true);
    task = LocalTasks.started(url, context, "write.mode", "append");
    seedAndRefuse(EVENTS, event(0, "e0", "seed"));
    task.put(List.of(event(1, "e1", REFUSED), event(2, "e1", "duplicate")));

    assertEquals(
        1,
        LocalTasks.count(
            DATABASE,
            "SELECT count(*) FROM events WHERE event_id = 'e1' AND kafka_offset = 2"
                + " AND payload->>'text' = 'duplicate'"));
    assertEquals(2, LocalTasks.count(DATABASE, "SELECT count(*) FROM events"));
    assertEquals(List.of(1L), deadLetteredOffsets());
  }

  private void startUpsert(String... more) {
    List<String> options = new ArrayList<>(List.of("write.mode", "upsert", "key.fields", "id"));
    options.addAll(List.of(more));
    context = new HandRunTaskContext(KV).deadLetterQueue(true);
    task = LocalTasks.started(url, context, options.toArray(String[]::new));
  }

  /** Writes the records (the task makes the table), then has the table refuse text "refused". */
  private void seedAndRefuse(TopicPartition table, SinkRecord... seed) throws SQLException {
    task.put(List.of(seed));
    LocalTasks.execute(
        DATABASE,
        "ALTER TABLE "
            + table.topic()
            + " ADD CONSTRAINT refuse CHECK (payload->>'text' IS DISTINCT FROM '"
            + REFUSED
            + "')");
  }

  private List<String> upsertRows() throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection c = SERVER.connect(DATABASE);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT id, payload->>'text' FROM kv ORDER BY id")) {
      while (rs.next()) {
        rows.add(rs.getString(1) + ":" + rs.getString(2));
      }
    }
    return rows;
  }

  private List<Long> deadLetteredOffsets() {
    return context.deadLettered().stream().map(e -> e.getKey().kafkaOffset()).sorted().toList();
  }

  private static SinkRecord upsert(long offset, String id, Long version, String text) {
    String json =
        "{\"id\":\""
            + id
            + "\","
            + (version == null ? "" : "\"version\":" + version + ",")
            + "\"text\":\""
            + text
            + "\"}";
    return new SinkRecord(KV.topic(), 0, null, id, null, json, offset);
  }

  private static SinkRecord tombstone(long offset, String id) {
    return new SinkRecord(KV.topic(), 0, null, id, null, null, offset);
  }

  private static SinkRecord event(long offset, String eventId, String text) {
    String json = "{\"event_id\":\"" + eventId + "\",\"text\":\"" + text + "\"}";
    return new SinkRecord(EVENTS.topic(), 0, null, null, null, json, offset);
  }
}
