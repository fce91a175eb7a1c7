package io.somastack.connect.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.transforms.util.JsonValues;
import io.somastack.connect.transforms.util.SchemaJson;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
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

  /** Random float bits (subnormals as often as normals) read back as the float written. */
  @Test
  void everyFloat32ReadsBackAsTheFloatWritten() {
    Random random = new Random(20_240_611L);
    int checked = 0;
    for (int i = 0; i < 1_000_000; i++) {
      int bits = random.nextInt();
      if (i % 2 == 0) {
        bits &= 0x807f_ffff; // a subnormal (or zero) of either sign
      }
      float f = Float.intBitsToFloat(bits);
      if (Float.isNaN(f) || Float.isInfinite(f)) {
        continue; // no JSON: refused when encrypting
      }
      Object back =
          SchemaJson.value(JsonValues.toBytes(f, Schema.FLOAT32_SCHEMA), Schema.FLOAT32_SCHEMA);
      if (bits((Float) back) != bits) {
        throw new AssertionError(
            "float bits " + Integer.toHexString(bits) + " read back as " + back + " from " + f);
      }
      checked++;
    }
    assertTrue(checked > 990_000);
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
}
