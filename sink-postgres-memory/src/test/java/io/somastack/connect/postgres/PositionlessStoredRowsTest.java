package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.SQLException;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Upsert rows that hold no Kafka position: a table that existed before the sink (auto.evolve adds
 * the position columns, empty), or rows a backfill wrote. Such a row is older than any record.
 */
class PositionlessStoredRowsTest {

  private static final String DATABASE = "positionless_rows";
  private static final TopicPartition PARTITION = new TopicPartition("memories", 0);

  private String url;
  private PostgresMemorySinkTask task;
  private final HandRunTaskContext context =
      new HandRunTaskContext(PARTITION).deadLetterQueue(true);

  @BeforeEach
  void createDatabase() throws SQLException {
    url = SERVER.createDatabase(DATABASE);
    // made before the sink: no position columns, which auto.evolve adds as nullable
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE memories (id text PRIMARY KEY, payload jsonb NOT NULL);"
            + " INSERT INTO memories VALUES ('k1', '{\"v\":0}'), ('k2', '{\"v\":0}')");
  }

  @AfterEach
  void stopTask() {
    if (task != null) {
      task.stop();
    }
  }

  @Test
  void aWriteReplacesARowWithoutAPosition() throws SQLException {
    startUpsert();
    task.put(List.of(write("{\"id\":\"k1\",\"v\":1}", 0)));

    assertEquals(
        1, LocalTasks.count(DATABASE, "SELECT (payload->>'v')::int FROM memories WHERE id = 'k1'"));
    assertEquals(0, context.metric("stale-updates-refused-total"));
  }

  @Test
  void aTombstoneDeletesARowWithoutAPosition() throws SQLException {
    startUpsert();
    task.put(List.of(tombstone("k2", 0)));

    assertEquals(0, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories WHERE id = 'k2'"));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
    assertEquals(0, context.metric("stale-updates-refused-total"));
  }

  /** A row whose position a backfill left partly empty is no newer either. */
  @Test
  void aRowWithAPartlyEmptyPositionIsOlderThanAnyRecord() throws SQLException {
    startUpsert();
    task.put(List.of(write("{\"id\":\"k1\",\"v\":1}", 5)));
    LocalTasks.execute(DATABASE, "UPDATE memories SET kafka_offset = NULL WHERE id = 'k1'");
    task.put(List.of(write("{\"id\":\"k1\",\"v\":2}", 6)));

    assertEquals(
        2, LocalTasks.count(DATABASE, "SELECT (payload->>'v')::int FROM memories WHERE id = 'k1'"));
  }

  private void startUpsert() {
    task =
        LocalTasks.started(
            url, context, "write.mode", "upsert", "key.fields", "id", "auto.evolve", "true");
  }

  private static SinkRecord write(String json, long offset) {
    return new SinkRecord(PARTITION.topic(), 0, null, null, null, json, offset);
  }

  private static SinkRecord tombstone(String key, long offset) {
    return new SinkRecord(PARTITION.topic(), 0, null, key, null, null, offset);
  }
}
