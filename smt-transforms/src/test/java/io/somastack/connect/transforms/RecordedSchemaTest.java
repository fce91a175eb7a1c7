package io.somastack.connect.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.transforms.util.JsonValues;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * The original schema EncryptFields records in an encrypted Struct field's schema (the parameter
 * soma.encrypted.schema) and DecryptFields restores: recorded only where it reads back, so every
 * field that encrypts also decrypts, to its original schema or (as before schemas were recorded) to
 * a string.
 */
class RecordedSchemaTest {

  private static final String PARAMETER = EncryptFields.ORIGINAL_SCHEMA_PARAMETER;

  /** What one field went through: encrypted, JsonConverter with schemas, and decrypted. */
  private record Trip(Schema encrypted, Schema decrypted, Object value) {}

  private static Schema outer(Schema field) {
    return SchemaBuilder.struct()
        .field("tenant_id", Schema.STRING_SCHEMA)
        .field("f", field)
        .build();
  }

  /** Field f (of schema {@code field}) encrypted, sent through JsonConverter, and decrypted. */
  private static Trip trip(Schema field, Object value, String... encryptOptions) {
    Schema schema = outer(field);
    Struct record = new Struct(schema).put("tenant_id", "acme").put("f", value);
    List<String> options = new ArrayList<>(List.of("fields", "f", "tenant.field", "tenant_id"));
    options.addAll(List.of(encryptOptions));
    SinkRecord sealed =
        EncryptFieldsTest.encrypt(options.toArray(String[]::new))
            .apply(TestRecords.value(schema, record));
    SchemaAndValue wire = Converters.roundTrip(sealed.valueSchema(), sealed.value());
    SinkRecord out =
        DecryptFieldsTest.decrypt("fields", "f", "tenant.field", "tenant_id")
            .apply(TestRecords.value(wire.schema(), wire.value()));
    return new Trip(
        sealed.valueSchema().field("f").schema(),
        out.valueSchema().field("f").schema(),
        ((Struct) out.value()).getWithoutDefault("f"));
  }

  /** A value as JsonConverter with schemas writes it, so byte[] keys and NaN compare by content. */
  private static String wire(Schema field, Object value) {
    Schema schema = outer(field);
    return Converters.text(
        Converters.json(true, false)
            .fromConnectData(
                "t", schema, new Struct(schema).put("tenant_id", "acme").put("f", value)));
  }

  /** The field was recorded and comes back as it was, schema and value. */
  private static void assertRestored(String label, Schema field, Object value) {
    Trip trip = trip(field, value);
    assertTrue(trip.encrypted().parameters().containsKey(PARAMETER), label + ": recorded");
    assertEquals(field, trip.decrypted(), label);
    assertEquals(wire(field, value), wire(trip.decrypted(), trip.value()), label);
  }

  /** The field was not recorded and decrypts to its JSON text, as before schemas were. */
  private static void assertString(String label, Schema field, Object value) {
    Trip trip = trip(field, value);
    assertTrue(
        trip.encrypted().parameters() == null
            || !trip.encrypted().parameters().containsKey(PARAMETER),
        label + ": not recorded");
    assertEquals(Schema.OPTIONAL_STRING_SCHEMA, trip.decrypted(), label);
    String json = new String(JsonValues.toBytes(value, field), StandardCharsets.UTF_8);
    assertEquals(json, trip.value(), label);
  }

  private static Schema mapOf(Schema keys) {
    return SchemaBuilder.map(keys, Schema.OPTIONAL_STRING_SCHEMA).optional().build();
  }

  /**
   * A map entry's name is its key's text (Java's, or ISO text for logical types, base64 for bytes):
   * keys of a scalar type read back by their type, whether or not the key schema is named; keys
   * that are Structs, arrays or maps have no text that reads back, so such a field is not recorded
   * and decrypts to a string, as it did before schemas were recorded, rather than failing.
   */
  @Test
  void mapFieldsDecryptWhateverTheirKeys() {
    Schema named = SchemaBuilder.int32().name("io.debezium.time.Date").build();
    assertRestored("named int32 keys", mapOf(named), Map.of(19_000, "x"));
    assertRestored(
        "named string keys",
        mapOf(SchemaBuilder.string().name("io.debezium.data.Json").build()),
        Map.of("{}", "x"));
    assertRestored("int8 keys", mapOf(Schema.INT8_SCHEMA), Map.of((byte) -128, "x"));
    assertRestored("int64 keys", mapOf(Schema.INT64_SCHEMA), Map.of(Long.MIN_VALUE, "x"));
    assertRestored("boolean keys", mapOf(Schema.BOOLEAN_SCHEMA), Map.of(true, "x", false, "y"));
    Map<Object, Object> doubles = new LinkedHashMap<>();
    doubles.put(Double.NaN, "nan");
    doubles.put(Double.POSITIVE_INFINITY, "inf");
    doubles.put(-0.0, "negative zero");
    doubles.put(0.1, "a tenth");
    assertRestored("float64 keys", mapOf(Schema.FLOAT64_SCHEMA), doubles);
    Map<Object, Object> floats = new LinkedHashMap<>();
    floats.put(Float.NaN, "nan");
    floats.put(Float.NEGATIVE_INFINITY, "-inf");
    floats.put(-0.0f, "negative zero");
    floats.put(0.1f, "a tenth");
    floats.put(16_777_217f, "big");
    assertRestored("float32 keys", mapOf(Schema.FLOAT32_SCHEMA), floats);
    assertRestored(
        "bytes keys", mapOf(Schema.BYTES_SCHEMA), Map.of(new byte[] {1, 2, (byte) 0xff}, "x"));
    assertRestored("decimal keys", mapOf(Decimal.schema(2)), Map.of(new BigDecimal("-12.50"), "x"));
    assertRestored(
        "timestamp keys",
        mapOf(Timestamp.SCHEMA),
        Map.of(new java.util.Date(1_700_000_000_123L), "x"));
    assertRestored(
        "date keys", mapOf(Date.SCHEMA), Map.of(new java.util.Date(86_400_000L * 19_000), "x"));
    assertRestored("time keys", mapOf(Time.SCHEMA), Map.of(new java.util.Date(3_723_004L), "x"));

    Schema key = SchemaBuilder.struct().name("K").field("a", Schema.INT32_SCHEMA).build();
    assertString("struct keys", mapOf(key), Map.of(new Struct(key).put("a", 1), "x"));
    assertString(
        "array keys",
        mapOf(SchemaBuilder.array(Schema.STRING_SCHEMA).build()),
        Map.of(List.of("a"), "x"));
    assertString(
        "map keys",
        mapOf(SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.STRING_SCHEMA).build()),
        Map.of(Map.of("a", "b"), "x"));
    // a map whose keys cannot be read back, deep inside the field, is found there too
    Schema deep =
        SchemaBuilder.struct()
            .optional()
            .field("labels", SchemaBuilder.array(mapOf(key)).optional().build())
            .build();
    assertString(
        "struct keys in a map in an array in a Struct",
        deep,
        new Struct(deep).put("labels", List.of(Map.of(new Struct(key).put("a", 1), "x"))));
  }

  /**
   * A null key of an optional key schema is named "null": read back as null for a Decimal key (its
   * text is never "null"), while for a string or bytes key "null" is also a key ("null", or the
   * bytes whose base64 it is), so such a field is not recorded and decrypts to a string. A Decimal
   * null key failed every record; a bytes one came back as three bytes.
   */
  @Test
  void nullKeysOfOptionalKeySchemasReadBackOrTheFieldIsNotRecorded() {
    Map<Object, Object> decimals = new HashMap<>();
    decimals.put(null, "x");
    decimals.put(new BigDecimal("1.00"), "y");
    assertRestored("optional decimal keys", mapOf(Decimal.builder(2).optional().build()), decimals);
    Map<Object, Object> bytes = new HashMap<>();
    bytes.put(null, "x");
    assertString("optional bytes keys", mapOf(Schema.OPTIONAL_BYTES_SCHEMA), bytes);
    Map<Object, Object> strings = new HashMap<>();
    strings.put(null, "x");
    assertString("optional string keys", mapOf(Schema.OPTIONAL_STRING_SCHEMA), strings);
    Map<Object, Object> ints = new HashMap<>();
    ints.put(null, "x");
    ints.put(1, "y");
    assertRestored("optional int keys", mapOf(Schema.OPTIONAL_INT32_SCHEMA), ints);
  }

  /**
   * A default is part of the schema: one with a map reads back as any map value does, and one JSON
   * cannot hold (NaN) leaves the schema unrecorded rather than every record of it failing.
   */
  @Test
  void schemasWithDefaultsAreRecordedOnlyWhereTheyReadBack() {
    Schema intKeys =
        SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.INT64_SCHEMA)
            .optional()
            .defaultValue(Map.of(1, 2L))
            .build();
    assertRestored("map default with int keys", intKeys, Map.of(3, 4L));
    Schema namedKeys =
        SchemaBuilder.map(
                SchemaBuilder.int32().name("io.debezium.time.Date").build(), Schema.INT64_SCHEMA)
            .optional()
            .defaultValue(Map.of(19_000, 2L))
            .build();
    assertRestored("map default with named int keys", namedKeys, Map.of(3, 4L));
    Schema inStruct =
        SchemaBuilder.struct()
            .optional()
            .field("m", namedKeys)
            .field("n", Schema.OPTIONAL_STRING_SCHEMA)
            .build();
    assertRestored("struct with such a map", inStruct, new Struct(inStruct).put("n", "x"));
    Schema nan = SchemaBuilder.float64().optional().defaultValue(Double.NaN).build();
    assertString("NaN default", nan, 1.5);
  }

  /** -0.0 is not 0.0 (JSON keeps the sign; a BigDecimal, which reads it, does not). */
  @Test
  void negativeZeroComesBackNegative() {
    Trip doubles = trip(Schema.OPTIONAL_FLOAT64_SCHEMA, -0.0);
    assertInstanceOf(Double.class, doubles.value());
    assertEquals(-0.0, (double) doubles.value());
    Trip floats = trip(Schema.OPTIONAL_FLOAT32_SCHEMA, -0.0f);
    assertInstanceOf(Float.class, floats.value());
    assertEquals(-0.0f, (float) floats.value());
    assertEquals(0.0, (double) trip(Schema.OPTIONAL_FLOAT64_SCHEMA, 0.0).value());
    assertEquals(-1.5, (double) trip(Schema.OPTIONAL_FLOAT64_SCHEMA, -1.5).value());
  }

  /**
   * The recorded schemas are read when the decrypted record schema is built, once per record
   * schema: not again per field of every record, however many distinct ones a record has.
   */
  @Test
  void recordedSchemasAreReadOncePerRecordSchemaNotPerRecord() {
    int fields = 20;
    SchemaBuilder builder = SchemaBuilder.struct().field("tenant_id", Schema.STRING_SCHEMA);
    List<Schema> inners = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (int i = 0; i < fields; i++) {
      Schema inner =
          SchemaBuilder.struct()
              .name("Inner" + i)
              .optional()
              .field("a", Schema.OPTIONAL_STRING_SCHEMA)
              .build();
      inners.add(inner);
      builder.field("f" + i, inner);
      names.add("f" + i);
    }
    Schema schema = builder.build();
    String paths = String.join(",", names);
    EncryptFields<SinkRecord> encrypt =
        EncryptFieldsTest.encrypt("fields", paths, "tenant.field", "tenant_id");
    DecryptFields<SinkRecord> decrypt =
        DecryptFieldsTest.decrypt("fields", paths, "tenant.field", "tenant_id");
    for (int record = 0; record < 50; record++) {
      Struct value = new Struct(schema).put("tenant_id", "acme");
      for (int i = 0; i < fields; i++) {
        value.put("f" + i, new Struct(inners.get(i)).put("a", "v" + record));
      }
      Struct out = (Struct) decrypt.apply(encrypt.apply(TestRecords.value(schema, value))).value();
      assertEquals(value, out);
    }
    assertEquals(fields, decrypt.schemaReads(), "one read per distinct recorded schema");
  }

  /**
   * A recorded schema changes the encrypted field's schema, and so a key's bytes under
   * JsonConverter with schemas or Avro (another schema id): the same key would go to another
   * partition and compacted topics would keep both. The Key variant records only when asked.
   */
  @Test
  void theKeyVariantRecordsSchemasOnlyWhenAsked() {
    Schema key = outer(Schema.INT64_SCHEMA);
    Struct value = new Struct(key).put("tenant_id", "acme").put("f", 7L);
    for (String option : new String[] {null, "false", "true"}) {
      EncryptFields<SinkRecord> transform = new EncryptFields.Key<>();
      Map<String, String> props =
          EncryptFieldsTest.props(
              "fields", "f", "tenant.field", "tenant_id", "mode", "deterministic");
      if (option != null) {
        props.put(EncryptFields.SCHEMA_RECORD_CONFIG, option);
      }
      transform.configure(props);
      Schema encrypted =
          transform
              .apply(TestRecords.record(key, value, null, "v"))
              .keySchema()
              .field("f")
              .schema();
      if ("true".equals(option)) {
        assertEquals(
            "{\"type\":\"int64\",\"optional\":false}", encrypted.parameters().get(PARAMETER));
      } else {
        assertEquals(Schema.OPTIONAL_STRING_SCHEMA, encrypted, "a key keeps its bytes: " + option);
      }
    }
    // the Value variant records by default, and not when told not to
    assertTrue(trip(Schema.INT64_SCHEMA, 7L).encrypted().parameters().containsKey(PARAMETER));
    Trip unrecorded = trip(Schema.INT64_SCHEMA, 7L, EncryptFields.SCHEMA_RECORD_CONFIG, "false");
    assertEquals(Schema.OPTIONAL_STRING_SCHEMA, unrecorded.encrypted());
    assertEquals("7", unrecorded.value());
  }
}
