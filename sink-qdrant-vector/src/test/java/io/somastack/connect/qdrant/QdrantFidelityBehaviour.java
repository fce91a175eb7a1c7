package io.somastack.connect.qdrant;

import static io.qdrant.client.PointIdFactory.id;
import static io.qdrant.client.ValueFactory.value;
import static io.qdrant.client.VectorsFactory.namedVectors;
import static io.qdrant.client.VectorsFactory.vectors;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.QdrantGrpcClient;
import io.qdrant.client.grpc.Collections.CreateCollection;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.SparseVectorConfig;
import io.qdrant.client.grpc.Collections.SparseVectorParams;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Collections.VectorParamsMap;
import io.qdrant.client.grpc.Collections.VectorsConfig;
import io.qdrant.client.grpc.Common.PointId;
import io.qdrant.client.grpc.JsonWithInt.Value;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.RetrievedPoint;
import io.qdrant.client.grpc.Points.SparseVector;
import io.qdrant.client.grpc.Points.UpsertPoints;
import io.qdrant.client.grpc.Points.Vector;
import io.qdrant.client.grpc.Points.Vectors;
import io.somastack.connect.testing.qdrant.QdrantEndpoint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What Qdrant answers over gRPC where the sink's handling depends on it: status codes and texts of
 * refusals, what is accepted, how ids are kept. Written once and run per backend: against the
 * in-memory stand-in the other tests write to ({@link QdrantStandInFidelityTest}, every build), and
 * against the real server, {@link QdrantEndpoint#IMAGE} in a container ({@link
 * QdrantContainerFidelityTest}, only where Docker runs; skipped elsewhere). The expected answers
 * are written here from the Qdrant source named at the stand-in's code: the stand-in run checks the
 * stand-in against them, and only the container run checks them, and so the stand-in, against
 * Qdrant itself. The sink's handling of the answers is tested in QdrantVectorSinkTaskTest.
 *
 * <p>The backend requires {@link #API_KEY} on every call, as a Qdrant started with {@code
 * service.api_key}: a real Qdrant takes its key only at start, and one backend serves the class.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class QdrantFidelityBehaviour {

  static final String API_KEY = "fidelity-key";

  /** A 70 MB upsert is written to a real Qdrant's disk within it. */
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  /** A running backend: where it listens, and how to stop it. */
  protected record Backend(String host, int port, Runnable stop) {}

  /** Starts the backend under test, requiring {@code apiKey} on every call. */
  protected abstract Backend start(String apiKey);

  private Backend qdrant;
  private QdrantClient client;

  @BeforeAll
  void startBackend() {
    qdrant = start(API_KEY);
    client = clientWithKey(API_KEY);
  }

  @AfterAll
  void stopBackend() {
    if (client != null) {
      client.close();
    }
    if (qdrant != null) {
      qdrant.stop().run();
    }
  }

  /** Each test starts from a Qdrant without collections. */
  @AfterEach
  void dropCollections() throws Exception {
    for (String name : client.listCollectionsAsync().get()) {
      client.deleteCollectionAsync(name).get();
    }
  }

  private static Status failure(Future<?> call) {
    ExecutionException e = assertThrows(ExecutionException.class, call::get);
    return Status.fromThrowable(e.getCause());
  }

  private static void assertStatus(Status.Code code, String description, Future<?> call) {
    Status status = failure(call);
    assertEquals(code, status.getCode(), status.toString());
    assertEquals(description, status.getDescription());
  }

  private void createUnnamed(String name, int size) throws Exception {
    client
        .createCollectionAsync(
            name, VectorParams.newBuilder().setSize(size).setDistance(Distance.Cosine).build())
        .get();
  }

  private void createNamed(String name) throws Exception {
    VectorParams dense = VectorParams.newBuilder().setSize(4).setDistance(Distance.Dot).build();
    client
        .createCollectionAsync(
            CreateCollection.newBuilder()
                .setCollectionName(name)
                .setVectorsConfig(
                    VectorsConfig.newBuilder()
                        .setParamsMap(VectorParamsMap.newBuilder().putMap("dense", dense)))
                .setSparseVectorsConfig(
                    SparseVectorConfig.newBuilder()
                        .putMap("words", SparseVectorParams.getDefaultInstance()))
                .build())
        .get();
  }

  private static PointStruct point(PointId id, Vectors vectors, String text) {
    return point(id, vectors, Map.of("text", value(text)));
  }

  private static PointStruct point(PointId id, Vectors vectors, Map<String, Value> payload) {
    return PointStruct.newBuilder().setId(id).setVectors(vectors).putAllPayload(payload).build();
  }

  private static Vector sparse(List<Integer> indices, List<Float> values) {
    return Vector.newBuilder()
        .setSparse(SparseVector.newBuilder().addAllIndices(indices).addAllValues(values))
        .build();
  }

  private Future<?> upsert(String collection, PointStruct... points) {
    return client.upsertAsync(
        UpsertPoints.newBuilder()
            .setCollectionName(collection)
            .setWait(true)
            .addAllPoints(List.of(points))
            .build());
  }

  private long count(String collection) throws Exception {
    return client.countAsync(collection, null, true).get();
  }

  // ------------------------------------------------------------------ collections

  @Test
  void creatingAnExistingCollectionIsAlreadyExistsNotInvalidArgument() throws Exception {
    createUnnamed("c", 4);
    assertStatus(
        Status.Code.ALREADY_EXISTS,
        "Wrong input: Collection `c` already exists!",
        client.createCollectionAsync(
            "c", VectorParams.newBuilder().setSize(4).setDistance(Distance.Cosine).build()));
  }

  @Test
  void aNewCollectionNameWithAFileNameCharacterIsRefusedAsInvalid() {
    Status status =
        failure(
            client.createCollectionAsync(
                "memories/2024",
                VectorParams.newBuilder().setSize(4).setDistance(Distance.Cosine).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
    assertEquals(
        "Validation error in body: [collection_name: collection name cannot contain \"/\" char]",
        status.getDescription());
  }

  @Test
  void upsertIntoAMissingCollectionIsNotFound() {
    assertStatus(
        Status.Code.NOT_FOUND,
        "Not found: Collection `nowhere` doesn't exist!",
        upsert("nowhere", point(id(1), vectors(1, 0, 0, 0), "one")));
  }

  // ------------------------------------------------------------------ vectors

  @Test
  void aWrongDimensionIsInvalidArgumentNamingNoVectorAndWritesNothing() throws Exception {
    createUnnamed("c", 4);
    assertStatus(
        Status.Code.INVALID_ARGUMENT,
        "Wrong input: Vector dimension error: expected dim: 4, got 3",
        upsert("c", point(id(1), vectors(1, 0, 0, 0), "ok"), point(id(2), vectors(1, 0, 0), "x")));
    assertEquals(0, count("c"));

    createNamed("n");
    assertStatus(
        Status.Code.INVALID_ARGUMENT,
        "Wrong input: Vector dimension error: expected dim: 4, got 2",
        upsert("n", point(id(1), namedVectors(Map.of("dense", vector(1, 0))), "x")));
  }

  private static Vector vector(float... values) {
    return io.qdrant.client.VectorFactory.vector(values);
  }

  @Test
  void aVectorTheCollectionDoesNotDeclareIsInvalidArgument() throws Exception {
    createNamed("n");
    assertStatus(
        Status.Code.INVALID_ARGUMENT,
        "Wrong input: Not existing vector name error: other",
        upsert("n", point(id(1), namedVectors(Map.of("other", vector(1, 0, 0, 0))), "x")));
    // the unnamed vector is the one named "" to Qdrant
    assertStatus(
        Status.Code.INVALID_ARGUMENT,
        "Wrong input: Not existing vector name error: ",
        upsert("n", point(id(1), vectors(1, 0, 0, 0), "x")));
  }

  @Test
  void sparseIndicesMustBeUniqueButNeedNotBeSorted() throws Exception {
    createNamed("n");
    Status status =
        failure(
            upsert(
                "n",
                point(
                    id(1),
                    namedVectors(Map.of("words", sparse(List.of(3, 3), List.of(1f, 2f)))),
                    "x")));
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
    assertTrue(status.getDescription().contains("must be unique"), status.getDescription());
    // validated before the collection is looked up
    assertEquals(
        Status.Code.INVALID_ARGUMENT,
        failure(
                upsert(
                    "nowhere",
                    point(
                        id(1),
                        namedVectors(Map.of("words", sparse(List.of(3, 3), List.of(1f, 2f)))),
                        "x")))
            .getCode());
    upsert(
            "n",
            point(
                id(2), namedVectors(Map.of("words", sparse(List.of(9, 2), List.of(1f, 2f)))), "y"))
        .get();
    assertEquals(1, count("n"));
  }

  @Test
  void anUnnamedSparseVectorIsRefused() throws Exception {
    createNamed("n");
    assertStatus(
        Status.Code.INVALID_ARGUMENT,
        "Sparse vector must be named",
        upsert(
            "n",
            point(
                id(1),
                Vectors.newBuilder().setVector(sparse(List.of(1), List.of(1f))).build(),
                "x")));
  }

  @Test
  void nanInADenseVectorIsAccepted() throws Exception {
    createUnnamed("c", 4);
    upsert("c", point(id(1), vectors(Float.NaN, 0, 0, 1), "nan")).get();
    assertEquals(1, count("c"));
  }

  // ------------------------------------------------------------------ decoding depth

  /** A payload field holding {@code levels} objects, each {"a": ...}, down to a string. */
  private static Map<String, Value> nested(int levels) {
    Value value = value("leaf");
    for (int i = 0; i < levels; i++) {
      value =
          Value.newBuilder()
              .setStructValue(
                  io.qdrant.client.grpc.JsonWithInt.Struct.newBuilder().putFields("a", value))
              .build();
    }
    return Map.of("deep", value);
  }

  /**
   * Qdrant decodes gRPC with prost, whose recursion limit of 100 counts every message level
   * (PointStruct 1, a payload entry 2, its Value 3, then 3 per object: Struct, entry, Value): 32
   * objects reach level 99 and pass, 33 reach 102 and the request is refused whole, INTERNAL, as
   * tonic answers a decode error. The sink dead-letters such points before they are sent (its own
   * limit, PointOp.MAX_DEPTH, is 96) and searches an undecodable request like a refusal.
   */
  @Test
  void aPayloadNestedPastProstsRecursionLimitFailsToDecodeAsInternal() throws Exception {
    createUnnamed("c", 4);
    upsert("c", point(id(1), vectors(1, 0, 0, 0), nested(32))).get();
    assertEquals(1, count("c"));
    Status status = failure(upsert("c", point(id(2), vectors(1, 0, 0, 0), nested(33))));
    assertEquals(Status.Code.INTERNAL, status.getCode(), status.toString());
    assertTrue(
        status.getDescription().startsWith("failed to decode Protobuf message: "),
        status.getDescription());
    assertTrue(
        status.getDescription().endsWith("recursion limit reached"), status.getDescription());
    assertEquals(1, count("c"));
  }

  // ------------------------------------------------------------------ strict mode

  /**
   * Strict mode (on by default for collections Qdrant Cloud makes) refuses an upsert of more points
   * than upsert_max_batchsize, and any upsert once the collection holds max_points_count points, as
   * INVALID_ARGUMENT "Bad request: ...": errors about the request and the collection, not its
   * points, which the sink splits or retries and never dead-letters. Qdrant counts the points from
   * cached statistics, so the refusal may come a few upserts late.
   */
  @Test
  void strictModeRefusesAnOversizedBatchAndAFullCollectionAsBadRequest() throws Exception {
    client
        .createCollectionAsync(
            CreateCollection.newBuilder()
                .setCollectionName("s")
                .setVectorsConfig(
                    VectorsConfig.newBuilder()
                        .setParams(
                            VectorParams.newBuilder().setSize(4).setDistance(Distance.Cosine)))
                .setStrictModeConfig(
                    io.qdrant.client.grpc.Collections.StrictModeConfig.newBuilder()
                        .setEnabled(true)
                        .setUpsertMaxBatchsize(3)
                        .setMaxPointsCount(2))
                .build())
        .get();
    assertStatus(
        Status.Code.INVALID_ARGUMENT,
        "Bad request: Limit exceeded 4 > 3 for \"upsert limit\". Help: Reduce the \"upsert limit\""
            + " parameter to or below 3.",
        upsert(
            "s",
            point(id(1), vectors(1, 0, 0, 0), "a"),
            point(id(2), vectors(1, 0, 0, 0), "b"),
            point(id(3), vectors(1, 0, 0, 0), "c"),
            point(id(4), vectors(1, 0, 0, 0), "d")));
    upsert("s", point(id(1), vectors(1, 0, 0, 0), "a"), point(id(2), vectors(1, 0, 0, 0), "b"))
        .get();
    Status refused = null;
    for (int i = 3; i < 40 && refused == null; i++) {
      try {
        upsert("s", point(id(i), vectors(1, 0, 0, 0), "more")).get();
      } catch (ExecutionException e) {
        refused = Status.fromThrowable(e.getCause());
      }
    }
    assertTrue(refused != null, "never refused");
    assertEquals(Status.Code.INVALID_ARGUMENT, refused.getCode(), refused.toString());
    assertEquals("Bad request: Max points count limit of 2 reached!", refused.getDescription());
  }

  @Test
  void aRequestOverSixtyFourMegabytesIsTaken() throws Exception {
    int size = 65536; // the largest vector Qdrant allows: 256 KB a point
    createUnnamed("big", size);
    List<PointStruct> points = new ArrayList<>();
    List<Float> data = Collections.nCopies(size, 0.5f);
    for (int i = 0; i < 270; i++) {
      points.add(
          PointStruct.newBuilder()
              .setId(id(i))
              .setVectors(Vectors.newBuilder().setVector(Vector.newBuilder().addAllData(data)))
              .build());
    }
    UpsertPoints request =
        UpsertPoints.newBuilder()
            .setCollectionName("big")
            .setWait(true)
            .addAllPoints(points)
            .build();
    assertTrue(request.getSerializedSize() > 64 * 1024 * 1024, "" + request.getSerializedSize());
    client.upsertAsync(request).get();
    assertEquals(270, count("big"));
  }

  // ------------------------------------------------------------------ points

  @Test
  void anUpsertOfAnIdReplacesVectorsAndPayloadWhole() throws Exception {
    createNamed("n");
    Vectors denseAndSparse =
        namedVectors(Map.of("dense", vector(1, 0, 0, 0), "words", sparse(List.of(1), List.of(1f))));
    Vectors denseOnly = namedVectors(Map.of("dense", vector(0, 1, 0, 0)));
    Map<String, Value> firstPayload = Map.of("a", value("first"), "b", value("only in the first"));
    upsert("n", point(id(1), denseAndSparse, firstPayload)).get();
    upsert("n", point(id(1), denseOnly, Map.of("a", value("second")))).get();
    RetrievedPoint point = client.retrieveAsync("n", id(1), true, true, null).get().get(0);
    assertEquals(Map.of("a", value("second")), point.getPayloadMap());
    assertEquals(Map.of("dense", true), hasVectors(point));
  }

  private static Map<String, Boolean> hasVectors(RetrievedPoint point) {
    Map<String, Boolean> names = new HashMap<>();
    point.getVectors().getVectors().getVectorsMap().keySet().forEach(n -> names.put(n, true));
    return names;
  }

  @Test
  void deletingAnIdThatIsNotThereIsFine() throws Exception {
    createUnnamed("c", 4);
    client.deleteAsync("c", List.of(id(42))).get();
    assertEquals(0, count("c"));
  }

  @Test
  void everySpellingOfAUuidNamesOnePointKeptInLowercase() throws Exception {
    createUnnamed("c", 4);
    String canonical = "0f8fad5b-d9cb-469f-a165-70867728950e";
    for (String spelling :
        List.of(
            canonical.toUpperCase(),
            canonical.replace("-", ""),
            "{" + canonical + "}",
            "urn:uuid:" + canonical)) {
      upsert(
              "c",
              point(PointId.newBuilder().setUuid(spelling).build(), vectors(1, 0, 0, 0), spelling))
          .get();
    }
    assertEquals(1, count("c"));
    RetrievedPoint point =
        client
            .retrieveAsync("c", PointId.newBuilder().setUuid(canonical).build(), true, false, null)
            .get()
            .get(0);
    assertEquals(canonical, point.getId().getUuid());
    assertEquals("urn:uuid:" + canonical, point.getPayloadOrThrow("text").getStringValue());
    assertStatus(
        Status.Code.INVALID_ARGUMENT,
        "Unable to parse UUID: not-a-uuid",
        upsert(
            "c",
            point(PointId.newBuilder().setUuid("not-a-uuid").build(), vectors(1, 0, 0, 0), "x")));
  }

  // ------------------------------------------------------------------ api key

  private QdrantClient clientWithKey(String key) {
    QdrantGrpcClient.Builder grpc =
        QdrantGrpcClient.newBuilder(qdrant.host(), qdrant.port(), false, false)
            .withTimeout(TIMEOUT);
    if (key != null) {
      grpc.withApiKey(key);
    }
    return new QdrantClient(grpc.build());
  }

  @Test
  void aMissingOrWrongApiKeyIsUnauthenticated() throws Exception {
    try (QdrantClient none = clientWithKey(null);
        QdrantClient wrong = clientWithKey("guess")) {
      assertStatus(
          Status.Code.UNAUTHENTICATED,
          "Must provide an API key or an Authorization bearer token",
          none.collectionExistsAsync("c"));
      assertStatus(
          Status.Code.UNAUTHENTICATED, "Invalid API key or JWT", wrong.collectionExistsAsync("c"));
      assertFalse(client.collectionExistsAsync("c").get());
    }
  }
}
