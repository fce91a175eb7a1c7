package io.somastack.connect.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
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

  @Test
  void readsJsonTextValues() {
    SinkRecord record = TestRecords.value("{\"fingerprint_id\":\"f-9\",\"n\":3}");
    assertEquals("f-9", fromValue("fingerprint_id", "fail").apply(record).key());
    assertEquals(3, fromValue("n", "fail").apply(record).key());
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
