package io.somastack.connect.postgres.write;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.common.record.Positions;
import io.somastack.connect.postgres.config.PostgresSinkConfig;
import io.somastack.connect.postgres.record.EventRow;
import io.somastack.connect.postgres.record.RowMapper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class BatchTest {

  private static Batch batch(List<Map<String, Object>> events, String... kv) {
    Map<String, String> props = new HashMap<>();
    props.put("connection.url", "jdbc:postgresql://localhost/soma");
    for (int i = 0; i < kv.length; i += 2) {
      props.put(kv[i], kv[i + 1]);
    }
    PostgresSinkConfig config = new PostgresSinkConfig(props);
    TableLayout layout = TableLayout.of(config);
    RowMapper mapper = new RowMapper(config, layout);
    Batch batch = new Batch(layout);
    long offset = 0;
    for (Map<String, Object> event : events) {
      SinkRecord record = new SinkRecord("t", 0, null, null, null, event, offset++);
      batch.covered(Positions.partition(record), record.originalKafkaOffset());
      batch.add(mapper.map(record));
    }
    return batch;
  }

  private static List<EventRow> rows(Batch batch) {
    return batch.rowsByTable().values().iterator().next();
  }

  @Test
  void appendKeepsTheFirstOfDuplicateEventIds() {
    Batch batch =
        batch(
            List.of(
                Map.of("event_id", "a", "n", 1),
                Map.of("event_id", "b"),
                Map.of("event_id", "a", "n", 2)));
    assertEquals(2, batch.rowCount());
    assertEquals(1, batch.collapsed());
    assertEquals(0L, rows(batch).get(0).record().kafkaOffset());
    assertEquals(Map.of(new TopicPartition("t", 0), 3L), batch.nextOffsets());
  }

  @Test
  void upsertKeepsTheLastWriteOfAKeyAtItsLatestPosition() {
    Batch batch =
        batch(
            List.of(Map.of("id", "a", "n", 1), Map.of("id", "b"), Map.of("id", "a", "n", 2)),
            "write.mode",
            "upsert",
            "key.fields",
            "id");
    List<EventRow> rows = rows(batch);
    assertEquals(List.of(1L, 2L), rows.stream().map(r -> r.record().kafkaOffset()).toList());
  }

  @Test
  void withAVersionFieldTheHighestVersionWinsWhateverItsPosition() {
    Batch batch =
        batch(
            List.of(Map.of("id", "a", "v", 5), Map.of("id", "a", "v", 3)),
            "write.mode",
            "upsert",
            "key.fields",
            "id",
            "version.field",
            "v");
    assertEquals(0L, rows(batch).get(0).record().kafkaOffset());
  }

  /**
   * Tombstone, write, tombstone of a versioned key in one batch: the last tombstone deletes
   * whatever the first would have (the write between them is gone too), so one delete is kept and
   * the first tombstone counts as superseded, like the write, rather than be written and counted
   * nowhere.
   */
  @Test
  void aKeptTombstoneSupersededByALaterTombstoneIsCollapsed() {
    Map<String, String> props = new HashMap<>();
    props.put("connection.url", "jdbc:postgresql://localhost/soma");
    props.putAll(Map.of("write.mode", "upsert", "key.fields", "id", "version.field", "v"));
    PostgresSinkConfig config = new PostgresSinkConfig(props);
    TableLayout layout = TableLayout.of(config);
    RowMapper mapper = new RowMapper(config, layout);
    Batch batch = new Batch(layout);
    batch.add(mapper.map(new SinkRecord("t", 0, null, "a", null, null, 0)));
    batch.add(mapper.map(new SinkRecord("t", 0, null, "a", null, Map.of("id", "a", "v", 1), 1)));
    batch.add(mapper.map(new SinkRecord("t", 0, null, "a", null, null, 2)));

    assertEquals(List.of(2L), rows(batch).stream().map(r -> r.record().kafkaOffset()).toList());
    assertEquals(2, batch.collapsed());
  }

  /**
   * A refused row's key ends as the remaining records of the batch leave it, record by record: the
   * rows it had superseded are written in its stead, and nothing it superseded counts as collapsed
   * or stale any longer.
   */
  @Test
  void aRefusedUpsertLeavesTheWriteItSuperseded() {
    Batch batch =
        upserts(
            "a", "{\"id\":\"a\",\"n\":1}",
            "b", "{\"id\":\"b\"}",
            "a", "{\"id\":\"a\",\"n\":2}",
            "a", "{\"id\":\"a\",\"n\":3}");
    assertEquals(List.of(1L, 3L), offsets(batch));
    assertEquals(2, batch.collapsed());

    batch.remove(rows(batch).get(1), new IllegalStateException("refused"));

    assertEquals(List.of(1L, 2L), offsets(batch), "the write before it, at its own place");
    assertEquals(1, batch.collapsed());
    assertEquals(List.of(3L), rejectedOffsets(batch));
    assertEquals(2, batch.rowCount());
  }

  @Test
  void aRefusedUpsertAfterATombstoneLeavesTheTombstone() {
    Batch batch = upserts("a", null, "a", "{\"id\":\"a\"}");
    assertEquals(List.of(1L), offsets(batch));

    batch.remove(rows(batch).get(0), new IllegalStateException("refused"));

    assertEquals(List.of(0L), offsets(batch));
    assertEquals(EventRow.Kind.DELETE, rows(batch).get(0).kind());
    assertEquals(0, batch.collapsed());
  }

  @Test
  void aRefusedHigherVersionLeavesTheLowerOneItMadeStale() {
    Batch batch = versioned("a", "{\"id\":\"a\",\"v\":5}", "a", "{\"id\":\"a\",\"v\":3}");
    assertEquals(List.of(0L), offsets(batch));
    assertEquals(1, batch.staleRefused());

    batch.remove(rows(batch).get(0), new IllegalStateException("refused"));

    assertEquals(List.of(1L), offsets(batch));
    assertEquals(0, batch.staleRefused());
    assertEquals(0, batch.collapsed());
  }

  /**
   * A versioned key's tombstone is kept ahead of its write: when the write is refused the tombstone
   * alone remains, and when the tombstone is refused the write alone, with no delete before it.
   */
  @Test
  void aVersionedTombstoneAndItsWriteEachRemainWhenTheOtherIsRefused() {
    Batch refusedWrite = versioned("a", null, "a", "{\"id\":\"a\",\"v\":1}");
    assertEquals(List.of(0L, 1L), offsets(refusedWrite));
    refusedWrite.remove(rows(refusedWrite).get(1), new IllegalStateException("refused"));
    assertEquals(List.of(0L), offsets(refusedWrite));

    Batch refusedTombstone = versioned("a", null, "a", "{\"id\":\"a\",\"v\":1}");
    refusedTombstone.remove(rows(refusedTombstone).get(0), new IllegalStateException("refused"));
    assertEquals(List.of(1L), offsets(refusedTombstone));
    assertEquals(EventRow.Kind.WRITE, rows(refusedTombstone).get(0).kind());
  }

  /**
   * Tombstone, write, tombstone, write of a versioned key: the last write refused, the last
   * tombstone deletes whatever the first would have, as record by record.
   */
  @Test
  void aRefusedWriteAfterTwoTombstonesLeavesTheLastTombstone() {
    Batch batch =
        versioned(
            "a", null, "a", "{\"id\":\"a\",\"v\":1}", "a", null, "a", "{\"id\":\"a\",\"v\":2}");
    assertEquals(List.of(2L, 3L), offsets(batch));

    batch.remove(rows(batch).get(1), new IllegalStateException("refused"));

    assertEquals(List.of(2L), offsets(batch));
    assertEquals(2, batch.collapsed(), "the first tombstone and the write it deletes");
  }

  @Test
  void aRefusedFirstEventLeavesItsDuplicateInAppendMode() {
    Batch batch =
        batch(
            List.of(
                Map.of("event_id", "a", "n", 1),
                Map.of("event_id", "b"),
                Map.of("event_id", "a", "n", 2),
                Map.of("event_id", "a", "n", 3)));
    assertEquals(2, batch.collapsed());

    batch.remove(rows(batch).get(0), new IllegalStateException("refused"));

    assertEquals(List.of(1L, 2L), offsets(batch));
    assertEquals(1, batch.collapsed());
    assertEquals(List.of(0L), rejectedOffsets(batch));
  }

  /** Rows of other keys, and rows with no other of their key, are simply dropped. */
  @Test
  void aRefusedRowAloneOfItsKeyIsDropped() {
    Batch batch = upserts("a", "{\"id\":\"a\"}", "b", "{\"id\":\"b\"}");
    batch.remove(rows(batch).get(0), new IllegalStateException("refused"));
    assertEquals(List.of(1L), offsets(batch));
    batch.remove(rows(batch).get(0), new IllegalStateException("refused"));
    assertTrue(rows(batch).isEmpty());
    assertEquals(0, batch.rowCount());
    assertEquals(List.of(0L, 1L), rejectedOffsets(batch));
  }

  private static Batch upserts(String... keyValues) {
    return batchOf(Map.of("write.mode", "upsert", "key.fields", "id"), keyValues);
  }

  private static Batch versioned(String... keyValues) {
    return batchOf(
        Map.of("write.mode", "upsert", "key.fields", "id", "version.field", "v"), keyValues);
  }

  /** Records of the given keys and JSON values (null: a tombstone), at offsets 0, 1, ... */
  private static Batch batchOf(Map<String, String> options, String... keyValues) {
    Map<String, String> props = new HashMap<>(options);
    props.put("connection.url", "jdbc:postgresql://localhost/soma");
    PostgresSinkConfig config = new PostgresSinkConfig(props);
    TableLayout layout = TableLayout.of(config);
    RowMapper mapper = new RowMapper(config, layout);
    Batch batch = new Batch(layout);
    for (int i = 0; i < keyValues.length; i += 2) {
      SinkRecord record = new SinkRecord("t", 0, null, keyValues[i], null, keyValues[i + 1], i / 2);
      batch.covered(Positions.partition(record), record.originalKafkaOffset());
      batch.add(mapper.map(record));
    }
    return batch;
  }

  private static List<Long> offsets(Batch batch) {
    List<Long> offsets = new ArrayList<>();
    rows(batch).forEach(row -> offsets.add(row.record().kafkaOffset()));
    return offsets;
  }

  private static List<Long> rejectedOffsets(Batch batch) {
    return batch.rejected().stream().map(r -> r.record().kafkaOffset()).toList();
  }
}
