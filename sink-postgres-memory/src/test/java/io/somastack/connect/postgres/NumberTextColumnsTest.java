package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A number in a text column or an upsert key is the plain decimal text of its value, whatever
 * converter handed the event over: JSON text (StringConverter), a schemaless Map of Longs, Doubles
 * and BigDecimals (JsonConverter), a Struct. Java's own texts of numbers ("5E-8", "1E+2",
 * "1.00000005E7") made one event two different keys, and so two rows, depending on the converter.
 */
class NumberTextColumnsTest {

  private static final TopicPartition PARTITION = new TopicPartition("priced", 0);

  /** The key and the price as JSON text, and as JsonConverter hands them over. */
  private record Priced(String jsonKey, Object key, String json, Object number) {}

  private static final List<Priced> EVENTS =
      List.of(
          new Priced("1", 1L, "0.00000005", 5.0E-8),
          new Priced("2", 2L, "1e2", 100.0),
          new Priced("3", 3L, "10000000.5", 10000000.5),
          new Priced("4", 4L, "7.0", 7.0),
          new Priced("5", 5L, "7.50", new BigDecimal("7.50")),
          new Priced("6", 6L, "1.2345678E7", 1.2345678E7),
          new Priced("7", 7L, "-0.0", -0.0),
          new Priced("8.0", 8.0, "1e+21", 1.0E21),
          new Priced("9.5e1", 95.0, "-12345678901234567890", -12345678901234567890.0),
          new Priced("1e-7", 1.0E-7, "0.1", 0.1));

  private PostgresMemorySinkTask task;

  @AfterEach
  void stopTask() {
    if (task != null) {
      task.stop();
    }
  }

  @Test
  void theSameEventAsJsonTextOrAsJsonConvertersMapGivesTheSameTexts() throws SQLException {
    List<SinkRecord> text = new ArrayList<>();
    List<SinkRecord> maps = new ArrayList<>();
    for (Priced event : EVENTS) {
      text.add(
          record(text.size(), "{\"id\":" + event.jsonKey() + ",\"price\":" + event.json() + "}"));
      maps.add(record(maps.size(), Map.of("id", event.key(), "price", event.number())));
    }
    Map<String, String> fromText = stored("number_text_from_text", text);
    Map<String, String> fromMaps = stored("number_text_from_maps", maps);

    Map<String, String> expected = new TreeMap<>();
    expected.put("1", "0.00000005");
    expected.put("2", "100");
    expected.put("3", "10000000.5");
    expected.put("4", "7");
    expected.put("5", "7.5");
    expected.put("6", "12345678");
    expected.put("7", "0");
    expected.put("8", "1000000000000000000000");
    // a double keeps 17 digits: the Map's -12345678901234567890.0 is -12345678901234567000
    expected.put("95", "-12345678901234567890");
    expected.put("0.0000001", "0.1");
    assertEquals(expected, fromText);
    expected.put("95", "-12345678901234567000");
    assertEquals(expected, fromMaps);
  }

  /** A Struct's Decimal, float64 and int64 are written as the same numbers in JSON text are. */
  @Test
  void aStructsDecimalsAndDoublesGiveTheTextsOfTheirValues() throws SQLException {
    Schema schema =
        SchemaBuilder.struct()
            .field("id", Decimal.schema(0))
            .field("price", Schema.FLOAT64_SCHEMA)
            .build();
    Schema amounts =
        SchemaBuilder.struct()
            .field("id", Schema.INT64_SCHEMA)
            .field("price", Decimal.schema(2))
            .build();
    List<SinkRecord> records =
        List.of(
            record(0, schema, new Struct(schema).put("id", new BigDecimal("41")).put("price", 1e2)),
            record(
                1,
                amounts,
                new Struct(amounts).put("id", 42L).put("price", new BigDecimal("0.10"))));
    assertEquals(Map.of("41", "100", "42", "0.1"), stored("number_text_from_structs", records));
  }

  /**
   * A tombstone's String or bytes key is the key text as written: unquoted text that reads as a
   * number (1.10, 12e4) names the row of a string id spelled so, never the row of a number event
   * whose plain text differs (1.1, 120000), which would be another entity's row. A number event's
   * row is named by its plain text.
   */
  @Test
  void aTombstoneKeyThatReadsAsANumberNamesTheStringIdSpelledSo() throws SQLException {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    String database = "number_text_tombstones";
    task = started(SERVER.createDatabase(database), context);
    task.put(
        List.of(
            record(0, "{\"id\":\"1.10\",\"price\":1}"),
            record(1, "{\"id\":1.10,\"price\":2}"),
            record(2, "{\"id\":\"12e4\",\"price\":3}"),
            record(3, "{\"id\":12e4,\"price\":4}")));
    assertEquals(Map.of("1.10", "1", "1.1", "2", "12e4", "3", "120000", "4"), rows(database));
    task.put(
        List.of(
            tombstone(4, "1.10"),
            tombstone(5, "12e4".getBytes(java.nio.charset.StandardCharsets.UTF_8)),
            tombstone(6, "120000")));
    task.stop();
    task = null;
    assertEquals(Map.of("1.1", "2"), rows(database));
    assertEquals(List.of(), context.deadLettered());
  }

  private static SinkRecord tombstone(long offset, Object key) {
    return new SinkRecord(PARTITION.topic(), 0, null, key, null, null, offset);
  }

  /** A number whose plain text PostgreSQL's numeric could not hold either is refused. */
  @Test
  void aNumberBeyondNumericsDigitsIsDeadLetteredNamingTheField() throws SQLException {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    String database = "number_text_too_long";
    task = started(SERVER.createDatabase(database), context);
    task.put(
        List.of(
            record(0, "{\"id\":1,\"price\":1e200000}"),
            record(1, "{\"id\":2,\"price\":1e-20000}"),
            record(2, Map.of("id", 4L, "price", new BigDecimal("1e999999999"))),
            record(3, "{\"id\":3,\"price\":1e2}")));
    task.stop();
    task = null;
    assertEquals(Map.of("3", "100"), rows(database));
    assertEquals(3, context.deadLettered().size());
    for (Map.Entry<SinkRecord, Throwable> bad : context.deadLettered()) {
      String reason = bad.getValue().getMessage();
      assertTrue(reason.contains("'price'"), reason);
      assertFalse(reason.contains("e2") || reason.contains("E2") || reason.contains("E9"), reason);
    }
  }

  private Map<String, String> stored(String database, List<SinkRecord> records)
      throws SQLException {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task = started(SERVER.createDatabase(database), context);
    task.put(records);
    task.stop();
    task = null;
    assertEquals(List.of(), context.deadLettered());
    return rows(database);
  }

  private static PostgresMemorySinkTask started(String url, HandRunTaskContext context) {
    return LocalTasks.started(
        url, context, "write.mode", "upsert", "key.fields", "id", "columns", "price:text:price");
  }

  private static Map<String, String> rows(String database) throws SQLException {
    Map<String, String> rows = new TreeMap<>();
    try (Connection c = SERVER.connect(database);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT id, price FROM priced")) {
      while (rs.next()) {
        rows.put(rs.getString(1), rs.getString(2));
      }
    }
    return rows;
  }

  private static SinkRecord record(long offset, Object value) {
    return new SinkRecord(PARTITION.topic(), 0, null, null, null, value, offset);
  }

  private static SinkRecord record(long offset, Schema schema, Struct value) {
    return new SinkRecord(PARTITION.topic(), 0, null, null, schema, value, offset);
  }
}
