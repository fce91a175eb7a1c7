package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.outbox.OutboxSourceConfig.TopicMode;
import io.somastack.connect.outbox.OutboxSourceConfig.ValueFormat;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

class RowMapperTest {

  private static final OutboxTable TABLE = OutboxTable.parse("public.outbox");
  private static final Instant CREATED = Instant.parse("2025-01-02T03:04:05.678Z");

  private static OutboxRow row(String topic, String payload, String dedupe, String headers) {
    return new OutboxRow(TABLE, 42, 1000, topic, payload, dedupe, dedupe, headers, CREATED);
  }

  private static RowMapper mapper(ValueFormat format) {
    return new RowMapper(TopicMode.COLUMN, null, null, format, "soma.Payload", "id", 100);
  }

  private static SourceRecord good(RowMapper.Result result) {
    return assertInstanceOf(RowMapper.Good.class, result).record();
  }

  private static String bad(RowMapper.Result result) {
    return assertInstanceOf(RowMapper.Bad.class, result).reason();
  }

  @Test
  void stringValueKeyHeadersOffsetAndTimestamp() {
    SourceRecord record =
        good(
            mapper(ValueFormat.STRING)
                .map(row("somastack.tools", "{\"a\": 1}", "k-1", "{\"trace\":\"t1\",\"n\":2}")));
    assertEquals("somastack.tools", record.topic());
    assertEquals("k-1", record.key());
    assertEquals(Schema.STRING_SCHEMA, record.valueSchema());
    assertEquals("{\"a\": 1}", record.value());
    assertEquals(CREATED.toEpochMilli(), record.timestamp());
    assertEquals(Map.of("table", "public.outbox"), record.sourcePartition());
    assertEquals(new OutboxCursor(1000, 42), OutboxCursor.fromOffset(record.sourceOffset()));
    assertEquals("k-1", record.headers().lastWithName("id").value());
    assertEquals("t1", record.headers().lastWithName("trace").value());
    assertEquals("2", record.headers().lastWithName("n").value());
    assertNull(record.kafkaPartition());
  }

  @Test
  void headersCannotOverrideTheDedupeHeaderAndNullKeyFallsBackToTableAndId() {
    SourceRecord record =
        good(mapper(ValueFormat.STRING).map(row("t", "{}", null, "{\"id\":\"forged\"}")));
    assertNull(record.key());
    assertEquals(1, record.headers().size());
    assertEquals("public.outbox:42", record.headers().lastWithName("id").value());
  }

  /** A number header is the number as PostgreSQL writes it, not in scientific notation. */
  @Test
  void numberHeadersKeepTheirPlainText() {
    SourceRecord record =
        good(
            mapper(ValueFormat.STRING)
                .map(row("t", "{}", "k", "{\"r\": 0.00000001, \"p\": 1.50}")));
    assertEquals("0.00000001", record.headers().lastWithName("r").value());
    assertEquals("1.50", record.headers().lastWithName("p").value());
  }

  @Test
  void bytesValue() {
    SourceRecord record = good(mapper(ValueFormat.BYTES).map(row("t", "{\"é\":1}", "k", null)));
    assertEquals(Schema.BYTES_SCHEMA, record.valueSchema());
    assertArrayEquals("{\"é\":1}".getBytes(StandardCharsets.UTF_8), (byte[]) record.value());
  }

  @Test
  void structValueWithInferredSchema() {
    SourceRecord record =
        good(
            mapper(ValueFormat.STRUCT)
                .map(
                    row(
                        "t",
                        "{\"n\":1,\"x\":1.5,\"s\":\"v\",\"b\":true,\"o\":{\"p\":null},\"l\":[1,2]}",
                        "k",
                        null)));
    Struct value = (Struct) record.value();
    assertEquals("soma.Payload", record.valueSchema().name());
    assertEquals(1L, value.get("n"));
    assertEquals(1.5, value.get("x"));
    assertEquals("v", value.get("s"));
    assertEquals(true, value.get("b"));
    assertNull(value.getStruct("o").get("p"));
    assertEquals(List.of(1L, 2L), value.getArray("l"));
  }

  @Test
  void structValueThatCannotBeSerialisedIsBad() {
    assertTrue(
        bad(mapper(ValueFormat.STRUCT).map(row("t", "{\"l\":[1,\"x\"]}", "k", null)))
            .startsWith("cannot serialise"));
    assertTrue(
        bad(mapper(ValueFormat.STRUCT).map(row("t", "[1]", "k", null))).contains("JSON object"));
  }

  /**
   * Arrays that mix integers with decimals ([13, 52.5]), or objects with optional or null fields,
   * are ordinary JSON: they were dead-lettered as "mixing element types".
   */
  @Test
  void structArraysOfNumbersAndOfObjectsWithOptionalFieldsAreGood() {
    RowMapper mapper = mapper(ValueFormat.STRUCT);
    Struct coords = (Struct) good(mapper.map(row("t", "{\"c\":[13, 52.5]}", "k", null))).value();
    assertEquals(List.of(13.0, 52.5), coords.getArray("c"));

    String items = "{\"i\":[{\"q\":1},{\"q\":null,\"d\":0.5},{\"n\":null},{\"n\":\"x\"}]}";
    Struct value = (Struct) good(mapper.map(row("t", items, "k", null))).value();
    List<Struct> list = value.getArray("i");
    assertEquals(Schema.Type.INT64, list.get(0).schema().field("q").schema().type());
    assertEquals(1L, list.get(0).get("q"));
    assertNull(list.get(0).get("d"));
    assertEquals(0.5, list.get(1).get("d"));
    assertEquals("x", list.get(3).get("n"));

    Struct nested = (Struct) good(mapper.map(row("t", "{\"a\":[[],[1],null]}", "k", null))).value();
    assertEquals(List.of(List.of(), List.of(1L)), nested.getArray("a").subList(0, 2));
  }

  @Test
  void badTopics() {
    RowMapper mapper = mapper(ValueFormat.STRING);
    assertTrue(bad(mapper.map(row(null, "{}", "k", null))).contains("null"));
    assertTrue(bad(mapper.map(row("", "{}", "k", null))).contains("empty"));
    assertTrue(bad(mapper.map(row("no spaces", "{}", "k", null))).contains("legal"));
    assertTrue(bad(mapper.map(row("..", "{}", "k", null))).contains("legal"));
    RowMapper allowList =
        new RowMapper(
            TopicMode.COLUMN,
            null,
            Pattern.compile("somastack\\..*"),
            ValueFormat.STRING,
            "p",
            "id",
            100);
    assertTrue(bad(allowList.map(row("other", "{}", "k", null))).contains("not allowed"));
    good(allowList.map(row("somastack.tools", "{}", "k", null)));
  }

  @Test
  void fixedTopicIgnoresTheRowsTopic() {
    RowMapper fixed =
        new RowMapper(TopicMode.FIXED, "events", null, ValueFormat.STRING, "p", "id", 100);
    assertEquals("events", good(fixed.map(row(null, "{}", "k", null))).topic());
  }

  @Test
  void oversizedNullPayloadAndBadHeadersAreBad() {
    RowMapper mapper = mapper(ValueFormat.STRING);
    String big = "{\"a\":\"" + "x".repeat(100) + "\"}";
    assertTrue(bad(mapper.map(row("t", big, "k", null))).contains("payload.max.bytes=100"));
    assertTrue(bad(mapper.map(row("t", null, "k", null))).contains("payload is null"));
    assertTrue(bad(mapper.map(row("t", "{}", "k", "[1]"))).contains("headers"));
  }

  /** A creation time no Kafka timestamp can hold would fail the task on every restart. */
  @Test
  void aCreationTimeBefore1970OrInfiniteIsBad() {
    RowMapper mapper = mapper(ValueFormat.STRING);
    for (Instant created :
        List.of(
            Instant.parse("1969-12-31T23:59:59.999Z"),
            java.time.OffsetDateTime.MIN.toInstant(), // what pgjdbc makes of -infinity
            java.time.OffsetDateTime.MAX.toInstant())) { // and of infinity
      OutboxRow row = new OutboxRow(TABLE, 42, 1000, "t", "{}", "d", "k", null, created);
      assertTrue(
          bad(mapper.map(row)).startsWith("created_at is outside the range"), created::toString);
    }
    OutboxRow epoch = new OutboxRow(TABLE, 42, 1000, "t", "{}", "d", "k", null, Instant.EPOCH);
    assertEquals(0L, good(mapper.map(epoch)).timestamp());
  }

  @Test
  void rowToStringNeverShowsThePayload() {
    assertTrue(!row("t", "{\"secret\":1}", "k", null).toString().contains("secret"));
  }
}
