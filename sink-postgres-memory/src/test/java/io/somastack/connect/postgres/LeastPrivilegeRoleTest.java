package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.postgres.write.OffsetStore;
import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.SQLException;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A connection.user that may not run DDL (no CREATE on the schema, as PostgreSQL 15 gives ordinary
 * roles on public), with the tables made beforehand by someone who may, as the documentation says
 * (sql/seed-tables.sql), and granted the privileges connection.user's documentation names.
 */
class LeastPrivilegeRoleTest {

  private static final String DATABASE = "least_privilege";
  private static final String ROLE = "soma_sink_least_privilege";
  private static final TopicPartition PARTITION = new TopicPartition("memories", 0);

  private String url;
  private final PostgresMemorySinkTask task = new PostgresMemorySinkTask();

  @BeforeEach
  void createDatabase() throws SQLException {
    url = SERVER.createDatabase(DATABASE);
    LocalTasks.loginRoleWithoutCreate(DATABASE, ROLE);
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE memories (event_id text NOT NULL UNIQUE, payload jsonb NOT NULL,"
            + " kafka_topic text NOT NULL, kafka_partition integer NOT NULL,"
            + " kafka_offset bigint NOT NULL, ingested_at timestamptz NOT NULL DEFAULT now());"
            + " GRANT SELECT, INSERT, UPDATE, DELETE ON memories TO "
            + ROLE);
  }

  @AfterEach
  void stopTask() {
    task.stop();
  }

  @Test
  void writesWithTheOffsetsTableMadeBeforehand() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        OffsetStore.createTableSql("soma_connect_offsets")
            + "; GRANT SELECT, INSERT, UPDATE, DELETE ON soma_connect_offsets TO "
            + ROLE);
    start();
    task.put(List.of(record("a", 0), record("b", 1)));
    task.put(List.of(record("c", 2)));

    assertEquals(3, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
    assertEquals(3, LocalTasks.count(DATABASE, "SELECT next_offset FROM soma_connect_offsets"));
  }

  /** Without the offsets table the task stops, saying which table and which privilege it lacks. */
  @Test
  void aMissingOffsetsTableItMayNotCreateIsNamed() {
    ConnectException e =
        assertThrows(
            ConnectException.class,
            () -> {
              start();
              task.put(List.of(record("a", 0)));
            });
    assertTrue(e.getMessage().contains("\"public\".\"soma_connect_offsets\""), e.getMessage());
    assertTrue(e.getMessage().contains("CREATE"), e.getMessage());
  }

  /**
   * An upsert table made without the time column upserts set (a DBA's, or one made for append),
   * owned by another role: the task stops naming the column and the statement its owner runs, not
   * with PostgreSQL's bare "must be owner of table".
   */
  @Test
  void anUpsertTableWithoutItsTimeColumnIsNamedWithItsStatement() throws SQLException {
    String[] upsert = {"write.mode", "upsert", "key.fields", "id", "table.name.format", "kv"};
    PostgresMemorySinkTask maker =
        LocalTasks.started(url, new HandRunTaskContext(PARTITION), upsert);
    maker.put(List.of(record("a", 0)));
    maker.stop();
    LocalTasks.execute(
        DATABASE,
        "ALTER TABLE kv DROP COLUMN updated_at; GRANT SELECT, INSERT, UPDATE, DELETE ON kv,"
            + " soma_connect_offsets TO "
            + ROLE);

    List<String> options =
        new java.util.ArrayList<>(
            List.of("connection.user", ROLE, "connection.password", ROLE, "auto.create", "false"));
    options.addAll(List.of(upsert));
    ConnectException e =
        assertThrows(
            ConnectException.class,
            () -> {
              LocalTasks.started(
                  task, url, new HandRunTaskContext(PARTITION), options.toArray(String[]::new));
              task.put(List.of(record("b", 1)));
            });
    assertTrue(e.getMessage().contains("lacks column(s) updated_at"), e.getMessage());
    assertTrue(
        e.getMessage().contains("ADD COLUMN IF NOT EXISTS \"updated_at\" timestamptz"),
        e.getMessage());
  }

  private void start() {
    LocalTasks.started(
        task,
        url,
        new HandRunTaskContext(PARTITION),
        "connection.user",
        ROLE,
        "connection.password",
        ROLE,
        "auto.create",
        "false");
  }

  private static SinkRecord record(String id, long offset) {
    return new SinkRecord(
        PARTITION.topic(),
        0,
        null,
        null,
        null,
        "{\"event_id\":\"" + id + "\",\"id\":\"" + id + "\"}",
        offset);
  }
}
