package io.somastack.connect.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.transforms.crypto.FieldCipher;
import io.somastack.connect.transforms.crypto.Keyring;
import io.somastack.connect.transforms.util.JsonValues;
import io.somastack.connect.transforms.util.SchemaJson;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * EncryptFields then DecryptFields gives back the value that was encrypted, bit for bit and
 * character for character, or fails the record: never a value nobody sent.
 */
class RoundTripFidelityTest {

  /**
   * A float whose shortest text (7.038531E-26) is within half a double's ulp of two floats' mid.
   */
  private static final float MIDWAY = Float.intBitsToFloat(0x15ae43fd);

  private static final String LONE = "a\uD800b";

  private static Schema outer(Schema field) {
    return SchemaBuilder.struct()
        .field("tenant_id", Schema.STRING_SCHEMA)
        .field("f", field)
        .build();
  }

  private static SinkRecord trip(Schema field, Object value, String... encryptOptions) {
    Schema schema = outer(field);
    Struct struct = new Struct(schema).put("tenant_id", "acme").put("f", value);
    String[] options = new String[encryptOptions.length + 4];
    System.arraycopy(new String[] {"fields", "f", "tenant.field", "tenant_id"}, 0, options, 0, 4);
    System.arraycopy(encryptOptions, 0, options, 4, encryptOptions.length);
    SinkRecord sealed = EncryptFieldsTest.encrypt(options).apply(TestRecords.value(schema, struct));
    return DecryptFieldsTest.decrypt("fields", "f", "tenant.field", "tenant_id").apply(sealed);
  }

  private static Object tripValue(Schema field, Object value) {
    return ((Struct) trip(field, value).value()).getWithoutDefault("f");
  }

  private static SinkRecord encryptSchemaless(Object value) {
    Map<String, Object> record = new LinkedHashMap<>();
    record.put("tenant_id", "acme");
    record.put("f", value);
    return EncryptFieldsTest.encrypt("fields", "f", "tenant.field", "tenant_id")
        .apply(TestRecords.value(record));
  }

  private static Object schemalessTrip(Object value) {
    SinkRecord sealed = encryptSchemaless(value);
    SinkRecord out =
        DecryptFieldsTest.decrypt("fields", "f", "tenant.field", "tenant_id").apply(sealed);
    return ((Map<?, ?>) out.value()).get("f");
  }

  /**
   * A FLOAT32 is read from its JSON text by rounding once: read as a double first and then
   * narrowed, a float whose text lies near the middle of two floats came back one ulp off.
   */
  @Test
  void aFloat32ComesBackBitForBitWhereverItIs() {
    assertEquals(bits(MIDWAY), bits((Float) tripValue(Schema.FLOAT32_SCHEMA, MIDWAY)));
    Schema array = SchemaBuilder.array(Schema.FLOAT32_SCHEMA).build();
    assertEquals(List.of(MIDWAY), tripValue(array, List.of(MIDWAY)));
    Schema inner =
        SchemaBuilder.struct()
            .field("x", Schema.FLOAT32_SCHEMA)
            .field("m", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.FLOAT32_SCHEMA).build())
            .build();
    Struct struct = new Struct(inner).put("x", MIDWAY).put("m", Map.of("k", MIDWAY));
    assertEquals(struct, tripValue(inner, struct));

    // a default of that value reads back too, so the schema is recorded and restored
    Schema withDefault = SchemaBuilder.float32().optional().defaultValue(MIDWAY).build();
    SinkRecord out = trip(withDefault, 1.5f);
    assertEquals(withDefault, out.valueSchema().field("f").schema());
    assertEquals(1.5f, ((Struct) out.value()).get("f"));
  }

  /**
   * The negative of that float (bits 0x95ae43fd) reads back bit for bit too. A full scan of every
   * finite float on JDK 17 found 0x15ae43fd, of either sign, the only float written as a double
   * midway between two floats, so these two are the cases the single rounding fixes.
   */
  @Test
  void theNegativeMidwayFloat32ComesBackBitForBit() {
    float negative = -MIDWAY;
    assertEquals(0x95ae43fd, bits(negative));
    assertEquals(bits(negative), bits((Float) tripValue(Schema.FLOAT32_SCHEMA, negative)));
    Object back =
        SchemaJson.value(
            JsonValues.toBytes(negative, Schema.FLOAT32_SCHEMA), Schema.FLOAT32_SCHEMA);
    assertEquals(bits(negative), bits((Float) back));
  }

  private static int bits(float f) {
    return Float.floatToRawIntBits(f);
  }

  /**
   * A lone UTF-16 surrogate inside a field keeps its place (as a JSON escape, as JsonConverter
   * writes it) rather than turning into '?', as it already did where the string is the field.
   */
  @Test
  void aLoneSurrogateInsideAFieldComesBack() {
    assertEquals(LONE, schemalessTrip(LONE));
    assertEquals(List.of(LONE), schemalessTrip(List.of(LONE)));
    assertEquals(Map.of(LONE, LONE), schemalessTrip(Map.of(LONE, LONE)));
    assertEquals(List.of("a\uD83D\uDE00b\uDE00"), schemalessTrip(List.of("a\uD83D\uDE00b\uDE00")));
    Schema inner =
        SchemaBuilder.struct()
            .field("s", Schema.STRING_SCHEMA)
            .field("m", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.STRING_SCHEMA).build())
            .build();
    Struct struct = new Struct(inner).put("s", LONE).put("m", Map.of(LONE, LONE));
    assertEquals(struct, tripValue(inner, struct));
  }

  /**
   * Map keys that are written as the same JSON name (1 and "1") would be one entry after
   * decryption: the record fails naming the field, never the keys or values.
   */
  @Test
  void mapKeysWrittenAsTheSameNameFailTheRecordInsteadOfMerging() {
    Map<Object, Object> colliding = new LinkedHashMap<>();
    colliding.put(1, "int-secret");
    colliding.put("1", "string-secret");
    DataException top = assertThrows(DataException.class, () -> encryptSchemaless(colliding));
    assertTrue(top.getMessage().contains("'f'"), top.getMessage());
    assertTrue(top.getMessage().contains("same"), top.getMessage());
    assertFalse(top.getMessage().contains("secret"), top.getMessage());

    Map<String, Object> nested = Map.of("secret-key", List.of(colliding));
    DataException inside = assertThrows(DataException.class, () -> encryptSchemaless(nested));
    assertTrue(inside.getMessage().contains("'f'"), inside.getMessage());
    assertTrue(inside.getMessage().contains("[key][0]"), inside.getMessage());
    assertFalse(inside.getMessage().contains("secret-key"), inside.getMessage());
    assertFalse(inside.getMessage().contains("secret"), inside.getMessage());

    // keys whose text differs still round trip, whatever their type
    Map<Object, Object> distinct = new LinkedHashMap<>();
    distinct.put(1, "int one");
    distinct.put("2", "string two");
    assertEquals(Map.of("1", "int one", "2", "string two"), schemalessTrip(distinct));
  }

  /** -0.0 is restored with its sign where it is the field itself, as the docs say. */
  @Test
  void aNegativeZeroFieldKeepsItsSign() {
    Object schemaless = schemalessTrip(-0.0d);
    assertEquals(Double.class, schemaless.getClass());
    assertEquals(
        Double.doubleToRawLongBits(-0.0d), Double.doubleToRawLongBits((Double) schemaless));
    assertEquals(0.0d, schemalessTrip(0.0d));
    assertEquals(
        Double.doubleToRawLongBits(0.0d),
        Double.doubleToRawLongBits((Double) schemalessTrip(0.0d)));

    // a Struct field without a recorded schema decrypts to its JSON text: "-0.0", not "0.0"
    SinkRecord text = trip(Schema.FLOAT64_SCHEMA, -0.0d, "schema.record", "false");
    assertEquals(Schema.OPTIONAL_STRING_SCHEMA, text.valueSchema().field("f").schema());
    assertEquals("-0.0", ((Struct) text.value()).get("f"));
    assertEquals(
        "0.0",
        ((Struct) trip(Schema.FLOAT64_SCHEMA, 0.0d, "schema.record", "false").value()).get("f"));
  }

  /**
   * Authentic ciphertext whose plaintext is not well-formed UTF-8 fails to decrypt: it was never
   * written by EncryptFields, and reading it as text would replace the bad bytes with U+FFFD, a
   * value nobody sent. Made with the same key material as the transforms, for field f of tenant
   * acme, read schemaless and as a Struct string field.
   */
  @Test
  void authenticCiphertextOfMalformedUtf8FailsToDecrypt() {
    FieldCipher cipher = new FieldCipher(Keyring.parse(EncryptFieldsTest.KEYS));
    byte[][] plaintexts = {
      {'"', (byte) 0xE9, 'x', '"'},
      {'{', '"', 'a', (byte) 0xFF, '"', ':', '"', (byte) 0x80, '"', '}'},
      {'{', '"', 'a', (byte) 0xE9, '"', ':', '1', '}'},
    };
    DecryptFields<SinkRecord> decrypt =
        DecryptFieldsTest.decrypt("fields", "f", "tenant.field", "tenant_id");
    Schema schema = outer(Schema.OPTIONAL_STRING_SCHEMA);
    for (byte[] plaintext : plaintexts) {
      String sealed = cipher.encrypt(plaintext, "pii", FieldCipher.Mode.RANDOM, "f", "acme");
      Map<String, Object> schemaless = new LinkedHashMap<>();
      schemaless.put("tenant_id", "acme");
      schemaless.put("f", sealed);
      DataException refused =
          assertThrows(DataException.class, () -> decrypt.apply(TestRecords.value(schemaless)));
      assertTrue(refused.getMessage().contains("'f'"), refused.getMessage());
      assertTrue(refused.getMessage().contains("not JSON"), refused.getMessage());

      Struct struct = new Struct(schema).put("tenant_id", "acme").put("f", sealed);
      DataException asText =
          assertThrows(DataException.class, () -> decrypt.apply(TestRecords.value(schema, struct)));
      assertTrue(asText.getMessage().contains("'f'"), asText.getMessage());
    }
    // a well-formed escape of a lone surrogate in a map key still reads back (the text fallback)
    byte[] escaped = "{\"\\ud800\":1}".getBytes(StandardCharsets.US_ASCII);
    String sealed = cipher.encrypt(escaped, "pii", FieldCipher.Mode.RANDOM, "f", "acme");
    Map<String, Object> schemaless = new LinkedHashMap<>();
    schemaless.put("tenant_id", "acme");
    schemaless.put("f", sealed);
    assertEquals(
        Map.of("\uD800", 1L),
        ((Map<?, ?>) decrypt.apply(TestRecords.value(schemaless)).value()).get("f"));
  }

  /**
   * Authentic ciphertext of a number whose exponent is beyond an int (which BigDecimal cannot hold)
   * fails the record as bad data, schemaless or as a Struct string field, quoting nothing of it:
   * its NumberFormatException escaped the schemaless read, failing the task.
   */
  @Test
  void authenticCiphertextOfAnUnreadableNumberFailsTheRecord() {
    FieldCipher cipher = new FieldCipher(Keyring.parse(EncryptFieldsTest.KEYS));
    byte[] plaintext = "[1e99999999999]".getBytes(StandardCharsets.US_ASCII);
    String sealed = cipher.encrypt(plaintext, "pii", FieldCipher.Mode.RANDOM, "f", "acme");
    DecryptFields<SinkRecord> decrypt =
        DecryptFieldsTest.decrypt("fields", "f", "tenant.field", "tenant_id");
    Map<String, Object> schemaless = new LinkedHashMap<>();
    schemaless.put("tenant_id", "acme");
    schemaless.put("f", sealed);
    DataException refused =
        assertThrows(DataException.class, () -> decrypt.apply(TestRecords.value(schemaless)));
    assertTrue(refused.getMessage().contains("'f'"), refused.getMessage());
    assertFalse(refused.getMessage().contains("9999"), refused.getMessage());

    Schema schema = outer(Schema.OPTIONAL_STRING_SCHEMA);
    Struct struct = new Struct(schema).put("tenant_id", "acme").put("f", sealed);
    DataException asText =
        assertThrows(DataException.class, () -> decrypt.apply(TestRecords.value(schema, struct)));
    assertTrue(asText.getMessage().contains("'f'"), asText.getMessage());
    assertFalse(asText.getMessage().contains("9999"), asText.getMessage());
  }

  private static Map<Object, Object> collidingKeys() {
    Map<Object, Object> colliding = new LinkedHashMap<>();
    colliding.put(1, "int-secret");
    colliding.put("1", "string-secret");
    return colliding;
  }

  /**
   * A map whose keys have the same text fails KeyFromField and ValidateJsonSchema saying so, not as
   * a value with no JSON (a NaN), and without naming its keys or values.
   */
  @Test
  void mapKeysOfTheSameTextAreNamedAsTheReasonWhereARecordIsReadAsJson() {
    Map<String, Object> value = new LinkedHashMap<>();
    value.put("tenant_id", "acme");
    value.put("m", List.of(collidingKeys()));
    SinkRecord record = TestRecords.value(value);

    KeyFromField<SinkRecord> keyFrom = new KeyFromField.Value<>();
    keyFrom.configure(Map.of("field", "tenant_id", "on.missing", "fail"));
    // a Map value is read as it is; a List one (as JsonConverter reads a JSON array) as JSON
    SinkRecord list = TestRecords.value(List.of("x", collidingKeys()));
    DataException key = assertThrows(DataException.class, () -> keyFrom.apply(list));
    assertDuplicateReason(key, "the value");
    assertTrue(key.getMessage().contains("at [1]"), key.getMessage());

    ValidateJsonSchema<SinkRecord> validate = new ValidateJsonSchema.Value<>();
    validate.configure(Map.of("schema", "{\"type\":\"object\"}"));
    DataException invalid = assertThrows(DataException.class, () -> validate.apply(record));
    assertDuplicateReason(invalid, "the value");
    assertTrue(invalid.getMessage().contains("at [key][0]"), invalid.getMessage());

    SinkRecord top = TestRecords.value(collidingKeys());
    DataException whole = assertThrows(DataException.class, () -> validate.apply(top));
    assertDuplicateReason(whole, "the value");
  }

  /**
   * A field holding a map whose keys have the same text cannot be encrypted (it would decrypt to
   * one entry): the reason says so and where in the field it sits, naming no key or value.
   */
  @Test
  void mapKeysOfTheSameTextInAnEncryptedFieldAreNamedAsTheReason() {
    DataException inside =
        assertThrows(DataException.class, () -> encryptSchemaless(List.of("x", collidingKeys())));
    assertDuplicateReason(inside, "field 'f' cannot be encrypted");
    assertTrue(inside.getMessage().contains("at [1] in it is a map"), inside.getMessage());
    DataException whole =
        assertThrows(DataException.class, () -> encryptSchemaless(collidingKeys()));
    assertDuplicateReason(whole, "field 'f' cannot be encrypted: it is a map");
  }

  private static void assertDuplicateReason(DataException e, String side) {
    String message = e.getMessage();
    assertTrue(message.contains(side), message);
    assertTrue(message.contains("keys have the same text"), message);
    assertFalse(message.contains("no representation"), message);
    assertFalse(message.contains("secret"), message);
  }

  /**
   * A map default two of whose keys have the same text (equal byte arrays) is not recorded, and the
   * reason logged says so rather than calling it a default with no JSON.
   */
  @Test
  void aMapDefaultWithKeysOfTheSameTextIsNotRecordedForThatReason() {
    Map<byte[], String> colliding = new LinkedHashMap<>();
    colliding.put(new byte[] {1, 2}, "a");
    colliding.put(new byte[] {1, 2}, "b");
    Schema map =
        SchemaBuilder.map(Schema.BYTES_SCHEMA, Schema.STRING_SCHEMA)
            .optional()
            .defaultValue(colliding)
            .build();
    DataException e = assertThrows(DataException.class, () -> SchemaJson.writeReadable(map));
    assertTrue(e.getMessage().contains("keys have the same text"), e.getMessage());
    assertFalse(e.getMessage().contains("no JSON"), e.getMessage());
  }
}
