package io.somastack.connect.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.transforms.crypto.FieldCipher;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class EncryptFieldsTest {

  static final String KEYS = "pii:1:" + TestRecords.key(1) + ",pii:2:" + TestRecords.key(2);

  static Map<String, String> props(String... pairs) {
    Map<String, String> props = new HashMap<>();
    props.put("fields", "payload.content,payload.score");
    props.put("keys", KEYS);
    props.put("key.id", "pii");
    for (int i = 0; i < pairs.length; i += 2) {
      props.put(pairs[i], pairs[i + 1]);
    }
    return props;
  }

  static EncryptFields<SinkRecord> encrypt(String... pairs) {
    EncryptFields<SinkRecord> transform = new EncryptFields.Value<>();
    transform.configure(props(pairs));
    return transform;
  }

  static Map<String, Object> event() {
    return TestRecords.map(
        "tenant_id",
        "acme",
        "id",
        "m-1",
        "payload",
        TestRecords.map("content", "likes dark mode", "score", 0.5, "kept", "visible"));
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> payload(SinkRecord record) {
    return (Map<String, Object>) ((Map<String, Object>) record.value()).get("payload");
  }

  @Test
  void encryptsTheConfiguredPathsOnly() {
    Map<String, Object> event = event();
    SinkRecord out = encrypt().apply(TestRecords.value(event));
    Map<String, Object> payload = payload(out);
    assertTrue(((String) payload.get("content")).startsWith(FieldCipher.PREFIX));
    assertTrue(((String) payload.get("score")).startsWith(FieldCipher.PREFIX));
    assertEquals("visible", payload.get("kept"));
    assertEquals("acme", ((Map<?, ?>) out.value()).get("tenant_id"));
    assertEquals("likes dark mode", ((Map<?, ?>) event.get("payload")).get("content"));
    assertFalse(out.value().toString().contains("dark mode"));
  }

  @Test
  void randomModeDiffersEveryTimeDeterministicModeDoesNot() {
    EncryptFields<SinkRecord> random = encrypt();
    assertNotEquals(
        payload(random.apply(TestRecords.value(event()))).get("content"),
        payload(random.apply(TestRecords.value(event()))).get("content"));
    EncryptFields<SinkRecord> deterministic = encrypt("mode", "deterministic");
    assertEquals(
        payload(deterministic.apply(TestRecords.value(event()))).get("content"),
        payload(deterministic.apply(TestRecords.value(event()))).get("content"));
  }

  @Test
  void turnsStructFieldsIntoOptionalStrings() {
    Schema payload =
        SchemaBuilder.struct()
            .field("content", Schema.STRING_SCHEMA)
            .field("score", Schema.FLOAT64_SCHEMA)
            .field("kept", Schema.STRING_SCHEMA)
            .build();
    Schema schema =
        SchemaBuilder.struct()
            .name("MemoryWrite")
            .field("tenant_id", Schema.STRING_SCHEMA)
            .field("payload", payload)
            .build();
    Struct value =
        new Struct(schema)
            .put("tenant_id", "acme")
            .put(
                "payload",
                new Struct(payload).put("content", "c").put("score", 0.5).put("kept", "k"));
    EncryptFields<SinkRecord> transform = encrypt();
    SinkRecord out = transform.apply(TestRecords.value(schema, value));
    Struct encrypted = ((Struct) out.value()).getStruct("payload");
    Schema score = encrypted.schema().field("score").schema();
    assertEquals(Schema.Type.STRING, score.type());
    assertTrue(score.isOptional());
    assertEquals(
        "{\"type\":\"float64\",\"optional\":false}",
        score.parameters().get(EncryptFields.ORIGINAL_SCHEMA_PARAMETER),
        "the original schema, for DecryptFields to restore");
    assertTrue(encrypted.getString("score").startsWith(FieldCipher.PREFIX));
    assertEquals("k", encrypted.getString("kept"));
    assertEquals("MemoryWrite", out.valueSchema().name());
    assertSame(out.valueSchema(), transform.apply(TestRecords.value(schema, value)).valueSchema());
  }

  @Test
  void leavesMissingAndNullFieldsAndTombstonesAlone() {
    Map<String, Object> event = TestRecords.map("tenant_id", "acme", "payload", null);
    SinkRecord out = encrypt().apply(TestRecords.value(event));
    assertEquals(event, out.value());
    SinkRecord tombstone = TestRecords.value(null);
    assertSame(tombstone, encrypt().apply(tombstone));
  }

  @Test
  void failsRatherThanLeaveAFieldInsideAStructMapInTheClear() {
    Schema attributes = SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.STRING_SCHEMA).build();
    Schema schema =
        SchemaBuilder.struct()
            .field("tenant_id", Schema.STRING_SCHEMA)
            .field("attributes", attributes)
            .build();
    Struct value =
        new Struct(schema)
            .put("tenant_id", "acme")
            .put("attributes", Map.of("email", "ann@example.com"));
    EncryptFields<SinkRecord> transform = encrypt("fields", "attributes.email");
    DataException e =
        assertThrows(DataException.class, () -> transform.apply(TestRecords.value(schema, value)));
    assertTrue(e.getMessage().contains("'attributes'"), e.getMessage());
    assertTrue(e.getMessage().contains("offset 42"), e.getMessage());
    assertFalse(e.getMessage().contains("ann@example.com"), e.getMessage());
  }

  @Test
  void failsRatherThanLeaveAFieldInsideASchemalessListInTheClear() {
    Map<String, Object> event =
        TestRecords.map(
            "tenant_id", "acme", "payload", List.of(TestRecords.map("content", "dark mode")));
    DataException e =
        assertThrows(DataException.class, () -> encrypt().apply(TestRecords.value(event)));
    assertTrue(e.getMessage().contains("'payload'"), e.getMessage());
    assertTrue(e.getMessage().contains("offset 42"), e.getMessage());
    assertFalse(e.getMessage().contains("dark mode"), e.getMessage());
  }

  @Test
  void failsARecordWithoutItsTenant() {
    Map<String, Object> event = event();
    event.remove("tenant_id");
    DataException e =
        assertThrows(DataException.class, () -> encrypt().apply(TestRecords.value(event)));
    assertTrue(e.getMessage().contains("tenant field 'tenant_id'"), e.getMessage());
    assertTrue(e.getMessage().contains("offset 42"), e.getMessage());
  }

  @Test
  void encryptsKeyFieldsWithTheKeyVariant() {
    EncryptFields<SinkRecord> transform = new EncryptFields.Key<>();
    transform.configure(props("fields", "user_id"));
    Map<String, Object> key = TestRecords.map("tenant_id", "acme", "user_id", "u-1");
    SinkRecord out = transform.apply(TestRecords.record(null, key, null, "v"));
    assertTrue(((String) ((Map<?, ?>) out.key()).get("user_id")).startsWith(FieldCipher.PREFIX));
    assertEquals("v", out.value());
  }

  @Test
  void rejectsValuesThatAreNeitherMapNorStruct() {
    assertThrows(DataException.class, () -> encrypt().apply(TestRecords.value("{\"a\":1}")));
  }

  @Test
  void reportsConfigMistakesWithoutEchoingKeys() {
    ConfigException unknown = assertThrows(ConfigException.class, () -> encrypt("key.id", "other"));
    assertTrue(unknown.getMessage().contains("key.id"));
    ConfigException shortKey =
        assertThrows(ConfigException.class, () -> encrypt("keys", "pii:1:AAAA"));
    assertFalse(shortKey.getMessage().contains("AAAA"), shortKey.getMessage());
    assertThrows(ConfigException.class, () -> encrypt("fields", ""));
    assertThrows(ConfigException.class, () -> encrypt("fields", "payload,payload.content"));
    assertThrows(ConfigException.class, () -> encrypt("fields", "tenant_id"));
    assertThrows(ConfigException.class, () -> encrypt("mode", "sometimes"));
    for (String key : List.of("fields", "keys", "key.id")) {
      Map<String, String> props = props();
      props.remove(key);
      EncryptFields<SinkRecord> transform = new EncryptFields.Value<>();
      assertThrows(ConfigException.class, () -> transform.configure(props), key);
    }
  }

  @Test
  void allowsAnUnboundTenant() {
    Map<String, Object> event = event();
    event.remove("tenant_id");
    SinkRecord out = encrypt("tenant.field", "").apply(TestRecords.value(event));
    assertTrue(((String) payload(out).get("content")).startsWith(FieldCipher.PREFIX));
    assertNull(((Map<?, ?>) out.value()).get("tenant_id"));
  }

  /**
   * A tenant must be a scalar: an object's text is not stable (key order, Map versus Struct, and
   * for bytes an identity hash), so what it bound would not open again.
   */
  @Test
  void failsARecordWhoseTenantIsNotAScalar() {
    Map<String, Object> event = event();
    event.put("tenant_id", TestRecords.map("name", "acme", "owner", "ann@example.com"));
    DataException e =
        assertThrows(DataException.class, () -> encrypt().apply(TestRecords.value(event)));
    assertTrue(e.getMessage().contains("tenant field 'tenant_id'"), e.getMessage());
    assertTrue(e.getMessage().contains("offset 42"), e.getMessage());
    assertFalse(e.getMessage().contains("ann@example.com"), e.getMessage());
    Schema schema =
        SchemaBuilder.struct()
            .field("tenant_id", Schema.BYTES_SCHEMA)
            .field("secret", Schema.STRING_SCHEMA)
            .build();
    Struct value = new Struct(schema).put("tenant_id", new byte[] {1}).put("secret", "s");
    EncryptFields<SinkRecord> transform = encrypt("fields", "secret");
    assertThrows(DataException.class, () -> transform.apply(TestRecords.value(schema, value)));
  }

  /** Encrypting inside the tenant changes the tenant between encryption and decryption. */
  @Test
  void rejectsEncryptedFieldsInsideTheTenantField() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> encrypt("tenant.field", "payload", "fields", "payload.content"));
    assertTrue(e.getMessage().contains("tenant.field"), e.getMessage());
  }

  /** A map-typed payload from JsonConverter with schemas.enable=true keeps its MAP schema. */
  @Test
  void keepsTheMapSchemaThroughEncryptionAndDecryption() {
    SchemaAndValue in =
        Converters.readStringMap("{\"tenant_id\":\"acme\",\"note\":\"likes dark mode\"}");
    SinkRecord encrypted =
        encrypt("fields", "note").apply(TestRecords.value(in.schema(), in.value()));
    assertSame(in.schema(), encrypted.valueSchema());
    SchemaAndValue written = Converters.roundTrip(encrypted.valueSchema(), encrypted.value());
    assertEquals(in.schema(), written.schema());
    SinkRecord decrypted =
        DecryptFieldsTest.decrypt("fields", "note")
            .apply(TestRecords.value(written.schema(), written.value()));
    assertSame(written.schema(), decrypted.valueSchema());
    assertEquals(in.value(), decrypted.value());
  }

  /**
   * NaN and the infinities have no JSON, so a Struct float holding one cannot be encrypted: the
   * error must say which field of which record, where before it said only that JSON has no
   * representation for NaN.
   */
  @Test
  void namesTheFieldAndRecordOfAFloatWithNoJson() {
    Schema payload = SchemaBuilder.struct().field("score", Schema.FLOAT64_SCHEMA).build();
    Schema schema = SchemaBuilder.struct().field("payload", payload).build();
    for (double number : new double[] {Double.NaN, Double.POSITIVE_INFINITY}) {
      Struct value = new Struct(schema).put("payload", new Struct(payload).put("score", number));
      SinkRecord record = TestRecords.value(schema, value);
      DataException e =
          assertThrows(
              DataException.class,
              () -> encrypt("fields", "payload.score", "tenant.field", "").apply(record));
      assertTrue(e.getMessage().contains("field 'payload.score'"), e.getMessage());
      assertTrue(
          e.getMessage().contains("topic 'memory.events' partition 2 offset 42"), e.getMessage());
      assertFalse(e.getMessage().contains("Infinity"), e.getMessage());
    }
  }

  /**
   * A path is text, so it cannot name a key of a map keyed by numbers: labels.7 looked up as the
   * text "7" would find nothing in {7=...}, and the value would pass in the clear as a missing
   * field. Such a path fails the record instead, whether the map is schemaless or has a MAP schema.
   */
  @Test
  void failsAPathIntoAMapWhoseKeysAreNotText() {
    Map<String, Object> labels = TestRecords.map("labels", Map.of(7, "123-45-6789"));
    assertFailsWithoutQuoting(
        encrypt("fields", "labels.7", "tenant.field", ""), TestRecords.value(labels));
    Schema byNumber = SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).build();
    assertFailsWithoutQuoting(
        encrypt("fields", "7", "tenant.field", ""),
        TestRecords.value(byNumber, Map.of(7, "123-45-6789")));
  }

  static void assertFailsWithoutQuoting(
      org.apache.kafka.connect.transforms.Transformation<SinkRecord> transform, SinkRecord record) {
    DataException e = assertThrows(DataException.class, () -> transform.apply(record));
    assertTrue(e.getMessage().contains("keys of type"), e.getMessage());
    assertFalse(e.getMessage().contains("123-45-6789"), e.getMessage());
  }

  /** A path through a text key of a map that also has other keys still reaches it. */
  @Test
  void encryptsATextKeyOfAMapWithKeysOfOtherTypes() {
    Map<Object, Object> labels = new HashMap<>();
    labels.put(7, "kept");
    labels.put("7", "secret");
    Map<String, Object> value = TestRecords.map("labels", labels);
    Map<?, ?> out =
        (Map<?, ?>)
            ((Map<?, ?>)
                    encrypt("fields", "labels.7", "tenant.field", "")
                        .apply(TestRecords.value(value))
                        .value())
                .get("labels");
    assertEquals("kept", out.get(7));
    assertTrue(((String) out.get("7")).startsWith(FieldCipher.PREFIX));
  }

  /**
   * A required Struct field with a default may be unset (Struct.validate accepts it): the default
   * is what it holds, so the default's fields are encrypted as a value's would be, rather than the
   * record failing because the rebuilt schema has no default.
   */
  @Test
  void encryptsTheDefaultOfAnUnsetRequiredStruct() {
    SchemaBuilder metadata = SchemaBuilder.struct().field("email", Schema.STRING_SCHEMA);
    Struct defaults = new Struct(metadata).put("email", "someone@example.com");
    Schema schema =
        SchemaBuilder.struct()
            .field("id", Schema.STRING_SCHEMA)
            .field("metadata", metadata.defaultValue(defaults).build())
            .build();
    Struct value = new Struct(schema).put("id", "m-1");
    value.validate();
    SinkRecord out =
        encrypt("fields", "metadata.email", "tenant.field", "")
            .apply(TestRecords.value(schema, value));
    Struct encrypted = (Struct) out.value();
    encrypted.validate();
    assertTrue(encrypted.getStruct("metadata").getString("email").startsWith(FieldCipher.PREFIX));
    assertFalse(encrypted.toString().contains("someone@"), encrypted.toString());
    assertFalse(out.valueSchema().toString().contains("someone@"));
    Struct decrypted =
        (Struct)
            DecryptFieldsTest.decrypt("fields", "metadata.email", "tenant.field", "")
                .apply(out)
                .value();
    assertEquals("someone@example.com", decrypted.getStruct("metadata").getString("email"));
  }

  /** An optional Struct left null stays null: its schema's default is not written in its place. */
  @Test
  void leavesAnOptionalStructWithADefaultNullWhenItIsNull() {
    SchemaBuilder metadata = SchemaBuilder.struct().optional().field("email", Schema.STRING_SCHEMA);
    Struct defaults = new Struct(metadata).put("email", "someone@example.com");
    Schema schema =
        SchemaBuilder.struct()
            .field("id", Schema.STRING_SCHEMA)
            .field("metadata", metadata.defaultValue(defaults).build())
            .build();
    Struct value = new Struct(schema).put("id", "m-1").put("metadata", null);
    Struct out =
        (Struct)
            encrypt("fields", "metadata.email", "tenant.field", "")
                .apply(TestRecords.value(schema, value))
                .value();
    assertEquals(null, out.getWithoutDefault("metadata"));
  }

  /**
   * Overlapping or repeated paths are reported when the config is validated (PUT
   * .../config/validate), naming the option, not only when the task starts and fails.
   */
  @Test
  void validationReportsOverlappingAndRepeatedPaths() {
    for (org.apache.kafka.common.config.ConfigDef def :
        List.of(EncryptFields.CONFIG_DEF, DecryptFields.CONFIG_DEF, RedactFields.CONFIG_DEF)) {
      for (String fields : List.of("payload, payload.content", "payload.content,payload.content")) {
        Map<String, String> props = props("fields", fields);
        props.put("hmac.key", TestRecords.key(5));
        List<String> errors = errorsOf(def, props, "fields");
        assertEquals(1, errors.size(), fields + ": " + errors);
        assertTrue(errors.get(0).contains("payload.content"), errors.get(0));
      }
      Map<String, String> props = props("fields", "payload.content,payload.score");
      props.put("hmac.key", TestRecords.key(5));
      assertEquals(List.of(), errorsOf(def, props, "fields"));
    }
  }

  static List<String> errorsOf(
      org.apache.kafka.common.config.ConfigDef def, Map<String, String> props, String name) {
    return def.validate(props).stream()
        .filter(value -> value.name().equals(name))
        .findFirst()
        .orElseThrow()
        .errorMessages();
  }
}
