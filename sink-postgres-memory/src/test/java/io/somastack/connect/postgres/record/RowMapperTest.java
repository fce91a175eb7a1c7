package io.somastack.connect.postgres.record;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.postgres.config.PostgresSinkConfig;
import io.somastack.connect.postgres.write.TableLayout;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class RowMapperTest {

  private static RowMapper mapper(Map<String, String> extra) {
    Map<String, String> props = new HashMap<>();
    props.put("connection.url", "jdbc:postgresql://localhost/soma");
    props.put(
        "columns",
        "tenant:text:metadata.tenant_id,version:bigint:version,at:timestamptz:timestamp");
    props.putAll(extra);
    PostgresSinkConfig config = new PostgresSinkConfig(props);
    return new RowMapper(config, TableLayout.of(config));
  }

  private static TableLayout layout(Map<String, String> extra) {
    Map<String, String> props = new HashMap<>();
    props.put("connection.url", "jdbc:postgresql://localhost/soma");
    props.put(
        "columns",
        "tenant:text:metadata.tenant_id,version:bigint:version,at:timestamptz:timestamp");
    props.putAll(extra);
    return TableLayout.of(new PostgresSinkConfig(props));
  }

  private static SinkRecord record(String topic, Object key, Object value) {
    return new SinkRecord(topic, 2, null, key, null, value, 41L);
  }

  private static Object value(EventRow row, TableLayout layout, String column) {
    return row.values()[layout.indexOf(column)];
  }

  @Test
  void appendRowsCarryIdPayloadPositionAndTypedColumns() {
    Map<String, Object> event =
        Map.of(
            "event_id",
            "e1",
            "version",
            7,
            "timestamp",
            "2026-11-23T10:00:00.1234567+01:00",
            "metadata",
            Map.of("tenant_id", "acme"));
    EventRow row = mapper(Map.of()).map(record("memory.wal", null, event));
    TableLayout layout = layout(Map.of());
    assertEquals("\"public\".\"memory_wal\"", row.table());
    assertEquals("e1", value(row, layout, "event_id"));
    assertEquals("acme", value(row, layout, "tenant"));
    assertEquals(7L, value(row, layout, "version"));
    // the seventh digit rounds, as PostgreSQL rounds it: .1234567 is .123457
    assertEquals("2026-11-23T09:00:00.123457Z", value(row, layout, "at"));
    assertEquals(41L, value(row, layout, "kafka_offset"));
    assertTrue(((String) value(row, layout, "payload")).contains("\"tenant_id\":\"acme\""));
  }

  @Test
  void jsonTextAndStructValuesAreReadLikeMaps() {
    EventRow fromText =
        mapper(Map.of())
            .map(record("t", null, "{\"event_id\":\"e2\",\"metadata\":{\"tenant_id\":\"x\"}}"));
    assertEquals("e2", fromText.identity());
    Schema schema =
        SchemaBuilder.struct()
            .field("event_id", Schema.STRING_SCHEMA)
            .field("version", Schema.INT64_SCHEMA)
            .build();
    SinkRecord struct =
        new SinkRecord(
            "t",
            0,
            null,
            null,
            schema,
            new Struct(schema).put("event_id", "e3").put("version", 3L),
            1);
    EventRow fromStruct = mapper(Map.of()).map(struct);
    assertEquals(3L, value(fromStruct, layout(Map.of()), "version"));
  }

  @Test
  void badRecordsAreRejectedWithReasonsThatNeverQuoteTheValue() {
    RowMapper mapper = mapper(Map.of("record.max.bytes", "200"));
    Map<Object, String> cases = new HashMap<>();
    cases.put("not json {", "not valid JSON");
    cases.put("[1,2]", "not an object");
    cases.put(Map.of("version", 1), "'event_id' is missing");
    cases.put(
        Map.of("event_id", "e", "version", "SECRET-VALUE"),
        "'version' is a JSON string, not bigint");
    cases.put(Map.of("event_id", "e", "text", "a\u0000b"), "\\u0000");
    cases.put(Map.of("event_id", "e", "text", "x".repeat(300)), "record.max.bytes");
    cases.put(Map.of("event_id", "e", "timestamp", "yesterday"), "'timestamp'");
    // UTF-8 has no form for a lone surrogate: getBytes would store '?', silently
    cases.put(Map.of("event_id", "e", "text", "x\ud800y"), "unpaired UTF-16 surrogate");
    cases.put(Map.of("event_id", "x\udc00"), "unpaired UTF-16 surrogate");
    // keys 1 and "1" are one JSON name: one entry would be lost, silently
    Map<Object, Object> sameText = new LinkedHashMap<>();
    sameText.put(1, "SECRET-VALUE");
    sameText.put("1", "SECRET-VALUE");
    cases.put(Map.of("event_id", "e", "scores", sameText), "two keys of the same text");
    cases.forEach(
        (value, reason) -> {
          BadRecordException e =
              assertThrows(BadRecordException.class, () -> mapper.map(record("t", null, value)));
          assertTrue(e.getMessage().contains(reason), value + " -> " + e.getMessage());
          assertFalse(e.getMessage().contains("SECRET-VALUE"));
        });
  }

  @Test
  void jsonBytesAreStoredUndecodedAndCheckedLikeText() {
    RowMapper mapper = mapper(Map.of("record.max.bytes", "200"));
    byte[] json = "{\"event_id\":\"e1\",\"version\":2,\"text\":\"é\"}".getBytes(UTF_8);
    EventRow row = mapper.map(record("t", null, json));
    JsonBytes payload = (JsonBytes) value(row, layout(Map.of()), "payload");
    assertSame(json, payload.utf8());
    assertEquals("e1", row.identity());
    assertEquals(2L, value(row, layout(Map.of()), "version"));
    Map<String, String> cases =
        Map.of(
            "{\"event_id\":\"e\",\"text\":\"a\\u0000b\"}",
            "\\u0000",
            "{\"event_id\":\"e\",\"text\":\"" + "x".repeat(300) + "\"}",
            "record.max.bytes",
            "{\"event_id\":\"e\",",
            "not valid JSON");
    cases.forEach(
        (text, reason) -> {
          BadRecordException e =
              assertThrows(
                  BadRecordException.class,
                  () -> mapper.map(record("t", null, text.getBytes(UTF_8))));
          assertTrue(e.getMessage().contains(reason), text + " -> " + e.getMessage());
        });
  }

  /**
   * A JSON escape of a lone surrogate decodes to a Java string UTF-8 cannot encode: a text column
   * mapped from it would store '?' (the payload's jsonb is refused by PostgreSQL anyway).
   */
  @Test
  void aTextColumnFromALoneSurrogateEscapeIsRejected() {
    RowMapper mapper = mapper(Map.of());
    byte[] json = "{\"event_id\":\"e\",\"metadata\":{\"tenant_id\":\"a\\ud800\"}}".getBytes(UTF_8);
    BadRecordException e =
        assertThrows(BadRecordException.class, () -> mapper.map(record("t", null, json)));
    assertTrue(e.getMessage().contains("'metadata.tenant_id'"), e.getMessage());
    assertTrue(e.getMessage().contains("unpaired UTF-16 surrogate"), e.getMessage());
  }

  /**
   * A number too small for a double would become 0, a value nobody sent (PostgreSQL's float8
   * refuses it as out of range): refused, as one too large is.
   */
  @Test
  void aDoubleBeyondItsRangeEitherWayIsRejected() {
    RowMapper mapper = mapper(Map.of("columns", "score:double:score"));
    for (String number : new String[] {"1e-400", "-1e-400", "1e400"}) {
      byte[] json = ("{\"event_id\":\"e\",\"score\":" + number + "}").getBytes(UTF_8);
      BadRecordException e =
          assertThrows(BadRecordException.class, () -> mapper.map(record("t", null, json)), number);
      assertTrue(e.getMessage().contains("double's range"), number + " -> " + e.getMessage());
    }
    byte[] zero = "{\"event_id\":\"e\",\"score\":0.0e-5}".getBytes(UTF_8);
    assertEquals(
        0.0,
        value(
            mapper.map(record("t", null, zero)),
            layout(Map.of("columns", "score:double:score")),
            "score"));
  }

  @Test
  void jsonBytesMustBeStrictUtf8WithoutAByteOrderMark() {
    RowMapper mapper = mapper(Map.of("key.fields", "event_id", "write.mode", "upsert"));
    Map<String, byte[]> cases = new LinkedHashMap<>();
    cases.put("an overlong '/' in the key", bytes("{\"event_id\":\"e", 0xC0, 0xAF, "\"}"));
    cases.put(
        "an encoded surrogate", bytes("{\"event_id\":\"e\",\"t\":\"", 0xED, 0xA0, 0x80, "\"}"));
    cases.put(
        "above U+10FFFF", bytes("{\"event_id\":\"e\",\"t\":\"", 0xF4, 0x90, 0x80, 0x80, "\"}"));
    cases.put("a truncated sequence", bytes("{\"event_id\":\"e\",\"t\":\"", 0xE2, 0x82, "\"}"));
    cases.put("UTF-16", "{\"event_id\":\"e\"}".getBytes(StandardCharsets.UTF_16LE));
    cases.forEach(
        (what, json) -> {
          BadRecordException e =
              assertThrows(
                  BadRecordException.class, () -> mapper.map(record("t", null, json)), what);
          assertTrue(e.getMessage().contains("not valid UTF-8"), what + " -> " + e.getMessage());
        });
    BadRecordException bom =
        assertThrows(
            BadRecordException.class,
            () ->
                mapper.map(record("t", null, bytes("", 0xEF, 0xBB, 0xBF, "{\"event_id\":\"e\"}"))));
    assertTrue(bom.getMessage().contains("byte order mark"), bom.getMessage());
    // the String path refuses the same text with a BOM as not JSON
    assertThrows(
        BadRecordException.class,
        () -> mapper.map(record("t", null, "\uFEFF{\"event_id\":\"e\"}")));
    // well-formed two-, three- and four-byte characters pass
    byte[] fine = "{\"event_id\":\"é€😀\"}".getBytes(UTF_8);
    assertEquals("é€😀", mapper.map(record("t", null, fine)).identity().split(":", 2)[1]);
  }

  /** Text, then bytes given as ints, then text. */
  private static byte[] bytes(String before, Object... rest) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(before.getBytes(UTF_8));
    for (Object part : rest) {
      if (part instanceof Integer b) {
        out.write(b);
      } else {
        out.writeBytes(((String) part).getBytes(UTF_8));
      }
    }
    return out.toByteArray();
  }

  /**
   * The validator agrees with the JDK's strict UTF-8 decoder on random bytes that are mostly
   * non-ASCII (where the decisions are), NUL aside, which the decoder takes and the sink does not.
   */
  @Test
  void malformedUtf8IsFoundExactlyWhereTheJdkDecoderRefuses() throws Exception {
    Random random = new Random(42);
    for (int round = 0; round < 200_000; round++) {
      byte[] b = new byte[1 + random.nextInt(6)];
      for (int i = 0; i < b.length; i++) {
        b[i] = (byte) (random.nextInt(4) == 0 ? random.nextInt(0x80) : 0x80 + random.nextInt(0x80));
      }
      boolean jdk = strictlyDecodes(b) && !containsNul(b);
      assertEquals(jdk, JsonBytes.malformedUtf8At(b) < 0, HexFormat.of().formatHex(b));
    }
  }

  private static boolean strictlyDecodes(byte[] b) {
    try {
      UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  private static boolean containsNul(byte[] b) {
    for (byte x : b) {
      if (x == 0) {
        return true;
      }
    }
    return false;
  }

  /** Epoch nanoseconds read as milliseconds land in the year 55,000 or so: a bad record. */
  @Test
  void timesOutsideTheYearsOneTo9999AreBadRecords() {
    RowMapper audit = mapper(Map.of("write.mode", "audit"));
    long nanos = 1_700_000_000_000_000_000L;
    for (String time : List.of(Long.toString(nanos), "\"+12026-01-01T00:00:00Z\"")) {
      String json = "{\"event_id\":\"e\",\"timestamp\":" + time + "}";
      BadRecordException e =
          assertThrows(BadRecordException.class, () -> audit.map(record("t", null, json)), time);
      assertTrue(e.getMessage().contains("outside the years 1 to 9999"), e.getMessage());
    }
    SinkRecord noTime =
        new SinkRecord(
            "t", 0, null, null, null, "{\"event_id\":\"e\"}", 1, nanos, TimestampType.CREATE_TIME);
    BadRecordException e = assertThrows(BadRecordException.class, () -> audit.map(noTime));
    assertTrue(e.getMessage().contains("the record timestamp"), e.getMessage());
  }

  @Test
  void anEscapedBackslashBeforeU0000IsTextNotANulCharacter() {
    RowMapper mapper = mapper(Map.of());
    // JSON for a backslash followed by the text "u0000", which jsonb stores fine
    String json = "{\"event_id\":\"e\",\"path\":\"C:\\\\u0000\"}";
    assertEquals("e", mapper.map(record("t", null, json)).identity());
    assertEquals("e", mapper.map(record("t", null, json.getBytes(UTF_8))).identity());
    // an escaped backslash, then the escape of the NUL character
    String nul = "{\"event_id\":\"e\",\"path\":\"C:\\\\\\u0000\"}";
    assertThrows(BadRecordException.class, () -> mapper.map(record("t", null, nul)));
    assertThrows(
        BadRecordException.class, () -> mapper.map(record("t", null, nul.getBytes(UTF_8))));
  }

  @Test
  void upsertKeysComeFromTheValueAndTombstoneKeysFromTheRecordKey() {
    Map<String, String> upsert =
        Map.of("write.mode", "upsert", "key.fields", "namespace,id", "columns", "");
    RowMapper mapper = mapper(upsert);
    EventRow write = mapper.map(record("t", null, Map.of("namespace", "ns", "id", "m1")));
    assertEquals(EventRow.Kind.WRITE, write.kind());
    EventRow delete = mapper.map(record("t", "{\"namespace\":\"ns\",\"id\":\"m1\"}", null));
    assertEquals(EventRow.Kind.DELETE, delete.kind());
    assertEquals(write.identity(), delete.identity());
    assertThrows(BadRecordException.class, () -> mapper.map(record("t", "m1", null)));
  }

  /**
   * An event lacking a nested key field is a bad record: it must not be keyed by another field that
   * merely shares the path's last name (its own event id, say), or unrelated events would overwrite
   * one another. A record key, which carries the key fields flat by their column names, may.
   */
  @Test
  void aValueMissingANestedKeyFieldIsNotKeyedByAFieldOfTheSameLastName() {
    Map<String, String> upsert =
        Map.of("write.mode", "upsert", "key.fields", "entity.id", "columns", "");
    RowMapper mapper = mapper(upsert);
    BadRecordException e =
        assertThrows(
            BadRecordException.class,
            () -> mapper.map(record("t", null, "{\"id\":\"evt-1\",\"entity\":{}}")));
    assertTrue(e.getMessage().contains("'entity.id'"), e.getMessage());
    EventRow write = mapper.map(record("t", null, "{\"id\":\"evt-1\",\"entity\":{\"id\":\"m\"}}"));
    assertEquals(write.identity(), mapper.map(record("t", "{\"id\":\"m\"}", null)).identity());
    assertEquals(
        write.identity(), mapper.map(record("t", "{\"entity\":{\"id\":\"m\"}}", null)).identity());
  }

  @Test
  void aPlainKeyStandsForASingleKeyField() {
    RowMapper mapper = mapper(Map.of("write.mode", "upsert", "key.fields", "id", "columns", ""));
    EventRow delete = mapper.map(record("t", "m9", null));
    assertEquals(
        "m9",
        delete
            .values()[
            layout(Map.of("write.mode", "upsert", "key.fields", "id", "columns", ""))
                .indexOf("id")]);
  }

  /**
   * A key written as JSON (a producer serialising the id with a JSON serializer, read with
   * StringConverter) is the JSON string "m9", quotes included: it names the row m9, as the value's
   * id field does, not a row whose id has quotes around it.
   */
  @Test
  void aJsonStringKeyStandsForItsText() {
    Map<String, String> upsert = Map.of("write.mode", "upsert", "key.fields", "id", "columns", "");
    RowMapper mapper = mapper(upsert);
    EventRow write = mapper.map(record("t", null, Map.of("id", "m9")));
    EventRow delete = mapper.map(record("t", "\"m9\"", null));
    EventRow deleteBytes = mapper.map(record("t", "\"m9\"".getBytes(UTF_8), null));
    assertEquals(write.identity(), delete.identity());
    assertEquals(write.identity(), deleteBytes.identity());
  }

  @Test
  void tombstonesAreSkippedByAppendAndWhenIgnored() {
    assertNull(mapper(Map.of()).map(record("t", "k", null)));
    assertNull(
        mapper(
                Map.of(
                    "write.mode",
                    "upsert",
                    "key.fields",
                    "id",
                    "tombstones",
                    "ignore",
                    "columns",
                    ""))
            .map(record("t", "k", null)));
  }

  @Test
  void tableNamesFromTopicsAreSanitisedAndQuoted() {
    EventRow row =
        mapper(Map.of("table.name.format", "agent_${topic}", "table.schema", "obs"))
            .map(record("Agent-Actions.v1", null, Map.of("event_id", "e")));
    assertEquals("\"obs\".\"agent_agent_actions_v1\"", row.table());
    assertEquals(List.of("event_id"), List.of("event_id"));
  }
}
