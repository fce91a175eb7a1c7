package io.somastack.connect.qdrant;

import static io.somastack.connect.qdrant.StandInTask.PARTITION;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qdrant.client.QdrantClient;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.somastack.connect.testing.qdrant.QdrantGrpcStandIn;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A multi-tenant sink: collection.name makes each record's collection from its key or value (a
 * tenant's), against the gRPC stand-in. One tenant's collection must neither come back after the
 * tenant was offboarded nor stall the other tenants when it is unusable.
 */
class TenantCollectionsTest {

  @RegisterExtension final StandInTask sink = new StandInTask();

  private final QdrantGrpcStandIn qdrant = sink.qdrant;
  private final QdrantClient reader = sink.reader;

  private static Map<String, Object> memory(long id, String tenant) {
    return Map.of("id", id, "text", "private words of " + tenant, "tenant_id", tenant);
  }

  private void createCollection(String name, int size) throws Exception {
    reader
        .createCollectionAsync(
            name, VectorParams.newBuilder().setSize(size).setDistance(Distance.Cosine).build())
        .get();
  }

  private boolean exists(String name) throws Exception {
    return reader.collectionExistsAsync(name).get();
  }

  /**
   * A tombstone for a tenant whose collection is gone (dropped to offboard the tenant) has nothing
   * to delete: the collection is not created again, empty, with its indexes, and the offset passes
   * the tombstone without a dead letter.
   */
  @Test
  void aTombstoneForAMissingTenantCollectionCreatesNothing() throws Exception {
    QdrantVectorSinkTask task =
        sink.start(
            "collection.name", "mem_${key.tenant_id}",
            "delete.id.field", "id",
            "collection.payload.indexes", "tenant_id:keyword");
    task.put(List.of(sink.record(Map.of("tenant_id", "offboarded", "id", 7L), null)));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    assertFalse(exists("mem_offboarded"), "the tombstone created the tenant's collection");
    assertEquals(List.of(), qdrant.operations(), "nothing created, indexed or deleted");
    assertTrue(sink.context.deadLettered().isEmpty());

    // the tenant's collection is still made by its first upsert, and a tombstone then deletes
    task.put(
        List.of(
            sink.record(Map.of("tenant_id", "offboarded", "id", 8L), memory(8, "offboarded")),
            sink.record(Map.of("tenant_id", "offboarded", "id", 9L), memory(9, "offboarded"))));
    task.put(List.of(sink.record(Map.of("tenant_id", "offboarded", "id", 8L), null)));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(4)), sink.preCommit());
    assertEquals(1, reader.countAsync("mem_offboarded").get());
  }

  /**
   * A tenant's collection made elsewhere for other vectors is that tenant's records' problem: they
   * go to the dead letter queue saying why (the collection, its size against vector.size), the
   * other tenants' records land and the offset passes them all; once the operator fixes the
   * collection, the tenant's next records land.
   */
  @Test
  void aTenantCollectionWithOtherVectorsDeadLettersItsRecordsAndTheOthersLand() throws Exception {
    createCollection("mem_bad", 4);
    QdrantVectorSinkTask task =
        sink.start(
            "collection.name", "mem_${value.tenant_id}",
            "delete.enabled", "false",
            "errors.tolerance", "all",
            "errors.deadletterqueue.topic.name", "dlq");
    task.put(
        List.of(
            sink.record(null, memory(1, "good")),
            sink.record(null, memory(2, "bad")),
            sink.record(null, memory(3, "good"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(3)), sink.preCommit());
    assertEquals(2, reader.countAsync("mem_good").get());
    assertEquals(0, reader.countAsync("mem_bad").get());
    assertEquals(
        List.of(1L),
        sink.context.deadLettered().stream().map(e -> e.getKey().kafkaOffset()).toList());
    Throwable reason = sink.context.deadLettered().get(0).getValue();
    assertTrue(reason instanceof DataException, reason.toString());
    assertTrue(reason.getMessage().contains("'mem_bad'"), reason.getMessage());
    assertTrue(reason.getMessage().contains("vectors of size 4"), reason.getMessage());
    assertTrue(reason.getMessage().contains("vector.size is 8"), reason.getMessage());
    assertFalse(reason.getMessage().contains("private words"), reason.getMessage());

    // the operator makes the collection again for the configured vectors
    reader.deleteCollectionAsync("mem_bad").get();
    createCollection("mem_bad", 8);
    task.put(List.of(sink.record(null, memory(4, "bad"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(4)), sink.preCommit());
    assertEquals(1, reader.countAsync("mem_bad").get());
    assertEquals(1, sink.context.deadLettered().size());
  }

  /**
   * A tenant's collection recreated with other vectors under a running task: the refused writes
   * have it checked again, and its records are dead-lettered, once each, saying why, while the
   * other tenant's records land; the task goes on.
   */
  @Test
  void aTenantCollectionRecreatedWithOtherVectorsDeadLettersItsRecordsInFlight() throws Exception {
    QdrantVectorSinkTask task =
        sink.start(
            "collection.name", "mem_${value.tenant_id}",
            "delete.enabled", "false",
            "errors.tolerance", "all",
            "errors.deadletterqueue.topic.name", "dlq");
    task.put(List.of(sink.record(null, memory(1, "bad")), sink.record(null, memory(2, "good"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(2)), sink.preCommit());
    reader.deleteCollectionAsync("mem_bad").get();
    createCollection("mem_bad", 4);
    task.put(
        List.of(
            sink.record(null, memory(3, "bad")),
            sink.record(null, memory(4, "good")),
            sink.record(null, memory(5, "bad"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(5)), sink.preCommit());
    assertEquals(2, reader.countAsync("mem_good").get());
    assertEquals(
        List.of(2L, 4L),
        sink.context.deadLettered().stream().map(e -> e.getKey().kafkaOffset()).toList());
    for (var deadLetter : sink.context.deadLettered()) {
      assertTrue(
          deadLetter.getValue().getMessage().contains("vectors of size 4"),
          deadLetter.getValue().getMessage());
    }
    task.put(List.of(sink.record(null, memory(6, "good"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(6)), sink.preCommit());
  }

  /** A tenant's payload index of another type than configured is dead-lettered alike. */
  @Test
  void aTenantCollectionWithAnotherIndexTypeDeadLettersItsRecords() throws Exception {
    createCollection("mem_bad", 8);
    reader
        .createPayloadIndexAsync(
            "mem_bad", "tenant_id", PayloadSchemaType.Integer, null, true, null, null)
        .get();
    QdrantVectorSinkTask task =
        sink.start(
            "collection.name", "mem_${value.tenant_id}",
            "collection.payload.indexes", "tenant_id:keyword",
            "delete.enabled", "false",
            "errors.tolerance", "all",
            "errors.deadletterqueue.topic.name", "dlq");
    task.put(List.of(sink.record(null, memory(1, "bad")), sink.record(null, memory(2, "good"))));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(2)), sink.preCommit());
    assertEquals(1, reader.countAsync("mem_good").get());
    assertEquals(1, sink.context.deadLettered().size());
    String reason = sink.context.deadLettered().get(0).getValue().getMessage();
    assertTrue(reason.contains("'mem_bad'"), reason);
    assertTrue(
        reason.contains("as integer but collection.payload.indexes asks for keyword"), reason);
  }

  /** Without a dead letter queue such a record fails the task, as any record it cannot write. */
  @Test
  void withoutADeadLetterQueueATenantCollectionWithOtherVectorsFailsTheTask() throws Exception {
    sink.context.deadLetterQueue(false);
    createCollection("mem_bad", 4);
    QdrantVectorSinkTask task =
        sink.start("collection.name", "mem_${value.tenant_id}", "delete.enabled", "false");
    ConnectException e =
        assertThrows(
            ConnectException.class, () -> task.put(List.of(sink.record(null, memory(1, "bad")))));
    assertFalse(e instanceof RetriableException, e.toString());
    assertTrue(e.getMessage().contains("memory.events-0@0"), e.getMessage());
    assertTrue(e.getMessage().contains("vector.size is 8"), e.getMessage());
    assertFalse(e.getMessage().contains("mem_bad"), "the name is record data: " + e.getMessage());
    assertTrue(sink.preCommit().isEmpty());
  }

  /** A fixed collection with other vectors stays a configuration error that fails the task. */
  @Test
  void aFixedCollectionWithOtherVectorsFailsTheTask() throws Exception {
    createCollection("memories", 4);
    QdrantVectorSinkTask task =
        sink.start(
            "delete.enabled",
            "false",
            "errors.tolerance",
            "all",
            "errors.deadletterqueue.topic.name",
            "dlq");
    ConnectException e =
        assertThrows(
            ConnectException.class, () -> task.put(List.of(sink.record(null, memory(1, "any")))));
    assertFalse(e instanceof RetriableException, e.toString());
    assertTrue(e.getMessage().contains("vector.size is 8"), e.getMessage());
    assertTrue(sink.context.deadLettered().isEmpty());
  }
}
