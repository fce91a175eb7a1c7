package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.SQLException;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Tables the sink finds already there: made by an earlier config of the connector, or by a DBA. */
class ExistingTablesTest {

  private static final String DATABASE = "existing_tables";
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
   * A table an append-mode connector made has no updated_at; the same table taken over by an
   * upsert-mode connector (keyed on the id it is unique on) gets the column, as a newly configured
   * column would, rather than fail every batch for the lack of it.
   */
  @Test
  void anAppendTableTakenOverByUpsertGetsItsUpdatedAtColumn() throws SQLException {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION);
    task = LocalTasks.started(url, context, "write.mode", "append", "table.name.format", "mem");
    task.put(List.of(record("{\"event_id\":\"m1\",\"text\":\"a\"}", 0)));
    task.stop();

    task =
        LocalTasks.started(
            url,
            context,
            "write.mode",
            "upsert",
            "key.fields",
            "event_id",
            "table.name.format",
            "mem");
    task.put(List.of(record("{\"event_id\":\"m1\",\"text\":\"b\"}", 1)));

    assertEquals(
        1,
        LocalTasks.count(
            DATABASE,
            "SELECT count(*) FROM mem WHERE payload->>'text' = 'b' AND updated_at IS NOT NULL"));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM mem"));
  }

  /**
   * The primary key an earlier key.fields made stays (the sink never drops a constraint). Under a
   * new key of namespace and id every event would collide with it (the stored rows have no
   * namespace), and the whole stream would go to the dead-letter queue. The task stops instead,
   * naming both keys, before it writes anything.
   */
  @Test
  void aPrimaryKeyOtherThanKeyFieldsStopsTheTaskNamingBothKeys() throws SQLException {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task = LocalTasks.started(url, context, "write.mode", "upsert", "key.fields", "id");
    task.put(List.of(record("{\"namespace\":\"a\",\"id\":\"k1\"}", 0)));
    task.stop();

    task = LocalTasks.started(url, context, "write.mode", "upsert", "key.fields", "namespace,id");
    List<SinkRecord> batch = List.of(record("{\"namespace\":\"a\",\"id\":\"k1\",\"v\":2}", 1));
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(batch));

    assertTrue(e.getMessage().contains("primary key (id)"), e.getMessage());
    assertTrue(e.getMessage().contains("(namespace, id)"), e.getMessage());
    assertEquals(List.of(), context.deadLettered());
    assertEquals(
        0, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories WHERE payload ? 'v'"));
  }

  /**
   * A primary key the database fills itself (a DBA's bigserial id) never refuses an event, so a
   * table keyed so, with a unique index on key.fields, is taken as it is.
   */
  @Test
  void aSerialPrimaryKeyBesideKeyFieldsIsAccepted() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE memories (row_id bigserial PRIMARY KEY, id text NOT NULL UNIQUE,"
            + " payload jsonb NOT NULL, kafka_topic text, kafka_partition integer,"
            + " kafka_offset bigint)");
    task =
        LocalTasks.started(
            url, new HandRunTaskContext(PARTITION), "write.mode", "upsert", "key.fields", "id");
    task.put(List.of(record("{\"id\":\"k1\"}", 0), record("{\"id\":\"k2\"}", 1)));
    assertEquals(2, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
  }

  private static SinkRecord record(String json, long offset) {
    return new SinkRecord(PARTITION.topic(), 0, null, null, null, json, offset);
  }
}
