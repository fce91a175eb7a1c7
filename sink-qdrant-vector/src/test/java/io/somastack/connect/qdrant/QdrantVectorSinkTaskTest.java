package io.somastack.connect.qdrant;

import static io.somastack.connect.qdrant.StandInTask.PARTITION;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.grpc.Collections.CreateCollection;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Collections.SparseVectorConfig;
import io.qdrant.client.grpc.Collections.SparseVectorParams;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Collections.VectorParamsMap;
import io.qdrant.client.grpc.Collections.VectorsConfig;
import io.somastack.connect.testing.connect.HandRunTaskContext;
import io.somastack.connect.testing.qdrant.QdrantGrpcStandIn;
import io.somastack.connect.testing.qdrant.QdrantGrpcStandIn.Operation;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The task against the gRPC stand-in, through the real Qdrant client. */
class QdrantVectorSinkTaskTest {

  @RegisterExtension final StandInTask sink = new StandInTask();
  private final QdrantGrpcStandIn qdrant = sink.qdrant;
  private final QdrantClient reader = sink.reader;
  private final HandRunTaskContext context = sink.context;
  private QdrantVectorSinkTask task;

  private void startTask(String... keyValues) {
    task = sink.start(keyValues);
  }

  private static Map<String, Object> memory(long id, String text) {
    return Map.of("id", id, "text", text, "tenant_id", "t1");
  }

  private long count() throws Exception {
    return reader.countAsync("memories").get();
  }

  @Test
  void writesPointsAndAcknowledgesTheirOffsets() throws Exception {
    startTask("collection.payload.indexes", "tenant_id:keyword");
    task.put(List.of(sink.record(null, memory(1, "one")), sink.record(null, memory(2, "two"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(2)), sink.preCommit());
    assertEquals(2, count());
    assertEquals(
        8,
        reader
            .getCollectionInfoAsync("memories")
            .get()
            .getConfig()
            .getParams()
            .getVectorsConfig()
            .getParams()
            .getSize());
    assertTrue(reader.getCollectionInfoAsync("memories").get().containsPayloadSchema("tenant_id"));
  }

  @Test
  void repeatedIdsCollapseToTheLastWriteInArrivalOrder() throws Exception {
    startTask();
    task.put(
        List.of(
            sink.record(null, memory(1, "first")),
            sink.record(null, memory(2, "two")),
            sink.record(1L, null),
            sink.record(null, memory(3, "three")),
            sink.record(null, memory(1, "last"))));
    sink.preCommit();
    List<Operation> writes =
        qdrant.operations().stream().filter(o -> !o.kind().equals("create")).toList();
    assertEquals(List.of(new Operation("upsert", "memories", List.of("2", "3", "1"))), writes);
    var point =
        reader
            .retrieveAsync("memories", io.qdrant.client.PointIdFactory.id(1), true, false, null)
            .get();
    assertEquals("last", point.get(0).getPayloadOrThrow("text").getStringValue());
  }

  @Test
  void eachPartitionIsAcknowledgedUpToItsHighestOffsetAcrossInterleavedRuns() throws Exception {
    startTask();
    TopicPartition other = new TopicPartition(PARTITION.topic(), 1);
    SinkRecord renamed = // a record an SMT moved to another topic counts for its original one
        new SinkRecord(other.topic(), 1, null, null, null, memory(5, "five"), 5)
            .newRecord("renamed", 0, null, null, null, memory(5, "five"), null);
    task.put(
        List.of(
            new SinkRecord(PARTITION.topic(), 0, null, null, null, memory(1, "one"), 10),
            new SinkRecord(PARTITION.topic(), 0, null, null, null, memory(2, "two"), 11),
            new SinkRecord(other.topic(), 1, null, null, null, memory(3, "three"), 4),
            new SinkRecord(PARTITION.topic(), 0, null, null, null, memory(4, "four"), 12),
            renamed));
    assertEquals(
        Map.of(PARTITION, new OffsetAndMetadata(13), other, new OffsetAndMetadata(6)),
        task.preCommit(
            Map.of(PARTITION, new OffsetAndMetadata(13), other, new OffsetAndMetadata(6))));
  }

  /**
   * Connect moves a partition past records it never hands to put (an SMT filtered them, or
   * errors.tolerance=all skipped them): once nothing of the partition is in flight, that position
   * is as written as this sink can make it. Else a partition whose last records are filtered keeps
   * its lag, and one whose records are all filtered never has an offset committed and is read again
   * from its start after every rebalance or restart.
   */
  @Test
  void aPartitionWithNothingInFlightIsCommittedUpToWhereConnectConsumedIt() throws Exception {
    startTask();
    TopicPartition allFiltered = new TopicPartition(PARTITION.topic(), 1);
    task.put(List.of(sink.record(null, memory(1, "one")), sink.record(null, memory(2, "two"))));
    // offsets 2 to 4 of PARTITION and 0 to 8 of partition 1 were filtered by an SMT
    Map<TopicPartition, OffsetAndMetadata> consumed =
        Map.of(PARTITION, new OffsetAndMetadata(5), allFiltered, new OffsetAndMetadata(9));
    assertEquals(consumed, task.preCommit(consumed));
    assertEquals(2, count());
  }

  /** While a partition has a batch in flight, its offset stays where its written records end. */
  @Test
  void aPartitionWithABatchInFlightIsCommittedOnlyUpToItsWrittenRecords() throws Exception {
    startSlowTask();
    qdrant.failNext(1, Status.Code.UNAVAILABLE);
    task.put(List.of(sink.record(null, memory(1, "one")))); // offset 1: kept after its failure
    Map<TopicPartition, OffsetAndMetadata> consumed = Map.of(PARTITION, new OffsetAndMetadata(5));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), task.preCommit(consumed));
    task.put(List.of()); // sends the kept batch again
    assertEquals(consumed, task.preCommit(consumed));
  }

  /**
   * A position once reported where Connect consumed it (records past the last written one were
   * filtered) is not taken back while a later batch waits to be sent again: Connect would commit
   * the lower offset, and a restart would read the filtered records, and dead-letter those the
   * converter failed on, a second time.
   */
  @Test
  void aReportedPositionIsNotTakenBackByALaterBatchKeptAfterAFailure() throws Exception {
    startSlowTask(); // offset 0 written
    sink.skipTo(5); // offsets 1 to 4 filtered by an SMT
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(5)), sink.preCommit());
    qdrant.failNext(1, Status.Code.UNAVAILABLE);
    task.put(List.of(sink.record(null, memory(1, "one")))); // offset 5: kept after its failure
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(5)), sink.preCommit());
    task.put(List.of()); // sends the kept batch again
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(6)), sink.preCommit());
  }

  /**
   * Once a request of a batch has failed so that the whole batch is sent again, its later requests
   * are not sent: against an overloaded Qdrant each would wait for a slot and a deadline, a batch
   * of many collections outlasting max.poll.interval.ms, only to be written twice.
   */
  @Test
  void aBatchStopsSendingOnceARequestFailedTransiently() throws Exception {
    startSlowTask("batch.max.points", "1", "qdrant.max.in.flight.requests", "1");
    qdrant.failNext(1, Status.Code.UNAVAILABLE);
    task.put(
        List.of(
            sink.record(null, memory(1, "one")),
            sink.record(null, memory(2, "two")),
            sink.record(null, memory(3, "three"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit()); // kept
    assertEquals(1, count(), "requests sent after the batch had failed");
    task.put(List.of()); // sends the kept batch again
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(4)), sink.preCommit());
    assertEquals(4, count());
  }

  @Test
  void anUnreachableQdrantIsRetriable() throws Exception {
    startTask();
    qdrant.stop();
    List<SinkRecord> batch = List.of(sink.record(null, memory(1, "one")));
    assertThrows(RetriableException.class, () -> task.put(batch));
    qdrant.start();
    // the channel reconnects with its own backoff; Connect would keep redelivering meanwhile
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreException(RetriableException.class)
        .until(
            () -> {
              task.put(batch);
              return true;
            });
    // the batch went out; Connect's later (empty) polls settle it, sending it again if it failed
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreException(RetriableException.class)
        .until(
            () -> {
              task.put(List.of());
              return !sink.preCommit().isEmpty();
            });
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    assertEquals(1, count());
  }

  /**
   * A collection deleted between the existence check and the reading of its configuration is
   * answered NOT_FOUND: the check starts over on the retry (creating it again, or finding it
   * missing), which is no reason to stop the task.
   */
  @Test
  void aNotFoundWhileCheckingACollectionIsRetriedNotFatal() throws Exception {
    startTask();
    qdrant.failNext(1, Status.Code.NOT_FOUND);
    List<SinkRecord> batch = List.of(sink.record(null, memory(1, "one")));
    assertThrows(RetriableException.class, () -> task.put(batch));
    task.put(batch);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    assertEquals(1, count());
  }

  @Test
  void aCollectionWithAnotherVectorSizeIsAConfigurationErrorThatSticks() throws Exception {
    reader
        .createCollectionAsync(
            "memories", VectorParams.newBuilder().setSize(4).setDistance(Distance.Cosine).build())
        .get();
    startTask();
    List<SinkRecord> batch = List.of(sink.record(null, memory(1, "one")));
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(batch));
    assertTrue(
        e.getMessage().contains("holds vectors of size 4 but vector.size is 8"), e.getMessage());
    assertSame(e, assertThrows(ConnectException.class, () -> task.put(batch)));
    assertTrue(sink.preCommit().isEmpty());
  }

  /**
   * A collection named by record data is made when its first record comes, with the same vectors
   * and payload indexes as a fixed one, and one that exists is checked the same way.
   */
  @Test
  void eachTenantsCollectionIsMadeAndCheckedWhenItsFirstRecordComes() throws Exception {
    reader
        .createCollectionAsync(
            "mem_t3", VectorParams.newBuilder().setSize(8).setDistance(Distance.Dot).build())
        .get();
    startTask(
        "collection.name", "mem_${value.tenant_id}",
        "delete.enabled", "false",
        "collection.distance", "cosine",
        "collection.payload.indexes", "tenant_id:keyword");
    task.put(
        List.of(
            sink.record(null, Map.of("id", 1L, "text", "one", "tenant_id", "t1")),
            sink.record(null, Map.of("id", 2L, "text", "two", "tenant_id", "t2"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(2)), sink.preCommit());
    for (String name : List.of("mem_t1", "mem_t2")) {
      var info = reader.getCollectionInfoAsync(name).get();
      assertEquals(8, info.getConfig().getParams().getVectorsConfig().getParams().getSize());
      assertEquals(
          PayloadSchemaType.Keyword, info.getPayloadSchemaOrThrow("tenant_id").getDataType());
    }
    // one made for another distance is its records' problem, not the other tenants' (see
    // TenantCollectionsTest): dead-lettered, saying why
    task.put(List.of(sink.record(null, Map.of("id", 3L, "text", "3", "tenant_id", "t3"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(3)), sink.preCommit());
    assertEquals(1, context.deadLettered().size());
    String reason = context.deadLettered().get(0).getValue().getMessage();
    assertTrue(reason.contains("collection.distance is cosine"), reason);
  }

  /**
   * collection.name mem_${key.tenant_id} reads a key of JSON object text (StringConverter, as the
   * shipped connector configs set key.converter) or JSON bytes (ByteArrayConverter), as the
   * tombstone's point id is read from it: the points land in the tenant's collection and the
   * tombstone of the same key deletes its point there. Every such record had been dead-lettered for
   * a field its key "does not have".
   */
  @Test
  void aKeyFieldOfJsonTextOrBytesNamesTheTenantsCollection() throws Exception {
    startTask(
        "collection.name", "mem_${key.tenant_id}",
        "delete.id.field", "id");
    String t1Key = "{\"tenant_id\":\"t1\",\"id\":1}";
    task.put(
        List.of(
            sink.record(t1Key, tenantMemory(1, "t1")),
            sink.record(
                "{\"tenant_id\":\"t2\",\"id\":2}".getBytes(StandardCharsets.UTF_8),
                tenantMemory(2, "t2")),
            sink.record("{\"tenant_id\":\"t1\",\"id\":3}", tenantMemory(3, "t1"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(3)), sink.preCommit());
    assertEquals(List.of(), context.deadLettered());
    assertEquals(2, reader.countAsync("mem_t1").get());
    assertEquals(1, reader.countAsync("mem_t2").get());

    task.put(List.of(sink.record(t1Key, null)));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(4)), sink.preCommit());
    assertEquals(List.of(), context.deadLettered());
    assertEquals(1, reader.countAsync("mem_t1").get());
  }

  /**
   * ${key} of a key a JSON serializer wrote ("t1" with its quotes) is t1, as the point id read from
   * such a key is: not a name with quotes, which Qdrant refuses.
   */
  @Test
  void theWholeKeyOfJsonStringTextNamesTheCollectionWithoutItsQuotes() throws Exception {
    startTask("collection.name", "mem_${key}", "delete.enabled", "false");
    task.put(List.of(sink.record("\"t1\"", tenantMemory(1, "t1"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    assertEquals(List.of(), context.deadLettered());
    assertEquals(1, reader.countAsync("mem_t1").get());
  }

  // ------------------------------------------------- collections the task may not create

  private void createCollection(String name) throws Exception {
    reader
        .createCollectionAsync(
            name, VectorParams.newBuilder().setSize(8).setDistance(Distance.Cosine).build())
        .get();
  }

  private static Map<String, Object> tenantMemory(long id, String tenant) {
    return Map.of("id", id, "text", "private words of " + tenant, "tenant_id", tenant);
  }

  /** Two records, the second for a tenant whose collection does not exist: a dead letter. */
  private void putOneRecordForAMissingCollection() throws Exception {
    createCollection("mem_t1");
    startTask(
        "collection.name", "mem_${value.tenant_id}",
        "collection.create", "false",
        "delete.enabled", "false");
    task.put(
        List.of(
            sink.record(null, tenantMemory(1, "t1")), sink.record(null, tenantMemory(2, "t2"))));
  }

  /**
   * A dead letter queue that throws RetriableException from report() (a reporter may) must not pass
   * for "Qdrant will take it later": the batches in flight are forgotten then, so preCommit would
   * hand Connect offsets past records never dead-lettered. The task fails, nothing committed.
   */
  @Test
  void aDeadLetterQueueThatThrowsRetriableFailsTheTaskAndCommitsNothing() throws Exception {
    context.deadLetterQueueThrowing(new RetriableException("the DLQ producer is busy"));
    putOneRecordForAMissingCollection();
    assertTrue(
        sink.preCommit().isEmpty(), "nothing acknowledged past the record not dead-lettered");
    ConnectException failed =
        assertThrows(ConnectException.class, () -> task.put(List.of()), "the task fails");
    assertFalse(failed instanceof RetriableException, failed.toString());
    assertTrue(failed.getMessage().contains("dead letter queue"), failed.getMessage());
  }

  /**
   * A record value over record.max.bytes goes to the dead letter queue unread, its reason naming
   * the limit and nothing of the value; the batch's other records land and its offset passes it.
   */
  @Test
  void aValueOverRecordMaxBytesIsDeadLetteredNamingTheLimit() throws Exception {
    startTask("record.max.bytes", "1024");
    String large = "{\"id\":1,\"text\":\"" + "secret words ".repeat(100) + "\"}";
    task.put(
        List.of(
            sink.record(null, large.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
            sink.record(null, memory(2, "two"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(2)), sink.preCommit());
    assertEquals(1, count());
    assertEquals(1, context.deadLettered().size());
    String reason = context.deadLettered().get(0).getValue().getMessage();
    assertTrue(reason.contains("more than record.max.bytes (1024)"), reason);
    assertFalse(reason.contains("secret"), reason);
    assertEquals(1.0, context.metric("records-dead-lettered-total"));
  }

  /**
   * Tombstones with delete.enabled=false delete nothing, and say so: counted in tombstones-ignored,
   * and logged by position (once at INFO), never by key.
   */
  @Test
  void tombstonesIgnoredWithDeleteDisabledAreCountedAndLoggedByPosition() throws Exception {
    startTask("delete.enabled", "false");
    String log =
        io.somastack.connect.testing.CapturedStderr.ofWork(
            () ->
                task.put(
                    List.of(
                        sink.record("key-of-secret-1", null),
                        sink.record(null, memory(2, "two")),
                        sink.record("key-of-secret-3", null))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(3)), sink.preCommit());
    assertEquals(1, count());
    assertEquals(2.0, context.metric("tombstones-ignored-total"));
    assertTrue(log.contains("Ignored 2 tombstone(s) at memory.events-0@0..2"), log);
    assertTrue(log.contains("delete.enabled=false"), log);
    assertFalse(log.contains("key-of-secret"), log);
    assertTrue(context.deadLettered().isEmpty());
    assertEquals(
        List.of(), qdrant.operations().stream().filter(o -> o.kind().equals("delete")).toList());
  }

  /**
   * dead-lettered counts records the dead letter queue took: one whose write to the DLQ topic
   * failed fails the task, and is not counted.
   */
  @Test
  void aDeadLetterTheQueueFailedToWriteIsNotCounted() throws Exception {
    context.deadLetterQueueFailing(new KafkaException("the DLQ topic is not writable"));
    putOneRecordForAMissingCollection();
    assertTrue(sink.preCommit().isEmpty(), "nothing acknowledged past the lost dead letter");
    assertThrows(ConnectException.class, () -> task.put(List.of()), "the task fails");
    assertEquals(0.0, context.metric("records-dead-lettered-total"));
  }

  /**
   * A collection named by record data that does not exist, with collection.create=false, is that
   * record's problem, not the task's: it goes to the dead letter queue naming the collection (and
   * nothing of the record), the batch's other records land, and the collection is looked for again
   * by later records, so one made meanwhile is written to.
   */
  @Test
  void aRecordForATenantCollectionThatDoesNotExistIsDeadLetteredAndTheOthersLand()
      throws Exception {
    createCollection("mem_t1");
    startTask(
        "collection.name", "mem_${value.tenant_id}",
        "collection.create", "false",
        "delete.enabled", "false");
    task.put(
        List.of(
            sink.record(null, tenantMemory(1, "t1")),
            sink.record(null, tenantMemory(2, "t2")),
            sink.record(null, tenantMemory(3, "t2")),
            sink.record(null, tenantMemory(4, "t1"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(4)), sink.preCommit());
    assertEquals(2, reader.countAsync("mem_t1").get());
    assertEquals(
        List.of(1L, 2L),
        context.deadLettered().stream().map(e -> e.getKey().kafkaOffset()).toList());
    for (var deadLetter : context.deadLettered()) {
      String reason = deadLetter.getValue().getMessage();
      assertTrue(deadLetter.getValue() instanceof DataException, reason);
      assertTrue(reason.contains("'mem_t2' does not exist"), reason);
      assertTrue(reason.contains("collection.create"), reason);
      assertFalse(reason.contains("private words"), reason);
    }
    assertEquals(2.0, context.metric("records-dead-lettered-total"));
    assertFalse(
        qdrant.operations().stream().anyMatch(o -> o.collection().equals("mem_t2")),
        "nothing was created or sent for mem_t2");

    createCollection("mem_t2"); // made by the operator later: the next records land
    task.put(List.of(sink.record(null, tenantMemory(5, "t2"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(5)), sink.preCommit());
    assertEquals(1, reader.countAsync("mem_t2").get());
    assertEquals(2, context.deadLettered().size());
  }

  @Test
  void withoutADeadLetterQueueAMissingTenantCollectionFailsTheTaskNamingTheRecordNotTheCollection()
      throws Exception {
    context.deadLetterQueue(false);
    createCollection("mem_t1");
    startTask(
        "collection.name", "mem_${value.tenant_id}",
        "collection.create", "false",
        "delete.enabled", "false");
    List<SinkRecord> batch =
        List.of(sink.record(null, tenantMemory(1, "t1")), sink.record(null, tenantMemory(2, "t2")));
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(batch));
    assertFalse(e instanceof RetriableException);
    assertTrue(e.getMessage().contains("memory.events-0@1"), e.getMessage());
    assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    assertFalse(e.getMessage().contains("mem_t2"), "a name from record data: " + e.getMessage());
    assertFalse(e.getMessage().contains("private words"), e.getMessage());
    assertTrue(sink.preCommit().isEmpty(), "nothing of the failed put is acknowledged");
  }

  /**
   * With a dead letter queue, a missing tenant collection's tombstones follow its upserts there, in
   * their order: replayed once the collection exists, the queue ends as the stream would have. Were
   * the tombstone done, a replay would bring back the point it deleted (id 2 below).
   */
  @Test
  void aMissingTenantCollectionsTombstonesFollowItsUpsertsToTheDeadLetterQueue() throws Exception {
    createCollection("mem_t1");
    startTask(
        "collection.name", "mem_${key.tenant_id}",
        "collection.create", "false",
        "delete.id.field", "id",
        "errors.tolerance", "all",
        "errors.deadletterqueue.topic.name", "memories.dlq");
    task.put(
        List.of(
            sink.record(Map.of("tenant_id", "t1", "id", 1L), tenantMemory(1, "t1")),
            sink.record(Map.of("tenant_id", "gone", "id", 2L), tenantMemory(2, "gone")),
            sink.record(Map.of("tenant_id", "gone", "id", 2L), null),
            sink.record(Map.of("tenant_id", "gone", "id", 3L), null)));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(4)), sink.preCommit());
    assertEquals(1, reader.countAsync("mem_t1").get());
    List<SinkRecord> deadLetters = context.deadLettered().stream().map(e -> e.getKey()).toList();
    assertEquals(List.of(1L, 2L, 3L), deadLetters.stream().map(SinkRecord::kafkaOffset).toList());
    assertEquals(
        Arrays.asList(false, true, true),
        deadLetters.stream().map(r -> r.value() == null).toList(),
        "the upsert, then the tombstones");
  }

  /**
   * Connect gives the task an errant record reporter for errors.log.enable alone, and with
   * errors.tolerance=none its report fails the task: that is no dead letter queue, and a tombstone
   * of a missing collection is done there, not reported (which stopped the task at every restart).
   */
  @Test
  void aTombstoneForAMissingCollectionIsDoneWhenErrorsAreOnlyLogged() throws Exception {
    context.deadLetterQueueThrowing(new ConnectException("Tolerance exceeded in error handler"));
    createCollection("mem_t1");
    startTask(
        "collection.name", "mem_${key.tenant_id}",
        "collection.create", "false",
        "delete.id.field", "id",
        "errors.log.enable", "true",
        "errors.tolerance", "none");
    task.put(
        List.of(
            sink.record(Map.of("tenant_id", "t1", "id", 1L), tenantMemory(1, "t1")),
            sink.record(Map.of("tenant_id", "gone", "id", 9L), null)));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(2)), sink.preCommit());
    assertEquals(1, reader.countAsync("mem_t1").get());
    assertEquals(0, context.deadLettered().size());
  }

  /**
   * Without a dead letter queue, a tombstone for a collection that is not there has nothing to
   * delete: it is done.
   */
  @Test
  void aTombstoneForATenantCollectionThatDoesNotExistWithoutADeadLetterQueueIsDone()
      throws Exception {
    context.deadLetterQueue(false);
    createCollection("mem_t1");
    startTask(
        "collection.name", "mem_${key.tenant_id}",
        "collection.create", "false",
        "delete.id.field", "id");
    task.put(
        List.of(
            sink.record(Map.of("tenant_id", "t1", "id", 1L), tenantMemory(1, "t1")),
            sink.record(Map.of("tenant_id", "gone", "id", 9L), null)));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(2)), sink.preCommit());
    assertEquals(1, reader.countAsync("mem_t1").get());
  }

  /**
   * A tenant's collection deleted while the task runs: the write in flight finds it gone
   * (NOT_FOUND, kept to be sent again), and the retry, which finds it still missing, dead-letters
   * its records.
   */
  @Test
  void aTenantCollectionDeletedUnderTheTaskDeadLettersTheRecordsOfTheKeptBatch() throws Exception {
    createCollection("mem_t1");
    createCollection("mem_t2");
    startTask(
        "collection.name", "mem_${value.tenant_id}",
        "collection.create", "false",
        "delete.enabled", "false");
    task.put(
        List.of(
            sink.record(null, tenantMemory(1, "t1")), sink.record(null, tenantMemory(2, "t2"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(2)), sink.preCommit());
    reader.deleteCollectionAsync("mem_t2").get();
    task.put(
        List.of(
            sink.record(null, tenantMemory(3, "t1")), sink.record(null, tenantMemory(4, "t2"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(2)), sink.preCommit(), "refused: kept");
    task.put(List.of()); // sends the kept batch again
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(4)), sink.preCommit());
    assertEquals(2, reader.countAsync("mem_t1").get());
    assertEquals(
        List.of(3L), context.deadLettered().stream().map(e -> e.getKey().kafkaOffset()).toList());
  }

  /**
   * A point Qdrant refuses sends the writer to check its collection again; found deleted (and not
   * to be created), it is handled as a NOT_FOUND would be, not as a configuration error: the batch
   * is kept, and sending it again dead-letters the records of the missing collection.
   */
  @Test
  void aTenantCollectionFoundDeletedWhenAPointIsRefusedIsTheRecordsProblem() throws Exception {
    reader
        .createCollectionAsync(
            CreateCollection.newBuilder()
                .setCollectionName("mem_t1")
                .setVectorsConfig(
                    VectorsConfig.newBuilder()
                        .setParamsMap(
                            VectorParamsMap.newBuilder()
                                .putMap(
                                    "dense",
                                    VectorParams.newBuilder()
                                        .setSize(4)
                                        .setDistance(Distance.Cosine)
                                        .build())))
                .setSparseVectorsConfig(
                    SparseVectorConfig.newBuilder()
                        .putMap("words", SparseVectorParams.getDefaultInstance()))
                .build())
        .get();
    startTask(
        "vector.size", "4",
        "embedder", "field",
        "vector.name", "dense",
        "collection.sparse.vectors", "words",
        "collection.name", "mem_${value.tenant_id}",
        "collection.create", "false",
        "delete.enabled", "false");
    task.put(List.of(sink.record(null, sparseMemory(1, List.of(7, 5)))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    reader.deleteCollectionAsync("mem_t1").get();
    // refused as bad input (a repeated sparse index is now found by the mapper, before Qdrant)
    qdrant.failNextWriteOf("2", Status.Code.INVALID_ARGUMENT);
    task.put(List.of(sink.record(null, sparseMemory(2, List.of(7, 5)))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit(), "kept, not failed");
    task.put(List.of());
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(2)), sink.preCommit());
    assertEquals(1, context.deadLettered().size());
    assertTrue(
        context.deadLettered().get(0).getValue().getMessage().contains("'mem_t1' does not exist"));
  }

  private static Map<String, Object> sparseMemory(long id, List<Integer> indices) {
    return Map.of(
        "id",
        id,
        "tenant_id",
        "t1",
        "vector",
        Map.of(
            "dense",
            List.of(1, 0, 0, 0),
            "words",
            Map.of("indices", indices, "values", List.of(0.5, 0.25))));
  }

  /** A fixed collection is the configuration's: missing, it stops the task as before. */
  @Test
  void aMissingFixedCollectionStillFailsTheTask() {
    startTask("collection.create", "false");
    List<SinkRecord> batch = List.of(sink.record(null, memory(1, "one")));
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(batch));
    assertFalse(e instanceof DataException || e instanceof RetriableException, e.toString());
    assertTrue(e.getMessage().contains("'memories' does not exist"), e.getMessage());
    assertTrue(context.deadLettered().isEmpty());
  }

  /**
   * A collection named by the topic alone (the default ${topic}) that is missing is the topic's
   * configuration error, not each record's: the task fails naming it, and nothing is dead-lettered,
   * rather than sending the topic's every record to the dead letter queue.
   */
  @Test
  void aMissingCollectionNamedByTheTopicAloneFailsTheTask() {
    startTask("collection.name", "${topic}", "collection.create", "false");
    List<SinkRecord> batch = List.of(sink.record(null, memory(1, "one")));
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(batch));
    assertFalse(e instanceof DataException || e instanceof RetriableException, e.toString());
    assertTrue(
        e.getMessage().contains("'" + PARTITION.topic() + "' does not exist"), e.getMessage());
    assertTrue(context.deadLettered().isEmpty());
  }

  /**
   * ${partition} is no record data either: a collection per partition that is missing fails the
   * task as one per topic does, rather than dead-lettering every upsert of the partition and
   * dropping its tombstones.
   */
  @Test
  void aMissingCollectionNamedByTopicAndPartitionFailsTheTask() {
    startTask("collection.name", "docs_${partition}", "collection.create", "false");
    List<SinkRecord> batch = List.of(sink.record(null, memory(1, "one")));
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(batch));
    assertFalse(e instanceof DataException || e instanceof RetriableException, e.toString());
    assertTrue(e.getMessage().contains("'docs_0' does not exist"), e.getMessage());
    assertTrue(context.deadLettered().isEmpty());
  }

  /**
   * A collection made without its payload indexes (their creation failed after the collection was
   * made, and the retry found the collection there) gets the missing ones when the task checks it;
   * one it has already is not made again.
   */
  @Test
  void anExistingCollectionGetsThePayloadIndexesItLacks() throws Exception {
    reader
        .createCollectionAsync(
            "memories", VectorParams.newBuilder().setSize(8).setDistance(Distance.Cosine).build())
        .get();
    reader
        .createPayloadIndexAsync(
            "memories", "tenant_id", PayloadSchemaType.Keyword, null, true, null, null)
        .get();
    startTask("collection.payload.indexes", "tenant_id:keyword,created_at:datetime");
    task.put(List.of(sink.record(null, memory(1, "one"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(sink.offset())), sink.preCommit());
    assertEquals(
        Set.of("tenant_id", "created_at"),
        reader.getCollectionInfoAsync("memories").get().getPayloadSchemaMap().keySet());
    assertEquals(
        2, qdrant.operations().stream().filter(o -> o.kind().equals("index")).count(), "one each");
  }

  @Test
  void pointsQdrantRefusesAreFoundAndDeadLetteredTheOthersWritten() throws Exception {
    startTask("embedder", "field", "vector.name", "dense");
    List<SinkRecord> records = new ArrayList<>();
    for (long id = 1; id <= 6; id++) {
      Map<String, Object> vectors = new HashMap<>(Map.of("dense", List.of(1, 0, 0, 0, 0, 0, 0, 0)));
      if (id == 4) {
        vectors.put("undeclared", List.of(1, 2)); // passes the mapper, Qdrant refuses it
      }
      records.add(sink.record(null, Map.of("id", id, "vector", vectors)));
    }
    records.add(sink.record(null, Map.of("id", 7L))); // no vector: refused by the mapper
    task.put(records);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(7)), sink.preCommit());
    assertEquals(5, count());
    assertEquals(2, context.deadLettered().size());
    assertTrue(context.deadLettered().get(0).getValue() instanceof DataException);
    assertTrue(
        context.deadLettered().stream()
            .anyMatch(r -> r.getValue().getMessage().contains("Not existing vector name")));
  }

  @Test
  void aRequestOverQdrantsWholeRateBudgetIsSplitNotRetriedForEver() throws Exception {
    startTask();
    qdrant.limitWritePoints(2);
    List<SinkRecord> records = new ArrayList<>();
    for (long id = 1; id <= 5; id++) {
      records.add(sink.record(null, memory(id, "m" + id)));
    }
    task.put(records);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(5)), sink.preCommit());
    assertEquals(5, count());
    assertTrue(context.deadLettered().isEmpty());
  }

  @Test
  void aSinglePointOverQdrantsWholeRateBudgetIsDeadLetteredWithTheReason() throws Exception {
    startTask();
    qdrant.limitWritePoints(0);
    task.put(List.of(sink.record(null, memory(1, "one"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    assertEquals(1, context.deadLettered().size());
    assertTrue(
        context.deadLettered().get(0).getValue().getMessage().contains("split your request"));
  }

  @Test
  void onlyAResourceExhaustedThatCanNeverPassIsSplit() {
    assertFalse(
        QdrantWriter.tooBigToPass(
            Status.RESOURCE_EXHAUSTED.withDescription(
                "Write rate limit exceeded: Operation requires 10 tokens but only 2.0 were"
                    + " available. Retry after 3s")));
    assertTrue(
        QdrantWriter.tooBigToPass(
            Status.RESOURCE_EXHAUSTED.withDescription(
                "Write rate limit exceeded, request larger than rate limiter capacity, please"
                    + " try to split your request")));
    assertTrue(
        QdrantWriter.tooBigToPass(
            Status.RESOURCE_EXHAUSTED.withDescription(
                "gRPC message exceeds maximum size 4194304: 9000000")));
  }

  @Test
  void withoutADeadLetterQueueBadDataFailsTheTask() {
    context.deadLetterQueue(false);
    startTask();
    assertThrows(
        DataException.class, () -> task.put(List.of(sink.record(null, Map.of("text", "no id")))));
  }

  // ------------------------------------------------------------------ batches in flight

  private String text(long id) throws Exception {
    var points =
        reader
            .retrieveAsync("memories", io.qdrant.client.PointIdFactory.id(id), true, false, null)
            .get();
    return points.isEmpty() ? null : points.get(0).getPayloadOrThrow("text").getStringValue();
  }

  private List<Operation> writes() {
    return qdrant.operations().stream().filter(o -> !o.kind().equals("create")).toList();
  }

  /** Puts the records and returns once the stand-in holds their request, unanswered. */
  private void putWhileQdrantHolds(SinkRecord... records) {
    qdrant.hold();
    task.put(List.of(records));
    await().atMost(Duration.ofSeconds(10)).until(() -> qdrant.heldWrites() == 1);
  }

  /** Writes are held for a while in these tests: a deadline that does not run out meanwhile. */
  private void startSlowTask(String... keyValues) {
    List<String> props = new ArrayList<>(List.of("qdrant.timeout.ms", "30000"));
    props.addAll(List.of(keyValues));
    startTask(props.toArray(String[]::new));
    task.put(List.of(sink.record(null, memory(100, "creates the collection"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(sink.offset())), sink.preCommit());
  }

  @Test
  void putReturnsBeforeQdrantAcknowledgesAndPreCommitWaitsForIt() throws Exception {
    startSlowTask();
    putWhileQdrantHolds(sink.record(null, memory(1, "one")), sink.record(null, memory(2, "two")));
    assertEquals(1, count(), "put returned with its upsert still in flight");

    // the points Qdrant holds when preCommit returns: every offset it reports must be among them
    CompletableFuture<Map.Entry<Map<TopicPartition, OffsetAndMetadata>, Long>> committed =
        CompletableFuture.supplyAsync(
            () -> {
              Map<TopicPartition, OffsetAndMetadata> offsets = sink.preCommit();
              try {
                return Map.entry(offsets, count());
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    assertFalse(committed.isDone(), "preCommit cannot return while the batch is held");
    qdrant.release();
    assertEquals(
        Map.entry(Map.of(PARTITION, new OffsetAndMetadata(3)), 3L),
        committed.get(10, TimeUnit.SECONDS));
  }

  @Test
  void twoPutsWritingOneIdLandInPutOrder() throws Exception {
    startSlowTask();
    putWhileQdrantHolds(sink.record(null, memory(1, "first")));
    // the second put maps, then waits for the first batch before sending its own
    CompletableFuture<Void> second = putThatWaits(1, sink.record(null, memory(1, "second")));
    qdrant.release();
    second.get(10, TimeUnit.SECONDS);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(3)), sink.preCommit());
    assertEquals(
        List.of(
            new Operation("upsert", "memories", List.of("100")),
            new Operation("upsert", "memories", List.of("1")),
            new Operation("upsert", "memories", List.of("1"))),
        writes());
    assertEquals("second", text(1));

    // without holding anything, many puts in a row: every id ends with its last value
    for (int round = 0; round < 20; round++) {
      task.put(
          List.of(
              sink.record(null, memory(1, "round " + round)), sink.record(null, memory(2, "x"))));
    }
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(sink.offset())), sink.preCommit());
    assertEquals("round 19", text(1));
  }

  @Test
  void aTombstoneAfterAnUpsertInFlightOfItsPointWaitsAndDeletesIt() throws Exception {
    startSlowTask();
    putWhileQdrantHolds(sink.record(null, memory(1, "one")));
    CompletableFuture<Void> tombstone = putThatWaits(1, sink.record(1L, null));
    qdrant.release();
    tombstone.get(10, TimeUnit.SECONDS);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(3)), sink.preCommit());
    assertEquals(null, text(1), "the delete landed after the upsert");
    assertEquals(
        List.of(
            new Operation("upsert", "memories", List.of("100")),
            new Operation("upsert", "memories", List.of("1")),
            new Operation("delete", "memories", List.of("1"))),
        writes());
  }

  /**
   * Puts the records on a thread of their own and returns once that thread is parked (waiting on
   * the batches in flight) with the put not returned and still {@code heldWrites} writes held: a
   * put that did not wait would return, or add a held write, and never be seen so.
   */
  private CompletableFuture<Void> putThatWaits(int heldWrites, SinkRecord... records) {
    CompletableFuture<Void> put = new CompletableFuture<>();
    Thread putter =
        new Thread(
            () -> {
              try {
                task.put(List.of(records));
                put.complete(null);
              } catch (Throwable e) {
                put.completeExceptionally(e);
              }
            },
            "put-that-waits");
    putter.start();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> isParked(putter) && !put.isDone() && qdrant.heldWrites() == heldWrites);
    return put;
  }

  private static boolean isParked(Thread thread) {
    Thread.State state = thread.getState();
    return state == Thread.State.WAITING
        || state == Thread.State.TIMED_WAITING
        || state == Thread.State.BLOCKED;
  }

  @Test
  void putsOnDifferentPointsAreInFlightTogetherAndAPutSharingAPointWaits() throws Exception {
    startSlowTask();
    qdrant.hold();
    task.put(List.of(sink.record(null, memory(1, "one"))));
    task.put(List.of(sink.record(null, memory(2, "two"))));
    task.put(List.of(sink.record(null, memory(3, "three"))));
    await().atMost(Duration.ofSeconds(10)).until(() -> qdrant.heldWrites() == 3);

    // shares point 2 with the second batch in flight: waits until that one is acknowledged
    CompletableFuture<Void> sharing = putThatWaits(3, sink.record(null, memory(2, "later")));
    qdrant.release();
    sharing.get(10, TimeUnit.SECONDS);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(5)), sink.preCommit());
    assertEquals("later", text(2));
    assertEquals(4, count());
  }

  @Test
  void theBatchesInFlightAreBoundedAndSoAreTheirRequests() throws Exception {
    startSlowTask("qdrant.max.in.flight.requests", "1");
    qdrant.hold();
    task.put(List.of(sink.record(null, memory(1, "one"))));
    task.put(
        List.of(sink.record(null, memory(2, "two")))); // waits in the writer for the request slot
    await().atMost(Duration.ofSeconds(10)).until(() -> qdrant.heldWrites() == 1);
    // two batches (one request in flight plus one) is the bound, and one request at a time
    CompletableFuture<Void> third = putThatWaits(1, sink.record(null, memory(3, "three")));
    qdrant.release();
    third.get(10, TimeUnit.SECONDS);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(4)), sink.preCommit());
    assertEquals(4, count());
  }

  /**
   * Large events: the bytes of the points between put and acknowledgement are bounded, not only the
   * number of batches. Two 400 kB points are in flight under a 1 MiB bound; a third waits.
   */
  @Test
  void theBytesOfThePointsInFlightAreBounded() throws Exception {
    startSlowTask("qdrant.max.in.flight.bytes", String.valueOf(1 << 20));
    String large = "x".repeat(400_000);
    qdrant.hold();
    task.put(List.of(sink.record(null, memory(1, large))));
    task.put(List.of(sink.record(null, memory(2, large))));
    await().atMost(Duration.ofSeconds(10)).until(() -> qdrant.heldWrites() == 2);

    CompletableFuture<Void> third = putThatWaits(2, sink.record(null, memory(3, large)));
    qdrant.release();
    third.get(10, TimeUnit.SECONDS);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(4)), sink.preCommit());
    assertEquals(4, count());
  }

  /** A batch larger than the bound on its own is still sent: alone, once the others are done. */
  @Test
  void aBatchLargerThanTheByteBoundIsSentAlone() throws Exception {
    startSlowTask("qdrant.max.in.flight.bytes", String.valueOf(1 << 20));
    qdrant.hold();
    task.put(List.of(sink.record(null, memory(1, "small"))));
    await().atMost(Duration.ofSeconds(10)).until(() -> qdrant.heldWrites() == 1);
    String large = "x".repeat(600_000);
    CompletableFuture<Void> huge =
        putThatWaits(1, sink.record(null, memory(2, large)), sink.record(null, memory(3, large)));
    qdrant.release();
    huge.get(10, TimeUnit.SECONDS);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(4)), sink.preCommit());
    assertEquals(4, count());
  }

  /**
   * Batches kept after a failure were in flight together, so they write different points: they go
   * again together, not one after another (with qdrant.max.in.flight.requests=16 and a slow Qdrant,
   * 17 deadlines in a row would outlast the consumer's max.poll.interval.ms).
   */
  @Test
  void keptBatchesGoAgainTogether() throws Exception {
    startSlowTask();
    qdrant.hold();
    for (int id = 1; id <= 3; id++) {
      task.put(List.of(sink.record(null, memory(id, "point " + id))));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> qdrant.heldWrites() == 3);
    for (String id : List.of("1", "2", "3")) {
      qdrant.failNextWriteOf(id, Status.Code.UNAVAILABLE);
    }
    qdrant.release();
    long before = sink.offset() - 3;
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(before)), sink.preCommit(), "all kept");

    qdrant.hold();
    CompletableFuture<Void> again = putThatWaits(3);
    qdrant.release();
    again.get(10, TimeUnit.SECONDS);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(sink.offset())), sink.preCommit());
    assertEquals("point 3", text(3));
  }

  /** Two puts on points 1 and 2 in flight together; the next write of the point fails. */
  private void putTwoInFlightAndFailTheWriteOf(String point, Status.Code code) {
    startSlowTask();
    qdrant.hold();
    task.put(List.of(sink.record(null, memory(1, "one")))); // offset 1
    task.put(List.of(sink.record(null, memory(2, "two")))); // offset 2
    await().atMost(Duration.ofSeconds(10)).until(() -> qdrant.heldWrites() == 2);
    qdrant.failNextWriteOf(point, code);
    qdrant.release();
  }

  @Test
  void anOlderBatchFailingKeepsItAndNoOffsetPassesIt() throws Exception {
    putTwoInFlightAndFailTheWriteOf("1", Status.Code.UNAVAILABLE);
    assertEquals(
        Map.of(PARTITION, new OffsetAndMetadata(1)),
        sink.preCommit(),
        "the later batch was written, but the older one was not, and offsets go in order");
    assertEquals(null, text(1));
    assertEquals("two", text(2));

    task.put(List.of(sink.record(null, memory(3, "three")))); // the kept batch goes first
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(4)), sink.preCommit());
    assertEquals("one", text(1));
    assertEquals(4, count());
    assertTrue(context.deadLettered().isEmpty());
  }

  @Test
  void aLaterBatchFailingStillLetsTheOlderOneBeAcknowledged() throws Exception {
    putTwoInFlightAndFailTheWriteOf("2", Status.Code.UNAVAILABLE);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(2)), sink.preCommit());
    List<SinkRecord> next = List.of(sink.record(null, memory(3, "three")));
    task.put(next); // the kept batch goes again first, then these
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(4)), sink.preCommit());
    assertEquals("two", text(2));
    assertEquals(4, count());
  }

  @Test
  void anOlderBatchFailingForGoodAcknowledgesNothingAfterItEvenWhatWasWritten() throws Exception {
    putTwoInFlightAndFailTheWriteOf("1", Status.Code.PERMISSION_DENIED);
    // preCommit finds the failure: it reports what was acknowledged, the next put fails
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    List<SinkRecord> next = List.of(sink.record(null, memory(3, "three")));
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(next));
    assertFalse(e instanceof RetriableException);
    assertTrue(e.getMessage().contains("memory.events-0 up to offset 1"), e.getMessage());
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    assertEquals("two", text(2), "written, yet its offset stays behind the failed batch");
  }

  @Test
  void aRefusalWithNoDeadLetterQueueAcknowledgesNoLaterBatchWrittenMeanwhile() throws Exception {
    context.deadLetterQueue(false);
    putTwoInFlightAndFailTheWriteOf("1", Status.Code.INVALID_ARGUMENT);
    List<SinkRecord> next = List.of(sink.record(null, memory(1, "again"))); // waits for the first
    assertThrows(DataException.class, () -> task.put(next));
    // Connect still commits what preCommit reports when it closes the failed task's partitions
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    assertEquals("two", text(2), "written, yet its offset stays behind the refused record");
  }

  /**
   * Two batches fail in flight around one Qdrant wrote, and a rebalance takes the first one's only
   * partition: the kept batch now behind the written one must still go again with the next put (it
   * used to wait on its request, which a kept batch does not have, and fail the task).
   */
  @Test
  void aKeptBatchBehindAWrittenOneGoesAgainAfterTheBatchBeforeBothIsClosedAway() throws Exception {
    startSlowTask();
    TopicPartition other = new TopicPartition(PARTITION.topic(), 1);
    qdrant.hold();
    task.put(List.of(onPartitionOne(memory(1, "one"), 7))); // partition 1 only; will fail: kept
    task.put(List.of(sink.record(null, memory(2, "two")))); // offset 1, written
    task.put(List.of(sink.record(null, memory(3, "three")))); // offset 2, will fail: kept
    await().atMost(Duration.ofSeconds(10)).until(() -> qdrant.heldWrites() == 3);
    qdrant.failNextWriteOf("1", Status.Code.UNAVAILABLE);
    qdrant.failNextWriteOf("3", Status.Code.UNAVAILABLE);
    qdrant.release();
    task.close(List.of(other));

    task.put(List.of()); // sends the kept batch again
    assertEquals("three", text(3));
    assertEquals(
        Map.of(PARTITION, new OffsetAndMetadata(3)),
        task.preCommit(
            Map.of(PARTITION, new OffsetAndMetadata(3), other, new OffsetAndMetadata(8))));
    assertEquals(
        0, writes().stream().filter(o -> o.ids().contains("1")).count(), "partition 1's is gone");
  }

  @Test
  void closingAPartitionDoesNotSendAgainABatchQdrantAlreadyWrote() throws Exception {
    startSlowTask();
    TopicPartition other = new TopicPartition(PARTITION.topic(), 1);
    qdrant.hold();
    task.put(List.of(sink.record(null, memory(1, "one")))); // offset 1, will fail: kept
    // collapsed to partition 1's write of point 5, written
    task.put(List.of(sink.record(null, memory(5, "old")), onPartitionOne(memory(5, "new"), 9)));
    await().atMost(Duration.ofSeconds(10)).until(() -> qdrant.heldWrites() == 2);
    qdrant.failNextWriteOf("1", Status.Code.UNAVAILABLE);
    qdrant.release();
    task.close(List.of(other));

    task.put(List.of()); // sends the kept batch again, acknowledges the written one
    assertEquals(
        Map.of(PARTITION, new OffsetAndMetadata(3)),
        task.preCommit(
            Map.of(PARTITION, new OffsetAndMetadata(3), other, new OffsetAndMetadata(10))));
    assertEquals("new", text(5), "the written batch was not sent again without partition 1");
    assertEquals(
        1, writes().stream().filter(o -> o.ids().contains("5")).count(), "point 5 written once");
    assertEquals("one", text(1));
  }

  @Test
  void aTransientFailureInFlightKeepsTheBatchAndTheNextPutIsDeliveredAgain() throws Exception {
    startSlowTask();
    qdrant.failNext(1, Status.Code.UNAVAILABLE);
    task.put(List.of(sink.record(null, memory(1, "one")))); // offset 1: sent, refused in flight
    await().atMost(Duration.ofSeconds(10)).until(() -> qdrant.pendingFailures() == 0);

    List<SinkRecord> next =
        List.of(sink.record(null, memory(2, "two")), sink.record(null, memory(1, "1b")));
    assertThrows(RetriableException.class, () -> task.put(next));
    assertTrue(context.timeoutMs() > 0);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    assertEquals(1, count(), "neither the kept batch nor the next put's records were written");

    // delivered again while Qdrant still refuses: the kept batch fails again and stays kept
    qdrant.failNext(1, Status.Code.UNAVAILABLE);
    assertThrows(RetriableException.class, () -> task.put(next));
    assertEquals(0, qdrant.pendingFailures());
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());

    // Connect delivers the same records again: the kept batch goes first, then these
    task.put(next);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(4)), sink.preCommit());
    assertEquals(3, count());
    assertEquals("1b", text(1));
    assertEquals(
        List.of(
            new Operation("upsert", "memories", List.of("100")),
            new Operation("upsert", "memories", List.of("1")),
            new Operation("upsert", "memories", List.of("2", "1"))),
        writes());
    assertTrue(context.deadLettered().isEmpty());
  }

  @Test
  void aTransientFailureFoundByPreCommitIsSentAgainByTheNextPut() throws Exception {
    startSlowTask();
    qdrant.failNext(1, Status.Code.DEADLINE_EXCEEDED);
    task.put(List.of(sink.record(null, memory(1, "one"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit()); // kept, not thrown
    task.put(List.of(sink.record(null, memory(2, "two"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(3)), sink.preCommit());
    assertEquals(3, count());
  }

  /**
   * qdrant.timeout.ms bounds every call: a write Qdrant holds past it fails DEADLINE_EXCEEDED,
   * which keeps the batch to be sent again (never dead-lettered), so preCommit returns instead of
   * waiting for Qdrant.
   */
  @Test
  void aWriteQdrantHoldsPastQdrantTimeoutIsRetriedNotDeadLettered() throws Exception {
    startTask("qdrant.timeout.ms", "300");
    task.put(List.of(sink.record(null, memory(100, "creates the collection"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());

    List<SinkRecord> held = List.of(sink.record(null, memory(1, "one")));
    List<SinkRecord> next = List.of(sink.record(null, memory(2, "two")));
    qdrant.hold();
    try {
      task.put(held);
      Map<TopicPartition, OffsetAndMetadata> committed =
          assertTimeoutPreemptively(Duration.ofSeconds(10), () -> sink.preCommit());
      assertEquals(
          Map.of(PARTITION, new OffsetAndMetadata(1)), committed, "kept, not acknowledged");
      RetriableException e =
          assertTimeoutPreemptively(
              Duration.ofSeconds(10),
              () -> assertThrows(RetriableException.class, () -> task.put(next)));
      assertTrue(e.getMessage().contains("DEADLINE_EXCEEDED"), e.getMessage());
    } finally {
      qdrant.release(); // also when a deadline is not enforced: the task must be able to stop
    }
    task.put(next); // Connect delivers them again: the kept batch goes first
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(3)), sink.preCommit());
    assertEquals(3, count());
    assertTrue(context.deadLettered().isEmpty());
  }

  @Test
  void aPermanentFailureInFlightFailsTheNextPutNamingTheBatchByOffsets() throws Exception {
    startSlowTask();
    qdrant.failNext(1, Status.Code.PERMISSION_DENIED);
    task.put(
        List.of(sink.record(null, memory(1, "secret text")), sink.record(null, memory(2, "two"))));
    // shares point 2 with the batch in flight, so it waits for it and meets its failure
    List<SinkRecord> next = List.of(sink.record(null, memory(2, "three")));
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(next));
    assertFalse(e instanceof RetriableException);
    assertTrue(e.getMessage().contains("memory.events-0 up to offset 2"), e.getMessage());
    assertFalse(e.getMessage().contains("secret"), e.getMessage());
    assertSame(e, assertThrows(ConnectException.class, () -> task.put(next)));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    assertEquals(1, count(), "the next put's records were not sent");
  }

  @Test
  void closingAPartitionWaitsForItsRecordsInFlightAndForgetsTheirOffsets() throws Exception {
    startSlowTask();
    TopicPartition other = new TopicPartition(PARTITION.topic(), 1);
    putWhileQdrantHolds(sink.record(null, memory(1, "one")), onPartitionOne(memory(2, "two"), 7));
    CompletableFuture<Void> closed = CompletableFuture.runAsync(() -> task.close(List.of(other)));
    assertFalse(closed.isDone(), "close waits for the batch in flight");
    qdrant.release();
    closed.get(10, TimeUnit.SECONDS);
    assertEquals(3, count(), "nothing of the closed partition is still in flight");
    assertEquals(
        Map.of(PARTITION, new OffsetAndMetadata(2)),
        task.preCommit(
            Map.of(PARTITION, new OffsetAndMetadata(2), other, new OffsetAndMetadata(8))));
  }

  /**
   * Puts the records (one of PARTITION's, then partition 1's) in a batch that fails in flight,
   * closes partition 1, lets a later poll send the kept batch again, and returns what preCommit
   * reports when Connect has consumed both partitions up to their last record.
   */
  private Map<TopicPartition, OffsetAndMetadata> keepBatchAndClosePartitionOne(
      SinkRecord... records) {
    TopicPartition other = new TopicPartition(PARTITION.topic(), 1);
    qdrant.failNext(1, Status.Code.UNAVAILABLE);
    task.put(List.of(records));
    task.close(List.of(other)); // the batch failed in flight: kept, without partition 1
    task.put(List.of()); // a later poll sends the kept batch again
    long otherNext = records[records.length - 1].kafkaOffset() + 1;
    return task.preCommit(
        Map.of(PARTITION, new OffsetAndMetadata(2), other, new OffsetAndMetadata(otherNext)));
  }

  private static SinkRecord onPartitionOne(Object value, long offset) {
    return new SinkRecord(PARTITION.topic(), 1, null, null, null, value, offset);
  }

  @Test
  void closingAPartitionDropsItsRecordsFromAKeptBatch() throws Exception {
    startSlowTask();
    assertEquals(
        Map.of(PARTITION, new OffsetAndMetadata(2)),
        keepBatchAndClosePartitionOne(
            sink.record(null, memory(1, "one")),
            onPartitionOne(memory(2, "two"), 7),
            onPartitionOne(Map.of("text", "no id"), 8)));
    assertEquals(2, count());
    assertEquals(null, text(2), "the closed partition's record was not written");
    assertTrue(context.deadLettered().isEmpty(), "nor its bad record dead-lettered");
    assertEquals(
        2.0,
        context.metric("records-skipped-closed-partition-total"),
        "the closed partition's point and bad record, counted as left to its new owner");
  }

  @Test
  void closingAPartitionKeepsAnotherPartitionsWriteOfTheSameIdInAKeptBatch() throws Exception {
    startSlowTask();
    // one point id written from two partitions: collapsed, partition 1's write wins the batch
    assertEquals(
        Map.of(PARTITION, new OffsetAndMetadata(2)),
        keepBatchAndClosePartitionOne(
            sink.record(null, memory(1, "from partition 0")),
            onPartitionOne(memory(1, "from partition 1"), 7)));
    assertEquals(
        "from partition 0", text(1), "the open partition's write is acknowledged, so it landed");
  }

  @Test
  void recordsDeliveredAgainAreNotEmbeddedWhileAKeptBatchStillFails() throws Exception {
    startSlowTask();
    qdrant.failNext(1, Status.Code.UNAVAILABLE);
    task.put(List.of(sink.record(null, memory(1, "one")))); // sent, refused in flight
    assertEquals(
        Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit()); // now kept, not sent
    List<SinkRecord> next =
        List.of(
            sink.record(null, memory(2, "two")),
            sink.record(null, memory(3, "three")),
            sink.record(null, memory(4, "four")));
    qdrant.failNext(1, Status.Code.UNAVAILABLE);
    assertThrows(RetriableException.class, () -> task.put(next)); // the kept batch fails again
    assertEquals(
        1.0, context.metric("embedding-batch-size-max"), "the three records were not embedded");
    task.put(next);
    assertEquals(3.0, context.metric("embedding-batch-size-max"));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(5)), sink.preCommit());
    assertEquals(5, count());
  }

  @Test
  void aCollectionRecreatedWithOtherVectorsFailsTheTaskInsteadOfDeadLetteringEveryRecord()
      throws Exception {
    startTask("batch.max.points", "64");
    task.put(List.of(sink.record(null, memory(1000, "first"))));
    sink.preCommit();
    // an operator recreates the collection with another size while the task runs
    reader.deleteCollectionAsync("memories").get();
    reader
        .createCollectionAsync(
            "memories", VectorParams.newBuilder().setSize(4).setDistance(Distance.Cosine).build())
        .get();
    List<SinkRecord> records = new ArrayList<>();
    for (long id = 1; id <= 64; id++) {
      records.add(sink.record(null, memory(id, "text " + id)));
    }
    task.put(records); // sent; refused in flight
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    ConnectException failed = assertThrows(ConnectException.class, () -> task.put(List.of()));
    assertFalse(failed instanceof RetriableException);
    assertTrue(failed.getMessage().contains("vector.size"), failed.getMessage());
    assertTrue(context.deadLettered().isEmpty(), "no record was dead-lettered for it");
  }

  @Test
  void aTombstoneCollapsedUnderAnUpsertQdrantRefusesIsStillApplied() throws Exception {
    startTask("embedder", "field", "vector.name", "dense");
    List<Integer> vector = List.of(1, 0, 0, 0, 0, 0, 0, 0);
    task.put(List.of(sink.record(null, Map.of("id", 1L, "vector", Map.of("dense", vector)))));
    sink.preCommit();
    Map<String, Object> undeclared = Map.of("dense", vector, "undeclared", List.of(1));
    task.put(
        List.of(
            sink.record(1L, null), // deletes point 1
            sink.record(null, Map.of("id", 1L, "vector", undeclared)))); // refused by Qdrant
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(3)), sink.preCommit());
    assertEquals(1, context.deadLettered().size(), "the refused upsert is dead-lettered");
    assertEquals(0, count(), "and the tombstone it replaced in collapsing was applied");
  }

  @Test
  void anUpsertCollapsedUnderOneQdrantRefusesLandsInstead() throws Exception {
    startTask("embedder", "field", "vector.name", "dense");
    List<Integer> vector = List.of(1, 0, 0, 0, 0, 0, 0, 0);
    Map<String, Object> undeclared = Map.of("dense", vector, "undeclared", List.of(1));
    task.put(
        List.of(
            sink.record(null, Map.of("id", 1L, "text", "first", "vector", Map.of("dense", vector))),
            sink.record(null, Map.of("id", 1L, "text", "second", "vector", undeclared))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(2)), sink.preCommit());
    assertEquals(1, context.deadLettered().size());
    assertEquals("first", text(1));
  }

  @Test
  void stopLetsTheBatchInFlightFinishFirst() throws Exception {
    startSlowTask();
    putWhileQdrantHolds(sink.record(null, memory(1, "one")));
    QdrantVectorSinkTask stopping = sink.stoppedByTheTest();
    CompletableFuture<Void> stopped = CompletableFuture.runAsync(stopping::stop);
    assertFalse(stopped.isDone(), "stop waits for the batch in flight");
    qdrant.release();
    stopped.get(10, TimeUnit.SECONDS);
    assertEquals(2, count());
  }

  /**
   * A Qdrant that holds a batch unanswered, with a deadline far past Connect's graceful shutdown
   * timeout (5 s), does not hold stop for the deadline: stop gives the batch a bounded while, then
   * cancels it, and returns while Qdrant still holds the request. Its offsets were never committed.
   */
  @Test
  void stopCancelsABatchQdrantHoldsRatherThanWaitForItsDeadline() throws Exception {
    startSlowTask("qdrant.timeout.ms", "60000");
    putWhileQdrantHolds(sink.record(null, memory(1, "one")));
    QdrantVectorSinkTask stopping = sink.stoppedByTheTest();
    CompletableFuture<Void> stopped = CompletableFuture.runAsync(stopping::stop);
    try {
      await().atMost(Duration.ofSeconds(10)).until(stopped::isDone);
      stopped.get(); // stop threw nothing
      assertEquals(1, qdrant.heldWrites(), "stop returned while Qdrant still held the write");
    } finally {
      qdrant.release();
    }
  }

  /**
   * Restarting a task with the OpenAI embedder many times does not leave an HTTP client's selector
   * thread per start: on Java 17 a client cannot be closed and its thread lives until a GC collects
   * it, which on a busy worker can be hours. The stopped tasks are kept reachable here, as they are
   * on a worker until that GC, so a client per start would show as a thread per start.
   */
  @Test
  void restartsWithTheOpenAiEmbedderDoNotLeaveAnHttpClientThreadEach() {
    int before = httpClientSelectorThreads();
    List<QdrantVectorSinkTask> stopped = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      sink.start(
          "embedder", "openai", "embedder.openai.url", "http://127.0.0.1:9/v1", "vector.size", "8");
      QdrantVectorSinkTask stopping = sink.stoppedByTheTest();
      stopping.stop();
      stopped.add(stopping);
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> httpClientSelectorThreads() <= before + 1); // one shared client at most
    assertEquals(20, stopped.size());
  }

  private static int httpClientSelectorThreads() {
    return (int)
        Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.isAlive() && t.getName().matches("HttpClient-\\d+-SelectorManager"))
            .count();
  }

  // ------------------------------------------------------- against Qdrant's own answers
  // (QdrantFidelityBehaviour holds the stand-in to them, and them to Qdrant where Docker runs)

  @Test
  void theTaskWithAWrongApiKeyFailsForGoodInsteadOfRetrying() {
    qdrant.requireApiKey("secret");
    startTask("vector.size", "4", "qdrant.api.key", "guess", "embedder", "field");
    List<SinkRecord> batch =
        List.of(sink.record(null, Map.of("id", 1L, "vector", List.of(1, 0, 0, 0))));
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(batch));
    assertFalse(e instanceof RetriableException, e.toString());
    assertTrue(e.getMessage().contains("UNAUTHENTICATED"), e.getMessage());
  }

  @Test
  void theTaskWithTheRightApiKeyWrites() throws Exception {
    qdrant.requireApiKey("secret");
    startTask("vector.size", "4", "qdrant.api.key", "secret", "embedder", "field");
    task.put(List.of(sink.record(null, Map.of("id", 1L, "vector", List.of(1, 0, 0, 0)))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    qdrant.requireApiKey(null);
    assertEquals(1, count());
  }

  @Test
  void theTaskDeadLettersASparseVectorWithARepeatedIndexAndWritesTheOthers() throws Exception {
    startTask(
        "vector.size",
        "4",
        "embedder",
        "field",
        "vector.name",
        "dense",
        "collection.sparse.vectors",
        "words");
    List<SinkRecord> records = new ArrayList<>();
    for (long id = 1; id <= 4; id++) {
      List<Integer> indices = id == 3 ? List.of(5, 5) : List.of(7, 5);
      records.add(
          sink.record(
              null,
              Map.of(
                  "id",
                  id,
                  "vector",
                  Map.of(
                      "dense",
                      List.of(1, 0, 0, 0),
                      "words",
                      Map.of("indices", indices, "values", List.of(0.5, 0.25))))));
    }
    task.put(records);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(4)), sink.preCommit());
    assertEquals(3, count());
    assertEquals(1, context.deadLettered().size());
    assertTrue(
        context.deadLettered().get(0).getValue().getMessage().contains("must be unique"),
        context.deadLettered().get(0).getValue().getMessage());
  }

  @Test
  void theTaskWritesOnePointForTwoSpellingsOfAUuid() throws Exception {
    startTask("vector.size", "4", "embedder", "field");
    String canonical = "0f8fad5b-d9cb-469f-a165-70867728950e";
    task.put(
        List.of(
            sink.record(null, Map.of("id", canonical.toUpperCase(), "vector", List.of(1, 0, 0, 0))),
            sink.record(null, Map.of("id", canonical, "vector", List.of(0, 1, 0, 0)))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(2)), sink.preCommit());
    assertEquals(1, count());
  }

  /**
   * A Struct's Date id names the point of its ISO date ("2024-01-01"), a Time id of its time: a
   * tombstone keyed by the same Date or Time must be read with the key's schema too, or it names
   * another point (of "2024-01-01T00:00:00Z") and its delete misses silently.
   */
  @Test
  void aTombstoneKeyedByADateOrTimeDeletesThePointItsValueMade() throws Exception {
    startTask();
    Date day = Date.from(LocalDate.parse("2024-01-01").atStartOfDay(ZoneOffset.UTC).toInstant());
    upsertThenTombstone(
        org.apache.kafka.connect.data.Date.SCHEMA,
        day,
        org.apache.kafka.connect.data.Date.SCHEMA,
        day);
    Date oneOClock = new Date(3_600_000L);
    upsertThenTombstone(Time.SCHEMA, oneOClock, Time.SCHEMA, oneOClock);
    assertTrue(context.deadLettered().isEmpty());
  }

  /** The same through delete.id.field: the Date in a Struct key is read with its field's schema. */
  @Test
  void aTombstoneKeyedByAStructHoldingADateDeletesThePointItsValueMade() throws Exception {
    startTask("delete.id.field", "id");
    Date day = Date.from(LocalDate.parse("2024-01-01").atStartOfDay(ZoneOffset.UTC).toInstant());
    Schema keySchema =
        SchemaBuilder.struct().field("id", org.apache.kafka.connect.data.Date.SCHEMA).build();
    upsertThenTombstone(
        org.apache.kafka.connect.data.Date.SCHEMA,
        day,
        keySchema,
        new Struct(keySchema).put("id", day));
    assertTrue(context.deadLettered().isEmpty());
  }

  private void upsertThenTombstone(Schema idSchema, Object id, Schema keySchema, Object key)
      throws Exception {
    Schema valueSchema =
        SchemaBuilder.struct().field("id", idSchema).field("text", Schema.STRING_SCHEMA).build();
    Struct value = new Struct(valueSchema).put("id", id).put("text", "hello");
    task.put(List.of(sink.record(null, null, valueSchema, value)));
    sink.preCommit();
    assertEquals(1, count());
    task.put(List.of(sink.record(keySchema, key, null, null)));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(sink.offset())), sink.preCommit());
    assertEquals(0, count(), "the tombstone deleted the point");
  }

  // ------------------------------------------------- ids made of several fields

  private static Map<String, Object> namespaced(String namespace, String id, String text) {
    return Map.of("namespace", namespace, "id", id, "text", text);
  }

  private String textOf(String uuid) throws Exception {
    return reader
        .retrieveAsync(
            "memories",
            io.qdrant.client.PointIdFactory.id(java.util.UUID.fromString(uuid)),
            true,
            false,
            null)
        .get()
        .get(0)
        .getPayloadOrThrow("text")
        .getStringValue();
  }

  /**
   * A memory id is unique only within its namespace: with id.fields=namespace,id two tenants' mem-5
   * are two points, each holding its own tenant's payload, a replay writes the same two points
   * again, and a tombstone keyed by namespace and id deletes exactly its tenant's point.
   */
  @Test
  void idsMadeOfNamespaceAndIdKeepTenantsApartAcrossReplaysAndTombstones() throws Exception {
    startTask("id.fields", "namespace,id");
    List<SinkRecord> events =
        List.of(
            sink.record(null, namespaced("acme.agent0", "mem-5", "acme's words")),
            sink.record(null, namespaced("globex.agent0", "mem-5", "globex's words")));
    task.put(events);
    sink.preCommit();
    assertEquals(2, count());
    // python3: uuid.uuid5(uuid.NAMESPACE_URL, json.dumps(["acme.agent0","mem-5"],
    //   separators=(",", ":"), ensure_ascii=False))
    String acme = "78333939-ee42-5a23-9f2a-15a88c0200b0";
    String globex = "06fa5125-870d-5da1-9e96-31b232e7bbeb";
    assertEquals("acme's words", textOf(acme));
    assertEquals("globex's words", textOf(globex));

    task.put(
        List.of(
            sink.record(null, namespaced("acme.agent0", "mem-5", "acme's words")),
            sink.record(null, namespaced("globex.agent0", "mem-5", "globex's words"))));
    sink.preCommit();
    assertEquals(2, count(), "a replay hits the same points");

    task.put(List.of(sink.record("{\"namespace\":\"acme.agent0\",\"id\":\"mem-5\"}", null)));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(5)), sink.preCommit());
    assertEquals(1, count());
    assertEquals("globex's words", textOf(globex));
    assertTrue(context.deadLettered().isEmpty());
  }
}
