package io.somastack.connect.qdrant.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qdrant.client.grpc.Points.Vectors;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.path.FieldPath;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.junit.jupiter.api.Test;

class FieldEmbedderTest {

  private static Embedder.Result read(String vectorName, String json) {
    FieldEmbedder embedder = new FieldEmbedder(FieldPath.parse("embedding"), vectorName, 3);
    return embedder.embed(List.of(RecordJson.parse(json))).get(0);
  }

  @Test
  void denseArray() {
    Vectors vectors = read("", "{\"embedding\":[0.1,0.2,0.3]}").vectors();
    assertEquals(List.of(0.1f, 0.2f, 0.3f), vectors.getVector().getDense().getDataList());
  }

  @Test
  void namedDenseArray() {
    Vectors vectors = read("dense", "{\"embedding\":[1,2,3]}").vectors();
    assertEquals(3, vectors.getVectors().getVectorsOrThrow("dense").getDense().getDataCount());
  }

  @Test
  void sparseNeedsAName() {
    String json = "{\"embedding\":{\"indices\":[1,7],\"values\":[0.5,0.25]}}";
    assertTrue(read("", json).rejection().contains("needs a name"));
    Vectors vectors = read("bm25", json).vectors();
    assertEquals(
        List.of(1, 7), vectors.getVectors().getVectorsOrThrow("bm25").getSparse().getIndicesList());
  }

  @Test
  void objectOfNamedVectors() {
    String json = "{\"embedding\":{\"dense\":[1,2,3],\"bm25\":{\"indices\":[4],\"values\":[1.5]}}}";
    Vectors vectors = read("dense", json).vectors();
    assertEquals(2, vectors.getVectors().getVectorsCount());
    assertTrue(vectors.getVectors().getVectorsOrThrow("bm25").hasSparse());
  }

  /**
   * A named vector left null (an optional field of a Struct, a JSON null) is a point without that
   * vector, which Qdrant allows; only a value with no vector at all is bad.
   */
  @Test
  void nullNamedVectorsAreLeftOut() {
    Vectors json = read("dense", "{\"embedding\":{\"dense\":[1,2,3],\"bm25\":null}}").vectors();
    assertEquals(List.of("dense"), List.copyOf(json.getVectors().getVectorsMap().keySet()));

    Schema floats = SchemaBuilder.array(Schema.FLOAT32_SCHEMA).optional().build();
    Schema sparse =
        SchemaBuilder.struct()
            .optional()
            .field("indices", SchemaBuilder.array(Schema.INT64_SCHEMA).build())
            .field("values", SchemaBuilder.array(Schema.FLOAT32_SCHEMA).build())
            .build();
    Schema embedding = SchemaBuilder.struct().field("dense", floats).field("bm25", sparse).build();
    Schema schema = SchemaBuilder.struct().field("embedding", embedding).build();
    Struct value =
        new Struct(schema)
            .put("embedding", new Struct(embedding).put("dense", List.of(1f, 0f, 0f)));
    Vectors struct = readValue("dense", value).vectors();
    assertEquals(List.of("dense"), List.copyOf(struct.getVectors().getVectorsMap().keySet()));

    assertTrue(
        readValue("dense", new Struct(schema).put("embedding", new Struct(embedding)))
            .rejection()
            .contains("no vector"));
    assertTrue(read("dense", "{\"embedding\":{\"dense\":null}}").rejection().contains("no vector"));
  }

  @Test
  void badVectorsAreRejectedWithTheReason() {
    assertTrue(
        read("", "{\"embedding\":[1,2]}")
            .rejection()
            .contains("2 dimensions but vector.size is 3"));
    assertTrue(read("", "{\"embedding\":[1,\"x\",3]}").rejection().contains("not a number"));
    assertTrue(
        read("", "{\"other\":[1,2,3]}").rejection().contains("no vector in field embedding"));
    assertTrue(read("", "{\"embedding\":{\"indices\":[-1],\"values\":[1]}}").isRejected());
    // a fractional index is no index (it must not pass as 1)
    assertTrue(read("b", "{\"embedding\":{\"indices\":[1.5],\"values\":[1]}}").isRejected());
    assertTrue(read("dense", "{\"embedding\":{\"dense\":[1,2,3,4]}}").isRejected());
  }

  @Test
  void hugeNumbersAreNotFiniteFloats() {
    assertTrue(read("", "{\"embedding\":[1e300,0,0]}").rejection().contains("finite"));
  }

  private static Embedder.Result readValue(String vectorName, Object value) {
    FieldEmbedder embedder = new FieldEmbedder(FieldPath.parse("embedding"), vectorName, 3);
    return embedder.embedValues(List.of(value)).get(0);
  }

  @Test
  void connectValuesAreReadWithoutJson() {
    Vectors dense = readValue("", Map.of("embedding", List.of(0.1f, 0.2d, 3))).vectors();
    assertEquals(List.of(0.1f, 0.2f, 3f), dense.getVector().getDense().getDataList());

    Map<String, Object> named = new LinkedHashMap<>();
    named.put("dense", List.of(1f, 2f, 3f));
    named.put("bm25", Map.of("indices", List.of(4L, 9), "values", List.of(1.5f, 0.5d)));
    Vectors vectors = readValue("dense", Map.of("embedding", named)).vectors();
    assertEquals(2, vectors.getVectors().getVectorsCount());
    assertEquals(
        List.of(4, 9), vectors.getVectors().getVectorsOrThrow("bm25").getSparse().getIndicesList());
    assertEquals(
        List.of(1f, 2f, 3f),
        vectors.getVectors().getVectorsOrThrow("dense").getDense().getDataList());
  }

  @Test
  void structValuesAreReadWithoutJson() {
    Schema floats = SchemaBuilder.array(Schema.FLOAT32_SCHEMA).build();
    Schema sparse =
        SchemaBuilder.struct()
            .field("indices", SchemaBuilder.array(Schema.INT64_SCHEMA).build())
            .field("values", floats)
            .build();
    Schema embedding = SchemaBuilder.struct().field("dense", floats).field("bm25", sparse).build();
    Schema schema = SchemaBuilder.struct().field("embedding", embedding).build();
    Struct value =
        new Struct(schema)
            .put(
                "embedding",
                new Struct(embedding)
                    .put("dense", List.of(1f, 0f, 0f))
                    .put(
                        "bm25",
                        new Struct(sparse)
                            .put("indices", List.of(2L))
                            .put("values", List.of(0.5f))));
    Vectors vectors = readValue("dense", value).vectors();
    assertEquals(3, vectors.getVectors().getVectorsOrThrow("dense").getDense().getDataCount());
    assertEquals(
        List.of(2), vectors.getVectors().getVectorsOrThrow("bm25").getSparse().getIndicesList());
  }

  @Test
  void badConnectVectorsAreRejectedWithTheReason() {
    assertTrue(
        readValue("", Map.of("embedding", List.of(1f, 2f)))
            .rejection()
            .contains("2 dimensions but vector.size is 3"));
    assertTrue(
        readValue("", Map.of("embedding", List.of(1f, "x", 3f)))
            .rejection()
            .contains("element 1 is not a number"));
    assertTrue(
        readValue("", Map.of("embedding", Arrays.asList(1f, null, 3f)))
            .rejection()
            .contains("not a number"));
    assertTrue(
        readValue("", Map.of("embedding", List.of(1f, Float.NaN, 3f)))
            .rejection()
            .contains("finite"));
    assertTrue(
        readValue("", Map.of("embedding", List.of(1d, 1e300, 3d))).rejection().contains("finite"));
    assertTrue(readValue("", Map.of("other", List.of(1f))).rejection().contains("no vector"));
    assertTrue(readValue("", Map.of("embedding", "text")).rejection().contains("not a vector"));
    assertTrue(
        readValue("b", Map.of("embedding", Map.of("indices", List.of(-1), "values", List.of(1f))))
            .rejection()
            .contains("uint32"));
    assertTrue(
        readValue("b", Map.of("embedding", Map.of("indices", List.of(1.5), "values", List.of(1f))))
            .rejection()
            .contains("uint32"));
    assertTrue(
        readValue("b", Map.of("embedding", Map.of("indices", List.of(1), "values", List.of())))
            .rejection()
            .contains("as many indices"));
  }

  /**
   * A sparse index that is no uint32 is named by its position: the item itself may be any record
   * value (a string, a struct), and the reason is logged and goes into the dead letter's headers.
   */
  @Test
  void aBadSparseIndexIsNamedByPositionNotQuoted() {
    String secret = "alice@example.com";
    List<Embedder.Result> results =
        List.of(
            readValue(
                "b",
                Map.of(
                    "embedding", Map.of("indices", List.of(1, secret), "values", List.of(1f, 2f)))),
            readValue(
                "b",
                Map.of(
                    "embedding", Map.of("indices", List.of(-4155550123L), "values", List.of(1f)))),
            read("b", "{\"embedding\":{\"indices\":[\"" + secret + "\"],\"values\":[1]}}"),
            read("b", "{\"embedding\":{\"indices\":[4155550123.5],\"values\":[1]}}"));
    for (Embedder.Result result : results) {
      String reason = result.rejection();
      assertTrue(reason.contains("uint32"), reason);
      assertTrue(reason.contains("sparse index at position "), reason);
      assertFalse(reason.contains(secret), reason);
      assertFalse(reason.contains("4155550123"), reason);
    }
    assertTrue(results.get(0).rejection().contains("position 1 "), results.get(0).rejection());
  }

  /**
   * Qdrant refuses a sparse vector naming an index twice, and the request holding it: the record is
   * rejected here with the reason, as JSON text and as a Connect value.
   */
  @Test
  void aSparseVectorWithARepeatedIndexIsRejected() {
    List<Embedder.Result> repeated =
        List.of(
            read("b", "{\"embedding\":{\"indices\":[7,3,7],\"values\":[1,2,3]}}"),
            readValue(
                "b",
                Map.of(
                    "embedding",
                    Map.of(
                        "indices", List.of(4294967295L, 4294967295L), "values", List.of(1f, 2f)))));
    for (Embedder.Result result : repeated) {
      assertTrue(result.isRejected());
      assertTrue(result.rejection().contains("must be unique"), result.rejection());
    }
    Embedder.Result distinct =
        readValue(
            "b",
            Map.of(
                "embedding",
                Map.of("indices", List.of(4294967295L, 2147483647L), "values", List.of(1f, 2f))));
    assertFalse(distinct.isRejected(), distinct::rejection);
  }

  @Test
  void everyVectorOfOneCallKeepsItsOwnFloats() {
    // the dense vectors of a call are read through one reused list: none may see another's floats
    Map<String, Object> named = new LinkedHashMap<>();
    named.put("dense", List.of(7f, 8f, 9f));
    named.put("other", List.of(4f, 5f));
    FieldEmbedder embedder = new FieldEmbedder(FieldPath.parse("embedding"), "dense", 3);
    List<Embedder.Result> results =
        embedder.embedValues(
            List.of(
                Map.of("embedding", List.of(1f, 2f, 3f)),
                Map.of("embedding", List.of(1f, Float.NaN, 3f)),
                Map.of("embedding", named),
                Map.of("embedding", List.of(4f, 5f, 6f, 7f))));
    assertEquals(
        List.of(1f, 2f, 3f),
        results.get(0).vectors().getVectors().getVectorsOrThrow("dense").getDense().getDataList());
    assertTrue(results.get(1).rejection().contains("finite"));
    var vectors = results.get(2).vectors().getVectors();
    assertEquals(List.of(7f, 8f, 9f), vectors.getVectorsOrThrow("dense").getDense().getDataList());
    assertEquals(List.of(4f, 5f), vectors.getVectorsOrThrow("other").getDense().getDataList());
    assertTrue(results.get(3).rejection().contains("4 dimensions but vector.size is 3"));
  }

  /**
   * A named vector explicitly null (Avro, JsonConverter with replace.null.with.default=false) is
   * left out, not replaced by its schema default: Struct.get would hand over the default, a vector
   * nobody sent.
   */
  @Test
  void aNamedVectorSetToNullIsLeftOutNotReadAsItsDefault() {
    Schema floats = SchemaBuilder.array(Schema.FLOAT32_SCHEMA).build();
    Schema other =
        SchemaBuilder.array(Schema.FLOAT32_SCHEMA).optional().defaultValue(List.of(9f, 9f, 9f));
    Schema embedding = SchemaBuilder.struct().field("dense", floats).field("other", other).build();
    Schema schema = SchemaBuilder.struct().field("embedding", embedding).build();
    Struct value =
        new Struct(schema)
            .put(
                "embedding",
                new Struct(embedding).put("dense", List.of(1f, 0f, 0f)).put("other", null));
    Vectors vectors = readValue("dense", value).vectors();
    assertEquals(List.of("dense"), List.copyOf(vectors.getVectors().getVectorsMap().keySet()));
  }
}
