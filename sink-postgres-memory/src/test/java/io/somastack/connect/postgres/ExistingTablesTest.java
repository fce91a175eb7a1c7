package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
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

  /**
   * A primary key on key.fields plus a column the sink writes (a DBA's tenant) holds nothing the
   * unique index on key.fields lets in twice: it refuses no event, and the table is taken as it is,
   * as it was before the check of primary keys.
   */
  @Test
  void aPrimaryKeyOnKeyFieldsAndAWrittenColumnIsAccepted() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE memories (tenant text NOT NULL, id text NOT NULL UNIQUE,"
            + " payload jsonb NOT NULL, kafka_topic text, kafka_partition integer,"
            + " kafka_offset bigint, updated_at timestamptz NOT NULL DEFAULT now(),"
            + " PRIMARY KEY (tenant, id))");
    task =
        LocalTasks.started(
            url,
            new HandRunTaskContext(PARTITION),
            "write.mode",
            "upsert",
            "key.fields",
            "id",
            "columns",
            "tenant:text:tenant");
    task.put(List.of(record("{\"tenant\":\"a\",\"id\":\"k1\"}", 0)));
    task.put(List.of(record("{\"tenant\":\"b\",\"id\":\"k1\"}", 1)));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories WHERE tenant = 'b'"));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
  }

  /**
   * A default on a primary-key column the sink writes (a DBA's namespace DEFAULT 'default') is
   * never used: the column holds the event's value, and the old key refuses events of the wider
   * key.fields as any other would. The task stops rather than dead-letter them one by one.
   */
  @Test
  void aDefaultOnAWrittenPrimaryKeyColumnDoesNotHideAnOldKey() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE memories (namespace text NOT NULL DEFAULT 'default', id text NOT NULL,"
            + " region text NOT NULL, payload jsonb NOT NULL, kafka_topic text,"
            + " kafka_partition integer, kafka_offset bigint,"
            + " updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (namespace, id))");
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task =
        LocalTasks.started(
            url, context, "write.mode", "upsert", "key.fields", "namespace,id,region");
    List<SinkRecord> batch =
        List.of(
            record("{\"namespace\":\"a\",\"id\":\"k1\",\"region\":\"eu\"}", 0),
            record("{\"namespace\":\"a\",\"id\":\"k1\",\"region\":\"us\"}", 1));
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(batch));
    assertTrue(e.getMessage().contains("primary key (namespace, id)"), e.getMessage());
    assertEquals(List.of(), context.deadLettered());
  }

  /**
   * The write-time column is added only where the sink writes it (upsert's updated_at): an append
   * table a DBA made without ingested_at, written by a role that may insert but not alter it, is
   * taken as it is; an ALTER TABLE would stop the task with "must be owner".
   */
  @Test
  void anAppendTableWithoutIngestedAtIsWrittenByARoleThatMayNotAlterIt() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'soma_insert_only')"
            + " THEN CREATE ROLE soma_insert_only LOGIN PASSWORD 'insert-only'; END IF; END$$;"
            + " GRANT USAGE, CREATE ON SCHEMA public TO soma_insert_only;"
            + " CREATE TABLE events (event_id text NOT NULL UNIQUE, payload jsonb NOT NULL,"
            + " kafka_topic text NOT NULL, kafka_partition integer NOT NULL,"
            + " kafka_offset bigint NOT NULL);"
            + " GRANT SELECT, INSERT ON events TO soma_insert_only");
    task =
        LocalTasks.started(
            url,
            new HandRunTaskContext(PARTITION),
            "write.mode",
            "append",
            "table.name.format",
            "events",
            "auto.create",
            "false",
            "connection.user",
            "soma_insert_only",
            "connection.password",
            "insert-only");
    task.put(List.of(record("{\"event_id\":\"e1\"}", 0)));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM events"));
  }

  /**
   * A DBA's table may hold a key and an owner as uuid, and a score as numeric, where the sink would
   * make text and double precision. Upserts and tombstones convert text to the table's types (as
   * COPY's text format does in append mode) rather than fail every batch with SQLSTATE 42804; the
   * double reaches numeric by PostgreSQL's own assignment.
   */
  @Test
  void aHandMadeTableWithOtherColumnTypesTakesUpsertsAndTombstones() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE memories (id uuid PRIMARY KEY, payload jsonb NOT NULL, kafka_topic text,"
            + " kafka_partition integer, kafka_offset bigint, score numeric, owner uuid,"
            + " updated_at timestamptz NOT NULL DEFAULT now())");
    String a = "0f8fad5b-d9cb-469f-a165-70867728950e";
    String b = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
    task =
        LocalTasks.started(
            url,
            new HandRunTaskContext(PARTITION),
            "write.mode",
            "upsert",
            "key.fields",
            "id",
            "columns",
            "score:double:score,owner:text:owner");
    task.put(
        List.of(
            record("{\"id\":\"" + a + "\",\"score\":0.25}", 0),
            record("{\"id\":\"" + b + "\",\"score\":1}", 1),
            record("{\"id\":\"" + a + "\",\"score\":0.5,\"owner\":\"" + b + "\"}", 2)));
    task.put(List.of(new SinkRecord(PARTITION.topic(), 0, null, b, null, null, 3)));

    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
    assertEquals(
        1,
        LocalTasks.count(
            DATABASE,
            "SELECT count(*) FROM memories WHERE id = '"
                + a
                + "' AND score = 0.5 AND owner = '"
                + b
                + "'"));
  }

  /**
   * Append mode COPYs in text format into such a table; a true duplicate id makes it write the
   * batch again with INSERT ... ON CONFLICT DO NOTHING, which must convert the same way.
   */
  @Test
  void aHandMadeAppendTableWithAUuidIdTakesATrueDuplicate() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE memories (event_id uuid NOT NULL UNIQUE, payload jsonb NOT NULL,"
            + " kafka_topic text, kafka_partition integer, kafka_offset bigint)");
    String id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    String other = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
    task = LocalTasks.started(url, new HandRunTaskContext(PARTITION), "write.mode", "append");
    task.put(List.of(record("{\"event_id\":\"" + id + "\"}", 0)));
    task.put(
        List.of(
            record("{\"event_id\":\"" + id + "\"}", 1), // produced twice
            record("{\"event_id\":\"" + other + "\"}", 2)));

    assertEquals(2, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
  }

  /**
   * A citext key makes "abc" and "ABC" one row, though the batch keeps them apart by their text:
   * one upsert statement with both would fail with SQLSTATE 21000 and stop the task. The later
   * event wins, as it would record by record, and both count as written.
   */
  @Test
  void aCitextKeyWrittenInTwoCasesInOneBatchKeepsTheLaterEvent() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE EXTENSION IF NOT EXISTS citext; CREATE TABLE memories (id citext PRIMARY KEY,"
            + " payload jsonb NOT NULL, kafka_topic text, kafka_partition integer,"
            + " kafka_offset bigint, updated_at timestamptz NOT NULL DEFAULT now())");
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task = LocalTasks.started(url, context, "write.mode", "upsert", "key.fields", "id");
    task.put(
        List.of(
            record("{\"id\":\"abc\",\"v\":1}", 0),
            record("{\"id\":\"other\",\"v\":1}", 1),
            record("{\"id\":\"ABC\",\"v\":2}", 2)));

    assertEquals(List.of(), context.deadLettered());
    assertEquals(2, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
    assertEquals(
        2,
        LocalTasks.count(DATABASE, "SELECT (payload->>'v')::int FROM memories WHERE id = 'abc'"));
    assertEquals(3, context.metric("records-written-total"));
  }

  /**
   * A uuid key takes its text in any case: two spellings of one uuid in one batch are one row, and
   * the later event wins rather than the task stopping with SQLSTATE 21000.
   */
  @Test
  void aUuidKeySpelledInTwoCasesInOneBatchKeepsTheLaterEvent() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE memories (id uuid PRIMARY KEY, payload jsonb NOT NULL, kafka_topic text,"
            + " kafka_partition integer, kafka_offset bigint,"
            + " updated_at timestamptz NOT NULL DEFAULT now())");
    String lower = "0f8fad5b-d9cb-469f-a165-70867728950e";
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task = LocalTasks.started(url, context, "write.mode", "upsert", "key.fields", "id");
    task.put(
        List.of(
            record("{\"id\":\"" + lower.toUpperCase(Locale.ROOT) + "\",\"v\":1}", 0),
            record("{\"id\":\"" + lower + "\",\"v\":2}", 1)));

    assertEquals(List.of(), context.deadLettered());
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
    assertEquals(
        2,
        LocalTasks.count(
            DATABASE, "SELECT (payload->>'v')::int FROM memories WHERE id = '" + lower + "'"));
    assertEquals(2, context.metric("records-written-total"));
  }

  private static SinkRecord record(String json, long offset) {
    return new SinkRecord(PARTITION.topic(), 0, null, null, null, json, offset);
  }
}
