package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.converters.ByteArrayConverter;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.storage.SimpleHeaderConverter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * write.mode=dead_letter run by hand against a real PostgreSQL, with dead letters as Connect's
 * DeadLetterQueueReporter writes them: the failed record's key and value bytes, its own headers,
 * then the __connect.errors.* headers, every one UTF-8 text (numbers as decimal text).
 */
class DeadLetterLandingTest {

  private static final String DATABASE = "dead_letter_landing";
  private static final TopicPartition DLQ = new TopicPartition("memory.wal.dlq", 0);
  private static final String PREFIX = "__connect.errors.";

  private String url;
  private final List<PostgresMemorySinkTask> tasks = new ArrayList<>();

  @BeforeEach
  void createDatabase() {
    url = SERVER.createDatabase(DATABASE);
  }

  @AfterEach
  void stopTasks() {
    tasks.forEach(PostgresMemorySinkTask::stop);
  }

  /**
   * The outbox source creates dlq with error NOT NULL. A dead letter without the message header
   * (put on the topic by hand, or an exception without a message, for which Connect writes the
   * header with a null value) must land there too: the archive has no dead-letter queue of its own.
   */
  @Test
  void aDeadLetterWithoutAMessageLandsInTheOutboxsDlqTable() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE \"public\".\"dlq\" (\"id\" bigserial PRIMARY KEY, \"topic\" text,"
            + " \"event\" jsonb NOT NULL, \"error\" text NOT NULL,"
            + " \"created_at\" timestamptz NOT NULL DEFAULT now())");
    ConnectHeaders nullMessage = connectHeaders("memory.wal", 0, 150);
    nullMessage.addBytes(PREFIX + "exception.class.name", utf8("java.lang.NullPointerException"));
    nullMessage.addBytes(PREFIX + "exception.message", null);
    PostgresMemorySinkTask task = start("dlq-archive");
    task.put(
        List.of(
            record(utf8("{}"), 0, nullMessage),
            record(utf8("{}"), 1, new ConnectHeaders()))); // put on the DLQ topic by hand

    assertEquals(
        "no error message header; exception class java.lang.NullPointerException",
        text("SELECT error FROM dlq WHERE kafka_offset = 0"));
    assertTrue(text("SELECT error FROM dlq WHERE kafka_offset = 1").startsWith("no error headers"));
    assertNull(text("SELECT topic FROM dlq WHERE kafka_offset = 1"));
  }

  /**
   * A dead letter is often not JSON. Each lands whole, in a form jsonb holds, and event_format says
   * which: json (as it came), text (UTF-8 that is not JSON, as a JSON string), base64 (bytes jsonb
   * cannot hold as text: not UTF-8, a NUL, an unpaired surrogate), tombstone (JSON null).
   */
  @Test
  void everyValueLandsWholeAndItsFormatIsRecorded() throws SQLException {
    byte[] binary = {(byte) 0xff, 0x00, 0x41};
    byte[] nulEscape = utf8("{\"a\":\"x\\u0000y\"}");
    byte[] rawNul = utf8("a\u0000b");
    byte[] loneSurrogate = utf8("{\"a\":\"\\ud800\"}");
    PostgresMemorySinkTask task = start("dlq-archive");
    List<SinkRecord> records = new ArrayList<>();
    Object[] values = {
      binary,
      utf8("not json"),
      new byte[0],
      null,
      nulEscape,
      rawNul,
      loneSurrogate,
      utf8("{\"a\":1,\"a\":2}"),
      utf8("{\"a\":\"\\\\u0000\"}"),
      "\"a JSON string\"",
    };
    for (int i = 0; i < values.length; i++) {
      records.add(record(values[i], i, messageHeaders("reason " + i)));
    }
    task.put(records);

    assertLanded(0, "base64", json(Base64.getEncoder().encodeToString(binary)));
    assertLanded(1, "text", "\"not json\"");
    assertLanded(2, "text", "\"\"");
    assertLanded(3, "tombstone", "null");
    assertLanded(4, "base64", json(Base64.getEncoder().encodeToString(nulEscape)));
    assertLanded(5, "base64", json(Base64.getEncoder().encodeToString(rawNul)));
    assertLanded(6, "base64", json(Base64.getEncoder().encodeToString(loneSurrogate)));
    assertLanded(7, "text", "\"{\\\"a\\\":1,\\\"a\\\":2}\""); // a duplicate key is not JSON here
    assertLanded(8, "json", "{\"a\": \"\\\\u0000\"}"); // an escaped backslash, not a NUL
    assertLanded(9, "json", "\"a JSON string\"");
  }

  /**
   * JSON that Jackson reads but jsonb refuses: a number beyond PostgreSQL's numeric (over 131072
   * digits before the point, or 16383 after). Written as JSON it would stop the archive (SQLSTATE
   * 22003); its bytes land as base64.
   */
  @Test
  void jsonWithANumberBeyondNumericLandsAsBase64() throws SQLException {
    byte[] huge = utf8("{\"a\":1e1000000}");
    byte[] tiny = utf8("[1e-20000]");
    byte[] large = utf8("{\"a\":1e100000}"); // within numeric: stays JSON
    PostgresMemorySinkTask task = start("dlq-archive");
    task.put(
        List.of(
            record(huge, 0, messageHeaders("SQLSTATE 22003")),
            record(tiny, 1, messageHeaders("SQLSTATE 22003")),
            record(large, 2, messageHeaders("fine"))));

    assertLanded(0, "base64", json(Base64.getEncoder().encodeToString(huge)));
    assertLanded(1, "base64", json(Base64.getEncoder().encodeToString(tiny)));
    assertEquals("json", text("SELECT event_format FROM dlq WHERE kafka_offset = 2"));
  }

  /**
   * A number whose exponent is beyond an int, which Jackson refuses with a NumberFormatException
   * (quoting it) rather than a parse error: the dead letter is not JSON here, and lands as its
   * text, as a duplicate key's does, instead of failing the archive.
   */
  @Test
  void jsonWithAnExponentJacksonCannotReadLandsAsText() throws SQLException {
    PostgresMemorySinkTask task = start("dlq-archive");
    task.put(
        List.of(
            record(utf8("{\"a\":1e99999999999}"), 0, messageHeaders("bytes")),
            record("[1e99999999999]", 1, messageHeaders("text"))));

    assertLanded(0, "text", "\"{\\\"a\\\":1e99999999999}\"");
    assertLanded(1, "text", "\"[1e99999999999]\"");
  }

  /**
   * A value handed over as a ByteBuffer (as a transform may leave it) lands as its bytes would, as
   * a key does: not as the buffer's description, which would lose the dead letter.
   */
  @Test
  void aByteBufferValueLandsAsItsBytes() throws SQLException {
    byte[] binary = {(byte) 0xff, 0x00, 0x41};
    PostgresMemorySinkTask task = start("dlq-archive");
    task.put(
        List.of(
            record(ByteBuffer.wrap(utf8("not json")), 0, messageHeaders("text")),
            record(ByteBuffer.wrap(binary), 1, messageHeaders("binary")),
            record(ByteBuffer.wrap(utf8("{\"a\":1}")), 2, messageHeaders("json"))));

    assertLanded(0, "text", "\"not json\"");
    assertLanded(1, "base64", json(Base64.getEncoder().encodeToString(binary)));
    assertLanded(2, "json", "{\"a\": 1}");
  }

  /**
   * A dead-letter topic read with JsonConverter (schemas.enable=false) hands over a Map. A string
   * in it may hold NUL, which jsonb refuses (\u0000): the value lands as base64 of its JSON text,
   * as it did before event_format, instead of stopping the archive. A value JSON cannot hold (NaN)
   * lands as its text, and says so.
   */
  @Test
  void aConvertedValueJsonbCannotHoldLandsAsBase64OrText() throws SQLException {
    PostgresMemorySinkTask task = start("dlq-archive");
    task.put(
        List.of(
            record(Map.of("a", "x\u0000y"), 0, messageHeaders("nul")),
            record(Map.of("a", Double.NaN), 1, messageHeaders("nan")),
            record(Map.of("a", 1), 2, messageHeaders("fine"))));

    assertLanded(
        0, "base64", json(Base64.getEncoder().encodeToString(utf8("{\"a\":\"x\\u0000y\"}"))));
    assertEquals("text", text("SELECT event_format FROM dlq WHERE kafka_offset = 1"));
    assertLanded(2, "json", "{\"a\": 1}");
  }

  /**
   * A dead-letter topic read with a converter that keeps schemas (Avro, JsonConverter with
   * schemas.enable=true) hands over values with their schema: each lands as the JSON of its value
   * read with that schema, as its key does. A bare number is JSON (42, not the text "42"); a
   * Timestamp its ISO text, not Java's text of a Date, which depends on the worker's time zone; a
   * map of Dates their YYYY-MM-DD, not a timestamp.
   */
  @Test
  void aValueWithASchemaLandsAsItsJson() throws SQLException {
    Schema dates = SchemaBuilder.map(Schema.STRING_SCHEMA, Date.SCHEMA).build();
    java.util.Date day = new java.util.Date(19_000L * 86_400_000L);
    PostgresMemorySinkTask task = start("dlq-archive");
    task.put(
        List.of(
            record(Schema.INT64_SCHEMA, 42L, 0),
            record(Timestamp.SCHEMA, new java.util.Date(1_700_000_000_123L), 1),
            record(dates, Map.of("k", day), 2)));

    assertLanded(0, "json", "42");
    assertLanded(1, "json", "\"2023-11-14T22:13:20.123Z\"");
    assertLanded(2, "json", "{\"k\": \"2022-01-08\"}");
  }

  /**
   * A replay needs the key (it picks the partition, and the row of a compacted topic or an upsert
   * sink) as the bytes it was, and the record's timestamp. The shipped archive reads keys with
   * ByteArrayConverter: text lands as it came, bytes text cannot hold as base64, and the SQL the
   * README gives turns either back into the very bytes.
   */
  @Test
  void keysAndTimestampsLandSoThatADeadLetterCanBeReplayed() throws SQLException {
    byte[] binary = {(byte) 0xff, 0x00, 0x41};
    byte[] jsonKey = utf8("{ \"tenant\": \"acme\",\"id\":7 }");
    Object[][] keys = {{utf8("order-17"), "text"}, {jsonKey, "json"}, {binary, "base64"}};
    List<SinkRecord> records = new ArrayList<>();
    for (int i = 0; i < keys.length; i++) {
      records.add(record(keys[i][0], 1714979289123L + i, utf8("{}"), i, messageHeaders("bad")));
    }
    records.add(record(null, null, utf8("{}"), 3, messageHeaders("no key, no timestamp")));
    start("dlq-archive").put(records);

    for (int i = 0; i < keys.length; i++) {
      String row = " FROM dlq WHERE kafka_offset = " + i;
      assertEquals(keys[i][1], text("SELECT event_key_format" + row));
      assertEquals(
          HexFormat.of().formatHex((byte[]) keys[i][0]),
          text("SELECT encode(" + KEY_BYTES + ", 'hex')" + row));
      assertEquals(
          String.valueOf(1714979289123L + i),
          text("SELECT (extract(epoch FROM event_timestamp) * 1000)::bigint::text" + row));
    }
    assertEquals("order-17", text("SELECT event_key FROM dlq WHERE kafka_offset = 0"));
    assertEquals(
        "1|null",
        text(
            "SELECT concat_ws('|', count(*), min(event_key_format)) FROM dlq"
                + " WHERE kafka_offset = 3 AND event_key IS NULL AND event_timestamp IS NULL"));
  }

  /**
   * A key a converter made may hold a UTF-16 surrogate that is not half of a pair (JsonConverter
   * reads the escape \\ud800 as one); no UTF-8 holds it, and sent as text it would reach the column
   * as "?". It lands as JSON with the surrogate escaped, which reads back as the very key: the
   * bytes JsonConverter took it from, but for spacing.
   */
  @Test
  void aKeyWithALoneSurrogateLandsAsJsonThatReadsBackAsThatKey() throws Exception {
    ObjectMapper mapper = new ObjectMapper();
    JsonNodeFactory nodes = mapper.getNodeFactory();
    Object[][] keys = { // the key, its event_key, and the JSON that reads back as it
      {"abc\ud800", "\"abc\\ud800\"", nodes.textNode("abc\ud800")},
      { // JSON text: escaped where it stands
        "{\"a\":\"\udc00x\"}", "{\"a\":\"\\udc00x\"}", nodes.objectNode().put("a", "\udc00x")
      },
      { // a pair stays as it is
        Map.of("k", "\ud83d\ude00\ud83d"),
        "{\"k\":\"\ud83d\ude00\\ud83d\"}",
        nodes.objectNode().put("k", "\ud83d\ude00\ud83d")
      },
      {"x\u0000\udfff", "\"x\\u0000\\udfff\"", nodes.textNode("x\u0000\udfff")},
    };
    List<SinkRecord> records = new ArrayList<>();
    for (int i = 0; i < keys.length; i++) {
      records.add(record(keys[i][0], null, utf8("{}"), i, messageHeaders("bad")));
    }
    start("dlq-archive").put(records);

    for (int i = 0; i < keys.length; i++) {
      String row = " FROM dlq WHERE kafka_offset = " + i;
      assertEquals("json", text("SELECT event_key_format" + row));
      String stored = text("SELECT event_key" + row);
      assertEquals(keys[i][1], stored);
      assertEquals(keys[i][2], mapper.readTree(stored));
    }
  }

  /**
   * batch.max.bytes bounds a statement's bytes; a dead letter's key is unbounded (record.max.bytes
   * counts its value), so it counts too: four small dead letters with 1000-character keys are four
   * statements under a bound of 1024, not one of 4000 key characters.
   */
  @Test
  void largeKeysCountTowardBatchMaxBytes() throws SQLException, IOException {
    for (String statement : seedStatementsOf("dlq-archive.json")) {
      LocalTasks.execute(DATABASE, statement);
    }
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE statements (n integer); CREATE FUNCTION count_statement() RETURNS trigger"
            + " LANGUAGE plpgsql AS $$BEGIN INSERT INTO statements VALUES (1); RETURN NULL;"
            + " END$$; CREATE TRIGGER count_statements AFTER INSERT ON dlq"
            + " FOR EACH STATEMENT EXECUTE FUNCTION count_statement()");
    List<SinkRecord> records = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      records.add(record(utf8("k".repeat(1000)), null, utf8("{}"), i, messageHeaders("bad")));
    }
    start("dlq-archive", "batch.max.bytes", "1024").put(records);

    assertEquals(4, LocalTasks.count(DATABASE, "SELECT count(*) FROM dlq"));
    assertEquals(4, LocalTasks.count(DATABASE, "SELECT count(*) FROM statements"));
  }

  /** The key's bytes from event_key, as the README's replay query reads them. */
  private static final String KEY_BYTES =
      "CASE event_key_format WHEN 'base64' THEN decode(event_key, 'base64')"
          + " ELSE convert_to(event_key, 'UTF8') END";

  /**
   * A dlq table from before event_key (made by an earlier version, or by its seed-tables.sql) gets
   * the new columns from auto.evolve: nullable, so PostgreSQL adds them to the catalog alone,
   * without rewriting the table (its file stays the same), and its rows stay as they were.
   */
  @Test
  void anOlderDlqTableGetsTheKeyColumnsWithItsRowsIntact() throws SQLException {
    LocalTasks.execute(DATABASE, DLQ_BEFORE_KEYS);
    LocalTasks.execute(
        DATABASE,
        "INSERT INTO dlq (topic, event, event_format, error, kafka_topic, kafka_partition,"
            + " kafka_offset) VALUES ('memory.wal', '{\"old\": true}', 'json', 'old failure',"
            + " 'memory.wal.dlq', 0, 0)");
    String file = text("SELECT pg_relation_filenode('dlq')::text");

    start("dlq-archive").put(List.of(record(utf8("k1"), 5L, utf8("{}"), 1, messageHeaders("new"))));

    assertEquals(file, text("SELECT pg_relation_filenode('dlq')::text"));
    assertEquals(
        "memory.wal|{\"old\": true}|json|old failure",
        text(
            "SELECT concat_ws('|', topic, event, event_format, error) FROM dlq"
                + " WHERE kafka_offset = 0 AND event_key IS NULL AND event_key_format IS NULL"
                + " AND event_timestamp IS NULL"));
    assertEquals(
        "k1|text|5",
        text(
            "SELECT concat_ws('|', event_key, event_key_format,"
                + " (extract(epoch FROM event_timestamp) * 1000)::bigint) FROM dlq"
                + " WHERE kafka_offset = 1"));
  }

  /** The dlq table of seed-tables.sql before event_key, as an earlier version created it. */
  private static final String DLQ_BEFORE_KEYS =
      "CREATE TABLE \"public\".\"dlq\" (\"id\" bigserial, \"topic\" text, \"event\" jsonb"
          + " NOT NULL, \"event_format\" text, \"error\" text, \"error_class\" text,"
          + " \"source_partition\" integer, \"source_offset\" bigint, \"connector\" text,"
          + " \"stage\" text, \"kafka_topic\" text, \"kafka_partition\" integer,"
          + " \"kafka_offset\" bigint, \"created_at\" timestamptz NOT NULL DEFAULT now(),"
          + " PRIMARY KEY (\"id\"), UNIQUE (\"kafka_topic\", \"kafka_partition\","
          + " \"kafka_offset\"))";

  /**
   * Where the connector may not alter the table (auto.evolve=false), a DBA runs seed-tables.sql
   * again: its statements for dlq bring a table of an earlier version up to date, so the task
   * writes instead of stopping for the columns it lacks.
   */
  @Test
  void theSeedDdlRunAgainGivesAnOlderDlqTableTheKeyColumns() throws SQLException, IOException {
    LocalTasks.execute(DATABASE, DLQ_BEFORE_KEYS);
    for (String statement : seedStatementsOf("dlq-archive.json")) {
      LocalTasks.execute(DATABASE, statement);
    }
    start("dlq-archive", "auto.evolve", "false")
        .put(List.of(record(utf8("k1"), 5L, utf8("{}"), 0, messageHeaders("bad"))));

    assertEquals(
        "k1|text|5",
        text(
            "SELECT concat_ws('|', event_key, event_key_format,"
                + " (extract(epoch FROM event_timestamp) * 1000)::bigint) FROM dlq"));
  }

  /** The statements seed-tables.sql lists under a connector config's file name. */
  private static List<String> seedStatementsOf(String configFile) throws IOException {
    List<String> statements = new ArrayList<>();
    boolean inSection = false;
    for (String line : Files.readAllLines(Path.of("sql", "seed-tables.sql"))) {
      if (line.startsWith("-- " + configFile)) {
        inSection = true;
      } else if (inSection && line.isBlank()) {
        break;
      } else if (inSection && !line.startsWith("--")) {
        statements.add(line.substring(0, line.lastIndexOf(';')));
      }
    }
    assertFalse(statements.isEmpty(), configFile);
    return statements;
  }

  @Test
  void theOutboxSourceMovesBadRowsIntoATableTheArchiveCreated() throws SQLException {
    start("dlq-archive").put(List.of(record(utf8("{}"), 0, messageHeaders("bad"))));
    // DeadLetterWriter's insert, with the columns it names
    LocalTasks.execute(
        DATABASE,
        "INSERT INTO \"public\".\"dlq\" (\"topic\", \"event\", \"error\")"
            + " SELECT 'orders', to_jsonb(r), 'payload is not JSON' FROM (SELECT 1 AS id) r");
    assertEquals(2, LocalTasks.count(DATABASE, "SELECT count(*) FROM dlq WHERE error IS NOT NULL"));
  }

  /**
   * record.max.bytes bounds the dead letter as it came: base64 and JSON escapes that the sink adds
   * itself must not stop the archive (it has no dead-letter queue) for a value within the limit.
   */
  @Test
  void aDeadLetterWithinRecordMaxBytesLandsHoweverMuchItsStoredFormGrows() throws SQLException {
    byte[] binary = new byte[900];
    for (int i = 0; i < binary.length; i++) {
      binary[i] = (byte) (0x80 + i % 64); // continuation bytes only: not UTF-8
    }
    PostgresMemorySinkTask task = start("dlq-archive", "record.max.bytes", "1000");
    task.put(
        List.of(
            record(binary, 0, messageHeaders("binary")),
            record(utf8("\u0001".repeat(300)), 1, messageHeaders("control characters"))));

    assertEquals(2, LocalTasks.count(DATABASE, "SELECT count(*) FROM dlq"));
    assertLanded(0, "base64", json(Base64.getEncoder().encodeToString(binary)));
    assertLanded(1, "text", json("\u0001".repeat(300)));
    // 600 characters, 1200 bytes: over the limit, which counts bytes. No row, no skipping: the
    // task stops, naming the position and the limit, never the contents
    ConnectException e =
        assertThrows(
            ConnectException.class,
            () -> task.put(List.of(record(utf8("é".repeat(600)), 2, messageHeaders("big")))));
    assertTrue(e.getMessage().contains("memory.wal.dlq-0@2"), e.getMessage());
    assertTrue(e.getMessage().contains("record.max.bytes (1000)"), e.getMessage());
    assertFalse(e.getMessage().contains("é"), e.getMessage());
    assertEquals(2, LocalTasks.count(DATABASE, "SELECT count(*) FROM dlq"));
  }

  /**
   * With Connect's default header converter (SimpleHeaderConverter) a header's text reaches the
   * task parsed: a date as a java.util.Date, JSON as a Map. It is stored as that converter writes
   * it back, not as Java's toString() ("Mon Jan 01 00:00:00 UTC 2024", "{a=1}").
   */
  @Test
  void headersParsedBySimpleHeaderConverterAreStoredAsItWouldWriteThem() throws SQLException {
    SimpleHeaderConverter converter = new SimpleHeaderConverter();
    converter.configure(Map.of());
    List<SinkRecord> records = new ArrayList<>();
    String[] messages = {"2024-01-01", "{\"field\":\"event_id\"}", "[1,2]"};
    for (int i = 0; i < messages.length; i++) {
      ConnectHeaders headers = new ConnectHeaders();
      for (String[] header :
          List.of(
              new String[] {"topic", "memory.wal"},
              new String[] {"partition", "3"},
              new String[] {"offset", "150"},
              new String[] {"exception.message", messages[i]})) {
        String name = PREFIX + header[0];
        headers.add(name, converter.toConnectHeader(DLQ.topic(), name, utf8(header[1])));
      }
      records.add(record(utf8("{}"), i, headers));
    }
    start("dlq-archive").put(records);

    for (int i = 0; i < messages.length; i++) {
      assertEquals(messages[i], text("SELECT error FROM dlq WHERE kafka_offset = " + i));
      assertEquals("memory.wal", text("SELECT topic FROM dlq WHERE kafka_offset = " + i));
      assertEquals("3", text("SELECT source_partition::text FROM dlq WHERE kafka_offset = " + i));
      assertEquals("150", text("SELECT source_offset::text FROM dlq WHERE kafka_offset = " + i));
    }
  }

  /**
   * A dead letter of a dead letter carries two sets of error headers: Connect copies the record's
   * own headers and appends its own. The newest (last) set describes the latest failure. topic
   * holds the original topic from the header; kafka_topic/partition/offset the dead letter's own
   * position, which is the unique key: a replay by a second connector lands nothing twice.
   */
  @Test
  void theLatestHeadersWinAndAReplayLandsNothingTwice() throws SQLException {
    ConnectHeaders twice = connectHeaders("memory.wal", 0, 7);
    twice.addBytes(PREFIX + "exception.message", utf8("first failure"));
    twice.addBytes(PREFIX + "topic", utf8("memory.wal.retry"));
    twice.addBytes(PREFIX + "partition", utf8("2"));
    twice.addBytes(PREFIX + "offset", utf8("42"));
    twice.addBytes(PREFIX + "exception.message", utf8("second failure"));
    List<SinkRecord> records = List.of(record(utf8("{\"a\":1}"), 5, twice));
    start("dlq-archive").put(records);
    start("dlq-archive-replay").put(records); // offsets of its own: it writes the record again

    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM dlq"));
    assertEquals(
        "memory.wal.retry|2|42|second failure|memory.wal.dlq|0|5",
        text(
            "SELECT concat_ws('|', topic, source_partition, source_offset, error, kafka_topic,"
                + " kafka_partition, kafka_offset) FROM dlq"));
  }

  /**
   * The shipped archive reads headers with ByteArrayConverter: Connect's default header converter
   * would reshape their text first ("007" to 7, "1.50" to 1.5, "12:00:00" to 12).
   */
  @Test
  void theShippedArchiveReadsHeadersAsTheBytesConnectWrote() throws IOException {
    JsonNode config =
        new ObjectMapper()
            .readTree(Path.of("..", "connector-configs", "dlq-archive.json").toFile())
            .get("config");
    assertEquals(ByteArrayConverter.class.getName(), config.path("header.converter").asText(null));
    assertEquals("dead_letter", config.get("write.mode").asText());
    assertEquals("dlq", config.get("table.name.format").asText());
  }

  private PostgresMemorySinkTask start(String name, String... options) {
    List<String> props =
        new ArrayList<>(List.of("write.mode", "dead_letter", "table.name.format", "dlq"));
    props.addAll(List.of(options));
    PostgresMemorySinkTask task =
        LocalTasks.started(url, new HandRunTaskContext(DLQ), props.toArray(String[]::new));
    tasks.add(task);
    // LocalTasks names every task alike; the replay must not share the stored offsets
    if (!name.equals("dlq-archive")) {
      task.stop();
      tasks.remove(task);
      props.addAll(List.of("name", name));
      task = LocalTasks.started(url, new HandRunTaskContext(DLQ), props.toArray(String[]::new));
      tasks.add(task);
    }
    return task;
  }

  private void assertLanded(long offset, String format, String event) throws SQLException {
    assertEquals(
        format, text("SELECT event_format FROM dlq WHERE kafka_offset = " + offset), "format");
    assertEquals(event, text("SELECT event::text FROM dlq WHERE kafka_offset = " + offset));
  }

  private static String json(String text) throws SQLException {
    try (Connection c = SERVER.connect(DATABASE);
        PreparedStatement s = c.prepareStatement("SELECT to_jsonb(?::text)::text")) {
      s.setString(1, text);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }

  private static String text(String sql) throws SQLException {
    try (Connection c = SERVER.connect(DATABASE);
        PreparedStatement s = c.prepareStatement(sql);
        ResultSet rs = s.executeQuery()) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static ConnectHeaders connectHeaders(String topic, int partition, long offset) {
    ConnectHeaders headers = new ConnectHeaders();
    headers.addBytes(PREFIX + "topic", utf8(topic));
    headers.addBytes(PREFIX + "partition", utf8(String.valueOf(partition)));
    headers.addBytes(PREFIX + "offset", utf8(String.valueOf(offset)));
    headers.addBytes(PREFIX + "connector.name", utf8("replica"));
    headers.addBytes(PREFIX + "task.id", utf8("0"));
    headers.addBytes(PREFIX + "stage", utf8("TASK_PUT"));
    headers.addBytes(PREFIX + "class.name", utf8("io.somastack.Example"));
    return headers;
  }

  private static ConnectHeaders messageHeaders(String message) {
    ConnectHeaders headers = connectHeaders("memory.wal", 0, 150);
    headers.addBytes(PREFIX + "exception.class.name", utf8("java.lang.IllegalStateException"));
    headers.addBytes(PREFIX + "exception.message", utf8(message));
    return headers;
  }

  private static SinkRecord record(Object value, long offset, ConnectHeaders headers) {
    return record(null, null, value, offset, headers);
  }

  private static SinkRecord record(Schema valueSchema, Object value, long offset) {
    return new SinkRecord(
        DLQ.topic(),
        DLQ.partition(),
        null,
        null,
        valueSchema,
        value,
        offset,
        null,
        TimestampType.NO_TIMESTAMP_TYPE,
        messageHeaders("with a schema"));
  }

  private static SinkRecord record(
      Object key, Long timestamp, Object value, long offset, ConnectHeaders headers) {
    TimestampType type =
        timestamp == null ? TimestampType.NO_TIMESTAMP_TYPE : TimestampType.CREATE_TIME;
    return new SinkRecord(
        DLQ.topic(), DLQ.partition(), null, key, null, value, offset, timestamp, type, headers);
  }

  private static byte[] utf8(String text) {
    return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
  }
}
