package io.somastack.connect.qdrant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.somastack.connect.common.text.Utf8;
import io.somastack.connect.testing.CapturedStderr;
import io.somastack.connect.testing.connect.HandRunTaskContext;
import io.somastack.connect.testing.qdrant.QdrantEndpoint;
import io.somastack.connect.testing.qdrant.QdrantGrpcStandIn;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Record data stays out of the worker log and the task's errors: a collection name that {@code
 * collection.name} makes from a record's value (a tenant's id) is record data, and so may be what
 * Qdrant's status descriptions quote. Logs and thrown exceptions (their causes too) name the
 * record's position and the gRPC status code; only the dead letter's reason, which travels with the
 * record anyway, names the collection or carries Qdrant's text.
 */
class RecordDataInErrorsTest {

  private static final TopicPartition PARTITION = new TopicPartition("memory.events", 0);

  /** A tenant id: must appear nowhere but in the dead letter queue. */
  private static final String TENANT = "tenant-zq81x";

  private static final String COLLECTION = "mem_" + TENANT;

  /** The start of every status description the stand-in injects. */
  private static final String DESCRIPTION = "injected by the stand-in";

  private QdrantGrpcStandIn qdrant;
  private QdrantClient reader;
  private QdrantVectorSinkTask task;
  private final HandRunTaskContext context =
      new HandRunTaskContext(PARTITION).deadLetterQueue(true);
  private long offset;

  @BeforeEach
  void start() {
    qdrant = QdrantGrpcStandIn.startOnFreePort();
    reader = QdrantEndpoint.clientFor(qdrant.host(), qdrant.port());
  }

  @AfterEach
  void stop() {
    if (task != null) {
      task.stop();
    }
    reader.close();
    qdrant.close();
  }

  private void startTenantTask(String... keyValues) {
    Map<String, String> props = new HashMap<>();
    props.put("qdrant.url", qdrant.url());
    props.put("qdrant.timeout.ms", "2000");
    props.put("vector.size", "8");
    props.put("collection.name", "mem_${value.tenant_id}");
    props.put("collection.create", "false");
    props.put("delete.enabled", "false");
    for (int i = 0; i < keyValues.length; i += 2) {
      props.put(keyValues[i], keyValues[i + 1]);
    }
    task = new QdrantVectorSinkTask();
    task.initialize(context);
    task.start(props);
  }

  private SinkRecord record(long id) {
    Map<String, Object> value = Map.of("id", id, "text", "words " + id, "tenant_id", TENANT);
    return new SinkRecord(
        PARTITION.topic(), PARTITION.partition(), null, null, null, value, offset++);
  }

  private Map<TopicPartition, OffsetAndMetadata> preCommit() {
    return task.preCommit(Map.of(PARTITION, new OffsetAndMetadata(offset)));
  }

  private void createCollection(int size) throws Exception {
    reader
        .createCollectionAsync(
            COLLECTION,
            VectorParams.newBuilder().setSize(size).setDistance(Distance.Cosine).build())
        .get();
  }

  /** Every message of the exception and its causes, as a worker's log of it would show them. */
  private static String chain(Throwable thrown) {
    List<String> texts = new ArrayList<>();
    for (Throwable t = thrown; t != null; t = t.getCause()) {
      texts.add(t.toString());
    }
    return String.join(" <- ", texts);
  }

  private static void assertNoRecordData(String text) {
    assertFalse(text.contains(TENANT), text);
    assertFalse(text.contains(DESCRIPTION), text);
  }

  private String deadLetterReason(int index) {
    return context.deadLettered().get(index).getValue().getMessage();
  }

  @Test
  void aMissingTenantCollectionIsNamedOnlyInTheDeadLetterReason() throws Exception {
    String log =
        CapturedStderr.ofWork(
            () -> {
              startTenantTask();
              task.put(List.of(record(1)));
              assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), preCommit());
            });
    assertNoRecordData(log);
    assertTrue(log.contains("memory.events-0@0"), log);
    assertEquals(1, context.deadLettered().size());
    assertTrue(deadLetterReason(0).contains("'" + COLLECTION + "' does not exist"));
  }

  @Test
  void withoutADeadLetterQueueAMissingTenantCollectionFailsTheTaskNamingTheRecordOnly()
      throws Exception {
    context.deadLetterQueue(false);
    ConnectException[] thrown = new ConnectException[1];
    String log =
        CapturedStderr.ofWork(
            () -> {
              startTenantTask();
              List<SinkRecord> batch = List.of(record(1));
              thrown[0] = assertThrows(ConnectException.class, () -> task.put(batch));
            });
    assertNoRecordData(log);
    String failure = chain(thrown[0]);
    assertNoRecordData(failure);
    assertTrue(failure.contains("memory.events-0@0"), failure);
    assertTrue(failure.contains("collection.create"), failure);
  }

  @Test
  void aTenantCollectionWithOtherVectorsIsNamedByTheRecordThatNamesIt() throws Exception {
    createCollection(4);
    ConnectException[] thrown = new ConnectException[1];
    String log =
        CapturedStderr.ofWork(
            () -> {
              startTenantTask();
              List<SinkRecord> batch = List.of(record(1));
              thrown[0] = assertThrows(ConnectException.class, () -> task.put(batch));
            });
    assertNoRecordData(log);
    String failure = chain(thrown[0]);
    assertNoRecordData(failure);
    assertTrue(failure.contains("memory.events-0@0"), failure);
    assertTrue(failure.contains("holds vectors of size 4 but vector.size is 8"), failure);
  }

  /** A collection call Qdrant refuses: its status code is told, not its text. */
  @Test
  void aFailedCollectionCheckGivesTheStatusCodeNotQdrantsText() throws Exception {
    ConnectException[] thrown = new ConnectException[1];
    String log =
        CapturedStderr.ofWork(
            () -> {
              startTenantTask();
              qdrant.failNext(1, Status.Code.PERMISSION_DENIED);
              List<SinkRecord> batch = List.of(record(1));
              thrown[0] = assertThrows(ConnectException.class, () -> task.put(batch));
            });
    assertNoRecordData(log);
    String failure = chain(thrown[0]);
    assertNoRecordData(failure);
    assertTrue(failure.contains("PERMISSION_DENIED"), failure);
  }

  /** A point Qdrant refuses: its dead letter carries Qdrant's text, the log only the code. */
  @Test
  void aRefusedPointsQdrantTextGoesOnlyToItsDeadLetter() throws Exception {
    createCollection(8);
    String log =
        CapturedStderr.ofWork(
            () -> {
              startTenantTask();
              // refused once: a request of one point, as the writer's search for it ends
              qdrant.failNextWriteOf("1", Status.Code.INVALID_ARGUMENT);
              task.put(List.of(record(1)));
              assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), preCommit());
            });
    assertNoRecordData(log);
    assertTrue(log.contains("memory.events-0@0") && log.contains("INVALID_ARGUMENT"), log);
    assertEquals(1, context.deadLettered().size());
    assertTrue(deadLetterReason(0).contains(DESCRIPTION + " for point 1"), deadLetterReason(0));
  }

  /** Qdrant's text in a dead letter's reason is bounded: it becomes a Kafka header. */
  @Test
  void aRefusedPointsDeadLetterReasonHoldsAtMostAKilobyteOfQdrantsText() {
    String description = "Wrong input: " + "\u00e9".repeat(4000);
    var refused =
        QdrantWriter.refusal(record(1), Status.INVALID_ARGUMENT.withDescription(description));
    String reason = refused.reason();
    assertTrue(reason.startsWith("Qdrant refused the point: Wrong input: \u00e9"), reason);
    assertTrue(reason.endsWith("..."), reason);
    assertTrue(
        Utf8.length(reason) <= "Qdrant refused the point: ".length() + 1024,
        () -> Utf8.length(reason) + " bytes");
    assertEquals("Qdrant refused the point: gRPC status INVALID_ARGUMENT", refused.loggedReason());
  }

  /** A write failing transiently, then for good: the log and the errors give the code only. */
  @Test
  void aFailedWriteGivesTheStatusCodeNotQdrantsTextNorTheCollection() throws Exception {
    createCollection(8);
    List<Throwable> thrown = new ArrayList<>();
    String log =
        CapturedStderr.ofWork(
            () -> {
              startTenantTask();
              qdrant.failNextWriteOf("1", Status.Code.UNAVAILABLE);
              task.put(List.of(record(1)));
              preCommit(); // the failure found and logged; the batch kept
              qdrant.failNextWriteOf("1", Status.Code.UNAVAILABLE);
              // the kept batch is sent again first, and waited for
              thrown.add(assertThrows(RetriableException.class, () -> task.put(List.of())));
              qdrant.failNextWriteOf("1", Status.Code.PERMISSION_DENIED);
              thrown.add(assertThrows(ConnectException.class, () -> task.put(List.of())));
            });
    assertNoRecordData(log);
    assertTrue(log.contains("UNAVAILABLE"), log);
    for (Throwable failure : thrown) {
      assertNoRecordData(chain(failure));
    }
    assertFalse(thrown.get(1) instanceof RetriableException, chain(thrown.get(1)));
    assertTrue(chain(thrown.get(1)).contains("PERMISSION_DENIED"), chain(thrown.get(1)));
  }

  /**
   * A tenant's collection deleted under the task: Qdrant's NOT_FOUND quotes its name, and so does
   * the writer's check when it finds it missing after a refusal; the records end in the dead letter
   * queue, which alone names it.
   */
  @Test
  void aTenantCollectionDeletedUnderTheTaskIsNamedOnlyInTheDeadLetterReason() throws Exception {
    createCollection(8);
    List<Throwable> thrown = new ArrayList<>();
    String log =
        CapturedStderr.ofWork(
            () -> {
              startTenantTask();
              task.put(List.of(record(1)));
              preCommit();
              reader.deleteCollectionAsync(COLLECTION).get();
              task.put(List.of(record(2))); // NOT_FOUND: kept
              List<SinkRecord> same = List.of(record(2));
              thrown.add(assertThrows(RetriableException.class, () -> task.put(same)));
              createCollection(8);
              task.put(List.of(record(3)));
              preCommit();
              reader.deleteCollectionAsync(COLLECTION).get();
              qdrant.failNextWriteOf("4", Status.Code.INVALID_ARGUMENT); // rechecks: missing
              task.put(List.of(record(4)));
              List<SinkRecord> again = List.of(record(4));
              thrown.add(assertThrows(RetriableException.class, () -> task.put(again)));
              task.put(List.of()); // the kept batch finds the collection missing: dead letters
              preCommit();
            });
    assertNoRecordData(log);
    for (Throwable failure : thrown) {
      assertNoRecordData(chain(failure));
    }
    assertFalse(context.deadLettered().isEmpty());
    for (int i = 0; i < context.deadLettered().size(); i++) {
      assertTrue(deadLetterReason(i).contains("'" + COLLECTION + "' does not exist"));
    }
  }
}
