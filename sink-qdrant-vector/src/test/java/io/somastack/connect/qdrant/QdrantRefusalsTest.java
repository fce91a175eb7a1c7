package io.somastack.connect.qdrant;

import static io.somastack.connect.qdrant.StandInTask.PARTITION;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.grpc.Collections.CreateCollection;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.StrictModeConfig;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Collections.VectorsConfig;
import io.somastack.connect.testing.connect.HandRunTaskContext;
import io.somastack.connect.testing.qdrant.QdrantGrpcStandIn;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Refusals of Qdrant's that are not about bad points, and points Qdrant could not even decode: what
 * the task does with them against the stand-in, which answers them with Qdrant 1.16's codes and
 * texts (pinned by {@link QdrantFidelityBehaviour}). A payload nested past what Qdrant decodes is
 * dead-lettered when it is mapped; a request Qdrant could not decode is searched for its point, not
 * retried as an INTERNAL; a configured collection full under strict mode is retried and then fails
 * the task, dead-lettering nothing, while a full collection named by record data dead-letters its
 * records; strict mode's batch size limit is learned and caps the requests.
 */
class QdrantRefusalsTest {

  @RegisterExtension
  final StandInTask sink = new StandInTask("qdrant.timeout.ms", "30000", "retry.backoff.ms", "10");

  private final QdrantGrpcStandIn qdrant = sink.qdrant;
  private final QdrantClient reader = sink.reader;
  private final HandRunTaskContext context = sink.context;

  /** The task's clock, in nanoseconds, moved by hand. */
  private final AtomicLong now = new AtomicLong();

  private QdrantVectorSinkTask task;

  private void startTask(String... keyValues) {
    List<String> props = new ArrayList<>(List.of("errors.tolerance", "all"));
    props.addAll(List.of(keyValues));
    task = sink.start(now::get, props.toArray(String[]::new));
  }

  private long count() throws Exception {
    return reader.countAsync("memories").get();
  }

  private SinkRecord record(long id) {
    return sink.record(null, Map.of("id", id, "text", "secret words " + id));
  }

  /** {"a": {"a": ... "leaf-secret"}}, {@code levels} objects deep. */
  private static Object nested(int levels) {
    Object value = "leaf-secret";
    for (int i = 0; i < levels; i++) {
      Map<String, Object> object = new LinkedHashMap<>();
      object.put("a", value);
      value = object;
    }
    return value;
  }

  private SinkRecord deep(long id, int levels) {
    Map<String, Object> value = new LinkedHashMap<>();
    value.put("id", id);
    value.put("text", "hello " + id);
    value.put("deep", nested(levels));
    return sink.record(null, value);
  }

  // ------------------------------------------------------------------ nesting

  /**
   * Qdrant decodes 100 protobuf levels (prost's recursion limit) and refuses the whole request
   * beyond, as INTERNAL, which a sink would retry for ever: 33 objects under a payload field reach
   * level 102. The mapper refuses such a point, 4 levels short of the limit (32 objects, level 99,
   * are refused too), naming its depth, not its data; the others of the put are written.
   */
  @Test
  void aPayloadNestedPastWhatQdrantDecodesIsDeadLetteredWhenMapped() throws Exception {
    startTask();
    task.put(List.of(deep(1, 31), deep(2, 32), deep(3, 33), deep(4, 60), deep(5, 1)));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(5)), sink.preCommit());
    assertEquals(2, count());
    assertEquals(
        List.of(1L, 2L, 3L),
        context.deadLettered().stream().map(e -> e.getKey().kafkaOffset()).toList());
    String reason = context.deadLettered().get(0).getValue().getMessage();
    assertTrue(reason.contains("the payload nests 99 protobuf levels deep"), reason);
    assertTrue(reason.contains("more than the 96"), reason);
    assertFalse(reason.contains("leaf-secret"), reason);
    assertTrue(
        context.deadLettered().get(1).getValue().getMessage().contains("nests 102 protobuf"));
  }

  /**
   * A request Qdrant could not decode (INTERNAL "failed to decode Protobuf message: ...") passes no
   * retry: it is searched by halving like a refusal, and its point dead-lettered with Qdrant's
   * text, the others written, instead of the batch retried until retry.timeout.ms and stalling its
   * partition after every restart.
   */
  @Test
  void aRequestQdrantCannotDecodeIsSearchedForItsPointNotRetried() throws Exception {
    startTask();
    task.put(List.of(record(0)));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    qdrant.refuseWritesOf(
        "3",
        Status.INTERNAL.withDescription(
            "failed to decode Protobuf message: Value.kind: Struct.fields: recursion limit"
                + " reached"));
    List<SinkRecord> records = new ArrayList<>();
    for (long id = 1; id <= 4; id++) {
      records.add(record(id));
    }
    task.put(records);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(5)), sink.preCommit());
    assertEquals(4, count());
    assertEquals(1, context.deadLettered().size());
    assertEquals(3, context.deadLettered().get(0).getKey().kafkaOffset());
    assertTrue(
        context
            .deadLettered()
            .get(0)
            .getValue()
            .getMessage()
            .contains("failed to decode Protobuf message"));
  }

  // ------------------------------------------------------------------ strict mode

  /** Fills the collection to {@code points} points and turns strict mode's max_points_count on. */
  private void fillTo(long points) {
    List<SinkRecord> records = new ArrayList<>();
    for (long id = 1; id <= points; id++) {
      records.add(record(id));
    }
    task.put(records);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(points)), sink.preCommit());
    qdrant.limitPoints(points);
  }

  /**
   * Strict mode refuses every upsert into a full collection with INVALID_ARGUMENT "Bad request: Max
   * points count limit of N reached!": that is no bad point, so nothing is dead-lettered nor
   * committed; the batch is retried, and written once the collection has room.
   */
  @Test
  void aFullCollectionIsRetriedNotDeadLettered() throws Exception {
    startTask("retry.timeout.ms", "10000");
    fillTo(2);
    List<SinkRecord> more = List.of(record(3), record(4), record(5));
    task.put(more);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(2)), sink.preCommit(), "kept");
    assertThrows(RetriableException.class, () -> task.put(List.of()));
    assertTrue(context.deadLettered().isEmpty());
    assertEquals(2, count());

    qdrant.limitPoints(0); // the operator raised the limit
    task.put(List.of());
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(5)), sink.preCommit());
    assertEquals(5, count());
    assertTrue(context.deadLettered().isEmpty());
  }

  /**
   * A collection that stays full fails the task once retry.timeout.ms has passed, naming the
   * collection and Qdrant's limit (no record data), its records uncommitted.
   */
  @Test
  void aCollectionThatStaysFullFailsTheTaskNamingTheLimit() throws Exception {
    startTask("retry.timeout.ms", "10000");
    fillTo(2);
    task.put(List.of(record(3), record(4)));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(2)), sink.preCommit(), "kept");
    String message = failureAfterRetryTimeout();
    assertTrue(message.contains("Qdrant collection 'memories'"), message);
    assertTrue(message.contains("Max points count limit of 2 reached!"), message);
    assertTrue(message.contains("retry.timeout.ms=10000"), message);
    assertFalse(message.contains("secret"), message);
    assertTrue(context.deadLettered().isEmpty());
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(2)), sink.preCommit());
    assertEquals(2, count());
  }

  /**
   * Strict mode's upsert_max_batchsize refuses a request of more points (INVALID_ARGUMENT "Bad
   * request: Limit exceeded N > M for "upsert limit""): it is split until the parts pass, and no
   * record is dead-lettered.
   */
  @Test
  void anUpsertOverStrictModesBatchSizeIsSplitNotDeadLettered() throws Exception {
    startTask();
    task.put(List.of(record(0)));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    qdrant.upsertMaxBatch(2);
    List<SinkRecord> records = new ArrayList<>();
    for (long id = 1; id <= 7; id++) {
      records.add(record(id));
    }
    task.put(records);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(8)), sink.preCommit());
    assertEquals(8, count());
    assertTrue(context.deadLettered().isEmpty());
  }

  /**
   * Strict mode's upsert_max_batchsize is learned from Qdrant's refusal ("Limit exceeded N > M for
   * "upsert limit"") once: later batches go in requests of M points, not found too big and halved
   * again on every batch.
   */
  @Test
  void strictModesBatchSizeIsLearnedOnceNotRediscoveredEveryBatch() throws Exception {
    startTask();
    task.put(List.of(record(0)));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    qdrant.upsertMaxBatch(10);
    List<SinkRecord> first = new ArrayList<>();
    for (long id = 1; id <= 30; id++) {
      first.add(record(id));
    }
    long before = qdrant.calls();
    task.put(first);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(31)), sink.preCommit());
    assertEquals(4, qdrant.calls() - before, "one refused request, then three of 10 points");
    List<SinkRecord> second = new ArrayList<>();
    for (long id = 31; id <= 60; id++) {
      second.add(record(id));
    }
    before = qdrant.calls();
    task.put(second);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(61)), sink.preCommit());
    assertEquals(3, qdrant.calls() - before, "three requests of 10 points, none refused");
    assertEquals(61, count());
    assertTrue(context.deadLettered().isEmpty());
  }

  /**
   * A "Bad request" of Qdrant's that is no known strict-mode limit (a missing shard key, say) is
   * retried like a full collection, but the task's error carries what Qdrant said (the collection
   * is configured, not record data) and no advice about limits that may not be the cause.
   */
  @Test
  void anUnknownBadRequestFailsTheTaskWithQdrantsWordsNotLimitAdvice() throws Exception {
    startTask("retry.timeout.ms", "10000");
    task.put(List.of(record(0)));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    qdrant.refuseWritesOf(
        "2", Status.INVALID_ARGUMENT.withDescription("Bad request: Shard key not specified"));
    task.put(List.of(record(1), record(2)));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit(), "kept");
    String message = failureAfterRetryTimeout();
    assertTrue(message.contains("Qdrant collection 'memories'"), message);
    assertTrue(message.contains("Bad request: Shard key not specified"), message);
    assertFalse(message.contains("max_points_count"), message);
    assertFalse(message.contains("secret"), message);
    assertTrue(context.deadLettered().isEmpty());
  }

  /**
   * A write's refusal may quote a record's point id or payload key after its opening words: the
   * task error keeps the words, which say what kind of refusal it is, and nothing from the first
   * digit or quote on.
   */
  @Test
  void anUnknownBadRequestsTextIsCutWhereRecordDataCouldBegin() {
    assertEquals(
        "Point",
        QdrantWriter.openingWords("Point 42 must have a string at payload_key \"secret\""));
    assertEquals("Shard key not specified", QdrantWriter.openingWords("Shard key not specified"));
    assertEquals("Wrong key", QdrantWriter.openingWords("Wrong key \"tenant\": 7"));
    assertEquals("", QdrantWriter.openingWords("{\"secret\": 1}"));
  }

  // ------------------------------------------------------------------ a tenant's limit

  private void createFullTenantCollection(String name, long maxPoints) throws Exception {
    reader
        .createCollectionAsync(
            CreateCollection.newBuilder()
                .setCollectionName(name)
                .setVectorsConfig(
                    VectorsConfig.newBuilder()
                        .setParams(
                            VectorParams.newBuilder().setSize(8).setDistance(Distance.Cosine)))
                .setStrictModeConfig(
                    StrictModeConfig.newBuilder().setEnabled(true).setMaxPointsCount(maxPoints))
                .build())
        .get();
  }

  /**
   * The task's error once the batch it keeps retrying has outlasted retry.timeout.ms (10 s): one
   * put still asks for a retry, the first past the timeout fails the task for good.
   */
  private String failureAfterRetryTimeout() {
    assertThrows(RetriableException.class, () -> task.put(List.of()));
    now.addAndGet(Duration.ofSeconds(10).toNanos());
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(List.of()));
    assertFalse(e instanceof RetriableException, e.toString());
    return e.getMessage();
  }

  private SinkRecord tenantRecord(long id, String tenant) {
    return sink.record(
        Map.of("tenant_id", tenant), Map.of("id", id, "text", "private words of " + tenant));
  }

  /**
   * A strict-mode limit on one tenant's collection (collection.name from the key) is that
   * collection's records' problem, as its absence would be: they are dead-lettered with a reason
   * naming collection.name and the limit, not the tenant, the other tenants' points land and the
   * offsets commit, rather than the whole task retried until it fails, after every restart.
   */
  @Test
  void aFullTenantCollectionDeadLettersItsRecordsAndTheOtherTenantsLand() throws Exception {
    createFullTenantCollection("mem_acme", 1);
    startTask("collection.name", "mem_${key.tenant_id}", "errors.log.enable", "true");
    task.put(List.of(tenantRecord(1, "acme")));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    task.put(
        List.of(
            tenantRecord(2, "acme"),
            tenantRecord(3, "beta"),
            tenantRecord(4, "acme"),
            tenantRecord(5, "beta")));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(5)), sink.preCommit());
    assertEquals(1, reader.countAsync("mem_acme").get());
    assertEquals(2, reader.countAsync("mem_beta").get());
    assertEquals(
        List.of(1L, 3L),
        context.deadLettered().stream().map(e -> e.getKey().kafkaOffset()).toList());
    for (var deadLetter : context.deadLettered()) {
      String reason = deadLetter.getValue().getMessage();
      assertTrue(reason.contains("collection.name mem_${key.tenant_id}"), reason);
      assertTrue(reason.contains("Max points count limit of 1 reached!"), reason);
      assertFalse(reason.contains("acme"), reason);
      assertFalse(reason.contains("private words"), reason);
    }
  }

  /** Which refusals are searched for bad points, split, or retried as the collection's. */
  @Test
  void onlyRefusalsAboutThePointsAreSearchedForBadPoints() {
    Status full =
        Status.INVALID_ARGUMENT.withDescription(
            "Bad request: Max points count limit of 9 reached!");
    assertTrue(QdrantWriter.collectionLimit(full));
    assertFalse(QdrantWriter.refusesPoints(full));
    assertTrue(
        QdrantWriter.collectionLimit(
            Status.INVALID_ARGUMENT.withDescription(
                "Bad request: Max vector storage size limit of 0.5MB reached!")));
    Status batch =
        Status.INVALID_ARGUMENT.withDescription(
            "Bad request: Limit exceeded 7 > 2 for \"upsert limit\". Help: Reduce the \"upsert"
                + " limit\" parameter to or below 2.");
    assertTrue(QdrantWriter.tooBigToPass(batch));
    assertFalse(QdrantWriter.collectionLimit(batch));
    assertFalse(QdrantWriter.refusesPoints(batch));
    for (String aboutPoints :
        List.of(
            "Wrong input: Vector dimension error: expected dim: 4, got 3",
            "Validation error in body: [points[0].vectors.indices: Validation error: must be"
                + " unique [{}]]",
            "Unable to parse UUID: x",
            "Bad request: Sparse vector 'w' has a limit of 5 indices, but 9 were provided!")) {
      Status status = Status.INVALID_ARGUMENT.withDescription(aboutPoints);
      assertTrue(QdrantWriter.refusesPoints(status), aboutPoints);
      assertFalse(QdrantWriter.collectionLimit(status), aboutPoints);
    }
    assertTrue(
        QdrantWriter.refusesPoints(
            Status.INTERNAL.withDescription(
                "failed to decode Protobuf message: recursion limit reached")));
    assertFalse(QdrantWriter.refusesPoints(Status.INTERNAL.withDescription("Service error")));
  }
}
