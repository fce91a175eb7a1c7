package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * Append mode copies a table whose columns have the layout's own types in COPY's binary format, and
 * any other table in text format. Both must store exactly the same values, and a table altered
 * under a running task must cost no row and store no wrong value.
 */
class BinaryCopyTest {

  private static final TopicPartition PARTITION = new TopicPartition("events", 0);

  private static final String COLUMNS =
      "who:text:who,n:bigint:n,score:double:score,ok:boolean:ok,at:timestamptz:at,"
          + "tenant:uuid:tenant,meta:jsonb:meta";

  /** Values of every mapped type, and the edges of each: nulls, escapes, far dates, extremes. */
  private static final List<String> EVENTS =
      List.of(
          "{\"event_id\":\"a\",\"who\":\"tab\\there, new\\nline, back\\\\slash\",\"n\":"
              + Long.MAX_VALUE
              + ",\"score\":-0.5e-300,\"ok\":true,\"at\":\"2026-12-05T23:59:59.123456+02:00\","
              + "\"tenant\":\"6F1C0E1A-7B7D-4C9A-9D0B-1E2F3A4B5C6D\","
              + "\"meta\":{\"k\":[1,2.5,\"日本 😀\",null,{\"deep\":\"\\\\n\"}]}}",
          "{\"event_id\":\"b\",\"who\":\"\",\"n\":"
              + Long.MIN_VALUE
              + ",\"score\":1.7976931348623157E308,\"ok\":false,\"at\":-62135596800000,"
              + "\"tenant\":null,\"meta\":\"just text\"}",
          "{\"event_id\":\"c\",\"n\":\"42\",\"at\":\"1999-12-31T23:59:59.999999Z\"}",
          "{\"event_id\":\"d\",\"at\":\"9999-12-31T23:59:59.999999Z\",\"meta\":[]}",
          "{\"event_id\":\"e\\u00e9\\ud83d\\ude00\",\"at\":0,\"score\":0}");

  @Test
  void binaryAndTextFormatStoreTheSameValues() throws Exception {
    String url = SERVER.createDatabase("binary_copy_values");
    // a DBA's table: event_id is varchar, not the layout's text, so it takes text format
    LocalTasks.execute(
        "binary_copy_values",
        "CREATE TABLE by_text (event_id varchar(100) NOT NULL UNIQUE, payload jsonb NOT NULL,"
            + " kafka_topic text NOT NULL, kafka_partition integer NOT NULL,"
            + " kafka_offset bigint NOT NULL, ingested_at timestamptz NOT NULL DEFAULT now())");
    for (String table : List.of("by_binary", "by_text")) {
      HandRunTaskContext context = new HandRunTaskContext(PARTITION);
      PostgresMemorySinkTask task =
          LocalTasks.started(
              url,
              context,
              "name", // a connector each: the offsets table would skip the second's records
              table,
              "write.mode",
              "append",
              "table.name.format",
              table,
              "columns",
              COLUMNS);
      try {
        task.put(records(EVENTS, 0));
        assertEquals(
            table.equals("by_binary") ? EVENTS.size() : 0,
            context.metric("rows-copied-binary-total"),
            table + ": rows sent in binary format");
        assertEquals(EVENTS.size(), context.metric("records-written-total"));
      } finally {
        task.stop();
      }
    }
    List<String> binary = rows("by_binary");
    assertEquals(EVENTS.size(), binary.size());
    assertEquals(rows("by_text"), binary);
    assertTrue(binary.get(0).contains("\"who\": \"tab\\there, new\\nline, back\\\\slash\""));
    assertTrue(binary.get(0).contains("\"at\": \"2026-12-05T21:59:59.123456+00:00\""));
    assertTrue(binary.get(1).contains("\"at\": \"0001-01-01T00:00:00+00:00\""));
  }

  /** A binary int4 no longer fits a bigint column: the type check finds it before COPY. */
  @Test
  void aColumnWidenedUnderTheTaskLosesNoRow() throws Exception {
    altered("kafka_partition TYPE bigint", "altered_int", "kafka_partition = 0");
  }

  /** jsonb to json: binary jsonb into json would read the version byte as JSON text. */
  @Test
  void aPayloadAlteredToJsonIsNotBlamedOnTheRows() throws Exception {
    altered("payload TYPE json", "altered_json", "payload::text LIKE '{%'");
  }

  /**
   * These alterations fail nothing in binary format: text would store the jsonb version byte in
   * front of the JSON, numeric would read the int8 bytes as 0.0. Only checking the types in every
   * batch keeps the values right.
   */
  @Test
  void alterationsThatBinaryInputWouldAcceptSilentlyStillStoreTheRightValues() throws Exception {
    altered("payload TYPE text", "altered_text", "payload LIKE '{\"event_id\":%'");
    altered("kafka_offset TYPE numeric", "altered_numeric", "kafka_offset IN (5, 6)");
  }

  /**
   * Writes a batch, alters the table, writes two more records: none is lost, none dead-lettered,
   * and both new rows satisfy {@code check}.
   */
  private static void altered(String alteration, String database, String check) throws Exception {
    String url = SERVER.createDatabase(database);
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    PostgresMemorySinkTask task =
        LocalTasks.started(
            url, context, "write.mode", "append", "table.name.format", "e", "columns", COLUMNS);
    try {
      task.put(records(EVENTS, 0));
      assertEquals(EVENTS.size(), context.metric("rows-copied-binary-total"));
      LocalTasks.execute(database, "ALTER TABLE e ALTER COLUMN " + alteration);
      task.put(records(List.of("{\"event_id\":\"f\"}", "{\"event_id\":\"g\"}"), 5));
      assertEquals(
          EVENTS.size(),
          context.metric("rows-copied-binary-total"),
          "the altered table's rows went in text format");
      assertEquals(7, LocalTasks.count(database, "SELECT count(*) FROM e"));
      assertEquals(
          2,
          LocalTasks.count(
              database, "SELECT count(*) FROM e WHERE kafka_offset >= 5 AND (" + check + ")"));
      assertEquals(0, context.deadLettered().size());
    } finally {
      task.stop();
    }
  }

  private static List<SinkRecord> records(List<String> events, long firstOffset) {
    List<SinkRecord> records = new ArrayList<>();
    long offset = firstOffset;
    for (String json : events) {
      byte[] value = json.getBytes(StandardCharsets.UTF_8);
      records.add(new SinkRecord(PARTITION.topic(), 0, null, null, null, value, offset++));
    }
    return records;
  }

  /** Every stored column but the insertion time, as jsonb text, in event id order. */
  private static List<String> rows(String table) throws Exception {
    List<String> rows = new ArrayList<>();
    try (Connection c = SERVER.connect("binary_copy_values");
        Statement s = c.createStatement()) {
      s.execute("SET TIME ZONE 'UTC'");
      try (ResultSet rs =
          s.executeQuery(
              "SELECT (to_jsonb(t) - 'ingested_at')::text FROM "
                  + table
                  + " t ORDER BY event_id")) {
        while (rs.next()) {
          rows.add(rs.getString(1));
        }
      }
    }
    return rows;
  }
}
