package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.outbox.OutboxSourceConfig.ValueFormat;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

class RowMapperTest {

  private static final OutboxTable TABLE = OutboxTable.parse("public.outbox");
  private static final Instant CREATED = Instant.parse("2025-01-02T03:04:05.678Z");

  private static OutboxRow row(String topic, String payload, String dedupe, String headers) {
    return new OutboxRow(TABLE, 42, 1000, topic, payload, dedupe, dedupe, headers, CREATED);
  }

  private static RowMapper mapper(ValueFormat format) {
    return mapper(
        "value.format",
        format.name().toLowerCase(java.util.Locale.ROOT),
        "value.schema.name",
        "soma.Payload");
  }

  /**
   * A mapper as a task makes it, from the connector's options: dedupe header "id", payloads of at
   * most 100 bytes unless the options say otherwise.
   */
  private static RowMapper mapper(String... options) {
    Map<String, String> props = new HashMap<>();
    props.put("connection.url", "jdbc:postgresql://127.0.0.1:5432/outbox");
    props.put("dedupe.header", "id");
    props.put("payload.max.bytes", "100");
    for (int i = 0; i < options.length; i += 2) {
      props.put(options[i], options[i + 1]);
    }
    return new RowMapper(new OutboxSourceConfig(props));
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

  private static Struct structValue(String payload) {
    return (Struct) good(mapper(ValueFormat.STRUCT).map(row("t", payload, "k", null))).value();
  }

  private static void assertExactDecimal(String expected, Schema schema, Object value) {
    assertEquals(Decimal.LOGICAL_NAME, schema.name());
    assertEquals(new BigDecimal(expected), value);
  }

  /**
   * value.struct.numbers=double keeps every non-integer number (and every integer beyond int64) a
   * float64, so a field's schema never changes with its values (what a Schema Registry's
   * compatibility check needs); digits beyond a double's are rounded, as the user chose.
   */
  @Test
  void structNumbersAsDoublesKeepOneSchemaWhateverTheDigits() {
    RowMapper doubles =
        mapper(
            "value.format", "struct",
            "value.schema.name", "soma.Payload",
            "value.struct.numbers", "double");
    Struct first = (Struct) good(doubles.map(row("t", "{\"avg\":2.5}", "k", null))).value();
    Struct second =
        (Struct) good(doubles.map(row("t", "{\"avg\":0.33333333333333333333}", "k", null))).value();
    Struct big =
        (Struct)
            good(doubles.map(row("t", "{\"avg\":123456789012345678901234567890}", "k", null)))
                .value();
    assertEquals(first.schema(), second.schema());
    assertEquals(first.schema(), big.schema());
    assertEquals(Schema.Type.FLOAT64, second.schema().field("avg").schema().type());
    assertEquals(0.3333333333333333, second.get("avg"));
    assertEquals(1.2345678901234568E29, big.get("avg"));
  }

  /** An integer beyond int64 was a float64: 123456789012345678901234567890 lost its last digits. */
  @Test
  void structIntegersBeyondInt64AreExactDecimals() {
    Struct value = structValue("{\"n\":123456789012345678901234567890,\"m\":-9223372036854775809}");
    assertExactDecimal(
        "123456789012345678901234567890", value.schema().field("n").schema(), value.get("n"));
    assertExactDecimal("-9223372036854775809", value.schema().field("m").schema(), value.get("m"));
  }

  /**
   * A decimal with more digits than a float64 holds (PostgreSQL's 1/3::numeric has 20) was rounded
   * to one; decimals a float64 gives back digit for digit stay float64.
   */
  @Test
  void structDecimalsAFloat64CannotHoldAreExactDecimals() {
    Struct value =
        structValue(
            "{\"x\":1.00000000000000000000001,\"t\":0.33333333333333333333,\"h\":1e400,"
                + "\"f\":0.1,\"e\":1.50,\"z\":1e-300}");
    assertExactDecimal(
        "1.00000000000000000000001", value.schema().field("x").schema(), value.get("x"));
    assertExactDecimal(
        "0.33333333333333333333", value.schema().field("t").schema(), value.get("t"));
    assertExactDecimal(
        new BigDecimal("1e400").toPlainString(),
        value.schema().field("h").schema(),
        value.get("h"));
    assertEquals(0.1, value.get("f"));
    assertEquals(1.5, value.get("e"));
    assertEquals(1e-300, value.get("z"));
  }

  /**
   * Array elements share one schema: an integer above 2^53 with a decimal, or a long decimal with a
   * short one, was merged into a float64 that dropped digits of one of them.
   */
  @Test
  void structArraysWithNumbersAFloat64CannotHoldKeepEveryDigit() {
    assertEquals(
        List.of(new BigDecimal("1"), new BigDecimal("123456789012345678901234567890")),
        structValue("{\"i\":[1, 123456789012345678901234567890]}").getArray("i"));
    assertEquals(
        List.of(
            new BigDecimal("1.50000000000000000000000"),
            new BigDecimal("1.00000000000000000000001")),
        structValue("{\"d\":[1.5, 1.00000000000000000000001]}").getArray("d"));
    assertEquals(
        List.of(new BigDecimal("0.5"), new BigDecimal("9007199254740993.0")),
        structValue("{\"l\":[0.5, 9007199254740993]}").getArray("l"));
    List<Struct> objects =
        structValue("{\"o\":[{\"a\":0.25},{\"a\":1e30},{\"a\":7},{\"a\":1e-30}]}").getArray("o");
    assertEquals(List.of(0.25, 1e30, 7.0, 1e-30), objects.stream().map(o -> o.get("a")).toList());
    objects =
        structValue("{\"o\":[{\"a\":0.25},{\"a\":123456789012345678901234567890}]}").getArray("o");
    assertEquals(new BigDecimal("0.25"), objects.get(0).get("a"));
    assertEquals(new BigDecimal("123456789012345678901234567890.00"), objects.get(1).get("a"));
  }

  /**
   * What the relay hands over is what JsonConverter (decimal.format=NUMERIC) writes, digit for
   * digit.
   */
  @Test
  void jsonConverterWritesTheExactDigits() {
    SourceRecord record =
        good(
            mapper(ValueFormat.STRUCT)
                .map(
                    row(
                        "t",
                        "{\"n\":123456789012345678901234567890,\"x\":1.00000000000000000000001}",
                        "k",
                        null)));
    JsonConverter converter = new JsonConverter();
    converter.configure(Map.of("schemas.enable", "false", "decimal.format", "NUMERIC"), false);
    assertEquals(
        "{\"n\":123456789012345678901234567890,\"x\":1.00000000000000000000001}",
        new String(
            converter.fromConnectData("t", record.valueSchema(), record.value()),
            StandardCharsets.UTF_8));
  }

  /**
   * 1e1000000000 is a few bytes of JSON but a billion digits as a decimal: a bad row, not an OOM.
   */
  @Test
  void structNumberWithAnAbsurdExponentIsBad() {
    String reason =
        bad(mapper(ValueFormat.STRUCT).map(row("t", "{\"x\":1e1000000000}", "k", null)));
    assertTrue(reason.startsWith("cannot serialise"), reason);
    String inArray =
        bad(mapper(ValueFormat.STRUCT).map(row("t", "{\"x\":[1e-1000000000, 1e30]}", "k", null)));
    assertTrue(inArray.startsWith("cannot serialise"), inArray);
  }

  @Test
  void badTopics() {
    RowMapper mapper = mapper(ValueFormat.STRING);
    assertTrue(bad(mapper.map(row(null, "{}", "k", null))).contains("null"));
    assertTrue(bad(mapper.map(row("", "{}", "k", null))).contains("empty"));
    assertTrue(bad(mapper.map(row("no spaces", "{}", "k", null))).contains("legal"));
    assertTrue(bad(mapper.map(row("..", "{}", "k", null))).contains("legal"));
    RowMapper allowList = mapper("value.format", "string", "topic.allow.regex", "somastack\\..*");
    assertTrue(bad(allowList.map(row("other", "{}", "k", null))).contains("not allowed"));
    good(allowList.map(row("somastack.tools", "{}", "k", null)));
  }

  /**
   * A bad row's topic is row data: it may be megabytes, hold newlines that forge log lines, or be
   * payload put in the wrong column. The reason, logged and stored with the dead letter, never
   * quotes it.
   */
  @Test
  void aBadTopicsReasonNeverQuotesTheTopic() {
    String topic = "secret\nFORGED " + "x".repeat(5000);
    String reason = bad(mapper(ValueFormat.STRING).map(row(topic, "{}", "k", null)));
    assertFalse(reason.contains("secret") || reason.contains("FORGED"), reason);
    assertTrue(reason.length() < 200, reason);
    RowMapper allowList = mapper("value.format", "string", "topic.allow.regex", "somastack\\..*");
    String refused = bad(allowList.map(row("secret.topic", "{}", "k", null)));
    assertFalse(refused.contains("secret"), refused);
    assertTrue(refused.contains("somastack\\..*"), refused);
  }

  @Test
  void fixedTopicIgnoresTheRowsTopic() {
    RowMapper fixed =
        mapper("value.format", "string", "topic.mode", "fixed", "topic.fixed", "events");
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

  /**
   * Kafka refuses a record by its whole size, key and headers included. A row whose payload is
   * small but whose headers or key are large must be a bad row like an oversized payload: handed to
   * Connect, the producer refuses it, which fails the task (and, with exactly-once support, the
   * transaction, whatever errors.tolerance says) on that same row after every restart.
   */
  @Test
  void largeHeadersOrKeyCountTowardsTheSizeLimit() {
    RowMapper mapper = mapper(ValueFormat.STRING);
    String secret = "secret-" + "x".repeat(100);
    String headers = "{\"trace\":\"" + secret + "\"}";
    String reason = bad(mapper.map(row("t", "{}", "k", headers)));
    assertTrue(reason.contains("payload.max.bytes=100"), reason);
    assertTrue(!reason.contains("secret"), "the reason never quotes the row");
    assertTrue(bad(mapper.map(row("t", "{}", secret, null))).contains("payload.max.bytes=100"));
    // a header name counts as well as its value
    String longName = "{\"" + "n".repeat(100) + "\": 1}";
    assertTrue(bad(mapper.map(row("t", "{}", "k", longName))).contains("payload.max.bytes=100"));
    good(mapper.map(row("t", "{}", "k", "{\"trace\":\"t1\"}")));
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

  /**
   * Reading a payload into a Struct and its headers recurses per level of nesting, up to the 1000
   * levels Jackson reads: a thread whose stack cannot hold that (a worker run with a small -Xss)
   * makes the row a bad row, never a StackOverflowError that stops the relay at it on every
   * restart.
   */
  @Test
  void aRowNestedDeeperThanTheStackHoldsIsABadRow() throws InterruptedException {
    String nested = "{\"a\":".repeat(999) + "1.5" + "}".repeat(999);
    List<OutboxRow> rows =
        List.of(
            row("t", "{\"d\":" + nested + "}", null, null),
            row("t", "{\"d\":" + "[".repeat(999) + "]".repeat(999) + "}", null, null),
            row("t", "{}", null, "{\"h\":" + nested + "}"));
    int tooDeep = 0;
    for (boolean exact : List.of(true, false)) {
      RowMapper mapper =
          mapper(
              "value.format",
              "struct",
              "payload.max.bytes",
              String.valueOf(1 << 20),
              "value.struct.numbers",
              exact ? "exact" : "double");
      for (OutboxRow row : rows) {
        Object[] result = new Object[1];
        Thread small =
            new Thread(
                null,
                () -> {
                  try {
                    result[0] = mapper.map(row);
                  } catch (Throwable t) {
                    result[0] = t;
                  }
                },
                "small-stack",
                128 * 1024);
        small.start();
        small.join();
        RowMapper.Result mapped =
            assertInstanceOf(
                RowMapper.Result.class, result[0], () -> "the mapper threw " + result[0]);
        if (mapped instanceof RowMapper.Bad) {
          assertEquals(RowMapper.TOO_DEEP, bad(mapped), row.toString());
          tooDeep++;
        }
      }
    }
    assertTrue(tooDeep > 0, "128 KB holds every row: the test no longer reaches the limit");
  }
}
