package io.somastack.connect.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

class StampEnvelopeTest {

  private static final Instant NOW = Instant.parse("2026-01-02T03:04:05Z");

  /** NOW as stamped: milliseconds, always three fraction digits. */
  private static final String STAMPED_NOW = "2026-01-02T03:04:05.000Z";

  private static StampEnvelope<SinkRecord> stamp(String... pairs) {
    Map<String, String> props = new HashMap<>();
    props.put("schema.version", "1.0.0");
    for (int i = 0; i < pairs.length; i += 2) {
      props.put(pairs[i], pairs[i + 1]);
    }
    StampEnvelope<SinkRecord> transform = new StampEnvelope<>();
    transform.configure(props);
    transform.clock(Clock.fixed(NOW, ZoneOffset.UTC));
    return transform;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> valueOf(SinkRecord record) {
    return (Map<String, Object>) record.value();
  }

  @Test
  void addsAMissingEnvelopeToAMap() {
    Map<String, Object> event = TestRecords.map("task_id", "t-1");
    SinkRecord out = stamp().apply(TestRecords.value(event));
    Map<String, Object> value = valueOf(out);
    UUID id = UUID.fromString((String) value.get("event_id"));
    assertEquals(5, id.version());
    @SuppressWarnings("unchecked")
    Map<String, Object> metadata = (Map<String, Object>) value.get("metadata");
    assertEquals("1.0.0", metadata.get("schema_version"));
    assertEquals(STAMPED_NOW, metadata.get("ingested_at"));
    assertEquals(Map.of("task_id", "t-1"), event, "the input is not modified");
  }

  @Test
  void derivesTheSameIdForTheSameRecordPositionOnly() {
    StampEnvelope<SinkRecord> transform = stamp();
    Object first = valueOf(transform.apply(TestRecords.at("t", 1, 7, Map.of()))).get("event_id");
    Object again = valueOf(stamp().apply(TestRecords.at("t", 1, 7, Map.of()))).get("event_id");
    Object next = valueOf(transform.apply(TestRecords.at("t", 1, 8, Map.of()))).get("event_id");
    Object other = valueOf(transform.apply(TestRecords.at("t", 2, 7, Map.of()))).get("event_id");
    assertEquals(first, again);
    assertNotEquals(first, next);
    assertNotEquals(first, other);
  }

  @Test
  void neverOverwritesExistingValues() {
    Map<String, Object> event = TestRecords.example("agent-action");
    SinkRecord out = stamp("schema.version", "9.9").apply(TestRecords.value(event));
    Map<String, Object> value = valueOf(out);
    assertEquals(event.get("event_id"), value.get("event_id"));
    @SuppressWarnings("unchecked")
    Map<String, Object> metadata = (Map<String, Object>) value.get("metadata");
    assertEquals("1.0", metadata.get("schema_version"));
    assertEquals("skill-log-agent-action-001", metadata.get("kafka_producer_id"));
  }

  @Test
  void extendsAStructSchemaOnceAndCachesIt() {
    Schema metadata = SchemaBuilder.struct().optional().field("owner", Schema.STRING_SCHEMA);
    Schema schema =
        SchemaBuilder.struct()
            .name("ToolResult")
            .field("task_id", Schema.STRING_SCHEMA)
            .field("metadata", metadata)
            .build();
    Struct value =
        new Struct(schema)
            .put("task_id", "t-1")
            .put("metadata", new Struct(metadata).put("owner", "gw"));
    StampEnvelope<SinkRecord> transform = stamp();
    SinkRecord out = transform.apply(TestRecords.value(schema, value));
    Struct stamped = (Struct) out.value();
    stamped.validate();
    assertEquals("ToolResult", out.valueSchema().name());
    assertEquals(Schema.OPTIONAL_STRING_SCHEMA, out.valueSchema().field("event_id").schema());
    assertEquals("gw", stamped.getStruct("metadata").getString("owner"));
    assertEquals("1.0.0", stamped.getStruct("metadata").getString("schema_version"));
    assertEquals(STAMPED_NOW, stamped.getStruct("metadata").getString("ingested_at"));
    SinkRecord second = transform.apply(TestRecords.value(schema, value));
    assertSame(out.valueSchema(), second.valueSchema());
  }

  @Test
  void createsAMissingNestedStruct() {
    Schema schema = SchemaBuilder.struct().field("task_id", Schema.STRING_SCHEMA).build();
    SinkRecord out =
        stamp().apply(TestRecords.value(schema, new Struct(schema).put("task_id", "t")));
    Struct stamped = (Struct) out.value();
    stamped.validate();
    assertEquals("1.0.0", stamped.getStruct("metadata").getString("schema_version"));
  }

  @Test
  void stampsHeadersWithoutTouchingTheValue() {
    SinkRecord record = TestRecords.value("{\"event_id\":\"e-1\"}");
    SinkRecord out = stamp("stamp.to", "headers").apply(record);
    assertSame(record.value(), out.value());
    assertEquals("e-1", out.headers().lastWithName("soma.event_id").value());
    assertEquals("1.0.0", out.headers().lastWithName("soma.schema_version").value());
    assertEquals(STAMPED_NOW, out.headers().lastWithName("soma.ingested_at").value());
    SinkRecord again = stamp("stamp.to", "headers").apply(out);
    assertEquals(3, again.headers().size(), "present headers are not added twice");
  }

  @Test
  void stampsHeadersOnAValueThatIsNotJson() {
    StampEnvelope<SinkRecord> transform = stamp("stamp.to", "headers");
    SinkRecord opaque = TestRecords.value(Schema.BYTES_SCHEMA, new byte[] {(byte) 0xff, 0, 1});
    SinkRecord out = transform.apply(opaque);
    assertSame(opaque.value(), out.value());
    assertEquals(
        transform.apply(TestRecords.value("{}")).headers().lastWithName("soma.event_id").value(),
        out.headers().lastWithName("soma.event_id").value());
    assertEquals("1.0.0", out.headers().lastWithName("soma.schema_version").value());
  }

  @Test
  void usesTheRecordTimestampWhenAsked() {
    SinkRecord record =
        new SinkRecord(
            "t", 0, null, null, null, Map.of(), 1, 1_700_000_000_000L, TimestampType.CREATE_TIME);
    SinkRecord out = stamp("ingest.timestamp.source", "record").apply(record);
    @SuppressWarnings("unchecked")
    Map<String, Object> metadata = (Map<String, Object>) valueOf(out).get("metadata");
    assertEquals("2023-11-14T22:13:20.000Z", metadata.get("ingested_at"));
  }

  @Test
  void derivesIdsForSourceRecordsFromSourceOffsets() {
    StampEnvelope<SourceRecord> transform = new StampEnvelope<>();
    transform.configure(Map.of("ingest.timestamp.field", ""));
    SourceRecord record =
        new SourceRecord(Map.of("table", "outbox"), Map.of("id", 5), "t", null, Map.of());
    SourceRecord same =
        new SourceRecord(Map.of("table", "outbox"), Map.of("id", 5), "t", null, Map.of());
    Object id = ((Map<?, ?>) transform.apply(record).value()).get("event_id");
    assertEquals(id, ((Map<?, ?>) transform.apply(same).value()).get("event_id"));
    assertNull(((Map<?, ?>) transform.apply(record).value()).get("metadata"));
  }

  /**
   * Some source connectors give several records one source offset (a JDBC source in timestamp mode,
   * rows sharing a timestamp): distinct records must not share an id, or whoever deduplicates on it
   * drops all but one. The same record read again still gets the same id.
   */
  @Test
  void sourceRecordsSharingAnOffsetGetAnIdEachUnlessTheyAreTheSame() {
    StampEnvelope<SourceRecord> transform = new StampEnvelope<>();
    transform.configure(Map.of("ingest.timestamp.field", ""));
    Map<String, Object> offset = Map.of("timestamp", 1_767_000_000_000L);
    Object first = idOf(transform, sourceRecord(offset, "k1", Map.of("text", "a")));
    Object second = idOf(transform, sourceRecord(offset, "k2", Map.of("text", "b")));
    Object firstAgain = idOf(transform, sourceRecord(offset, "k1", Map.of("text", "a")));
    assertNotEquals(first, second);
    assertEquals(first, firstAgain);
  }

  private static SourceRecord sourceRecord(
      Map<String, ?> offset, String key, Map<String, ?> value) {
    return new SourceRecord(
        Map.of("table", "memories"), offset, "t", null, null, key, null, new HashMap<>(value));
  }

  private static Object idOf(StampEnvelope<SourceRecord> transform, SourceRecord record) {
    return ((Map<?, ?>) transform.apply(record).value()).get("event_id");
  }

  @Test
  void failsWhereAFieldCannotBeAdded() {
    SinkRecord record = TestRecords.value(TestRecords.map("metadata", "flat"));
    DataException e = assertThrows(DataException.class, () -> stamp().apply(record));
    assertEquals(
        "record at topic 'memory.events' partition 2 offset 42: field 'metadata' is not an"
            + " object, so nothing can be added to it",
        e.getMessage());
    assertThrows(DataException.class, () -> stamp().apply(TestRecords.value("{}")));
  }

  /**
   * A Struct may already have an envelope field, left empty: the stamp goes into it as its schema
   * holds it, and where it cannot, the record fails naming its coordinates and the field.
   */
  @Test
  void stampsExistingEmptyStructFieldsAsTheirSchemaHoldsThem() {
    Schema metadata =
        SchemaBuilder.struct()
            .optional()
            .field("ingested_at", Timestamp.builder().optional().build())
            .build();
    Schema schema =
        SchemaBuilder.struct()
            .field("event_id", Schema.OPTIONAL_STRING_SCHEMA)
            .field("metadata", metadata)
            .build();
    Struct value = new Struct(schema).put("metadata", new Struct(metadata));
    Struct stamped = (Struct) stamp().apply(TestRecords.value(schema, value)).value();
    stamped.validate();
    assertEquals(Date.from(NOW), stamped.getStruct("metadata").get("ingested_at"));
    assertEquals(
        Timestamp.LOGICAL_NAME,
        stamped.schema().field("metadata").schema().field("ingested_at").schema().name());
    assertEquals(5, UUID.fromString(stamped.getString("event_id")).version());
  }

  @Test
  void failsWithTheRecordsCoordinatesWhereAnEmptyFieldCannotHoldTheStamp() {
    Schema schema = SchemaBuilder.struct().field("event_id", Schema.OPTIONAL_INT64_SCHEMA).build();
    DataException e =
        assertThrows(
            DataException.class,
            () -> stamp().apply(TestRecords.value(schema, new Struct(schema))));
    assertEquals(
        "record at topic 'memory.events' partition 2 offset 42: field 'event_id' is of type INT64,"
            + " which cannot hold the stamp",
        e.getMessage());
    Struct present = new Struct(schema).put("event_id", 7L);
    Struct kept = (Struct) stamp().apply(TestRecords.value(schema, present)).value();
    assertEquals(7L, kept.get("event_id"));
  }

  /**
   * A null optional Struct (what Avro and Protobuf give an unset optional record) is made anew with
   * the stamps as its schema holds them: its empty fields have their schemas, as they do when the
   * Struct is present, so a Timestamp ingest field gets a Date, not text that Struct.put refuses.
   */
  @Test
  void stampsTheFieldsOfANullOptionalStructAsTheirSchemaHoldsThem() {
    Schema metadata =
        SchemaBuilder.struct()
            .optional()
            .field("schema_version", Schema.OPTIONAL_STRING_SCHEMA)
            .field("ingested_at", Timestamp.builder().optional().build())
            .field("other", Schema.OPTIONAL_INT32_SCHEMA)
            .build();
    Schema schema =
        SchemaBuilder.struct()
            .field("event_id", Schema.OPTIONAL_STRING_SCHEMA)
            .field("metadata", metadata)
            .build();
    SinkRecord out = stamp().apply(TestRecords.value(schema, new Struct(schema)));
    Struct stamped = (Struct) out.value();
    stamped.validate();
    assertEquals(out.valueSchema(), stamped.schema());
    Struct made = stamped.getStruct("metadata");
    assertEquals(Date.from(NOW), made.get("ingested_at"));
    assertEquals(
        Timestamp.LOGICAL_NAME,
        stamped.schema().field("metadata").schema().field("ingested_at").schema().name());
    assertEquals("1.0.0", made.getString("schema_version"));
    assertNull(made.get("other"), "no stamp goes there");
    assertEquals(5, UUID.fromString(stamped.getString("event_id")).version());
  }

  /**
   * An empty field of a null optional Struct that cannot hold its stamp fails the record as it does
   * when the Struct is present: naming its coordinates and the field, not with Kafka's bare message
   * from Struct.put.
   */
  @Test
  void aNullOptionalStructsFieldThatCannotHoldTheStampFailsNamingTheRecord() {
    Schema metadata =
        SchemaBuilder.struct()
            .optional()
            .field("schema_version", Schema.OPTIONAL_INT32_SCHEMA)
            .build();
    Schema schema = SchemaBuilder.struct().field("metadata", metadata).build();
    String expected =
        "record at topic 'memory.events' partition 2 offset 42: field 'metadata.schema_version'"
            + " is of type INT32, which cannot hold the stamp";
    for (Struct value :
        List.of(new Struct(schema), new Struct(schema).put("metadata", new Struct(metadata)))) {
      DataException e =
          assertThrows(DataException.class, () -> stamp().apply(TestRecords.value(schema, value)));
      assertEquals(expected, e.getMessage());
    }
  }

  @Test
  void letsTombstonesPass() {
    SinkRecord tombstone = TestRecords.value(null);
    assertSame(tombstone, stamp().apply(tombstone));
  }

  @Test
  void reportsConfigMistakes() {
    assertThrows(ConfigException.class, () -> stamp("event.id.namespace", "nope"));
    assertThrows(ConfigException.class, () -> stamp("stamp.to", "body"));
    assertThrows(
        ConfigException.class,
        () -> stamp("schema.version.field", "metadata", "ingest.timestamp.field", "metadata.at"));
  }

  /** Headers are named by the last segment only, so two paths ending alike would share one. */
  @Test
  void refusesHeaderNamesThatTwoEnvelopeFieldsWouldShare() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () ->
                stamp(
                    "stamp.to",
                    "headers",
                    "event.id.field",
                    "meta.id",
                    "schema.version.field",
                    "schema.id"));
    assertEquals(
        "Invalid value meta.id for configuration event.id.field: stamp.to=headers names each"
            + " header header.prefix + the field's last segment, and schema.version.field"
            + " 'schema.id' would share the header 'soma.id'",
        e.getMessage());
    Map<String, Object> value =
        valueOf(
            stamp("event.id.field", "meta.id", "schema.version.field", "schema.id")
                .apply(TestRecords.value(Map.of())));
    assertEquals("1.0.0", ((Map<?, ?>) value.get("schema")).get("id"));
  }

  /**
   * JsonConverter with schemas.enable=true gives a map-typed payload a MAP schema: the stamped
   * value keeps it, so the converter still writes it with its schema.
   */
  @Test
  void keepsTheMapSchemaJsonConverterGaveTheValue() {
    SchemaAndValue in = Converters.readStringMap("{\"task_id\":\"t-1\"}");
    StampEnvelope<SinkRecord> transform =
        stamp("schema.version.field", "schema_version", "ingest.timestamp.field", "ingested_at");
    SinkRecord out = transform.apply(TestRecords.value(in.schema(), in.value()));
    assertSame(in.schema(), out.valueSchema());
    SchemaAndValue back = Converters.roundTrip(out.valueSchema(), out.value());
    assertEquals(in.schema(), back.schema());
    Map<?, ?> value = (Map<?, ?>) back.value();
    assertEquals("t-1", value.get("task_id"));
    assertEquals("1.0.0", value.get("schema_version"));
    assertEquals("2026-01-02T03:04:05.000Z", value.get("ingested_at"));
    assertEquals(5, UUID.fromString((String) value.get("event_id")).version());
  }

  /**
   * A MAP schema of numbers cannot hold a text stamp: the map goes on schemaless, as every map did
   * before MAP schemas were kept, rather than failing the record as a Struct's INT64 field does.
   */
  @Test
  void dropsAMapSchemaOfNumbersRatherThanFailingTheRecord() {
    SchemaAndValue in =
        Converters.readEnvelope(
            "{\"schema\":{\"type\":\"map\",\"keys\":{\"type\":\"string\"},"
                + "\"values\":{\"type\":\"int64\"}},\"payload\":{\"n\":1}}");
    SinkRecord out = stamp().apply(TestRecords.value(in.schema(), in.value()));
    assertNull(out.valueSchema());
    Map<?, ?> value = (Map<?, ?>) out.value();
    assertEquals(1L, value.get("n"));
  }

  /** A MAP schema of strings cannot hold the nested metadata: the map goes on schemaless. */
  @Test
  void dropsAMapSchemaThatCannotHoldTheEnvelope() {
    SchemaAndValue in = Converters.readStringMap("{\"task_id\":\"t-1\"}");
    SinkRecord out = stamp().apply(TestRecords.value(in.schema(), in.value()));
    assertNull(out.valueSchema());
    assertEquals("t-1", ((Map<?, ?>) out.value()).get("task_id"));
  }

  /**
   * Wall-clock and record-time stamps have one precision, milliseconds with three fraction digits
   * always, so their text sorts as their times do (Instant's own text drops zero fractions and
   * keeps up to nanoseconds, and "05Z" sorts after "05.5Z").
   */
  @Test
  void stampsIngestTimesAsMillisecondsWhoseTextSortsAsTheTimes() {
    List<Instant> times =
        List.of(
            Instant.parse("2026-01-02T03:04:05Z"),
            Instant.parse("2026-01-02T03:04:05.000999999Z"),
            Instant.parse("2026-01-02T03:04:05.001Z"),
            Instant.parse("2026-01-02T03:04:05.1Z"),
            Instant.parse("2026-01-02T03:04:05.123456789Z"),
            Instant.parse("2026-01-02T03:04:06Z"));
    List<String> stamped = new ArrayList<>();
    for (Instant time : times) {
      StampEnvelope<SinkRecord> transform = stamp("stamp.to", "headers");
      transform.clock(Clock.fixed(time, ZoneOffset.UTC));
      stamped.add(
          (String)
              transform
                  .apply(TestRecords.value("{}"))
                  .headers()
                  .lastWithName("soma.ingested_at")
                  .value());
    }
    assertEquals(
        List.of(
            "2026-01-02T03:04:05.000Z",
            "2026-01-02T03:04:05.000Z",
            "2026-01-02T03:04:05.001Z",
            "2026-01-02T03:04:05.100Z",
            "2026-01-02T03:04:05.123Z",
            "2026-01-02T03:04:06.000Z"),
        stamped);
    List<String> sorted = new ArrayList<>(stamped);
    sorted.sort(null);
    assertEquals(stamped, sorted);

    SinkRecord recordTime =
        new SinkRecord(
            "t", 0, null, null, null, Map.of(), 1, 1_700_000_000_120L, TimestampType.CREATE_TIME);
    Map<?, ?> metadata =
        (Map<?, ?>)
            valueOf(stamp("ingest.timestamp.source", "record").apply(recordTime)).get("metadata");
    assertEquals("2023-11-14T22:13:20.120Z", metadata.get("ingested_at"));
  }

  /**
   * A source record whose value has no JSON (a NaN) cannot be digested into an event id: the error
   * names where the record comes from, not what it holds.
   */
  @Test
  void anIdThatCannotBeDerivedNamesTheSourceRecordButNotItsValue() {
    StampEnvelope<SourceRecord> transform = new StampEnvelope<>();
    transform.configure(Map.of("ingest.timestamp.field", ""));
    SourceRecord record =
        new SourceRecord(
            Map.of("table", "outbox"),
            Map.of("id", 5L),
            "t",
            3,
            null,
            null,
            null,
            new HashMap<>(Map.of("score", Double.NaN)));
    DataException e = assertThrows(DataException.class, () -> transform.apply(record));
    assertEquals(
        "record at topic 't' partition 3 source partition {table=outbox} source offset {id=5}:"
            + " the value cannot be written as JSON, so no event id can be derived from it",
        e.getMessage());
  }

  /**
   * JsonConverter with schemas.enable=true gives a Struct a map field where the payload has an
   * object of strings: the default metadata.* fields are stamped into that map, as they are read
   * from it, and the record still writes with its schema.
   */
  @Test
  void stampsIntoAStructsMapOfStrings() {
    SchemaAndValue in =
        Converters.readEnvelope(
            "{\"schema\":{\"type\":\"struct\",\"fields\":["
                + "{\"field\":\"task_id\",\"type\":\"string\"},"
                + "{\"field\":\"metadata\",\"type\":\"map\",\"optional\":true,"
                + "\"keys\":{\"type\":\"string\"},\"values\":{\"type\":\"string\"}}]},"
                + "\"payload\":{\"task_id\":\"t-1\",\"metadata\":{\"owner\":\"gw\","
                + "\"schema_version\":\"0.9\"}}}");
    StampEnvelope<SinkRecord> transform = stamp();
    SinkRecord out = transform.apply(TestRecords.value(in.schema(), in.value()));
    Struct stamped = (Struct) out.value();
    stamped.validate();
    assertEquals(
        in.schema().field("metadata").schema(), out.valueSchema().field("metadata").schema());
    Map<String, String> metadata = stamped.getMap("metadata");
    assertEquals(
        Map.of("owner", "gw", "schema_version", "0.9", "ingested_at", STAMPED_NOW), metadata);
    assertEquals(
        Map.of("owner", "gw", "schema_version", "0.9"), ((Struct) in.value()).getMap("metadata"));
    SchemaAndValue back = Converters.roundTrip(out.valueSchema(), out.value());
    assertEquals(metadata, ((Struct) back.value()).getMap("metadata"));

    Struct noMap = new Struct(in.schema()).put("task_id", "t-2");
    Struct created = (Struct) transform.apply(TestRecords.value(in.schema(), noMap)).value();
    created.validate();
    assertEquals(
        Map.of("schema_version", "1.0.0", "ingested_at", STAMPED_NOW), created.getMap("metadata"));
  }

  /** A map whose values cannot hold the stamp fails at the first record, naming its value type. */
  @Test
  void failsNamingTheMapsValueTypeWhereItCannotHoldTheStamp() {
    Schema metadata = SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT64_SCHEMA).build();
    Schema schema = SchemaBuilder.struct().field("metadata", metadata).build();
    Struct value = new Struct(schema).put("metadata", Map.of("n", 1L));
    DataException e =
        assertThrows(DataException.class, () -> stamp().apply(TestRecords.value(schema, value)));
    assertEquals(
        "record at topic 'memory.events' partition 2 offset 42: field 'metadata.schema_version'"
            + " would go into the map 'metadata', whose values are of type INT64, which cannot"
            + " hold the stamp",
        e.getMessage());

    Schema numberKeys = SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).build();
    Schema other = SchemaBuilder.struct().field("metadata", numberKeys).build();
    Struct keyed = new Struct(other).put("metadata", Map.of(1, "x"));
    e = assertThrows(DataException.class, () -> stamp().apply(TestRecords.value(other, keyed)));
    assertEquals(
        "record at topic 'memory.events' partition 2 offset 42: field 'metadata' is a map with"
            + " keys of type INT32, so nothing can be added to it",
        e.getMessage());
  }

  /**
   * An optional nested Struct that is null is made anew for the stamps; a required field of it that
   * nothing stamps has no value, and the record fails naming it and its coordinates rather than
   * with Kafka's bare "null used for required field". Required fields the stamps fill, or that have
   * a default, are no obstacle.
   */
  @Test
  void aNullNestedStructWithARequiredFieldFailsNamingIt() {
    Schema metadata =
        SchemaBuilder.struct().optional().field("owner", Schema.STRING_SCHEMA).build();
    Schema schema = SchemaBuilder.struct().field("metadata", metadata).build();
    DataException e =
        assertThrows(
            DataException.class,
            () -> stamp().apply(TestRecords.value(schema, new Struct(schema))));
    assertEquals(
        "record at topic 'memory.events' partition 2 offset 42: field 'metadata' is null, and a"
            + " new one for the added fields cannot be made: its required field 'metadata.owner' has no"
            + " value",
        e.getMessage());

    Schema filled =
        SchemaBuilder.struct()
            .optional()
            .field("schema_version", Schema.STRING_SCHEMA)
            .field("ingested_at", Schema.STRING_SCHEMA)
            .field("owner", SchemaBuilder.string().defaultValue("gw").build())
            .build();
    Schema withFilled = SchemaBuilder.struct().field("metadata", filled).build();
    Struct out =
        (Struct) stamp().apply(TestRecords.value(withFilled, new Struct(withFilled))).value();
    out.validate();
    assertEquals("1.0.0", out.getStruct("metadata").getString("schema_version"));
    assertEquals(STAMPED_NOW, out.getStruct("metadata").getString("ingested_at"));
    assertEquals("gw", out.getStruct("metadata").get("owner"), "its default");
  }

  /**
   * An empty or blank event id is no id: every record holding one would share it, and an idempotent
   * consumer would drop all but the first as duplicates. It is replaced like a missing one.
   */
  @Test
  void replacesAnEmptyOrBlankEventId() {
    // the id a record at the same position without one is given
    Object derived = valueOf(stamp().apply(TestRecords.value(TestRecords.map()))).get("event_id");
    for (String blank : List.of("", "  ")) {
      Map<String, Object> event = TestRecords.map("event_id", blank);
      assertEquals(derived, valueOf(stamp().apply(TestRecords.value(event))).get("event_id"));

      Schema schema = SchemaBuilder.struct().field("event_id", Schema.STRING_SCHEMA).build();
      Struct struct = new Struct(schema).put("event_id", blank);
      Struct stamped = (Struct) stamp().apply(TestRecords.value(schema, struct)).value();
      assertEquals(derived, stamped.getString("event_id"));

      SinkRecord json = TestRecords.value("{\"event_id\":\"" + blank + "\"}");
      assertEquals(
          derived,
          stamp("stamp.to", "headers").apply(json).headers().lastWithName("soma.event_id").value());
    }
    Map<String, Object> kept = TestRecords.map("event_id", "e-1");
    assertEquals("e-1", valueOf(stamp().apply(TestRecords.value(kept))).get("event_id"));
  }

  /** The errors of a record that an earlier transform moved name where it was read from. */
  @Test
  void errorsOfARoutedRecordNameWhereItWasRead() {
    RouteByField<SinkRecord> route = new RouteByField<>();
    route.configure(Map.of("topic.template", "agent-${value.kind}"));
    SinkRecord routed = route.apply(TestRecords.value(Schema.STRING_SCHEMA, "{\"kind\":\"x\"}"));
    DataException e = assertThrows(DataException.class, () -> stamp().apply(routed));
    assertEquals(
        "record at topic 'agent-x' (read from topic 'memory.events' partition 2 offset 42):"
            + " stamp.to=fields needs a Struct or Map value; use stamp.to=headers for JSON text",
        e.getMessage());
  }

  /**
   * An unset required Struct with a default holds its default: the stamps go into a copy of it,
   * rather than a new Struct failing for the default's required fields.
   */
  @Test
  void stampsIntoTheDefaultOfAnUnsetRequiredStruct() {
    SchemaBuilder metadata = SchemaBuilder.struct().field("owner", Schema.STRING_SCHEMA);
    Struct defaults = new Struct(metadata).put("owner", "gw");
    Schema schema =
        SchemaBuilder.struct().field("metadata", metadata.defaultValue(defaults).build()).build();
    Struct out = (Struct) stamp().apply(TestRecords.value(schema, new Struct(schema))).value();
    out.validate();
    assertEquals("gw", out.getStruct("metadata").getString("owner"));
    assertEquals("1.0.0", out.getStruct("metadata").getString("schema_version"));
    assertEquals(STAMPED_NOW, out.getStruct("metadata").getString("ingested_at"));
  }

  /** A source partition or offset may hold a null key; the id is derived, not a crash. */
  @Test
  void derivesIdsForSourceRecordsWithANullKeyInTheirPosition() {
    StampEnvelope<SourceRecord> transform = new StampEnvelope<>();
    transform.configure(Map.of("ingest.timestamp.field", ""));
    Map<String, Object> partition = new HashMap<>();
    partition.put(null, "outbox");
    Map<String, Object> offset = new HashMap<>();
    offset.put(null, 5);
    offset.put("id", 6);
    SourceRecord record = new SourceRecord(partition, offset, "t", null, Map.of());
    Object id = idOf(transform, record);
    assertEquals(5, UUID.fromString((String) id).version());
    assertEquals(id, idOf(transform, new SourceRecord(partition, offset, "t", null, Map.of())));
  }

  /**
   * With no schema version to stamp, its default path is free for the ingest timestamp, and the
   * timestamp goes there rather than nothing being stamped.
   */
  @Test
  void stampsTheIngestTimeAtTheSchemaVersionPathWhenNoVersionIsStamped() {
    SinkRecord out =
        stamp("schema.version", "", "ingest.timestamp.field", "metadata.schema_version")
            .apply(TestRecords.value(TestRecords.map("task_id", "t-1")));
    Map<?, ?> metadata = (Map<?, ?>) valueOf(out).get("metadata");
    assertEquals(Map.of("schema_version", STAMPED_NOW), metadata);
  }
}
