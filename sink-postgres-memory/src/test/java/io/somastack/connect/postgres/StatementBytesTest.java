package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * batch.max.bytes bounds a statement in the bytes that go over the wire, whatever the text: JSON
 * that came as a String (StringConverter, JsonConverter) was counted in chars, so a statement of
 * CJK text, three UTF-8 bytes a char, carried up to three times the bound.
 */
class StatementBytesTest {

  private static final TopicPartition PARTITION = new TopicPartition("cjk", 0);

  private static final int MAX_BYTES = 65_536;

  /** Room for what a statement carries besides JSON: keys, positions, the SQL. */
  private static final int SLACK = 16_384;

  /** Chars of CJK text per event: about 60,000 bytes, so one event a statement (two do not fit). */
  private static final int EVENT_CHARS = 20_000;

  @Test
  void noStatementOfMultiByteTextGrowsBeyondBatchMaxBytes() throws Exception {
    String database = "statement_bytes_cjk";
    List<SinkRecord> records = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      records.add(event(i, i + 1));
    }
    long eventBytes = ((String) records.get(0).value()).getBytes(StandardCharsets.UTF_8).length;
    assertTrue(eventBytes < MAX_BYTES && 2 * eventBytes > MAX_BYTES, eventBytes + " bytes");

    try (WireMeter meter = WireMeter.before(SERVER.createDatabase(database))) {
      PostgresMemorySinkTask task =
          LocalTasks.started(
              meter.jdbcUrl(database),
              new HandRunTaskContext(PARTITION),
              "write.mode",
              "upsert",
              "key.fields",
              "id",
              "table.name.format",
              "cjk",
              "batch.max.bytes",
              String.valueOf(MAX_BYTES));
      try {
        task.put(List.of(event(100, 0))); // creates the table
        meter.reset();
        task.put(records);

        long largest = Collections.max(meter.statements());
        assertTrue(largest <= MAX_BYTES + SLACK, "a statement of " + largest + " bytes");
      } finally {
        task.stop();
      }
    }
    assertEquals(13, LocalTasks.count(database, "SELECT count(*) FROM cjk"));
    assertEquals(
        EVENT_CHARS, LocalTasks.count(database, "SELECT min(length(payload->>'text')) FROM cjk"));
  }

  /** An event of EVENT_CHARS chars of CJK text (and a few of ASCII around them), as a String. */
  private static SinkRecord event(int i, long offset) {
    StringBuilder text = new StringBuilder(EVENT_CHARS);
    for (int c = 0; c < EVENT_CHARS; c++) {
      text.append((char) ('\u4e00' + (c + i) % 2000));
    }
    String json = "{\"id\":\"e" + i + "\",\"text\":\"" + text + "\"}";
    return new SinkRecord(PARTITION.topic(), PARTITION.partition(), null, null, null, json, offset);
  }
}
