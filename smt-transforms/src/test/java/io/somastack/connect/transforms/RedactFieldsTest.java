package io.somastack.connect.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class RedactFieldsTest {

  private static RedactFields<SinkRecord> redact(String... pairs) {
    Map<String, String> props = new HashMap<>();
    props.put("fields", "user_request,context.domain");
    props.put("hmac.key", TestRecords.key(5));
    for (int i = 0; i < pairs.length; i += 2) {
      props.put(pairs[i], pairs[i + 1]);
    }
    RedactFields<SinkRecord> transform = new RedactFields.Value<>();
    transform.configure(props);
    return transform;
  }

  private static String hmac(String text) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(Base64.getDecoder().decode(TestRecords.key(5)), "HmacSHA256"));
    return HexFormat.of().formatHex(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void replacesValuesWithTheirHmac() throws Exception {
    Map<String, Object> event = TestRecords.example("agent-routing-decision");
    SinkRecord out = redact().apply(TestRecords.value(event));
    Map<?, ?> value = (Map<?, ?>) out.value();
    assertEquals(hmac("\"optimize database queries\""), value.get("user_request"));
    assertEquals(
        hmac("\"database_optimization\""), ((Map<?, ?>) value.get("context")).get("domain"));
    assertEquals("polymorphic-agent", ((Map<?, ?>) value.get("context")).get("previous_agent"));
    assertEquals("optimize database queries", event.get("user_request"));
  }

  @Test
  void keepsEqualValuesEqualAndHashesJsonTypesApart() {
    RedactFields<SinkRecord> transform = redact("fields", "a,b,c");
    Map<?, ?> out =
        (Map<?, ?>)
            transform.apply(TestRecords.value(TestRecords.map("a", "5", "b", "5", "c", 5))).value();
    assertEquals(out.get("a"), out.get("b"));
    assertNotEquals(out.get("a"), out.get("c"));
    assertEquals(64, ((String) out.get("c")).length());
  }

  @Test
  void differentKeysGiveUnrelatedHashes() {
    Map<String, Object> event = TestRecords.map("user_request", "x");
    assertNotEquals(
        ((Map<?, ?>) redact().apply(TestRecords.value(event)).value()).get("user_request"),
        ((Map<?, ?>) redact("hmac.key", TestRecords.key(6)).apply(TestRecords.value(event)).value())
            .get("user_request"));
  }

  @Test
  void masksWithAFixedString() {
    Map<String, Object> event = TestRecords.map("user_request", "secret", "other", "x");
    Map<?, ?> out =
        (Map<?, ?>)
            redact("with", "mask", "mask", "[redacted]").apply(TestRecords.value(event)).value();
    assertEquals("[redacted]", out.get("user_request"));
    assertEquals("x", out.get("other"));
  }

  @Test
  void redactsStructFieldsIntoOptionalStrings() {
    Schema context = SchemaBuilder.struct().field("domain", Schema.INT32_SCHEMA).build();
    Schema schema =
        SchemaBuilder.struct()
            .field("user_request", Schema.STRING_SCHEMA)
            .field("context", context)
            .build();
    Struct value =
        new Struct(schema)
            .put("user_request", "q")
            .put("context", new Struct(context).put("domain", 7));
    SinkRecord out = redact("with", "mask").apply(TestRecords.value(schema, value));
    Struct redacted = (Struct) out.value();
    redacted.validate();
    assertEquals("****", redacted.getStruct("context").getString("domain"));
    assertEquals(Schema.OPTIONAL_STRING_SCHEMA, out.valueSchema().field("user_request").schema());
  }

  @Test
  void redactsKeyFieldsWithTheKeyVariant() {
    RedactFields<SinkRecord> transform = new RedactFields.Key<>();
    transform.configure(Map.of("fields", "email", "with", "mask"));
    SinkRecord out =
        transform.apply(TestRecords.record(null, TestRecords.map("email", "a@b"), null, "v"));
    assertEquals(Map.of("email", "****"), out.key());
  }

  @Test
  void leavesTombstonesAndMissingFieldsAlone() {
    SinkRecord tombstone = TestRecords.value(null);
    assertSame(tombstone, redact().apply(tombstone));
    Map<String, Object> event = TestRecords.map("other", 1);
    assertEquals(event, redact().apply(TestRecords.value(event)).value());
  }

  @Test
  void failsRatherThanLeaveAFieldUnderANonObjectInTheClear() {
    Map<String, Object> event =
        TestRecords.map("user_request", "q", "context", List.of(TestRecords.map("domain", "d")));
    DataException e =
        assertThrows(DataException.class, () -> redact().apply(TestRecords.value(event)));
    assertTrue(e.getMessage().contains("'context'"), e.getMessage());
    assertTrue(e.getMessage().contains("offset 42"), e.getMessage());
  }

  @Test
  void requiresALongEnoughKeyAndNeverEchoesIt() {
    String shortKey = Base64.getEncoder().encodeToString(new byte[16]);
    ConfigException e = assertThrows(ConfigException.class, () -> redact("hmac.key", shortKey));
    assertFalse(e.getMessage().contains(shortKey), e.getMessage());
    assertTrue(e.getMessage().contains("32"), e.getMessage());
    RedactFields<SinkRecord> transform = new RedactFields.Value<>();
    assertThrows(ConfigException.class, () -> transform.configure(Map.of("fields", "a")));
    transform.configure(Map.of("fields", "a", "with", "mask"));
  }

  /**
   * JsonConverter with schemas.enable=true gives a map-typed payload a MAP schema: the redacted
   * value keeps it, so the converter still writes it with its schema.
   */
  @Test
  void keepsTheMapSchemaJsonConverterGaveTheValue() throws Exception {
    SchemaAndValue in =
        Converters.readStringMap("{\"user_request\":\"optimize\",\"agent\":\"a-1\"}");
    SinkRecord out =
        redact("fields", "user_request").apply(TestRecords.value(in.schema(), in.value()));
    assertSame(in.schema(), out.valueSchema());
    SchemaAndValue back = Converters.roundTrip(out.valueSchema(), out.value());
    assertEquals(in.schema(), back.schema());
    assertEquals(Map.of("user_request", hmac("\"optimize\""), "agent", "a-1"), back.value());
  }

  /**
   * A map schema has one type for all its values: where a hash cannot go (numbers must), the map
   * goes on schemaless, as maps did before MAP schemas were kept, rather than failing the record.
   */
  @Test
  void dropsAMapSchemaThatCannotHoldTheRedactedText() {
    SchemaAndValue in =
        Converters.readEnvelope(
            "{\"schema\":{\"type\":\"map\",\"keys\":{\"type\":\"string\"},"
                + "\"values\":{\"type\":\"int64\"}},\"payload\":{\"score\":7,\"n\":1}}");
    SinkRecord out = redact("fields", "score").apply(TestRecords.value(in.schema(), in.value()));
    assertNull(out.valueSchema());
    Map<?, ?> value = (Map<?, ?>) out.value();
    assertTrue(value.get("score") instanceof String);
    assertEquals(1L, value.get("n"));
  }

  /**
   * NaN and the infinities have no JSON, so a Struct float holding one cannot be redacted: the
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
          assertThrows(DataException.class, () -> redact("fields", "payload.score").apply(record));
      assertTrue(e.getMessage().contains("field 'payload.score'"), e.getMessage());
      assertTrue(
          e.getMessage().contains("topic 'memory.events' partition 2 offset 42"), e.getMessage());
      assertFalse(e.getMessage().contains("Infinity"), e.getMessage());
    }
  }

  /**
   * A null Struct field with a schema default is null: Struct.get would read the default, and the
   * default would be hashed into a field that held nothing, though null fields are left alone.
   */
  @Test
  void leavesANullStructFieldWithADefaultAlone() {
    Schema schema =
        SchemaBuilder.struct()
            .field("user_request", SchemaBuilder.string().optional().defaultValue("none").build())
            .field("other", SchemaBuilder.string().optional().defaultValue("x").build())
            .build();
    Struct value = new Struct(schema);
    for (String with : List.of("hmac", "mask")) {
      Struct out = (Struct) redact("with", with).apply(TestRecords.value(schema, value)).value();
      out.validate();
      assertNull(out.get("user_request"), with);
      assertNull(out.getWithoutDefault("other"), with);
      assertEquals("x", out.get("other"), with);
    }
  }

  /** As for EncryptFields: a path cannot name a number key, so it fails rather than pass it. */
  @Test
  void failsAPathIntoAMapWhoseKeysAreNotText() {
    EncryptFieldsTest.assertFailsWithoutQuoting(
        redact("fields", "labels.7"),
        TestRecords.value(TestRecords.map("labels", Map.of(7, "123-45-6789"))));
    Schema byNumber = SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).build();
    EncryptFieldsTest.assertFailsWithoutQuoting(
        redact("fields", "7", "with", "mask"),
        TestRecords.value(byNumber, Map.of(7, "123-45-6789")));
  }
}
