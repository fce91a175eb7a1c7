package io.somastack.connect.postgres.write;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.postgres.config.PostgresSinkConfig;
import io.somastack.connect.postgres.record.EventRow;
import io.somastack.connect.postgres.record.RowMapper;
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
      batch.covered(record);
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
}
