package io.somastack.connect.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class KeyFromFieldTest {

  private static KeyFromField<SinkRecord> fromValue(String field, String onMissing) {
    KeyFromField<SinkRecord> transform = new KeyFromField.Value<>();
    transform.configure(Map.of("field", field, "on.missing", onMissing));
    return transform;
  }

  @Test
  void takesANestedFieldOfASchemalessValue() {
    SinkRecord record = TestRecords.value(TestRecords.example("tool-result"));
    SinkRecord out = fromValue("metadata.tenant_id", "fail").apply(record);
    assertEquals("default", out.key());
    assertNull(out.keySchema());
    assertSame(record.value(), out.value());
    assertEquals(record.kafkaOffset(), out.kafkaOffset());
  }

  /**
   * JSON text that is valid but beyond the reader's limits (PostgreSQL's jsonb takes deeper) is
   * reported as what it is: calling it "not JSON" sends the user looking for malformed text.
   */
  @Test
  void jsonTextBeyondTheNestingLimitIsReportedAsTooDeepNotAsNotJson() {
    String deep = "{\"tenant_id\":\"t\",\"d\":" + "[".repeat(1500) + "]".repeat(1500) + "}";
    DataException e =
        assertThrows(
            DataException.class,
            () -> fromValue("tenant_id", "keep").apply(TestRecords.value(deep)));
    assertTrue(e.getMessage().contains("nested too deeply"), e.getMessage());
    assertFalse(e.getMessage().contains("is not JSON"), e.getMessage());
  }

  @Test
  void takesAStructFieldWithItsSchema() {
    Schema metadata = SchemaBuilder.struct().field("tenant_id", Schema.STRING_SCHEMA).build();
    Schema schema =
        SchemaBuilder.struct()
            .field("task_id", Schema.STRING_SCHEMA)
            .field("metadata", metadata)
            .build();
    Struct value =
        new Struct(schema)
            .put("task_id", "t-1")
            .put("metadata", new Struct(metadata).put("tenant_id", "acme"));
    SinkRecord out =
        fromValue("metadata.tenant_id", "fail").apply(TestRecords.value(schema, value));
    assertEquals("acme", out.key());
    assertEquals(Schema.STRING_SCHEMA, out.keySchema());
  }

  @Test
  void takesAFieldInsideAStructMapWithTheMapValueSchema() {
    Schema labels = SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.STRING_SCHEMA).build();
    Schema schema = SchemaBuilder.struct().field("labels", labels).build();
    Struct value = new Struct(schema).put("labels", Map.of("tenant", "acme"));
    SinkRecord out = fromValue("labels.tenant", "fail").apply(TestRecords.value(schema, value));
    assertEquals("acme", out.key());
    assertEquals(Schema.STRING_SCHEMA, out.keySchema());
  }

  /**
   * JsonConverter with schemas.enable=true reads a map-typed payload as a Map with a MAP schema:
   * the key is one of its values, and has the map's value schema, so a converter after the
   * transform writes it with a schema as it would a Struct's field.
   */
  @Test
  void takesAFieldOfAMapWithASchemaWithTheMapValueSchema() {
    SchemaAndValue read = Converters.readStringMap("{\"tenant_id\":\"acme\",\"id\":\"m-1\"}");
    SinkRecord out =
        fromValue("tenant_id", "fail").apply(TestRecords.value(read.schema(), read.value()));
    assertEquals("acme", out.key());
    assertEquals(Schema.OPTIONAL_STRING_SCHEMA, out.keySchema());
    byte[] written = Converters.json(true, true).fromConnectData("t", out.keySchema(), out.key());
    assertEquals(
        "{\"schema\":{\"type\":\"string\",\"optional\":true},\"payload\":\"acme\"}",
        Converters.text(written));
  }

  @Test
  void keyVariantTakesAStructKeyFieldWithItsSchema() {
    Schema keySchema =
        SchemaBuilder.struct()
            .field("tenant_id", Schema.INT64_SCHEMA)
            .field("id", Schema.STRING_SCHEMA)
            .build();
    Struct key = new Struct(keySchema).put("tenant_id", 7L).put("id", "m-1");
    SinkRecord out =
        fromKey("tenant_id", "fail").apply(TestRecords.record(keySchema, key, null, "v"));
    assertEquals(7L, out.key());
    assertEquals(Schema.INT64_SCHEMA, out.keySchema());
  }

  @Test
  void readsJsonTextValues() {
    SinkRecord record = TestRecords.value("{\"fingerprint_id\":\"f-9\",\"n\":3}");
    assertEquals("f-9", fromValue("fingerprint_id", "fail").apply(record).key());
    assertEquals(3L, fromValue("n", "fail").apply(record).key());
  }

  /**
   * A key read from JSON text must be one Kafka's converters can write: JsonConverter has no
   * schemaless form for BigDecimal or BigInteger, so a source connector would fail at the producer.
   * Numbers a double holds exactly become one; others keep their JSON text, so no two differ only
   * after rounding.
   */
  @Test
  void keysFromJsonTextAreWrittenByTheConverters() {
    SinkRecord record =
        TestRecords.value(
            "{\"amount\":12.5,\"count\":3,\"huge\":123456789012345678901234567890,"
                + "\"fine\":0.1000000000000000000001,\"nested\":{\"rate\":0.25,\"ids\":[1,2.5]}}");
    Map<String, String> written =
        Map.of(
            "amount", "12.5",
            "count", "3",
            "huge", "\"123456789012345678901234567890\"",
            "fine", "\"0.1000000000000000000001\"",
            "nested", "{\"rate\":0.25,\"ids\":[1,2.5]}");
    for (Map.Entry<String, String> field : written.entrySet()) {
      Object key = fromValue(field.getKey(), "fail").apply(record).key();
      byte[] plain = Converters.json(false, true).fromConnectData("t", null, key);
      assertEquals(field.getValue(), Converters.text(plain), field.getKey());
      byte[] enveloped = Converters.json(true, true).fromConnectData("t", null, key);
      assertEquals(
          "{\"schema\":null,\"payload\":" + field.getValue() + "}", Converters.text(enveloped));
    }
    Object huge = fromValue("huge", "fail").apply(record).key();
    assertEquals(
        "123456789012345678901234567890",
        Converters.text(Converters.string(true).fromConnectData("t", null, huge)));
  }

  /**
   * The same event gives the same key whether it arrives as JSON text (StringConverter) or as the
   * Map JsonConverter makes of it, and numerically equal decimals give one key: equal events land
   * on one partition.
   */
  @Test
  void keysFromJsonTextEqualTheKeysOfTheEventJsonConverterReads() {
    String event =
        "{\"amount\":12.5,\"count\":3,\"ratio\":0.30000000000000004,\"tiny\":1e-300,"
            + "\"flag\":true,\"nested\":{\"ids\":[1,2.5]}}";
    JsonConverter schemaless = Converters.json(false, false);
    Object map = schemaless.toConnectData("t", event.getBytes(StandardCharsets.UTF_8)).value();
    JsonConverter keys = Converters.json(false, true);
    for (String field : new String[] {"amount", "count", "ratio", "tiny", "flag", "nested"}) {
      Object fromText = fromValue(field, "fail").apply(TestRecords.value(event)).key();
      Object fromMap = fromValue(field, "fail").apply(TestRecords.value(map)).key();
      assertEquals(fromMap, fromText, field);
      assertEquals(
          Converters.text(keys.fromConnectData("t", null, fromMap)),
          Converters.text(keys.fromConnectData("t", null, fromText)),
          field);
    }
    Object scaled =
        fromValue("a", "fail").apply(TestRecords.value("{\"a\":12.500000000000000000000}")).key();
    assertEquals(fromValue("amount", "fail").apply(TestRecords.value(event)).key(), scaled);
  }

  @Test
  void appliesThePolicyForAMissingField() {
    SinkRecord record =
        TestRecords.record(Schema.STRING_SCHEMA, "old", null, TestRecords.map("x", 1));
    DataException e =
        assertThrows(DataException.class, () -> fromValue("correlation_id", "fail").apply(record));
    assertTrue(e.getMessage().contains("correlation_id"));
    assertTrue(e.getMessage().contains("offset 42"));

    SinkRecord nulled = fromValue("correlation_id", "null").apply(record);
    assertNull(nulled.key());
    assertNull(nulled.keySchema());

    assertSame(record, fromValue("correlation_id", "keep").apply(record));
  }

  @Test
  void treatsJsonNullAsMissing() {
    SinkRecord record = TestRecords.value("{\"tenant_id\":null}");
    assertThrows(DataException.class, () -> fromValue("tenant_id", "fail").apply(record));
  }

  @Test
  void keyVariantNarrowsTheKey() {
    KeyFromField<SinkRecord> transform = new KeyFromField.Key<>();
    transform.configure(Map.of("field", "tenant_id"));
    SinkRecord record =
        TestRecords.record(null, TestRecords.map("tenant_id", "acme", "id", "m-1"), null, "v");
    SinkRecord out = transform.apply(record);
    assertEquals("acme", out.key());
    assertEquals("v", out.value());
  }

  private static KeyFromField<SinkRecord> fromKey(String field, String onMissing) {
    KeyFromField<SinkRecord> transform = new KeyFromField.Key<>();
    transform.configure(Map.of("field", field, "on.missing", onMissing));
    return transform;
  }

  @Test
  void keyVariantAppliesThePolicyToAMissingKey() {
    SinkRecord keyless = TestRecords.record(null, null, null, "v");
    DataException e =
        assertThrows(DataException.class, () -> fromKey("tenant_id", "fail").apply(keyless));
    assertTrue(e.getMessage().contains("offset 42"), e.getMessage());
    assertSame(keyless, fromKey("tenant_id", "keep").apply(keyless));
    assertNull(fromKey("tenant_id", "null").apply(keyless).key());
  }

  @Test
  void keyVariantNarrowsTheKeyOfATombstoneSoItStillDeletesIt() {
    SinkRecord tombstone =
        TestRecords.record(null, TestRecords.map("tenant_id", "acme"), null, null);
    SinkRecord out = fromKey("tenant_id", "fail").apply(tombstone);
    assertEquals("acme", out.key());
    assertNull(out.value());
  }

  @Test
  void leavesTombstonesAlone() {
    SinkRecord tombstone = TestRecords.record(Schema.STRING_SCHEMA, "k", null, null);
    assertSame(tombstone, fromValue("tenant_id", "fail").apply(tombstone));
  }

  @Test
  void reportsConfigMistakes() {
    assertThrows(ConfigException.class, () -> fromValue("a..b", "fail"));
    assertThrows(ConfigException.class, () -> fromValue("a", "sometimes"));
    KeyFromField<SinkRecord> transform = new KeyFromField.Value<>();
    assertThrows(ConfigException.class, () -> transform.configure(Map.of()));
    assertFalse(transform.config().configKeys().isEmpty());
  }
}
