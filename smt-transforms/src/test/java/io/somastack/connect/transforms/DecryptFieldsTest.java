package io.somastack.connect.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.transforms.crypto.FieldCipher;
import io.somastack.connect.transforms.crypto.Keyring;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class DecryptFieldsTest {

  static DecryptFields<SinkRecord> decrypt(String... pairs) {
    Map<String, String> props = new HashMap<>();
    props.put("fields", "payload.content,payload.score");
    props.put("keys", EncryptFieldsTest.KEYS);
    for (int i = 0; i < pairs.length; i += 2) {
      props.put(pairs[i], pairs[i + 1]);
    }
    DecryptFields<SinkRecord> transform = new DecryptFields.Value<>();
    transform.configure(props);
    return transform;
  }

  private static SinkRecord encrypted(Map<String, Object> event) {
    return EncryptFieldsTest.encrypt().apply(TestRecords.value(event));
  }

  @Test
  void restoresTheOriginalJsonValues() {
    Map<String, Object> event = EncryptFieldsTest.event();
    ((Map<String, Object>) event.get("payload")).put("content", List.of(1L, "two", Map.of()));
    SinkRecord out = decrypt().apply(encrypted(event));
    Map<String, Object> payload = EncryptFieldsTest.payload(out);
    assertEquals(List.of(1L, "two", Map.of()), payload.get("content"));
    assertEquals(0.5, payload.get("score"));
    assertEquals("visible", payload.get("kept"));
  }

  /**
   * Decrypted schemaless values are what JsonConverter itself reads from JSON (integers as Long,
   * other numbers as Double), so a converter after the transform (a source connector's, or a sink
   * that writes with one) can write them; JsonConverter refuses a schemaless BigDecimal.
   */
  @Test
  void restoresNumbersAsJsonConverterReadsThemSoTheRecordStillSerialises() {
    Map<String, Object> event = EncryptFieldsTest.event();
    ((Map<String, Object>) event.get("payload")).put("content", List.of(7, 2.25));
    SinkRecord out = decrypt().apply(encrypted(event));
    Map<String, Object> payload = EncryptFieldsTest.payload(out);
    assertEquals(List.of(7L, 2.25), payload.get("content"));
    assertEquals(0.5, payload.get("score"));
    String json =
        Converters.text(Converters.json(false, false).fromConnectData("t", null, out.value()));
    assertEquals(
        "{\"tenant_id\":\"acme\",\"id\":\"m-1\",\"payload\":{\"content\":[7,2.25],"
            + "\"score\":0.5,\"kept\":\"visible\"}}",
        json);
  }

  /** A number no Double holds exactly stays exact rather than being rounded. */
  @Test
  void keepsNumbersADoubleCannotHoldExact() {
    Map<String, Object> event = EncryptFieldsTest.event();
    BigDecimal precise = new BigDecimal("0.1000000000000000000001");
    BigInteger huge = new BigInteger("123456789012345678901234567890");
    ((Map<String, Object>) event.get("payload")).put("content", List.of(precise, huge));
    SinkRecord out = decrypt().apply(encrypted(event));
    assertEquals(List.of(precise, huge), EncryptFieldsTest.payload(out).get("content"));
  }

  /**
   * Every double comes back a Double. JDK 17's Double.toString, which writes doubles as JSON,
   * prints 17 digits for some that are not the double's correctly rounded digits
   * (3.1526711628916386E25, about one in forty doubles between 2^84 and 2^85): those came back as
   * BigDecimal, which JsonConverter refuses to write.
   */
  @Test
  void restoresEveryDoubleAsADouble() {
    List<Object> doubles = new ArrayList<>(List.of(3.1526711628916386E25));
    long from = Double.doubleToLongBits(0x1p84);
    long step = (Double.doubleToLongBits(0x1p85) - from) / 4000;
    for (long bits = from; bits < Double.doubleToLongBits(0x1p85); bits += step) {
      doubles.add(Double.longBitsToDouble(bits));
    }
    Map<String, Object> event = EncryptFieldsTest.event();
    ((Map<String, Object>) event.get("payload")).put("content", doubles);
    SinkRecord out = decrypt().apply(encrypted(event));
    List<?> restored = (List<?>) EncryptFieldsTest.payload(out).get("content");
    assertEquals(List.of(), restored.stream().filter(n -> !(n instanceof Double)).toList());
    assertEquals(doubles, restored);
    Converters.json(false, false).fromConnectData("t", null, out.value());
  }

  /** The text JDK 17 writes for that double reads back as the double, on any JDK. */
  @Test
  void restoresJdk17sTextOfADoubleAsThatDouble() {
    String sealed =
        new FieldCipher(Keyring.parse(EncryptFieldsTest.KEYS))
            .encrypt(
                "[3.1526711628916386E25,0.1000000000000000000001,1E+400,1E-400]"
                    .getBytes(StandardCharsets.UTF_8),
                "pii",
                FieldCipher.Mode.RANDOM,
                "payload.content",
                "acme");
    Map<String, Object> event = EncryptFieldsTest.event();
    ((Map<String, Object>) event.get("payload")).put("content", sealed);
    ((Map<String, Object>) event.get("payload")).remove("score");
    SinkRecord out = decrypt("fields", "payload.content").apply(TestRecords.value(event));
    assertEquals(
        List.of(
            Double.parseDouble("3.1526711628916386E25"),
            new BigDecimal("0.1000000000000000000001"),
            new BigDecimal("1E+400"),
            new BigDecimal("1E-400")),
        EncryptFieldsTest.payload(out).get("content"));
  }

  @Test
  void decryptsWhatOlderKeyVersionsMade() {
    SinkRecord madeWithV1 =
        EncryptFieldsTest.encrypt("keys", "pii:1:" + TestRecords.key(1))
            .apply(TestRecords.value(EncryptFieldsTest.event()));
    assertEquals(
        "likes dark mode", EncryptFieldsTest.payload(decrypt().apply(madeWithV1)).get("content"));
  }

  @Test
  void failsAValueMovedToAnotherField() {
    SinkRecord sealed = encrypted(EncryptFieldsTest.event());
    Map<String, Object> payload = new HashMap<>(EncryptFieldsTest.payload(sealed));
    Object content = payload.get("content");
    payload.put("content", payload.get("score"));
    payload.put("score", content);
    Map<String, Object> swapped = TestRecords.map("tenant_id", "acme", "payload", payload);
    DataException e =
        assertThrows(DataException.class, () -> decrypt().apply(TestRecords.value(swapped)));
    assertTrue(e.getMessage().contains("failed authentication"), e.getMessage());
    assertTrue(e.getMessage().contains("offset 42"), e.getMessage());
  }

  @Test
  void namesTheKeyWhenAuthenticationFailsSoADifferentKeyIsTraceable() {
    SinkRecord sealed = encrypted(EncryptFieldsTest.event());
    DataException e =
        assertThrows(
            DataException.class,
            () -> decrypt("keys", "pii:2:" + TestRecords.key(9)).apply(sealed));
    assertTrue(e.getMessage().contains("failed authentication"), e.getMessage());
    assertTrue(e.getMessage().contains("pii:2"), e.getMessage());
    assertFalse(e.getMessage().contains(TestRecords.key(9)), e.getMessage());
  }

  @Test
  void failsAValueCopiedToAnotherTenant() {
    SinkRecord sealed = encrypted(EncryptFieldsTest.event());
    Map<String, Object> copied = new HashMap<>((Map<String, Object>) sealed.value());
    copied.put("tenant_id", "mallory");
    assertThrows(DataException.class, () -> decrypt().apply(TestRecords.value(copied)));
  }

  @Test
  void failsPlaintextWhereACiphertextBelongs() {
    DataException e =
        assertThrows(
            DataException.class,
            () -> decrypt().apply(TestRecords.value(EncryptFieldsTest.event())));
    assertFalse(e.getMessage().contains("dark mode"), e.getMessage());
  }

  /**
   * A ciphertext whose plaintext is not JSON (made by another tool with the same key) fails the
   * record, and no message in the error or its causes quotes the plaintext: Jackson's parser
   * messages quote the text they stop at, and the error reaches logs and dead-letter headers.
   */
  @Test
  void plaintextThatIsNotJsonFailsWithoutQuotingIt() {
    FieldCipher cipher = new FieldCipher(Keyring.parse(EncryptFieldsTest.KEYS));
    String sealed =
        cipher.encrypt(
            "ssn123456789x".getBytes(StandardCharsets.UTF_8),
            "pii",
            FieldCipher.Mode.RANDOM,
            "payload.content",
            "acme");
    Map<String, Object> event = EncryptFieldsTest.event();
    ((Map<String, Object>) event.get("payload")).put("content", sealed);
    ((Map<String, Object>) event.get("payload")).remove("score");
    DecryptFields<SinkRecord> transform = decrypt("fields", "payload.content");
    DataException e =
        assertThrows(DataException.class, () -> transform.apply(TestRecords.value(event)));
    for (Throwable t = e; t != null; t = t.getCause()) {
      assertFalse(String.valueOf(t.getMessage()).contains("ssn123456789"), t.getMessage());
    }
  }

  /**
   * Ciphertexts an earlier version made carry no recorded schema (their fields are plain optional
   * strings): they still decrypt, to strings, as they always did.
   */
  @Test
  void restoresStructFieldsEncryptedWithoutARecordedSchemaAsStrings() {
    Schema payload =
        SchemaBuilder.struct()
            .field("content", Schema.STRING_SCHEMA)
            .field("score", Schema.FLOAT64_SCHEMA)
            .build();
    Schema schema =
        SchemaBuilder.struct()
            .field("tenant_id", Schema.STRING_SCHEMA)
            .field("payload", payload)
            .build();
    Struct value =
        new Struct(schema)
            .put("tenant_id", "acme")
            .put("payload", new Struct(payload).put("content", "c").put("score", 0.5));
    Struct sealed =
        ((Struct) EncryptFieldsTest.encrypt().apply(TestRecords.value(schema, value)).value())
            .getStruct("payload");
    // as an earlier version wrote them: optional strings, no parameter
    Schema olderPayload =
        SchemaBuilder.struct()
            .field("content", Schema.OPTIONAL_STRING_SCHEMA)
            .field("score", Schema.OPTIONAL_STRING_SCHEMA)
            .build();
    Schema older =
        SchemaBuilder.struct()
            .field("tenant_id", Schema.STRING_SCHEMA)
            .field("payload", olderPayload)
            .build();
    Struct olderValue =
        new Struct(older)
            .put("tenant_id", "acme")
            .put(
                "payload",
                new Struct(olderPayload)
                    .put("content", sealed.getString("content"))
                    .put("score", sealed.getString("score")));
    SinkRecord out = decrypt().apply(TestRecords.value(older, olderValue));
    Struct restored = ((Struct) out.value()).getStruct("payload");
    assertEquals("c", restored.getString("content"));
    assertEquals("0.5", restored.getString("score"));
    assertEquals(Schema.OPTIONAL_STRING_SCHEMA, restored.schema().field("score").schema());
  }

  /**
   * EncryptFields records each Struct field's schema in the encrypted field's schema, and that
   * record survives JsonConverter with schemas: the decrypted record is the one encrypted, with its
   * Decimal, Timestamp, Date, Time, bytes, Struct, array and map fields (and null optional ones) as
   * they were, so a sink writes them to typed columns.
   */
  @Test
  void restoresTheSchemaAndValueOfStructFieldsThroughJsonConverter() {
    Schema inner =
        SchemaBuilder.struct()
            .name("Inner")
            .optional()
            .field("a", Schema.OPTIONAL_STRING_SCHEMA)
            .field("ts", Timestamp.builder().optional().build())
            .build();
    Schema schema =
        SchemaBuilder.struct()
            .name("com.example.Event")
            .version(3)
            .field("tenant_id", Schema.STRING_SCHEMA)
            .field("amount", Decimal.builder(2).optional().build())
            .field("ts", Timestamp.builder().optional().build())
            .field("day", Date.builder().optional().build())
            .field("tm", Time.builder().optional().build())
            .field("blob", Schema.OPTIONAL_BYTES_SCHEMA)
            .field("count", Schema.INT32_SCHEMA)
            .field("note", SchemaBuilder.string().optional().defaultValue("none").build())
            .field("nested", inner)
            .field("list", SchemaBuilder.array(inner).optional().build())
            .field(
                "labels",
                SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.OPTIONAL_INT64_SCHEMA)
                    .optional()
                    .build())
            .field("unset", Timestamp.builder().optional().build())
            .build();
    Struct value =
        new Struct(schema)
            .put("tenant_id", "acme")
            .put("amount", new BigDecimal("12.50"))
            .put("ts", new java.util.Date(1_700_000_000_123L))
            .put("day", new java.util.Date(86_400_000L * 19_000))
            .put("tm", new java.util.Date(3_723_004L))
            .put("blob", new byte[] {1, 2, 3})
            .put("count", 7)
            .put("note", "n")
            .put("nested", new Struct(inner).put("a", "x").put("ts", new java.util.Date(5L)))
            .put("list", List.of(new Struct(inner).put("a", "y"), new Struct(inner)))
            .put("labels", Map.of("k", 1L));
    String fields = "amount,ts,day,tm,blob,count,note,nested,list,labels,unset";
    SinkRecord sealed =
        EncryptFieldsTest.encrypt("fields", fields, "tenant.field", "tenant_id")
            .apply(TestRecords.value(schema, value));
    for (String field : fields.split(",")) {
      Schema encrypted = sealed.valueSchema().field(field).schema();
      assertEquals(Schema.Type.STRING, encrypted.type());
      assertTrue(encrypted.parameters().containsKey(EncryptFields.ORIGINAL_SCHEMA_PARAMETER));
    }
    assertFalse(sealed.value().toString().contains("12.50"));
    SchemaAndValue wire = Converters.roundTrip(sealed.valueSchema(), sealed.value());

    SinkRecord out =
        decrypt("fields", fields, "tenant.field", "tenant_id")
            .apply(TestRecords.value(wire.schema(), wire.value()));
    Struct decrypted = (Struct) out.value();
    decrypted.validate();
    for (String field : fields.split(",")) {
      assertEquals(schema.field(field).schema(), out.valueSchema().field(field).schema(), field);
    }
    assertEquals(value, decrypted);
    assertEquals(null, decrypted.getWithoutDefault("unset"));
    // and the decrypted record serialises as the original did
    SchemaAndValue again = Converters.roundTrip(out.valueSchema(), decrypted);
    assertEquals(Converters.roundTrip(schema, value), again);
  }

  /**
   * A decrypted value that does not fit the schema recorded for it (a schema altered on the way)
   * fails the record naming the field and the type, not quoting the plaintext.
   */
  @Test
  void aDecryptedValueThatDoesNotFitItsRecordedSchemaFailsWithoutQuotingIt() {
    Schema schema =
        SchemaBuilder.struct()
            .field("tenant_id", Schema.STRING_SCHEMA)
            .field("secret", Schema.OPTIONAL_STRING_SCHEMA)
            .build();
    Struct value = new Struct(schema).put("tenant_id", "acme").put("secret", "ssn123456789");
    Struct sealed =
        (Struct)
            EncryptFieldsTest.encrypt("fields", "secret", "tenant.field", "tenant_id")
                .apply(TestRecords.value(schema, value))
                .value();
    Map<String, String> expected =
        Map.of(
            "{\"type\":\"int32\",\"optional\":true}",
            "field 'secret': a value that is no INT32",
            "{\"type\":\"nonsense\"}",
            "field 'secret': the schema recorded at encryption cannot be read: unknown schema"
                + " type 'nonsense'");
    expected.forEach(
        (recorded, message) -> {
          Schema altered =
              SchemaBuilder.struct()
                  .field("tenant_id", Schema.STRING_SCHEMA)
                  .field(
                      "secret",
                      SchemaBuilder.string()
                          .optional()
                          .parameter(EncryptFields.ORIGINAL_SCHEMA_PARAMETER, recorded)
                          .build())
                  .build();
          Struct alteredValue =
              new Struct(altered)
                  .put("tenant_id", "acme")
                  .put("secret", sealed.getString("secret"));
          DataException e =
              assertThrows(
                  DataException.class,
                  () ->
                      decrypt("fields", "secret", "tenant.field", "tenant_id")
                          .apply(TestRecords.value(altered, alteredValue)));
          assertEquals(
              "record at topic 'memory.events' partition 2 offset 42: " + message, e.getMessage());
          for (Throwable t = e; t != null; t = t.getCause()) {
            assertFalse(String.valueOf(t.getMessage()).contains("ssn123456789"), t.getMessage());
          }
        });
  }

  /**
   * Before object tenants were refused, an object tenant was bound by its text (a Struct's
   * toString): ciphertexts made then must still open, though no new ones are made.
   */
  @Test
  void opensCiphertextsAnEarlierVersionBoundToAnObjectTenant() {
    Schema tenantSchema = SchemaBuilder.struct().field("org", Schema.STRING_SCHEMA).build();
    Struct tenant = new Struct(tenantSchema).put("org", "acme");
    String sealed =
        new FieldCipher(Keyring.parse(EncryptFieldsTest.KEYS))
            .encrypt(
                "\"s3cret\"".getBytes(StandardCharsets.UTF_8),
                "pii",
                FieldCipher.Mode.RANDOM,
                "secret",
                tenant.toString());
    Schema schema =
        SchemaBuilder.struct()
            .field("tenant_id", tenantSchema)
            .field("secret", Schema.OPTIONAL_STRING_SCHEMA)
            .build();
    Struct value = new Struct(schema).put("tenant_id", tenant).put("secret", sealed);
    SinkRecord out = decrypt("fields", "secret").apply(TestRecords.value(schema, value));
    assertEquals("s3cret", ((Struct) out.value()).getString("secret"));
  }

  @Test
  void decryptsKeyFieldsWithTheKeyVariant() {
    EncryptFields<SinkRecord> encrypt = new EncryptFields.Key<>();
    encrypt.configure(EncryptFieldsTest.props("fields", "user_id"));
    DecryptFields<SinkRecord> decrypt = new DecryptFields.Key<>();
    decrypt.configure(Map.of("fields", "user_id", "keys", EncryptFieldsTest.KEYS));
    Map<String, Object> key = TestRecords.map("tenant_id", "acme", "user_id", "u-1");
    SinkRecord out = decrypt.apply(encrypt.apply(TestRecords.record(null, key, null, null)));
    assertEquals(key, out.key());
  }

  @Test
  void letsTombstonesPass() {
    SinkRecord tombstone = TestRecords.value(null);
    assertSame(tombstone, decrypt().apply(tombstone));
  }

  @Test
  void reportsConfigMistakes() {
    assertThrows(ConfigException.class, () -> decrypt("keys", "pii:1:short"));
    assertThrows(ConfigException.class, () -> decrypt("fields", "payload..x"));
  }

  @Test
  void aCiphertextCutShortFailsTheRecordWithItsCoordinates() {
    SinkRecord sealed = encrypted(EncryptFieldsTest.event());
    Map<String, Object> payload = new HashMap<>(EncryptFieldsTest.payload(sealed));
    String content = (String) payload.get("content");
    // key id "pii": a 10-byte header, the 12-byte nonce, then 8 of the 16 tag bytes (40 chars)
    payload.put("content", content.substring(0, FieldCipher.PREFIX.length() + 40));
    Map<String, Object> cut = TestRecords.map("tenant_id", "acme", "payload", payload);
    DataException e =
        assertThrows(DataException.class, () -> decrypt().apply(TestRecords.value(cut)));
    assertTrue(e.getMessage().contains("offset 42"), e.getMessage());
    assertTrue(e.getMessage().contains("'payload.content'"), e.getMessage());
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
  }

  /** As for EncryptFields: a path cannot name a number key, so it fails rather than pass it. */
  @Test
  void failsAPathIntoAMapWhoseKeysAreNotText() {
    EncryptFieldsTest.assertFailsWithoutQuoting(
        decrypt("fields", "labels.7", "tenant.field", ""),
        TestRecords.value(TestRecords.map("labels", Map.of(7, "123-45-6789"))));
    Schema byNumber = SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).build();
    EncryptFieldsTest.assertFailsWithoutQuoting(
        decrypt("fields", "7", "tenant.field", ""),
        TestRecords.value(byNumber, Map.of(7, "123-45-6789")));
  }
}
