package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Upsert keys at their edges: keys equal in the table's type but not as text, record keys that are
 * not strings, empty key parts, and tables whose key.fields are unique by an index other than the
 * primary key.
 */
class UpsertKeyEdgesTest {

  private static final String DATABASE = "upsert_key_edges";
  private static final TopicPartition PARTITION = new TopicPartition("memories", 0);
  private static final String UUID = "0f8fad5b-d9cb-469f-a165-70867728950e";

  private String url;
  private PostgresMemorySinkTask task;
  private final HandRunTaskContext context =
      new HandRunTaskContext(PARTITION).deadLetterQueue(true);

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

  // ---- 1. a tombstone after a write of its key, spelled otherwise --------------------------

  /**
   * "abc" written, then a tombstone of "ABC", in one batch of a citext-keyed table: record by
   * record the row is gone, as it is when the two are spelled alike. Deletes going first left it in
   * place.
   */
  @Test
  void aCitextTombstoneAfterAWriteSpelledOtherwiseInOneBatchDeletesTheRow() throws SQLException {
    citextTable();
    startUpsert("key.fields", "id");
    task.put(
        List.of(
            write("{\"id\":\"abc\",\"v\":1}", 0),
            write("{\"id\":\"other\",\"v\":1}", 1),
            tombstone("ABC", 2)));

    assertEquals(List.of(), context.deadLettered());
    assertEquals(0, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories WHERE id = 'abc'"));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
  }

  /** The same for two spellings of one uuid. */
  @Test
  void aUuidTombstoneAfterAWriteSpelledOtherwiseInOneBatchDeletesTheRow() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE memories (id uuid PRIMARY KEY, payload jsonb NOT NULL, kafka_topic text,"
            + " kafka_partition integer, kafka_offset bigint,"
            + " updated_at timestamptz NOT NULL DEFAULT now())");
    startUpsert("key.fields", "id");
    task.put(
        List.of(
            write("{\"id\":\"" + UUID + "\"}", 0), tombstone(UUID.toUpperCase(Locale.ROOT), 1)));

    assertEquals(List.of(), context.deadLettered());
    assertEquals(0, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
  }

  /**
   * A write whose key the table's type refuses, in a batch with a tombstone: the statement that
   * looks for keys spelled otherwise casts the writes' keys too, so it fails for that row's data.
   * The row alone is dead-lettered, and the tombstone still deletes its key's row.
   */
  @Test
  void aWriteKeyTheTypeRefusesBesideATombstoneIsDeadLetteredAlone() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE memories (id uuid PRIMARY KEY, payload jsonb NOT NULL, kafka_topic text,"
            + " kafka_partition integer, kafka_offset bigint,"
            + " updated_at timestamptz NOT NULL DEFAULT now())");
    startUpsert("key.fields", "id");
    task.put(
        List.of(
            write("{\"id\":\"" + UUID + "\"}", 0),
            write("{\"id\":\"not-a-uuid\"}", 1),
            tombstone(UUID.toUpperCase(Locale.ROOT), 2)));

    assertEquals(1, context.deadLettered().size());
    assertEquals(0, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
  }

  /**
   * A text key under a case-insensitive (nondeterministic) collation, with a two-field key: the
   * tombstone compares under the column's collation, not the default one its text arrives with.
   */
  @Test
  void aTombstoneAfterAWriteEqualUnderTheKeysCollationDeletesTheRow() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE COLLATION IF NOT EXISTS soma_ci (provider = icu, locale = 'und-u-ks-level2',"
            + " deterministic = false); CREATE TABLE memories (namespace text NOT NULL,"
            + " id text COLLATE soma_ci NOT NULL, payload jsonb NOT NULL, kafka_topic text,"
            + " kafka_partition integer, kafka_offset bigint,"
            + " updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (namespace, id))");
    startUpsert("key.fields", "namespace,id");
    task.put(
        List.of(
            write("{\"namespace\":\"n\",\"id\":\"abc\"}", 0),
            write("{\"namespace\":\"N\",\"id\":\"abc\"}", 1),
            new SinkRecord(
                PARTITION.topic(), 0, null, Map.of("namespace", "n", "id", "ABC"), null, null, 2)));

    assertEquals(List.of(), context.deadLettered());
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
    assertEquals(
        1, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories WHERE namespace = 'N'"));
  }

  /**
   * Record order in full: writes and tombstones of one citext key, each spelled its own way, leave
   * what the last record says: no row after a tombstone, the last write after a write.
   */
  @Test
  void citextWritesAndTombstonesSpelledOtherwiseApplyInRecordOrder() throws SQLException {
    citextTable();
    startUpsert("key.fields", "id");
    task.put(List.of(write("{\"id\":\"abc\",\"v\":0}", 0)));
    task.put(
        List.of(
            write("{\"id\":\"ABC\",\"v\":1}", 1),
            tombstone("aBc", 2),
            write("{\"id\":\"Abc\",\"v\":2}", 3),
            tombstone("abC", 4)));
    assertEquals(0, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));

    task.put(
        List.of(
            write("{\"id\":\"abc\",\"v\":3}", 5),
            tombstone("ABC", 6),
            write("{\"id\":\"aBC\",\"v\":4}", 7)));
    assertEquals(List.of(), context.deadLettered());
    assertEquals(
        4,
        LocalTasks.count(DATABASE, "SELECT (payload->>'v')::int FROM memories WHERE id = 'abc'"));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
  }

  /**
   * A tombstone compares its key in the table's type also with a row of an earlier batch: citext
   * "ABC" deletes the stored "abc" (a text comparison of citext and text did not).
   */
  @Test
  void aCitextTombstoneDeletesAStoredRowSpelledOtherwise() throws SQLException {
    citextTable();
    startUpsert("key.fields", "id");
    task.put(List.of(write("{\"id\":\"abc\"}", 0)));
    task.put(List.of(tombstone("ABC", 1)));

    assertEquals(List.of(), context.deadLettered());
    assertEquals(0, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
  }

  // ---- 2. record keys that are not strings --------------------------------------------------

  /** An event keyed by a boolean true is deleted by a tombstone whose record key is true. */
  @Test
  void aBooleanRecordKeyDeletesTheRowOfItsKey() throws SQLException {
    startUpsert("key.fields", "id");
    task.put(List.of(write("{\"id\":true}", 0), write("{\"id\":false}", 1)));
    task.put(List.of(new SinkRecord(PARTITION.topic(), 0, null, true, null, null, 2)));

    assertEquals(List.of(), context.deadLettered());
    assertEquals(0, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories WHERE id = 'true'"));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories WHERE id = 'false'"));
  }

  /** A number key (with or without its schema) names the row an event's number makes. */
  @Test
  void aNumberRecordKeyDeletesTheRowOfItsKey() throws SQLException {
    startUpsert("key.fields", "id");
    task.put(List.of(write("{\"id\":42}", 0), write("{\"id\":7}", 1)));
    task.put(
        List.of(
            new SinkRecord(PARTITION.topic(), 0, Schema.INT64_SCHEMA, 42L, null, null, 2),
            new SinkRecord(PARTITION.topic(), 0, null, 7, null, null, 3)));

    assertEquals(List.of(), context.deadLettered());
    assertEquals(0, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
  }

  /** With two key fields a single value cannot name a row: dead-lettered, saying so. */
  @Test
  void aBooleanRecordKeyWithTwoKeyFieldsIsDeadLetteredWithItsReason() throws SQLException {
    startUpsert("key.fields", "namespace,id");
    task.put(List.of(new SinkRecord(PARTITION.topic(), 0, null, true, null, null, 0)));

    assertEquals(1, context.deadLettered().size());
    String reason = context.deadLettered().get(0).getValue().getMessage();
    assertTrue(reason.contains("single value but 2 key fields"), reason);
  }

  /** An array names no row: dead-lettered, saying what the key is. */
  @Test
  void anArrayRecordKeyIsDeadLetteredWithItsReason() throws SQLException {
    startUpsert("key.fields", "id");
    task.put(List.of(new SinkRecord(PARTITION.topic(), 0, null, List.of("a"), null, null, 0)));

    assertEquals(1, context.deadLettered().size());
    String reason = context.deadLettered().get(0).getValue().getMessage();
    assertTrue(reason.contains("tombstone key is a JSON array"), reason);
  }

  // ---- 3. empty key parts -------------------------------------------------------------------

  /**
   * An empty or blank key part is refused as append mode refuses an empty event id: the event and
   * the tombstone are dead-lettered, naming the field; the rest of the batch lands.
   */
  @Test
  void anEmptyKeyPartIsDeadLetteredAsAnEmptyEventIdIs() throws SQLException {
    startUpsert("key.fields", "namespace,id");
    task.put(
        List.of(
            write("{\"namespace\":\"n\",\"id\":\"\"}", 0),
            write("{\"namespace\":\" \",\"id\":\"k\"}", 1),
            new SinkRecord(
                PARTITION.topic(), 0, null, Map.of("namespace", "n", "id", ""), null, null, 2),
            write("{\"namespace\":\"n\",\"id\":\"k\"}", 3)));

    List<String> reasons =
        context.deadLettered().stream().map(e -> e.getValue().getMessage()).toList();
    assertEquals(
        List.of(
            "key field 'id' is empty", "key field 'namespace' is empty", "key field 'id' is empty"),
        reasons);
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
  }

  // ---- 4. key.fields unique by an index other than the primary key --------------------------

  /**
   * A surrogate bigserial primary key and a unique constraint on key.fields: upserts and deletes.
   */
  @Test
  void aSurrogateKeyWithAUniqueConstraintOnKeyFieldsTakesUpsertsAndTombstones()
      throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE memories (row_id bigserial PRIMARY KEY, namespace text NOT NULL,"
            + " key text NOT NULL, payload jsonb NOT NULL, kafka_topic text,"
            + " kafka_partition integer, kafka_offset bigint,"
            + " updated_at timestamptz NOT NULL DEFAULT now(), UNIQUE (namespace, key))");
    startUpsert("key.fields", "namespace,key", "auto.evolve", "false");
    task.put(
        List.of(
            write("{\"namespace\":\"n\",\"key\":\"a\",\"v\":1}", 0),
            write("{\"namespace\":\"n\",\"key\":\"b\",\"v\":1}", 1)));
    task.put(
        List.of(
            write("{\"namespace\":\"n\",\"key\":\"a\",\"v\":2}", 2),
            new SinkRecord(
                PARTITION.topic(), 0, null, Map.of("namespace", "n", "key", "b"), null, null, 3)));

    assertEquals(List.of(), context.deadLettered());
    assertEquals(
        2, LocalTasks.count(DATABASE, "SELECT (payload->>'v')::int FROM memories WHERE key = 'a'"));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
  }

  /**
   * Without auto.evolve, a table with no unique index on key.fields that ON CONFLICT can use (none,
   * only a partial one, or a deferrable one) is refused before anything is written, naming the
   * table and the key, rather than failing at its first statement with SQLSTATE 42P10.
   */
  @Test
  void aTableWithoutAUsableUniqueIndexOnKeyFieldsIsRefusedNamingTableAndKey() throws SQLException {
    for (String unique :
        List.of(
            "",
            ", UNIQUE (namespace, key) DEFERRABLE",
            "); CREATE UNIQUE INDEX ON memories (namespace, key) WHERE key <> 'x'; SELECT (1")) {
      url = SERVER.createDatabase(DATABASE);
      LocalTasks.execute(
          DATABASE,
          "CREATE TABLE memories (row_id bigserial PRIMARY KEY, namespace text NOT NULL,"
              + " key text NOT NULL, payload jsonb NOT NULL, kafka_topic text,"
              + " kafka_partition integer, kafka_offset bigint,"
              + " updated_at timestamptz NOT NULL DEFAULT now()"
              + unique
              + ")");
      startUpsert("key.fields", "namespace,key", "auto.evolve", "false");
      List<SinkRecord> batch = List.of(write("{\"namespace\":\"n\",\"key\":\"a\"}", 0));
      ConnectException e = assertThrows(ConnectException.class, () -> task.put(batch), unique);

      assertTrue(e.getMessage().contains("\"public\".\"memories\""), e.getMessage());
      assertTrue(e.getMessage().contains("unique index on (namespace, key)"), e.getMessage());
      assertEquals(List.of(), context.deadLettered());
      assertEquals(0, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
      task.stop();
      task = null;
    }
  }

  /**
   * With auto.evolve, an unusable index already holding the name the sink gives its own (a partial
   * one): CREATE INDEX IF NOT EXISTS kept it, the log said a unique index was added, and every
   * upsert then failed with a bare SQLSTATE 42P10. The task stops naming the index.
   */
  @Test
  void anUnusableIndexUnderTheSinksIndexNameStopsTheTaskNamingIt() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE memories (row_id bigserial PRIMARY KEY, namespace text NOT NULL,"
            + " key text NOT NULL, payload jsonb NOT NULL, kafka_topic text,"
            + " kafka_partition integer, kafka_offset bigint,"
            + " updated_at timestamptz NOT NULL DEFAULT now());"
            + " CREATE UNIQUE INDEX memories_soma_key ON memories (namespace, key)"
            + " WHERE key <> 'x'");
    startUpsert("key.fields", "namespace,key");
    List<SinkRecord> batch = List.of(write("{\"namespace\":\"n\",\"key\":\"a\"}", 0));
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(batch));

    assertTrue(e.getMessage().contains("\"memories_soma_key\""), e.getMessage());
    assertTrue(e.getMessage().contains("drop or rename that index"), e.getMessage());
    assertEquals(0, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
  }

  /**
   * With auto.evolve, a partial unique index on key.fields is not taken for one ON CONFLICT can
   * use: a full one is added, and the upserts land.
   */
  @Test
  void aPartialUniqueIndexOnKeyFieldsGetsAFullOneWithAutoEvolve() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE memories (row_id bigserial PRIMARY KEY, namespace text NOT NULL,"
            + " key text NOT NULL, payload jsonb NOT NULL, kafka_topic text,"
            + " kafka_partition integer, kafka_offset bigint,"
            + " updated_at timestamptz NOT NULL DEFAULT now());"
            + " CREATE UNIQUE INDEX ON memories (namespace, key) WHERE key <> 'x'");
    startUpsert("key.fields", "namespace,key");
    task.put(
        List.of(
            write("{\"namespace\":\"n\",\"key\":\"a\",\"v\":1}", 0),
            write("{\"namespace\":\"n\",\"key\":\"a\",\"v\":2}", 1)));
    task.put(List.of(write("{\"namespace\":\"n\",\"key\":\"a\",\"v\":3}", 2)));

    assertEquals(List.of(), context.deadLettered());
    assertEquals(
        3, LocalTasks.count(DATABASE, "SELECT (payload->>'v')::int FROM memories WHERE key = 'a'"));
  }

  /** A unique index on key.fields with INCLUDE columns is one ON CONFLICT uses: taken as it is. */
  @Test
  void aUniqueIndexOnKeyFieldsWithIncludedColumnsIsTakenAsItIs() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE memories (row_id bigserial PRIMARY KEY, namespace text NOT NULL,"
            + " key text NOT NULL, payload jsonb NOT NULL, kafka_topic text,"
            + " kafka_partition integer, kafka_offset bigint,"
            + " updated_at timestamptz NOT NULL DEFAULT now());"
            + " CREATE UNIQUE INDEX ON memories (namespace, key) INCLUDE (kafka_offset)");
    startUpsert("key.fields", "namespace,key", "auto.evolve", "false");
    task.put(
        List.of(
            write("{\"namespace\":\"n\",\"key\":\"a\",\"v\":1}", 0),
            write("{\"namespace\":\"n\",\"key\":\"b\",\"v\":1}", 1)));
    task.put(List.of(write("{\"namespace\":\"n\",\"key\":\"a\",\"v\":2}", 2)));

    assertEquals(List.of(), context.deadLettered());
    assertEquals(2, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
  }

  // ---- key columns named like the delete statement's own aliases ---------------------------

  /**
   * Key fields named topic, partition and offset: their tombstones delete the row, as any other
   * key's do. The delete statement had aliased them d_topic, d_partition and d_offset, the very
   * names of its own position aliases, so every tombstone batch failed the task.
   */
  @Test
  void keyFieldsNamedTopicPartitionAndOffsetTakeTombstones() throws SQLException {
    startUpsert("key.fields", "topic,partition,offset");
    task.put(
        List.of(
            write("{\"topic\":\"t\",\"partition\":\"p\",\"offset\":\"o\",\"v\":1}", 0),
            write("{\"topic\":\"t\",\"partition\":\"p\",\"offset\":\"other\",\"v\":1}", 1)));
    task.put(
        List.of(
            new SinkRecord(
                PARTITION.topic(),
                0,
                null,
                Map.of("topic", "t", "partition", "p", "offset", "o"),
                null,
                null,
                2)));

    assertEquals(List.of(), context.deadLettered());
    assertEquals(
        0, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories WHERE \"offset\" = 'o'"));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
  }

  /** The same for a single key field named topic, in a citext table (writes' keys are sent too). */
  @Test
  void aKeyFieldNamedTopicInACitextTableTakesTombstones() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE EXTENSION IF NOT EXISTS citext; CREATE TABLE memories (topic citext PRIMARY KEY,"
            + " payload jsonb NOT NULL, kafka_topic text, kafka_partition integer,"
            + " kafka_offset bigint, updated_at timestamptz NOT NULL DEFAULT now())");
    startUpsert("key.fields", "topic");
    task.put(
        List.of(
            write("{\"topic\":\"abc\",\"v\":1}", 0),
            write("{\"topic\":\"other\",\"v\":1}", 1),
            tombstone("ABC", 2)));

    assertEquals(List.of(), context.deadLettered());
    assertEquals(
        0, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories WHERE topic = 'abc'"));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM memories"));
  }

  private void citextTable() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE EXTENSION IF NOT EXISTS citext; CREATE TABLE memories (id citext PRIMARY KEY,"
            + " payload jsonb NOT NULL, kafka_topic text, kafka_partition integer,"
            + " kafka_offset bigint, updated_at timestamptz NOT NULL DEFAULT now())");
  }

  private void startUpsert(String... options) {
    String[] props = new String[options.length + 2];
    props[0] = "write.mode";
    props[1] = "upsert";
    System.arraycopy(options, 0, props, 2, options.length);
    task = LocalTasks.started(url, context, props);
  }

  private static SinkRecord write(String json, long offset) {
    return new SinkRecord(PARTITION.topic(), 0, null, null, null, json, offset);
  }

  private static SinkRecord tombstone(String key, long offset) {
    return new SinkRecord(PARTITION.topic(), 0, null, key, null, null, offset);
  }
}
