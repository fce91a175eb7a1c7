package io.somastack.connect.qdrant.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qdrant.client.grpc.JsonWithInt.Value;
import io.qdrant.client.grpc.Points.PointStruct;
import io.somastack.connect.common.json.ConnectJson;
import io.somastack.connect.qdrant.QdrantSinkConfig;
import io.somastack.connect.qdrant.embed.Embedder;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class PointMapperTest {

  private final List<PointMapper.Rejected> rejects = new ArrayList<>();
  private long offset;

  private static PointMapper mapper(String... keyValues) {
    Map<String, String> props = new HashMap<>(Map.of("vector.size", "8"));
    for (int i = 0; i < keyValues.length; i += 2) {
      props.put(keyValues[i], keyValues[i + 1]);
    }
    QdrantSinkConfig config = new QdrantSinkConfig(props);
    return new PointMapper(config, Embedder.create(config), (values, nanos) -> {});
  }

  private SinkRecord record(Object key, Object value) {
    return new SinkRecord("memory.events", 0, null, key, null, value, offset++);
  }

  private SinkRecord record(Schema schema, Struct value) {
    return new SinkRecord("memory.events", 0, null, null, schema, value, offset++);
  }

  /**
   * A map keyed by numbers (a TreeMap, as a transform may hand over) holds no named field: an
   * included path through it is missing, as through a HashMap of the same keys, where asking a
   * TreeMap for a text key threw ClassCastException and failed the task.
   */
  @Test
  void anIncludedPathThroughAMapKeyedByNumbersIsMissing() {
    java.util.TreeMap<Integer, Object> byNumber = new java.util.TreeMap<>(Map.of(1, "one"));
    Map<String, Object> value =
        Map.of("id", 1L, "vector", List.of(1, 0, 0, 0, 0, 0, 0, 0), "meta", byNumber);
    PointMapper mapper = mapper("embedder", "field", "payload.include", "meta.x");
    List<PointOp> ops = mapper.map(List.of(record(null, value)), rejects);
    assertEquals(List.of(), rejects);
    assertEquals(0, ((PointOp.Upsert) ops.get(0)).point().getPayloadCount());
  }

  /**
   * With the field embedder and a fixed collection the payload is built straight from the map: two
   * keys of one text (1 and "1") would be one payload field holding the later value, so the record
   * is refused with ConnectJson's reason, naming neither key nor value; also a map under an
   * excluded path, which the payload rebuilds field by field. Maps of distinct names are kept.
   */
  @Test
  void aValueMapWithTwoKeysOfOneTextIsRefusedByTheFieldEmbedder() {
    List<Integer> vector = List.of(1, 0, 0, 0, 0, 0, 0, 0);
    Map<Object, Object> twice = new LinkedHashMap<>();
    twice.put("id", 1L);
    twice.put("vector", vector);
    twice.put(1L, "one as a number");
    twice.put("1", "one as text");
    Map<Object, Object> meta = new LinkedHashMap<>();
    meta.put(7, "seven as a number");
    meta.put("7", "seven as text");
    meta.put("secret", "s");
    Map<Object, Object> nested = new LinkedHashMap<>(Map.of("id", 2L, "vector", vector));
    nested.put("meta", meta);
    Map<Object, Object> fine = new LinkedHashMap<>();
    fine.put("id", 3L);
    fine.put("vector", vector);
    fine.put(1L, "one as a number");
    fine.put("2", "two as text");

    PointMapper mapper = mapper("embedder", "field", "payload.exclude", "meta.secret");
    List<PointOp> ops =
        mapper.map(List.of(record(null, twice), record(null, nested), record(null, fine)), rejects);

    assertEquals(List.of(3L), ops.stream().map(op -> op.id().getNum()).toList());
    assertEquals(2, rejects.size());
    assertEquals(ConnectJson.DUPLICATE_NAME, rejects.get(0).reason());
    assertEquals(ConnectJson.DUPLICATE_NAME, rejects.get(0).loggedReason());
    // a map key is record data: named in the dead letter's reason only, [key] in the log
    assertEquals("payload field 'meta': " + ConnectJson.DUPLICATE_NAME, rejects.get(1).reason());
    assertEquals(
        "payload field '[key]': " + ConnectJson.DUPLICATE_NAME, rejects.get(1).loggedReason());
    PointStruct point = ((PointOp.Upsert) ops.get(0)).point();
    assertEquals(Set.of("id", "1", "2"), point.getPayloadMap().keySet());
    assertEquals(
        Value.newBuilder().setStringValue("one as a number").build(), point.getPayloadOrThrow("1"));
    assertEquals(
        Value.newBuilder().setStringValue("two as text").build(), point.getPayloadOrThrow("2"));
  }

  /**
   * A bytes key is named by its base64 text, as RecordJson names it everywhere (Java's text of an
   * array changes with every record), so two keys of the same bytes are one name, refused.
   */
  @Test
  void aValueMapWithBytesKeysNamesThemByTheirBase64() {
    List<Integer> vector = List.of(1, 0, 0, 0, 0, 0, 0, 0);
    Map<Object, Object> named = new LinkedHashMap<>();
    named.put("id", 1L);
    named.put("vector", vector);
    named.put(new byte[] {1, 2, 3}, "bytes");
    Map<Object, Object> twice = new LinkedHashMap<>();
    twice.put("id", 2L);
    twice.put("vector", vector);
    twice.put(new byte[] {1, 2, 3}, "first");
    twice.put(new byte[] {1, 2, 3}, "second");

    PointMapper mapper = mapper("embedder", "field");
    List<PointOp> ops = mapper.map(List.of(record(null, named), record(null, twice)), rejects);

    assertEquals(List.of(1L), ops.stream().map(op -> op.id().getNum()).toList());
    assertEquals(
        Set.of("id", "AQID"), ((PointOp.Upsert) ops.get(0)).point().getPayloadMap().keySet());
    assertEquals(1, rejects.size());
    assertEquals(ConnectJson.DUPLICATE_NAME, rejects.get(0).reason());
  }

  /**
   * payload.include names a map entry by its key's text, as the payload and payload.exclude name
   * it: m.1 picks key 1 of a Struct's MAP<INT32, STRING> (an Avro or Protobuf map keyed by
   * numbers). The field embedder reads the Struct itself, the hashing one its JSON tree: both pick
   * the same. Two keys of one text are refused, as in the whole payload.
   */
  @Test
  void anIncludedPathPicksAMapKeyOtherThanTextByItsText() {
    Schema schema =
        SchemaBuilder.struct()
            .field("id", Schema.INT64_SCHEMA)
            .field("vector", SchemaBuilder.array(Schema.FLOAT32_SCHEMA).build())
            .field("m", SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).build())
            .field("text", Schema.STRING_SCHEMA)
            .build();
    Struct struct =
        new Struct(schema)
            .put("id", 1L)
            .put("vector", List.of(1f, 0f, 0f, 0f, 0f, 0f, 0f, 0f))
            .put("m", Map.of(1, "one", 2, "two"))
            .put("text", "hello");
    Value one =
        Value.newBuilder()
            .setStructValue(
                io.qdrant.client.grpc.JsonWithInt.Struct.newBuilder()
                    .putFields("1", Value.newBuilder().setStringValue("one").build()))
            .build();
    for (PointMapper mapper :
        List.of(
            mapper("embedder", "field", "payload.include", "m.1,text"),
            mapper("embedder.text.fields", "text", "payload.include", "m.1,text"))) {
      List<PointOp> ops = mapper.map(List.of(record(schema, struct)), rejects);
      assertEquals(List.of(), rejects);
      PointStruct point = ((PointOp.Upsert) ops.get(0)).point();
      assertEquals(Set.of("m", "text"), point.getPayloadMap().keySet());
      assertEquals(one, point.getPayloadOrThrow("m"));
    }

    Map<Object, Object> twice = new LinkedHashMap<>();
    twice.put(1, "one as an int");
    twice.put(1L, "one as a long");
    Map<String, Object> value =
        Map.of("id", 2L, "vector", List.of(1, 0, 0, 0, 0, 0, 0, 0), "m", twice);
    mapper("embedder", "field", "payload.include", "m.1")
        .map(List.of(record(null, value)), rejects);
    assertEquals(1, rejects.size());
    assertEquals("payload field 'm.1': " + ConnectJson.DUPLICATE_NAME, rejects.get(0).reason());
  }

  /**
   * A value of JSON text longer than record.max.bytes is refused before it is parsed (a tree costs
   * several times its text): text that is not even JSON gets the size as its reason. A string is
   * counted in UTF-8 bytes, not characters. A Map a converter made is not measured.
   */
  @Test
  void aValueOfJsonTextOverRecordMaxBytesIsRejectedUnread() {
    PointMapper mapper = mapper("record.max.bytes", "2048");
    String notJson = "{" + "x".repeat(3000);
    String twoByteChars = "{\"id\":1,\"text\":\"" + "é".repeat(1100) + "\"}"; // 2200+ bytes
    String fits = "{\"id\":2,\"text\":\"" + "a".repeat(1500) + "\"}"; // 1500+ chars, bytes
    List<SinkRecord> records =
        List.of(
            record(null, notJson.getBytes(StandardCharsets.UTF_8)),
            record(null, notJson),
            record(null, ByteBuffer.wrap(notJson.getBytes(StandardCharsets.UTF_8))),
            record(null, twoByteChars),
            record(null, fits),
            record(null, Map.of("id", 3L, "text", "b".repeat(3000))));
    List<PointOp> ops = mapper.map(records, rejects);
    assertEquals(
        List.of(0L, 1L, 2L, 3L), rejects.stream().map(r -> r.record().kafkaOffset()).toList());
    for (PointMapper.Rejected rejected : rejects) {
      assertTrue(
          rejected.reason().contains("more than record.max.bytes (2048)"), rejected.reason());
      assertEquals(rejected.reason(), rejected.loggedReason());
    }
    assertTrue(rejects.get(0).reason().contains(" 3001 bytes"), rejects.get(0).reason());
    assertTrue(rejects.get(1).reason().contains("at least 3001 bytes"), rejects.get(1).reason());
    assertTrue(rejects.get(3).reason().contains(" 2218 bytes"), rejects.get(3).reason());
    assertEquals(List.of(4L, 5L), ops.stream().map(op -> op.record().kafkaOffset()).toList());
  }

  /**
   * A point waiting for its text's vector holds its bytes, not the record value's tree or payload
   * values: with the text embedders a put keeps one tree at a time, not every record's until the
   * embedder answers (an 8 MB event's tree is over 100 MB).
   */
  @Test
  void whatWaitsForTheEmbedderHoldsNoTreeOfARecordValue() {
    for (Class<?> nested : PointMapper.class.getDeclaredClasses()) {
      for (java.lang.reflect.Field field : nested.getDeclaredFields()) {
        if (java.lang.reflect.Modifier.isStatic(field.getModifiers())) {
          continue;
        }
        String type = field.getGenericType().getTypeName();
        String name = nested.getSimpleName() + "." + field.getName() + ": " + type;
        assertFalse(field.getType() == Object.class, name);
        for (String held : List.of("JsonNode", "EncodedFields", "EncodedValue", "Map<")) {
          assertFalse(type.contains(held), name);
        }
      }
    }
  }

  @Test
  void schemalessValueBecomesAnUpsertWithTheWholeValueAsPayload() {
    Map<String, Object> value = Map.of("id", "mem-1", "text", "hello agent", "tenant_id", "t1");
    List<PointOp> ops = mapper().map(List.of(record(null, value)), rejects);
    PointOp.Upsert upsert = (PointOp.Upsert) ops.get(0);
    assertEquals("memory.events", upsert.collection());
    assertEquals("c8ca989b-f9d2-5ecb-8560-ad1541525126", upsert.id().getUuid());
    assertEquals(8, upsert.point().getVectors().getVector().getDense().getDataCount());
    assertEquals(
        Value.newBuilder().setStringValue("t1").build(),
        upsert.point().getPayloadOrThrow("tenant_id"));
    assertEquals(3, upsert.point().getPayloadCount());
  }

  @Test
  void structValueWithFieldVectorTemplateAndIncludedPayload() {
    Schema meta = SchemaBuilder.struct().field("tenant_id", Schema.STRING_SCHEMA).build();
    Schema schema =
        SchemaBuilder.struct()
            .field("id", Schema.INT64_SCHEMA)
            .field("embedding", SchemaBuilder.array(Schema.FLOAT32_SCHEMA).build())
            .field("metadata", meta)
            .field("text", Schema.STRING_SCHEMA)
            .build();
    Struct value =
        new Struct(schema)
            .put("id", 7L)
            .put("embedding", List.of(1f, 0f, 0f, 0f, 0f, 0f, 0f, 0f))
            .put("metadata", new Struct(meta).put("tenant_id", "acme"))
            .put("text", "hi");
    PointMapper mapper =
        mapper(
            "embedder", "field",
            "vector.field", "embedding",
            "vector.name", "dense",
            "collection.name", "mem_${value.metadata.tenant_id}",
            "delete.enabled", "false",
            "payload.include", "metadata.tenant_id,text");
    PointOp.Upsert upsert =
        (PointOp.Upsert) mapper.map(List.of(record(schema, value)), rejects).get(0);
    assertEquals("mem_acme", upsert.collection());
    assertEquals(7L, upsert.id().getNum());
    assertTrue(upsert.point().getVectors().getVectors().containsVectors("dense"));
    assertEquals(
        "acme",
        upsert
            .point()
            .getPayloadOrThrow("metadata")
            .getStructValue()
            .getFieldsOrThrow("tenant_id")
            .getStringValue());
    assertFalse(upsert.point().containsPayload("embedding"));
    assertEquals(2, upsert.point().getPayloadCount());
  }

  @Test
  void excludedFieldsAndTheVectorFieldStayOutOfThePayload() {
    Map<String, Object> value =
        Map.of("id", 1L, "vector", List.of(1, 2, 3, 4, 5, 6, 7, 8), "secret", "x", "keep", 1L);
    PointMapper mapper = mapper("embedder", "field", "payload.exclude", "secret");
    PointOp.Upsert upsert =
        (PointOp.Upsert) mapper.map(List.of(record(null, value)), rejects).get(0);
    assertEquals(
        List.of("keep", "id"),
        List.copyOf(upsert.point().getPayloadMap().keySet()).stream()
            .sorted(java.util.Comparator.reverseOrder())
            .toList());
  }

  @Test
  void jsonTextValuesAreReadToo() {
    PointOp op =
        mapper().map(List.of(record(null, "{\"id\":3,\"text\":\"hello\"}")), rejects).get(0);
    assertEquals(3L, op.id().getNum());
  }

  @Test
  void tombstoneDeletesTheIdInTheKey() {
    PointOp op = mapper().map(List.of(record("mem-1", null)), rejects).get(0);
    assertTrue(op instanceof PointOp.Delete);
    assertEquals("c8ca989b-f9d2-5ecb-8560-ad1541525126", op.id().getUuid());

    PointMapper byField = mapper("delete.id.field", "id");
    assertEquals(
        9L, byField.map(List.of(record(Map.of("id", 9L), null)), rejects).get(0).id().getNum());
    assertEquals(
        9L, byField.map(List.of(record("{\"id\":9}", null)), rejects).get(0).id().getNum());
    assertTrue(rejects.isEmpty());

    assertTrue(
        mapper("delete.enabled", "false").map(List.of(record("mem-1", null)), rejects).isEmpty());
    assertTrue(rejects.isEmpty());
  }

  /**
   * A key a JSON serializer wrote ("mem-1" with its quotes), as StringConverter or
   * ByteArrayConverter hand it over, names the point of the text mem-1, as the value's id does.
   */
  @Test
  void aJsonStringKeyDeletesThePointOfItsText() {
    String expected = mapper().map(List.of(record("mem-1", null)), rejects).get(0).id().getUuid();
    byte[] bytes = "\"mem-1\"".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertEquals(
        expected, mapper().map(List.of(record("\"mem-1\"", null)), rejects).get(0).id().getUuid());
    assertEquals(
        expected, mapper().map(List.of(record(bytes, null)), rejects).get(0).id().getUuid());
    PointMapper byField = mapper("delete.id.field", "id");
    byte[] object = "{\"id\":9}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertEquals(9L, byField.map(List.of(record(object, null)), rejects).get(0).id().getNum());
    assertTrue(rejects.isEmpty(), rejects.toString());
  }

  @Test
  void badRecordsAreRejectedWithTheReasonAndTheRestKeepTheirOrder() {
    List<SinkRecord> records =
        List.of(
            record(null, Map.of("text", "no id")),
            record(null, Map.of("id", 1L, "text", "ok")),
            record(null, Map.of("id", 2L, "text", "   ")),
            record(null, "not json"),
            record(null, List.of(1, 2)),
            record(null, null),
            record(null, Map.of("id", 3L, "text", "also ok")));
    List<PointOp> ops = mapper().map(records, rejects);
    assertEquals(List.of(1L, 3L), ops.stream().map(op -> op.id().getNum()).toList());
    assertEquals(5, rejects.size());
    assertTrue(rejects.get(0).reason().contains("no point id"));
    assertTrue(rejects.stream().anyMatch(r -> r.reason().contains("no text to embed")));
    assertTrue(rejects.stream().anyMatch(r -> r.reason().contains("tombstone")));
  }

  @Test
  void missingTemplateFieldAndOversizedPointsAreRejected() {
    PointMapper templated =
        mapper("collection.name", "mem_${value.tenant_id}", "delete.enabled", "false");
    assertTrue(
        templated.map(List.of(record(null, Map.of("id", 1L, "text", "x"))), rejects).isEmpty());
    assertTrue(rejects.get(0).reason().contains("template"));

    PointMapper small = mapper("batch.max.bytes", "4096");
    String big = "word ".repeat(2000);
    assertTrue(small.map(List.of(record(null, Map.of("id", 1L, "text", big))), rejects).isEmpty());
    assertTrue(rejects.get(1).reason().contains("batch.max.bytes"));
  }

  @Test
  void aTemplatedCollectionNameQdrantWouldRefuseRejectsTheRecord() {
    PointMapper templated =
        mapper("collection.name", "mem_${value.tenant_id}", "delete.enabled", "false");
    List<PointOp> ops =
        templated.map(
            List.of(
                record(null, Map.of("id", 1L, "text", "x", "tenant_id", "a/b")),
                record(null, Map.of("id", 2L, "text", "x", "tenant_id", "t".repeat(300))),
                record(null, Map.of("id", 3L, "text", "x", "tenant_id", "fine-1"))),
            rejects);
    assertEquals(List.of("mem_fine-1"), ops.stream().map(PointOp::collection).toList());
    assertEquals(2, rejects.size());
    assertTrue(rejects.get(0).reason().contains("Qdrant refuses"), rejects.get(0).reason());
  }

  @Test
  void fieldVectorsAreReadFromTheConnectValueAndKeptOutOfThePayload() {
    List<Float> vector = List.of(1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f);
    Map<String, Object> nested = Map.of("dense", vector, "model", "mini");
    PointMapper mapper = mapper("embedder", "field", "vector.field", "embedding.dense");
    PointOp.Upsert upsert =
        (PointOp.Upsert)
            mapper
                .map(List.of(record(null, Map.of("id", 5L, "embedding", nested))), rejects)
                .get(0);
    assertEquals(vector, upsert.point().getVectors().getVector().getDense().getDataList());
    Value embedding = upsert.point().getPayloadOrThrow("embedding");
    assertEquals(List.of("model"), List.copyOf(embedding.getStructValue().getFieldsMap().keySet()));

    List<Float> bad = new ArrayList<>(vector);
    bad.set(3, Float.NaN);
    assertTrue(
        mapper("embedder", "field")
            .map(List.of(record(null, Map.of("id", 6L, "vector", bad))), rejects)
            .isEmpty());
    assertTrue(rejects.get(0).reason().contains("element 3 is not a finite float"));
  }

  /**
   * With embedder=field the payload is converted straight from the Connect value, after the
   * vectors: a value JSON has no form for (a NaN score) must still only dead-letter its record, not
   * fail the task.
   */
  @Test
  void aPayloadValueJsonCannotHoldRejectsOnlyItsRecord() {
    List<Integer> vector = List.of(1, 0, 0, 0, 0, 0, 0, 0);
    Map<String, Object> nan = new HashMap<>(Map.of("id", 1L, "vector", vector));
    nan.put("score", Double.NaN);
    Schema schema =
        SchemaBuilder.struct()
            .field("id", Schema.INT64_SCHEMA)
            .field("vector", SchemaBuilder.array(Schema.INT32_SCHEMA).build())
            .field("score", Schema.FLOAT32_SCHEMA)
            .build();
    Struct infinite =
        new Struct(schema)
            .put("id", 2L)
            .put("vector", vector)
            .put("score", Float.NEGATIVE_INFINITY);
    Map<String, Object> fine = Map.of("id", 3L, "vector", vector, "score", 0.5);
    List<SinkRecord> records =
        List.of(record(null, nan), record(schema, infinite), record(null, fine));

    for (PointMapper mapper :
        List.of(
            mapper("embedder", "field"), mapper("embedder", "field", "payload.include", "score"))) {
      rejects.clear();
      List<PointOp> ops = mapper.map(records, rejects);
      assertEquals(List.of(3L), ops.stream().map(op -> op.id().getNum()).toList());
      assertEquals(2, rejects.size());
      assertTrue(rejects.get(0).reason().contains("NaN"), rejects.get(0).reason());
      assertTrue(rejects.get(1).reason().contains("Infinity"), rejects.get(1).reason());
    }
  }

  /**
   * Qdrant has no decimals: a number is sent as a double. One beyond a double's range (1e400 read
   * as a BigDecimal, as converters that keep decimals read it) would become Infinity, which JSON
   * has no form for: its record is dead-lettered, like a NaN.
   */
  @Test
  void aNumberBeyondADoublesRangeRejectsOnlyItsRecord() {
    List<Integer> vector = List.of(1, 0, 0, 0, 0, 0, 0, 0);
    Map<String, Object> huge = Map.of("id", 1L, "vector", vector, "score", new BigDecimal("1e400"));
    Map<String, Object> negative =
        Map.of("id", 2L, "vector", vector, "score", new BigDecimal("-1e400"));
    Map<String, Object> fine = Map.of("id", 3L, "vector", vector, "score", new BigDecimal("0.5"));
    List<SinkRecord> records =
        List.of(record(null, huge), record(null, negative), record(null, fine));

    for (PointMapper mapper :
        List.of(
            mapper("embedder", "field"), mapper("embedder", "field", "payload.include", "score"))) {
      rejects.clear();
      List<PointOp> ops = mapper.map(records, rejects);
      assertEquals(List.of(3L), ops.stream().map(op -> op.id().getNum()).toList());
      assertEquals(2, rejects.size());
    }
  }

  /**
   * UTF-8 has no form for a lone surrogate: protobuf writes '?' in its place, so the point would
   * carry a text nobody sent. Only its record is rejected, naming no value.
   */
  @Test
  void aPayloadStringWithALoneSurrogateRejectsOnlyItsRecord() {
    List<Integer> vector = List.of(1, 0, 0, 0, 0, 0, 0, 0);
    Map<String, Object> broken = Map.of("id", 1L, "vector", vector, "note", "x\ud800y");
    Map<String, Object> fine = Map.of("id", 2L, "vector", vector, "note", "a pair \ud83d\ude00");
    rejects.clear();
    List<PointOp> ops =
        mapper("embedder", "field").map(List.of(record(null, broken), record(null, fine)), rejects);
    assertEquals(List.of(2L), ops.stream().map(op -> op.id().getNum()).toList());
    assertEquals(1, rejects.size());
  }

  /** The same id as a Struct's Decimal (a JDBC source's NUMBER key) or a Map's long: one point. */
  @Test
  void aDecimalIdInAStructNamesThePointItsNumberNames() {
    Schema schema =
        SchemaBuilder.struct().field("id", Decimal.schema(0)).field("text", Schema.STRING_SCHEMA);
    Struct struct = new Struct(schema).put("id", new BigDecimal("42")).put("text", "hello");
    List<PointOp> ops =
        mapper()
            .map(
                List.of(record(schema, struct), record(null, Map.of("id", 42L, "text", "hello"))),
                rejects);
    assertTrue(rejects.isEmpty(), () -> rejects.toString());
    assertEquals(42L, ops.get(0).id().getNum());
    assertEquals(ops.get(1).id(), ops.get(0).id());
  }

  /**
   * A Decimal of scale 0 (a JDBC source's NUMBER(10)) is the integer JSON text {"tenant_id":7}
   * gives, in the payload as in the id: an integer payload index and its filters match both. A
   * decimal with a fraction, or beyond a long, stays a double.
   */
  @Test
  void aWholeDecimalIsAnIntegerInThePayload() {
    Schema schema =
        SchemaBuilder.struct()
            .field("id", Schema.INT64_SCHEMA)
            .field("vector", SchemaBuilder.array(Schema.FLOAT32_SCHEMA).build())
            .field("tenant_id", Decimal.schema(0))
            .field("score", Decimal.schema(2))
            .field("huge", Decimal.schema(0))
            .field("text", Schema.STRING_SCHEMA);
    Struct struct =
        new Struct(schema)
            .put("id", 1L)
            .put("vector", List.of(1f, 0f, 0f, 0f, 0f, 0f, 0f, 0f))
            .put("tenant_id", new BigDecimal("7"))
            .put("score", new BigDecimal("1.50"))
            .put("huge", new BigDecimal("18446744073709551615"))
            .put("text", "hi");
    String json =
        "{\"id\":1,\"vector\":[1,0,0,0,0,0,0,0],\"tenant_id\":7,\"score\":1.50,"
            + "\"huge\":18446744073709551615,\"text\":\"hi\"}";
    // the field embedder reads the Struct as it is, the hashing one through its JSON tree
    for (PointMapper mapper : List.of(mapper("embedder", "field"), mapper())) {
      List<PointOp> ops = mapper.map(List.of(record(schema, struct), record(null, json)), rejects);
      assertTrue(rejects.isEmpty(), () -> rejects.toString());
      PointStruct fromStruct = ((PointOp.Upsert) ops.get(0)).point();
      assertEquals(
          Value.newBuilder().setIntegerValue(7).build(), fromStruct.getPayloadOrThrow("tenant_id"));
      assertEquals(
          Value.newBuilder().setDoubleValue(1.5).build(), fromStruct.getPayloadOrThrow("score"));
      assertEquals(
          Value.newBuilder().setDoubleValue(1.8446744073709552e19).build(),
          fromStruct.getPayloadOrThrow("huge"));
      Map<String, Value> fromJson =
          new HashMap<>(((PointOp.Upsert) ops.get(1)).point().getPayloadMap());
      Map<String, Value> fromStructs = new HashMap<>(fromStruct.getPayloadMap());
      fromJson.remove("vector"); // a list of floats in one, of integers in the other
      fromStructs.remove("vector");
      assertEquals(fromStructs, fromJson);
    }
  }

  /**
   * Qdrant counts a name's 255 in characters, but keeps each collection in a directory of that
   * name, and a file name holds 255 bytes: a longer name in UTF-8 fails the creation with "Service
   * internal error: File name too long" (INTERNAL, which the writer retries for ever), not a
   * validation error. Such a name is refused here, as the record's fault.
   */
  @Test
  void aCollectionNameOverAFileNamesBytesIsNoCollectionName() {
    assertTrue(PointMapper.isCollectionName("t".repeat(255)));
    assertTrue(PointMapper.isCollectionName("\u00e9".repeat(127)));
    assertFalse(PointMapper.isCollectionName("\u00e9".repeat(128)), "256 bytes in 128 characters");
    assertFalse(PointMapper.isCollectionName("\ud83d\ude00".repeat(64)), "256 bytes");
  }

  /** Qdrant's full list of characters refused in collection names includes the unit separator. */
  @Test
  void theUnitSeparatorIsNoCollectionNameCharacter() {
    assertTrue(PointMapper.isCollectionName("tenant-a_b.c d"));
    assertFalse(PointMapper.isCollectionName("tenant\u001fa"));
  }

  @Test
  void aTopicTemplateNamesEachTopicsCollection() {
    PointMapper mapper = mapper("collection.name", "mem_${topic}");
    List<SinkRecord> records =
        List.of(
            new SinkRecord("a", 0, null, null, null, Map.of("id", 1L, "text", "x"), 0),
            new SinkRecord("b", 0, null, null, null, Map.of("id", 2L, "text", "y"), 0),
            new SinkRecord("a", 1, null, 3L, null, null, 0),
            new SinkRecord("b", 0, null, null, null, Map.of("id", 4L, "text", "z"), 1));
    List<PointOp> ops = mapper.map(records, rejects);
    assertEquals(
        List.of("mem_a", "mem_b", "mem_a", "mem_b"),
        ops.stream().map(PointOp::collection).toList());
    assertTrue(ops.get(2) instanceof PointOp.Delete);
    assertTrue(rejects.isEmpty());
  }

  @Test
  void numericIdsKeepTheirValueAndNegativeOnesAreRejected() {
    List<SinkRecord> records =
        List.of(
            record(null, Map.of("id", 7, "text", "int")),
            record(null, Map.of("id", Long.MAX_VALUE, "text", "long")),
            record(null, "{\"id\":18446744073709551615,\"text\":\"uint64\"}"),
            record(null, Map.of("id", -1L, "text", "negative")));
    List<PointOp> ops = mapper().map(records, rejects);
    assertEquals(
        List.of("7", Long.toString(Long.MAX_VALUE), "18446744073709551615"),
        ops.stream().map(op -> PointIds.describe(op.id())).toList());
    assertEquals(1, rejects.size());
    assertTrue(rejects.get(0).reason().contains("unsigned 64-bit integer: negative"));
  }

  /**
   * Payloads are built from the value as the converter made it, with no JSON tree in between for
   * Maps and Structs: the same event as a Map, a Struct with logical types and JSON text must still
   * become the same point, with the same exclusions applied at every depth.
   */
  @Test
  void theSameEventAsMapStructOrJsonTextBecomesTheSamePoint() {
    Schema meta =
        SchemaBuilder.struct()
            .field("tenant_id", Schema.STRING_SCHEMA)
            .field("secret", Schema.STRING_SCHEMA)
            .field("score", Decimal.schema(2))
            .field("at", Timestamp.SCHEMA)
            .build();
    Schema schema =
        SchemaBuilder.struct()
            .field("id", Schema.INT32_SCHEMA)
            .field("vector", SchemaBuilder.array(Schema.FLOAT32_SCHEMA).build())
            .field("meta", meta)
            .field("tags", SchemaBuilder.array(Schema.STRING_SCHEMA).build())
            .field("weight", Schema.FLOAT64_SCHEMA)
            .field("done", Schema.BOOLEAN_SCHEMA)
            .field("note", Schema.OPTIONAL_STRING_SCHEMA)
            .build();
    List<Float> vector = List.of(1f, 0f, 0f, 0f, 0f, 0f, 0f, 0.5f);
    Struct struct =
        new Struct(schema)
            .put("id", 7)
            .put("vector", vector)
            .put(
                "meta",
                new Struct(meta)
                    .put("tenant_id", "acme")
                    .put("secret", "s")
                    .put("score", new BigDecimal("1.50"))
                    .put("at", new Date(86_400_000L)))
            .put("tags", List.of("a", "b"))
            .put("weight", 0.25)
            .put("done", true)
            .put("note", null);
    Map<String, Object> map = new HashMap<>();
    map.put("id", 7);
    map.put("vector", vector);
    map.put(
        "meta",
        Map.of("tenant_id", "acme", "secret", "s", "score", 1.5, "at", "1970-01-02T00:00:00Z"));
    map.put("tags", List.of("a", "b"));
    map.put("weight", 0.25);
    map.put("done", true);
    map.put("note", null);
    String json =
        "{\"id\":7,\"vector\":[1,0,0,0,0,0,0,0.5],\"meta\":{\"tenant_id\":\"acme\",\"secret\":\"s\","
            + "\"score\":1.50,\"at\":\"1970-01-02T00:00:00Z\"},\"tags\":[\"a\",\"b\"],"
            + "\"weight\":0.25,\"done\":true,\"note\":null}";
    PointMapper mapper = mapper("embedder", "field", "payload.exclude", "meta.secret");
    List<PointOp> ops =
        mapper.map(List.of(record(schema, struct), record(null, map), record(null, json)), rejects);

    assertTrue(rejects.isEmpty(), () -> rejects.toString());
    PointStruct fromStruct = ((PointOp.Upsert) ops.get(0)).point();
    assertEquals(fromStruct, ((PointOp.Upsert) ops.get(1)).point());
    assertEquals(fromStruct, ((PointOp.Upsert) ops.get(2)).point());
    assertEquals(
        Set.of("id", "meta", "tags", "weight", "done", "note"),
        fromStruct.getPayloadMap().keySet());
    Map<String, Value> metaPayload =
        fromStruct.getPayloadOrThrow("meta").getStructValue().getFieldsMap();
    assertEquals(Set.of("tenant_id", "score", "at"), metaPayload.keySet());
    assertEquals(1.5, metaPayload.get("score").getDoubleValue());
    assertEquals("1970-01-02T00:00:00Z", metaPayload.get("at").getStringValue());
    assertEquals(7L, fromStruct.getPayloadOrThrow("id").getIntegerValue());
    assertTrue(fromStruct.getPayloadOrThrow("note").hasNullValue());

    PointMapper including = mapper("embedder", "field", "payload.include", "meta.at,tags");
    List<PointOp> narrowed =
        including.map(
            List.of(record(schema, struct), record(null, map), record(null, json)), rejects);
    PointStruct narrowedStruct = ((PointOp.Upsert) narrowed.get(0)).point();
    assertEquals(narrowedStruct, ((PointOp.Upsert) narrowed.get(1)).point());
    assertEquals(narrowedStruct, ((PointOp.Upsert) narrowed.get(2)).point());
    assertEquals(
        "1970-01-02T00:00:00Z",
        narrowedStruct
            .getPayloadOrThrow("meta")
            .getStructValue()
            .getFieldsOrThrow("at")
            .getStringValue());
    assertEquals(Set.of("meta", "tags"), narrowedStruct.getPayloadMap().keySet());
  }

  // ------------------------------------------------- paths through arrays

  /**
   * payload.exclude=contacts.email with contacts an array of objects leaves every element's email
   * out (they are personal data the operator meant to keep out of Qdrant), and payload.include
   * reaches into arrays the same way: contacts.name keeps each element's name only. The same for a
   * Map, a Struct and JSON text.
   */
  @Test
  void includedAndExcludedPathsApplyToEveryElementOfAnArrayOnTheirWay() {
    Schema contact =
        SchemaBuilder.struct()
            .field("name", Schema.STRING_SCHEMA)
            .field("email", Schema.STRING_SCHEMA)
            .build();
    Schema schema =
        SchemaBuilder.struct()
            .field("id", Schema.INT64_SCHEMA)
            .field("text", Schema.STRING_SCHEMA)
            .field("contacts", SchemaBuilder.array(contact).build())
            .build();
    Struct struct =
        new Struct(schema)
            .put("id", 7L)
            .put("text", "hi")
            .put(
                "contacts",
                List.of(
                    new Struct(contact).put("name", "Ann").put("email", "ann@example.com"),
                    new Struct(contact).put("name", "Bob").put("email", "bob@example.com")));
    Map<String, Object> map =
        Map.of(
            "id",
            7L,
            "text",
            "hi",
            "contacts",
            List.of(
                Map.of("name", "Ann", "email", "ann@example.com"),
                Map.of("name", "Bob", "email", "bob@example.com")));
    String json =
        "{\"id\":7,\"text\":\"hi\",\"contacts\":[{\"name\":\"Ann\",\"email\":\"ann@example.com\"},"
            + "{\"name\":\"Bob\",\"email\":\"bob@example.com\"}]}";
    Value names =
        Value.newBuilder()
            .setListValue(
                io.qdrant.client.grpc.JsonWithInt.ListValue.newBuilder()
                    .addValues(object("name", "Ann"))
                    .addValues(object("name", "Bob")))
            .build();
    for (String[] options :
        List.of(
            new String[] {"payload.exclude", "contacts.email"},
            new String[] {"payload.include", "id,contacts.name"},
            new String[] {"payload.include", "id,contacts", "payload.exclude", "contacts.email"})) {
      List<String> props = new ArrayList<>(List.of(options));
      PointMapper mapper = mapper(props.toArray(String[]::new));
      List<PointOp> ops =
          mapper.map(
              List.of(record(schema, struct), record(null, map), record(null, json)), rejects);
      assertTrue(rejects.isEmpty(), rejects::toString);
      for (PointOp op : ops) {
        PointStruct point = ((PointOp.Upsert) op).point();
        assertFalse(point.toString().contains("example.com"), props + ": " + point);
        assertEquals(names, point.getPayloadOrThrow("contacts"), props.toString());
        assertEquals(7L, point.getPayloadOrThrow("id").getIntegerValue());
      }
    }
  }

  /**
   * Arrays of arrays are gone through too; an element without the included path (a scalar, a null,
   * an object without it) is left out as a value without the path is.
   */
  @Test
  void pathsGoThroughNestedArraysAndSkipElementsWithoutThem() {
    String json =
        "{\"id\":1,\"text\":\"hi\",\"groups\":[[{\"name\":\"Ann\",\"email\":\"a@x\"}],"
            + "[{\"email\":\"b@x\"},\"loose\",null,{\"name\":\"Cy\"}]]}";
    PointStruct excluded =
        ((PointOp.Upsert)
                mapper("payload.exclude", "groups.email")
                    .map(List.of(record(null, json)), rejects)
                    .get(0))
            .point();
    assertFalse(excluded.toString().contains("@x"), excluded.toString());
    assertTrue(excluded.toString().contains("loose"), "other elements stay as they are");
    PointStruct included =
        ((PointOp.Upsert)
                mapper("payload.include", "groups.name")
                    .map(List.of(record(null, json)), rejects)
                    .get(0))
            .point();
    Value expected = list(list(object("name", "Ann")), list(object("name", "Cy")));
    assertEquals(Map.of("groups", expected), included.getPayloadMap());
  }

  private static Value object(String name, String text) {
    return Value.newBuilder()
        .setStructValue(
            io.qdrant.client.grpc.JsonWithInt.Struct.newBuilder()
                .putFields(name, Value.newBuilder().setStringValue(text).build()))
        .build();
  }

  private static Value list(Value... values) {
    return Value.newBuilder()
        .setListValue(
            io.qdrant.client.grpc.JsonWithInt.ListValue.newBuilder().addAllValues(List.of(values)))
        .build();
  }

  // ------------------------------------------------- ids made of several fields

  /** python3: uuid.uuid5(uuid.NAMESPACE_URL, '["acme.agent0","mem-5"]') */
  private static final String ACME_MEM_5 = "78333939-ee42-5a23-9f2a-15a88c0200b0";

  private String idOf(PointMapper mapper, SinkRecord record) {
    List<PointOp> ops = mapper.map(List.of(record), rejects);
    assertTrue(rejects.isEmpty(), rejects::toString);
    return ops.get(0).id().getUuid();
  }

  @Test
  void anIdOfSeveralFieldsIsTheSameForAMapAStructAndJsonTextAndDiffersByNamespace() {
    PointMapper mapper = mapper("id.fields", "namespace,id");
    Schema schema =
        SchemaBuilder.struct()
            .field("namespace", Schema.STRING_SCHEMA)
            .field("id", Schema.STRING_SCHEMA)
            .field("text", Schema.STRING_SCHEMA)
            .build();
    Struct struct =
        new Struct(schema).put("namespace", "acme.agent0").put("id", "mem-5").put("text", "x");
    assertEquals(ACME_MEM_5, idOf(mapper, record(schema, struct)));
    assertEquals(
        ACME_MEM_5,
        idOf(mapper, record(null, Map.of("namespace", "acme.agent0", "id", "mem-5", "text", "x"))));
    assertEquals(
        ACME_MEM_5,
        idOf(
            mapper,
            record(null, "{\"namespace\":\"acme.agent0\",\"id\":\"mem-5\",\"text\":\"x\"}")));
    assertFalse(
        ACME_MEM_5.equals(
            idOf(
                mapper,
                record(null, Map.of("namespace", "globex.agent0", "id", "mem-5", "text", "x")))));
  }

  /**
   * A tombstone's key holds the id fields at their paths or flat under their last segments, as a
   * Map, a Struct, or JSON object text (bytes too), and names the point its events make.
   */
  @Test
  void aTombstoneKeyOfTheIdFieldsDeletesThePointItsEventsMake() {
    PointMapper mapper = mapper("id.fields", "meta.namespace,id");
    String event = "{\"meta\":{\"namespace\":\"acme.agent0\"},\"id\":\"mem-5\",\"text\":\"x\"}";
    assertEquals(ACME_MEM_5, idOf(mapper, record(null, event)));
    Schema keySchema =
        SchemaBuilder.struct()
            .field("namespace", Schema.STRING_SCHEMA)
            .field("id", Schema.STRING_SCHEMA)
            .build();
    String flat = "{\"namespace\":\"acme.agent0\",\"id\":\"mem-5\"}";
    List<Object> keys =
        List.of(
            flat,
            flat.getBytes(java.nio.charset.StandardCharsets.UTF_8),
            "{\"meta\":{\"namespace\":\"acme.agent0\"},\"id\":\"mem-5\"}",
            Map.of("namespace", "acme.agent0", "id", "mem-5"),
            new Struct(keySchema).put("namespace", "acme.agent0").put("id", "mem-5"));
    for (Object key : keys) {
      PointOp op = mapper.map(List.of(record(key, null)), rejects).get(0);
      assertTrue(op instanceof PointOp.Delete);
      assertEquals(ACME_MEM_5, op.id().getUuid(), key.toString());
    }
    assertTrue(rejects.isEmpty(), rejects::toString);
  }

  @Test
  void aRecordOrTombstoneWithoutEveryIdFieldIsRejectedNamingTheField() {
    PointMapper mapper = mapper("id.fields", "namespace,id");
    List<SinkRecord> records =
        List.of(
            record(null, Map.of("id", "mem-5", "text", "x")),
            record(null, Map.of("namespace", "", "id", "mem-5", "text", "x")),
            record(null, null),
            record("mem-5", null),
            record("\"mem-5\"", null),
            record("[\"acme.agent0\",\"mem-5\"]", null),
            record(Map.of("id", "mem-5"), null),
            record("{\"namespace\":\"acme.agent0\",\"id\":null}", null));
    assertTrue(mapper.map(records, rejects).isEmpty());
    assertEquals(records.size(), rejects.size());
    assertTrue(rejects.get(0).reason().contains("namespace"), rejects.get(0).reason());
    assertTrue(rejects.get(1).reason().contains("'namespace' is empty"), rejects.get(1).reason());
    for (int i = 3; i < 6; i++) {
      String reason = rejects.get(i).reason();
      assertTrue(reason.contains("must hold the id fields [namespace, id]"), reason);
      assertFalse(reason.contains("mem-5"), reason);
    }
    assertTrue(rejects.get(6).reason().contains("'namespace' is missing"), rejects.get(6).reason());
    assertTrue(rejects.get(7).reason().contains("'id' is missing"), rejects.get(7).reason());
  }

  /** One path in id.fields is id.field: the point ids written before stay. */
  @Test
  void aSingleIdFieldsPathGivesTheIdsOfIdField() {
    PointMapper one = mapper("id.fields", "id");
    assertEquals(
        "c8ca989b-f9d2-5ecb-8560-ad1541525126",
        idOf(one, record(null, Map.of("id", "mem-1", "text", "x"))));
    assertEquals(
        9L,
        one.map(List.of(record(null, Map.of("id", 9L, "text", "x"))), rejects)
            .get(0)
            .id()
            .getNum());
    assertEquals("c8ca989b-f9d2-5ecb-8560-ad1541525126", idOf(one, record("mem-1", null)));
  }

  /**
   * A field explicitly null (Avro, JsonConverter with replace.null.with.default=false) is null in
   * the payload, names no id and no collection: Struct.get would hand over its schema default
   * ("active", "fallback"), a value nobody sent. A required field left unset still reads as its
   * default.
   */
  @Test
  void aStructFieldSetToNullIsNullNotItsSchemaDefault() {
    Schema optionalText = SchemaBuilder.string().optional().defaultValue("fallback").build();
    Schema schema =
        SchemaBuilder.struct()
            .field("id", optionalText)
            .field("vector", SchemaBuilder.array(Schema.FLOAT32_SCHEMA).build())
            .field("status", SchemaBuilder.string().optional().defaultValue("active").build())
            .field("kind", SchemaBuilder.string().defaultValue("note").build())
            .field("tenant", optionalText)
            .field("text", Schema.STRING_SCHEMA)
            .build();
    Struct event =
        new Struct(schema)
            .put("id", "mem-1")
            .put("vector", List.of(1f, 0f, 0f, 0f, 0f, 0f, 0f, 0f))
            .put("status", null)
            .put("text", "hi");
    Value nullValue = Value.newBuilder().setNullValueValue(0).build();
    for (PointMapper mapper : List.of(mapper(), mapper("embedder", "field"))) {
      PointStruct point = pointOf(mapper, record(schema, event));
      assertEquals(nullValue, point.getPayloadOrThrow("status"));
      assertEquals("note", point.getPayloadOrThrow("kind").getStringValue());
    }
    // an included path that is null is left out, as for a Map or JSON text
    PointStruct included = pointOf(mapper("payload.include", "status,kind"), record(schema, event));
    assertEquals(List.of("kind"), List.copyOf(included.getPayloadMap().keySet()));

    Struct noId =
        new Struct(schema).put("id", null).put("vector", event.get("vector")).put("text", "hi");
    assertTrue(mapper().map(List.of(record(schema, noId)), rejects).isEmpty());
    assertTrue(rejects.get(0).reason().contains("no point id"), rejects.get(0).reason());
    rejects.clear();
    PointMapper templated =
        mapper(
            "embedder", "field", "collection.name", "m_${value.tenant}", "delete.enabled", "false");
    assertTrue(templated.map(List.of(record(schema, event)), rejects).isEmpty());
    assertEquals(1, rejects.size());
  }

  /**
   * A non-zero number too small for a double would be stored as 0.0, a value nobody sent, as one
   * too large would be Infinity: either rejects only its record, with a reason naming where the
   * number is (never the number). Zero written with an exponent is zero, and stays.
   */
  @Test
  void aNumberBeyondADoubleEitherWayRejectsItsRecordNamingItsPath() {
    List<Integer> vector = List.of(1, 0, 0, 0, 0, 0, 0, 0);
    Map<String, Object> nested =
        Map.of("id", 2L, "vector", vector, "m", Map.of("tiny", new BigDecimal("-1e-400")));
    Schema schema =
        SchemaBuilder.struct()
            .field("id", Schema.INT64_SCHEMA)
            .field("vector", SchemaBuilder.array(Schema.INT32_SCHEMA).build())
            .field("scores", SchemaBuilder.array(Decimal.schema(400)).build())
            .build();
    Struct struct =
        new Struct(schema)
            .put("id", 3L)
            .put("vector", vector)
            .put("scores", List.of(BigDecimal.ONE.setScale(400), new BigDecimal("1e-400")));
    List<SinkRecord> records =
        List.of(
            record(null, "{\"id\":1,\"vector\":[1,0,0,0,0,0,0,0],\"tiny\":1e-400}"),
            record(null, nested),
            record(schema, struct),
            record(null, "{\"id\":4,\"vector\":[1,0,0,0,0,0,0,0],\"huge\":{\"x\":1e400}}"),
            record(null, "{\"id\":5,\"vector\":[1,0,0,0,0,0,0,0],\"zero\":0e-500}"));
    for (PointMapper mapper :
        List.of(
            mapper("embedder", "field"),
            mapper("embedder", "field", "payload.include", "tiny,m,scores,huge,zero"))) {
      rejects.clear();
      List<PointOp> ops = mapper.map(records, rejects);
      assertEquals(List.of(5L), ops.stream().map(op -> op.id().getNum()).toList());
      assertEquals(
          0.0, ((PointOp.Upsert) ops.get(0)).point().getPayloadOrThrow("zero").getDoubleValue());
      List<String> paths = List.of("'tiny'", "'m.tiny'", "'scores[1]'", "'huge.x'");
      for (int i = 0; i < paths.size(); i++) {
        String reason = rejects.get(i).reason();
        assertTrue(reason.contains(paths.get(i)), reason);
        assertFalse(reason.contains("400"), reason);
      }
    }
  }

  /**
   * The path of a refused payload field locates it in the dead letter's reason; in the logged
   * reason a map key, which is record data (an email keying a score), is [key], while a Struct's
   * field names, array positions and the names payload.include configures are kept.
   */
  @Test
  void aRefusedPayloadFieldsLoggedReasonNamesNoMapKey() {
    List<Integer> vector = List.of(1, 0, 0, 0, 0, 0, 0, 0);
    String email = "alice@example.com";
    Map<String, Object> map =
        Map.of(
            "id",
            1L,
            "vector",
            vector,
            "text",
            "words",
            "scores",
            Map.of(email, new BigDecimal("1e-400")));
    Schema schema =
        SchemaBuilder.struct()
            .field("id", Schema.INT64_SCHEMA)
            .field("vector", SchemaBuilder.array(Schema.INT32_SCHEMA).build())
            .field("m", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.FLOAT64_SCHEMA).build())
            .build();
    Struct struct =
        new Struct(schema).put("id", 2L).put("vector", vector).put("m", Map.of(email, Double.NaN));
    for (String embedder : List.of("field", "hashing")) {
      for (String include : List.of("", "scores,m")) {
        rejects.clear();
        PointMapper mapper =
            mapper("embedder", embedder, "payload.include", include, "embedder.field", "vector");
        if (embedder.equals("hashing")) {
          mapper.map(List.of(record(null, map)), rejects);
        } else {
          mapper.map(List.of(record(null, map), record(schema, struct)), rejects);
        }
        assertTrue(rejects.get(0).reason().contains("'scores." + email + "'"), rejects::toString);
        String logged = include.isEmpty() ? "'[key][key]'" : "'scores[key]'";
        assertTrue(rejects.get(0).loggedReason().contains(logged), rejects::toString);
        if (embedder.equals("field")) {
          assertTrue(rejects.get(1).reason().contains("'m." + email + "'"), rejects::toString);
          assertTrue(rejects.get(1).loggedReason().contains("'m[key]'"), rejects::toString);
        }
        rejects.forEach(r -> assertFalse(r.loggedReason().contains(email), r::toString));
      }
    }
  }

  /**
   * With payload.include the path is the field's in the record value: the included field's own name
   * comes first, and an array position counts every element, also those without the field.
   */
  @Test
  void aRefusedIncludedPayloadFieldIsNamedByItsPathInTheValue() {
    String vector = "\"vector\":[1,0,0,0,0,0,0,0]";
    Map<String, String> pathOfInclude =
        Map.of(
            "m", "'m.x'",
            "m.x", "'m.x'",
            "items.score", "'items[1].score'");
    for (Map.Entry<String, String> entry : pathOfInclude.entrySet()) {
      rejects.clear();
      PointMapper mapper = mapper("embedder", "field", "payload.include", entry.getKey());
      mapper.map(
          List.of(
              record(
                  null,
                  Map.of(
                      "id",
                      1L,
                      "vector",
                      List.of(1, 0, 0, 0, 0, 0, 0, 0),
                      "m",
                      Map.of("x", Double.NaN))),
              record(null, "{\"id\":2," + vector + ",\"m\":{\"x\":1e-400}}"),
              record(
                  null,
                  "{\"id\":3," + vector + ",\"items\":[{\"name\":\"a\"},{\"score\":1e-400}]}")),
          rejects);
      List<String> reasons = rejects.stream().map(PointMapper.Rejected::reason).toList();
      int expected = entry.getKey().startsWith("m") ? 2 : 1;
      assertEquals(expected, reasons.size(), reasons::toString);
      reasons.forEach(r -> assertTrue(r.contains(entry.getValue()), r));
    }
  }

  private PointStruct pointOf(PointMapper mapper, SinkRecord record) {
    List<PointOp> ops = mapper.map(List.of(record), rejects);
    assertTrue(rejects.isEmpty(), rejects::toString);
    return ((PointOp.Upsert) ops.get(0)).point();
  }
}
