package io.somastack.connect.qdrant;

import static io.somastack.connect.qdrant.StandInTask.PARTITION;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.qdrant.client.PointIdFactory;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.grpc.Points.WriteOrderingType;
import io.somastack.connect.testing.connect.HandRunTaskContext;
import io.somastack.connect.testing.qdrant.QdrantGrpcStandIn;
import io.somastack.connect.testing.qdrant.QdrantGrpcStandIn.Operation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The requests a batch becomes, how Qdrant's failures of them are sorted, and what they are counted
 * as, against the gRPC stand-in through the real Qdrant client.
 */
class QdrantWriteRequestsTest {

  @RegisterExtension
  final StandInTask sink =
      new StandInTask(
          "qdrant.timeout.ms", "30000",
          "batch.max.points", "256",
          "retry.backoff.ms", "10");

  private final QdrantGrpcStandIn qdrant = sink.qdrant;
  private final QdrantClient reader = sink.reader;
  private final HandRunTaskContext context = sink.context;
  private QdrantVectorSinkTask task;

  /** A task that wrote point 1000 (creating the collection), so every later call writes. */
  private void startTask() {
    startTask(true);
  }

  private void startTask(boolean writeFirst, String... keyValues) {
    task = sink.start(keyValues);
    if (writeFirst) {
      task.put(List.of(upsert(1000, "creates the collection")));
      assertEquals(Map.of(PARTITION, new OffsetAndMetadata(sink.offset())), sink.preCommit());
    }
  }

  private SinkRecord upsert(long id, String text) {
    return sink.record(null, Map.of("id", id, "text", text));
  }

  private SinkRecord tombstone(long id) {
    return sink.record(id, null);
  }

  private String text(long id) throws Exception {
    var points = reader.retrieveAsync("memories", PointIdFactory.id(id), true, false, null).get();
    return points.isEmpty() ? null : points.get(0).getPayloadOrThrow("text").getStringValue();
  }

  /**
   * After collapsing a point id is written once per batch, so its upserts and deletes touch
   * different points and go out together: alternating records are one upsert and one delete
   * request, not one request per record, each waited for before the next.
   */
  @Test
  void upsertsAndDeletesAlternatingInABatchAreOneRequestOfEachKind() throws Exception {
    startTask();
    List<SinkRecord> existing = new ArrayList<>();
    for (long id = 1; id <= 100; id++) {
      existing.add(upsert(id, "old " + id));
    }
    task.put(existing);
    sink.preCommit();

    List<SinkRecord> mixed = new ArrayList<>();
    for (long id = 1; id <= 100; id++) {
      mixed.add(upsert(100 + id, "new " + id));
      mixed.add(tombstone(id));
      if (id == 50) { // one point upserted, deleted and upserted again within the batch
        mixed.addAll(List.of(upsert(500, "first"), tombstone(500), upsert(500, "last")));
      }
    }
    long calls = qdrant.calls();
    task.put(mixed);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(sink.offset())), sink.preCommit());

    assertEquals(2, qdrant.calls() - calls, "one upsert and one delete request");
    assertEquals(102, reader.countAsync("memories").get()); // 101..200, 500 and 1000
    assertNull(text(1));
    assertNull(text(100));
    assertEquals("new 1", text(101));
    assertEquals("new 100", text(200));
    assertEquals("last", text(500));
    assertTrue(context.deadLettered().isEmpty());
  }

  /**
   * Qdrant answers FAILED_PRECONDITION while an operator's write lock is on (StorageError::Locked)
   * and for other states that pass: the batch is kept and sent again, not failed for good.
   */
  @Test
  void aFailedPreconditionKeepsTheBatchForTheNextPut() throws Exception {
    startTask();
    qdrant.failNext(1, Status.Code.FAILED_PRECONDITION);
    task.put(List.of(upsert(1, "one"))); // sent, refused in flight
    // writing point 1 too, these wait for the batch in flight and see its failure
    List<SinkRecord> next = List.of(upsert(2, "two"), upsert(1, "1b"));
    assertThrows(RetriableException.class, () -> task.put(next));
    assertEquals(0, qdrant.pendingFailures());
    assertNull(text(1));

    task.put(next); // Connect delivers them again: the kept batch goes first
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(sink.offset())), sink.preCommit());
    List<Operation> writes = qdrant.operations();
    assertEquals(
        List.of(
            new Operation("upsert", "memories", List.of("1")),
            new Operation("upsert", "memories", List.of("2", "1"))),
        writes.subList(writes.size() - 2, writes.size()));
    assertEquals("1b", text(1));
    assertEquals("two", text(2));
    assertTrue(context.deadLettered().isEmpty());
  }

  /**
   * A failed request is counted and timed too (a slow failure is what the latency should show);
   * points count once Qdrant acknowledged their write.
   */
  @Test
  void aFailedRequestIsCountedAndTimedAndItsPointsOnlyOnceAcknowledged() {
    startTask(false);
    qdrant.failNextWriteOf("1", Status.Code.UNAVAILABLE);
    task.put(List.of(upsert(1, "one"))); // the task's first write request
    sink.preCommit(); // the failure is found here: kept, not thrown
    assertEquals(1.0, context.metric("requests-failed-total"));
    assertEquals(0.0, context.metric("points-upserted-total"));
    assertFalse(Double.isNaN(context.metric("request-latency-ms-avg")), "the failure is timed");

    // Connect calls put() again until the kept batch goes out: once its backoff (10 ms here, with
    // jitter) has passed, which a put made at once may not have waited for
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreException(RetriableException.class)
        .untilAsserted(
            () -> {
              task.put(List.of());
              sink.preCommit();
              assertEquals(1.0, context.metric("points-upserted-total"));
            });
    assertEquals(1.0, context.metric("requests-failed-total"));
  }

  /**
   * qdrant.write.ordering goes with every write the sink sends: the payload index made with the
   * collection, upserts, deletes, and the halves a refused request is sent again in. Unset, it is
   * Qdrant's default, weak.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource({"strong, Strong", "MEDIUM, Medium", "weak, Weak", ", Weak"})
  void everyWriteCarriesTheConfiguredOrdering(String configured, WriteOrderingType expected) {
    if (configured == null) {
      startTask(false, "collection.payload.indexes", "tenant:keyword");
    } else {
      startTask(
          false,
          "collection.payload.indexes",
          "tenant:keyword",
          "qdrant.write.ordering",
          configured);
    }
    task.put(List.of(upsert(1, "one"), upsert(2, "two"), tombstone(3)));
    qdrant.failNextWriteOf("1", Status.Code.INVALID_ARGUMENT); // split: sent again in halves
    task.put(List.of(upsert(1, "one again"), upsert(4, "four"), tombstone(2)));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(sink.offset())), sink.preCommit());

    List<String> writes =
        qdrant.operations().stream().map(Operation::kind).filter(k -> !k.equals("create")).toList();
    assertTrue(writes.containsAll(List.of("index", "upsert", "delete")), writes.toString());
    List<WriteOrderingType> orderings = qdrant.writeOrderings();
    assertEquals(writes.size() + 1, orderings.size(), "the applied writes and the refused one");
    orderings.forEach(ordering -> assertEquals(expected, ordering, orderings.toString()));
  }
}
