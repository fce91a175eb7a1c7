package io.somastack.connect.qdrant;

import static io.somastack.connect.qdrant.StandInTask.PARTITION;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.grpc.Status;
import io.qdrant.client.PointIdFactory;
import io.qdrant.client.QdrantClient;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.testing.qdrant.QdrantGrpcStandIn;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Records a put mapped (embedded) and then could not send, because a call to Qdrant failed
 * transiently after the mapping, go back to Connect, which delivers the same records again: they
 * are sent as mapped the first time, not embedded again on every retry (an embeddings endpoint
 * bills per call). The embeddings endpoint here is a local server that counts each text it embeds.
 */
class RecordsDeliveredAgainTest {

  @RegisterExtension final StandInTask sink = new StandInTask("qdrant.timeout.ms", "30000");

  private final QdrantGrpcStandIn qdrant = sink.qdrant;
  private final QdrantClient reader = sink.reader;

  private HttpServer embeddings;

  /** How often each text was embedded. */
  private final Map<String, Integer> embedded = new ConcurrentHashMap<>();

  private QdrantVectorSinkTask task;

  @BeforeEach
  void startEmbeddings() throws IOException {
    embeddings = HttpServer.create(new InetSocketAddress("localhost", 0), 0);
    embeddings.createContext("/v1/embeddings", this::embed);
    embeddings.start();
  }

  @AfterEach
  void stopEmbeddings() {
    embeddings.stop(0);
  }

  private void startTask(String... keyValues) {
    List<String> props =
        new ArrayList<>(
            List.of(
                "embedder",
                "openai",
                "embedder.openai.url",
                "http://localhost:" + embeddings.getAddress().getPort() + "/v1",
                "embedder.openai.model",
                "test-model"));
    props.addAll(List.of(keyValues));
    task = sink.start(props.toArray(String[]::new));
  }

  private SinkRecord record(long id, String text, String tenant) {
    return sink.record(null, Map.of("id", id, "text", text, "tenant_id", tenant));
  }

  /** The first batch after a start finds Qdrant down while it checks the collection. */
  @Test
  void aCollectionCheckFailingAfterTheBatchWasEmbeddedDoesNotEmbedItAgain() throws Exception {
    startTask();
    List<SinkRecord> batch = List.of(record(1, "one", "t1"), record(2, "two", "t1"));
    qdrant.failNext(1, Status.Code.UNAVAILABLE); // the collection's existence check
    assertThrows(RetriableException.class, () -> task.put(batch));

    task.put(batch); // Connect delivers the same records again
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(2)), sink.preCommit());
    assertEquals(2, reader.countAsync("memories").get());
    assertEquals(Map.of("one", 1, "two", 1), embedded);
  }

  /** Every batch that brings a tenant's first record checks (or makes) its collection. */
  @Test
  void aNewTenantsCollectionCheckFailingDoesNotEmbedTheBatchAgain() throws Exception {
    startTask("collection.name", "mem_${value.tenant_id}", "delete.enabled", "false");
    task.put(List.of(record(1, "first of t1", "t1")));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit(), "written");
    List<SinkRecord> batch = List.of(record(2, "first of t2", "t2"), record(3, "more", "t1"));
    qdrant.failNext(1, Status.Code.DEADLINE_EXCEEDED);
    assertThrows(RetriableException.class, () -> task.put(batch));
    qdrant.failNext(1, Status.Code.NOT_FOUND); // and again: still not embedded again
    assertThrows(RetriableException.class, () -> task.put(batch));

    task.put(batch);
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(3)), sink.preCommit());
    assertEquals(1, reader.countAsync("mem_t2").get());
    assertEquals(2, reader.countAsync("mem_t1").get());
    assertEquals(Map.of("first of t1", 1, "first of t2", 1, "more", 1), embedded);
  }

  /**
   * A put maps its records, then waits for a batch in flight on the same point: that one failed.
   */
  @Test
  void aFailureOfTheBatchBeforeFoundAfterMappingDoesNotEmbedTheBatchAgain() throws Exception {
    startTask();
    qdrant.failNextWriteOf("1", Status.Code.UNAVAILABLE);
    task.put(List.of(record(1, "one", "t1"))); // sent, refused in flight
    List<SinkRecord> next = List.of(record(1, "one again", "t1"), record(2, "two", "t1"));
    assertThrows(RetriableException.class, () -> task.put(next));

    task.put(next); // the kept batch goes first, then these as they were mapped
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(3)), sink.preCommit());
    assertEquals("one again", text(1));
    assertEquals(Map.of("one", 1, "one again", 1, "two", 1), embedded);
  }

  /**
   * A rebalance between the failed put and the next takes a partition: Connect delivers only the
   * records of the others, and nothing of the closed partition is written from the batch mapped.
   */
  @Test
  void aBatchMappedBeforeAPartitionWasClosedIsNotSentWithItsRecords() throws Exception {
    startTask();
    TopicPartition other = new TopicPartition(PARTITION.topic(), 1);
    SinkRecord kept = record(1, "one", "t1");
    SinkRecord closed =
        new SinkRecord(
            other.topic(),
            other.partition(),
            null,
            null,
            null,
            Map.of("id", 2L, "text", "two", "tenant_id", "t1"),
            7);
    qdrant.failNext(1, Status.Code.UNAVAILABLE);
    assertThrows(RetriableException.class, () -> task.put(List.of(kept, closed)));
    task.close(List.of(other));

    task.put(List.of(kept));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    assertEquals(1, reader.countAsync("memories").get());
    assertEquals("one", text(1));
  }

  /**
   * Connect removes a closed partition's records from the batch it delivers again by the records'
   * topic and partition after the transforms (Kafka 4.3's WorkerSinkTask), so under a transform
   * that renames topics (RegexRouter) it delivers them again after close. Their partition is no
   * longer this task's: its new owner writes them, and a late write here could undo a newer one.
   */
  @Test
  void recordsOfAClosedPartitionDeliveredAgainAreNotWritten() throws Exception {
    startTask();
    TopicPartition other = new TopicPartition(PARTITION.topic(), 1);
    SinkRecord kept = record(1, "one", "t1");
    SinkRecord closed =
        new SinkRecord(
            "renamed",
            other.partition(),
            null,
            null,
            null,
            Map.of("id", 2L, "text", "two", "tenant_id", "t1"),
            7,
            null,
            TimestampType.NO_TIMESTAMP_TYPE,
            null,
            other.topic(),
            other.partition(),
            7L);
    qdrant.failNext(1, Status.Code.UNAVAILABLE);
    assertThrows(RetriableException.class, () -> task.put(List.of(kept, closed)));
    task.close(List.of(other));

    task.put(List.of(kept, closed));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
    assertEquals(1, reader.countAsync("memories").get());
    assertEquals(null, text(2));
    assertEquals(1.0, sink.context.metric("records-skipped-closed-partition-total"));
  }

  /**
   * The partition comes back to the task while Connect still holds the failed put's records: those
   * very records stay skipped (its new owner may have written the partition past them meanwhile,
   * and the consumer goes on from the offset committed by then), while the partition's records
   * polled afresh are written.
   */
  @Test
  void aReopenedPartitionsRecordsOfTheBatchConnectHeldStaySkipped() throws Exception {
    startTask();
    TopicPartition other = new TopicPartition(PARTITION.topic(), 1);
    SinkRecord kept = record(1, "one", "t1");
    SinkRecord closed = renamedOnPartitionOne(2, "two", 7);
    qdrant.failNext(1, Status.Code.UNAVAILABLE);
    assertThrows(RetriableException.class, () -> task.put(List.of(kept, closed)));
    task.close(List.of(other));
    task.open(List.of(other));

    task.put(List.of(kept, closed));
    // Connect counts it delivered (offset 8), but it is not written: nothing past it is committed
    assertEquals(
        Map.of(PARTITION, new OffsetAndMetadata(1)),
        task.preCommit(
            Map.of(PARTITION, new OffsetAndMetadata(1), other, new OffsetAndMetadata(8))));
    assertEquals(null, text(2), "the record Connect held from before the close");
    assertEquals(1.0, sink.context.metric("records-skipped-closed-partition-total"));

    task.put(List.of(renamedOnPartitionOne(2, "two", 7))); // polled again from the committed offset
    assertEquals(
        Map.of(PARTITION, new OffsetAndMetadata(1), other, new OffsetAndMetadata(8)),
        task.preCommit(
            Map.of(PARTITION, new OffsetAndMetadata(1), other, new OffsetAndMetadata(8))));
    assertEquals("two", text(2));
  }

  /** A record of partition 1 after a transform renamed its topic. */
  private static SinkRecord renamedOnPartitionOne(long id, String text, long offset) {
    return new SinkRecord(
        "renamed",
        1,
        null,
        null,
        null,
        Map.of("id", id, "text", text, "tenant_id", "t1"),
        offset,
        null,
        TimestampType.NO_TIMESTAMP_TYPE,
        null,
        PARTITION.topic(),
        1,
        offset);
  }

  private String text(long id) throws Exception {
    var points = reader.retrieveAsync("memories", PointIdFactory.id(id), true, false, null).get();
    return points.isEmpty() ? null : points.get(0).getPayloadOrThrow("text").getStringValue();
  }

  /** An OpenAI embeddings answer of one 8-dimension vector per input, each input counted. */
  private void embed(HttpExchange exchange) throws IOException {
    JsonNode request = RecordJson.MAPPER.readTree(exchange.getRequestBody());
    StringBuilder data = new StringBuilder();
    for (int i = 0; i < request.get("input").size(); i++) {
      embedded.merge(request.get("input").get(i).asText(), 1, Integer::sum);
      data.append(i == 0 ? "" : ",")
          .append("{\"index\":")
          .append(i)
          .append(",\"embedding\":[1,0,0,0,0,0,0,0]}");
    }
    byte[] body = ("{\"data\":[" + data + "]}").getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(200, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }
}
