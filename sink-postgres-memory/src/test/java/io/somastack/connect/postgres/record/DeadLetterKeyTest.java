package io.somastack.connect.postgres.record;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.somastack.connect.postgres.config.PostgresSinkConfig;
import io.somastack.connect.postgres.write.TableLayout;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.Map;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * write.mode=dead_letter keeps what a replay of a dead letter needs besides its value: the key, as
 * the bytes it came as wherever the converter left them (the partitioner hashes them), and the
 * record's timestamp.
 */
class DeadLetterKeyTest {

  private static final Map<String, String> PROPS =
      Map.of(
          "connection.url", "jdbc:postgresql://localhost/soma",
          "write.mode", "dead_letter",
          "table.name.format", "dlq");
  private static final PostgresSinkConfig CONFIG = new PostgresSinkConfig(PROPS);
  private static final TableLayout LAYOUT = TableLayout.of(CONFIG);
  private static final RowMapper MAPPER = new RowMapper(CONFIG, LAYOUT);

  @Test
  void keyBytesAndStringsAreStoredAsTheyCame() {
    // spaced and ordered as it came: jsonb would make it {"a": 1, "b": 2}, other bytes
    assertKey("{ \"b\":2,\"a\":1 }", "json", utf8("{ \"b\":2,\"a\":1 }"));
    assertKey("\"m9\"", "json", utf8("\"m9\""));
    assertKey("order-17", "text", utf8("order-17"));
    assertKey("order-17", "text", "order-17"); // StringConverter
    assertKey("{\"a\":1,\"a\":2}", "text", utf8("{\"a\":1,\"a\":2}")); // not JSON here
    assertKey("", "text", new byte[0]);
    assertKey("é", "text", ByteBuffer.wrap(utf8("é")));
  }

  /**
   * Jackson refuses a number whose exponent is beyond an int with a NumberFormatException, not a
   * parse error: such a key is not JSON here, and is stored as the text it came as rather than
   * failing the archive.
   */
  @Test
  void aKeyWithAnExponentJacksonCannotReadIsStoredAsText() {
    assertKey("1e99999999999", "text", utf8("1e99999999999"));
    assertKey("[1e99999999999]", "text", "[1e99999999999]");
  }

  @Test
  void keysTextCannotHoldLandAsBase64() {
    byte[] binary = {(byte) 0xff, 0x00, 0x41};
    byte[] longKey = {0, 0, 0, 0, 0, 0, 0, 42}; // LongSerializer's 42: UTF-8 with NULs
    assertKey(Base64.getEncoder().encodeToString(binary), "base64", binary);
    assertKey(Base64.getEncoder().encodeToString(longKey), "base64", longKey);
    assertKey(Base64.getEncoder().encodeToString(utf8("a\u0000b")), "base64", "a\u0000b");
  }

  @Test
  void aKeyAConverterParsedIsStoredAsItsJson() {
    Schema schema = SchemaBuilder.struct().field("id", Schema.STRING_SCHEMA).build();
    SinkRecord struct = record(schema, new Struct(schema).put("id", "m\u00009"), 0L);
    assertEquals("{\"id\":\"m\\u00009\"}", value(struct, "event_key"));
    assertEquals("json", value(struct, "event_key_format"));
    assertKey("{\"id\":7}", "json", Map.of("id", 7));
    assertKey("42", "json", 42L);
    assertKey("true", "json", true);
    assertKey("NaN", "text", Double.NaN); // JSON has no form for it
  }

  @Test
  void aNullKeyIsNullAndSaysSo() {
    assertKey(null, "null", null);
  }

  @Test
  void theTimestampIsTheRecordsOrNullWithoutOne() {
    assertEquals(
        "2024-05-06T07:08:09.123Z", value(record(null, null, 1714979289123L), "event_timestamp"));
    assertNull(value(record(null, null, null), "event_timestamp"));
    // a producer's nanoseconds as milliseconds: beyond timestamptz, so NULL, not a failed archive
    assertNull(value(record(null, null, 1714979289123000000L), "event_timestamp"));
  }

  private static void assertKey(String stored, String format, Object key) {
    SinkRecord record = record(null, key, 0L);
    assertEquals(stored, value(record, "event_key"), format);
    assertEquals(format, value(record, "event_key_format"));
  }

  private static Object value(SinkRecord record, String column) {
    return MAPPER.map(record).values()[LAYOUT.indexOf(column)];
  }

  private static SinkRecord record(Schema keySchema, Object key, Long timestamp) {
    return new SinkRecord(
        "memory.wal.dlq",
        0,
        keySchema,
        key,
        null,
        utf8("{}"),
        3L,
        timestamp,
        timestamp == null ? TimestampType.NO_TIMESTAMP_TYPE : TimestampType.CREATE_TIME);
  }

  private static byte[] utf8(String text) {
    return text.getBytes(UTF_8);
  }
}
