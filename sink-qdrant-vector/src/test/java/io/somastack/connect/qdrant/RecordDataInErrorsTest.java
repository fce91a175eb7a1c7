package io.somastack.connect.qdrant;

import static io.somastack.connect.qdrant.StandInTask.PARTITION;
import static io.somastack.connect.testing.Causes.chain;
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
import io.somastack.connect.testing.qdrant.QdrantGrpcStandIn;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Record data stays out of the worker log and the task's errors: a collection name that {@code
 * collection.name} makes from a record's value (a tenant's id) is record data, and so may be what
 * Qdrant's status descriptions quote. Logs and thrown exceptions (their causes too) name the
 * record's position and the gRPC status code; only the dead letter's reason, which travels with the
 * record anyway, names the collection or carries Qdrant's text.
 */
class RecordDataInErrorsTest {

  /** A tenant id: must appear nowhere but in the dead letter queue. */
  private static final String TENANT = "tenant-zq81x";

  private static final String COLLECTION = "mem_" + TENANT;

  /** The start of every status description the stand-in injects. */
  private static final String DESCRIPTION = "injected by the stand-in";

  @RegisterExtension
  final StandInTask sink =
      new StandInTask(
          "collection.name", "mem_${value.tenant_id}",
          "collection.create", "false",
          "delete.enabled", "false");

  private final QdrantGrpcStandIn qdrant = sink.qdrant;
  private final QdrantClient reader = sink.reader;
  private final HandRunTaskContext context = sink.context;
  private QdrantVectorSinkTask task;

  private SinkRecord record(long id) {
    return sink.record(null, Map.of("id", id, "text", "words " + id, "tenant_id", TENANT));
  }

  private void createCollection(int size) throws Exception {
    reader
        .createCollectionAsync(
            COLLECTION,
            VectorParams.newBuilder().setSize(size).setDistance(Distance.Cosine).build())
        .get();
  }

  private static void assertNoRecordData(String text) {
    assertFalse(text.contains(TENANT), text);
    assertFalse(text.contains(DESCRIPTION), text);
  }

  /**
   * Starts the task and runs {@code work} with it, as a worker would: what they logged, checked to
   * hold no record data.
   */
  private String logOfTaskRun(CapturedStderr.Work work) throws Exception {
    String log =
        CapturedStderr.ofWork(
            () -> {
              task = sink.start();
              work.run();
            });
    assertNoRecordData(log);
    return log;
  }

  /**
   * The task's first put, of record 1, which must fail: its failure as a worker logs it, checked
   * (like the run's log) to hold no record data.
   */
  private String failureOfFirstPut() throws Exception {
    return failureOfFirstPut(() -> {});
  }

  /** The same, with {@code afterStart} (setting up Qdrant's answers) run between start and put. */
  private String failureOfFirstPut(Runnable afterStart) throws Exception {
    ConnectException[] thrown = new ConnectException[1];
    logOfTaskRun(
        () -> {
          afterStart.run();
          List<SinkRecord> batch = List.of(record(1));
          thrown[0] = assertThrows(ConnectException.class, () -> task.put(batch));
        });
    String failure = chain(thrown[0]);
    assertNoRecordData(failure);
    return failure;
  }

  private String deadLetterReason(int index) {
    return context.deadLettered().get(index).getValue().getMessage();
  }

  @Test
  void aMissingTenantCollectionIsNamedOnlyInTheDeadLetterReason() throws Exception {
    String log =
        logOfTaskRun(
            () -> {
              task.put(List.of(record(1)));
              assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
            });
    assertTrue(log.contains("memory.events-0@0"), log);
    assertEquals(1, context.deadLettered().size());
    assertTrue(deadLetterReason(0).contains("'" + COLLECTION + "' does not exist"));
  }

  @Test
  void withoutADeadLetterQueueAMissingTenantCollectionFailsTheTaskNamingTheRecordOnly()
      throws Exception {
    context.deadLetterQueue(false);
    String failure = failureOfFirstPut();
    assertTrue(failure.contains("memory.events-0@0"), failure);
    assertTrue(failure.contains("collection.create"), failure);
  }

  /**
   * A tenant collection made for other vectors dead-letters its records: the log names the record
   * and the mismatch, only the dead letter's reason the collection.
   */
  @Test
  void aTenantCollectionWithOtherVectorsIsNamedOnlyInTheDeadLetterReason() throws Exception {
    createCollection(4);
    String log =
        logOfTaskRun(
            () -> {
              task.put(List.of(record(1)));
              assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
            });
    assertTrue(log.contains("memory.events-0@0"), log);
    assertTrue(log.contains("holds vectors of size 4 but vector.size is 8"), log);
    assertEquals(1, context.deadLettered().size());
    assertTrue(deadLetterReason(0).contains("'" + COLLECTION + "'"), deadLetterReason(0));
  }

  @Test
  void withoutADeadLetterQueueATenantCollectionWithOtherVectorsFailsNamingTheRecordOnly()
      throws Exception {
    context.deadLetterQueue(false);
    createCollection(4);
    String failure = failureOfFirstPut();
    assertTrue(failure.contains("memory.events-0@0"), failure);
    assertTrue(failure.contains("holds vectors of size 4 but vector.size is 8"), failure);
  }

  /** A collection call Qdrant refuses: its status code is told, not its text. */
  @Test
  void aFailedCollectionCheckGivesTheStatusCodeNotQdrantsText() throws Exception {
    String failure = failureOfFirstPut(() -> qdrant.failNext(1, Status.Code.PERMISSION_DENIED));
    assertTrue(failure.contains("PERMISSION_DENIED"), failure);
  }

  /** A point Qdrant refuses: its dead letter carries Qdrant's text, the log only the code. */
  @Test
  void aRefusedPointsQdrantTextGoesOnlyToItsDeadLetter() throws Exception {
    createCollection(8);
    String log =
        logOfTaskRun(
            () -> {
              // refused once: a request of one point, as the writer's search for it ends
              qdrant.failNextWriteOf("1", Status.Code.INVALID_ARGUMENT);
              task.put(List.of(record(1)));
              assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
            });
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
        logOfTaskRun(
            () -> {
              qdrant.failNextWriteOf("1", Status.Code.UNAVAILABLE);
              task.put(List.of(record(1)));
              sink.preCommit(); // the failure found and logged; the batch kept
              qdrant.failNextWriteOf("1", Status.Code.UNAVAILABLE);
              // the kept batch is sent again first, and waited for
              thrown.add(assertThrows(RetriableException.class, () -> task.put(List.of())));
              qdrant.failNextWriteOf("1", Status.Code.PERMISSION_DENIED);
              thrown.add(assertThrows(ConnectException.class, () -> task.put(List.of())));
            });
    assertTrue(log.contains("UNAVAILABLE"), log);
    thrown.forEach(failure -> assertNoRecordData(chain(failure)));
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
    logOfTaskRun(
        () -> {
          task.put(List.of(record(1)));
          sink.preCommit();
          reader.deleteCollectionAsync(COLLECTION).get();
          task.put(List.of(record(2))); // NOT_FOUND: kept
          List<SinkRecord> same = List.of(record(2));
          thrown.add(assertThrows(RetriableException.class, () -> task.put(same)));
          createCollection(8);
          task.put(List.of(record(3)));
          sink.preCommit();
          reader.deleteCollectionAsync(COLLECTION).get();
          qdrant.failNextWriteOf("4", Status.Code.INVALID_ARGUMENT); // rechecks: missing
          task.put(List.of(record(4)));
          List<SinkRecord> again = List.of(record(4));
          thrown.add(assertThrows(RetriableException.class, () -> task.put(again)));
          task.put(List.of()); // the kept batch finds the collection missing: dead letters
          sink.preCommit();
        });
    thrown.forEach(failure -> assertNoRecordData(chain(failure)));
    assertFalse(context.deadLettered().isEmpty());
    for (int i = 0; i < context.deadLettered().size(); i++) {
      assertTrue(deadLetterReason(i).contains("'" + COLLECTION + "' does not exist"));
    }
  }

  /**
   * With errors.log.enable Connect logs every reported record's exception at ERROR: the reason
   * reported is then the one the task logs, without the tenant's collection name; with it off the
   * dead letter's reason header keeps the name.
   */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aMissingTenantCollectionIsNamedToTheDeadLetterQueueOnlyWhenConnectDoesNotLogIt(
      boolean errorsLogged) throws Exception {
    task = sink.start("errors.log.enable", String.valueOf(errorsLogged));
    task.put(List.of(record(1)));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    assertEquals(1, context.deadLettered().size());
    String reason = deadLetterReason(0);
    assertEquals(!errorsLogged, reason.contains(TENANT), reason);
    assertTrue(reason.contains("does not exist and collection.create is false"), reason);
  }

  /** The same for a refused point: Qdrant's text only when Connect does not log the reason. */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aRefusedPointsQdrantTextGoesToTheDeadLetterQueueOnlyWhenConnectDoesNotLogIt(
      boolean errorsLogged) throws Exception {
    createCollection(8);
    task = sink.start("errors.log.enable", String.valueOf(errorsLogged));
    qdrant.failNextWriteOf("1", Status.Code.INVALID_ARGUMENT);
    task.put(List.of(record(1)));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    assertEquals(1, context.deadLettered().size());
    String reason = deadLetterReason(0);
    assertEquals(!errorsLogged, reason.contains(DESCRIPTION), reason);
    assertFalse(reason.contains(TENANT), reason);
    assertTrue(reason.contains("INVALID_ARGUMENT") || !errorsLogged, reason);
  }

  /**
   * A payload field refused for its number is located in the dead letter's reason by its path, but
   * the path's map keys are record data (an email as the key of a score): what the task logs, and
   * what it reports when Connect logs reported records, writes them as [key].
   */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aRefusedPayloadFieldsMapKeysGoToTheDeadLetterQueueOnlyWhenConnectDoesNotLogThem(
      boolean errorsLogged) throws Exception {
    String email = "alice.zq81x@example.com";
    Map<String, Object> value =
        Map.of(
            "id",
            1L,
            "text",
            "words 1",
            "tenant_id",
            TENANT,
            "scores",
            Map.of(email, new BigDecimal("1e-400")));
    String log =
        CapturedStderr.ofWork(
            () -> {
              task = sink.start("errors.log.enable", String.valueOf(errorsLogged));
              task.put(List.of(sink.record(null, value)));
              assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
            });
    assertFalse(log.contains(email), log);
    assertTrue(log.contains("payload field '[key][key]'"), log);
    String reason = deadLetterReason(0);
    assertEquals(!errorsLogged, reason.contains("'scores." + email + "'"), reason);
    assertEquals(errorsLogged, reason.contains("'[key][key]'"), reason);
  }
}
