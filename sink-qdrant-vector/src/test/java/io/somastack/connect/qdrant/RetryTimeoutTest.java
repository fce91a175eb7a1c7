package io.somastack.connect.qdrant;

import static io.somastack.connect.qdrant.StandInTask.PARTITION;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.grpc.Status;
import io.qdrant.client.QdrantClient;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.testing.qdrant.QdrantGrpcStandIn;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * retry.timeout.ms against the gRPC stand-in answering INTERNAL or UNAVAILABLE again and again: a
 * kept batch is sent again within the timeout, counted from the first failure of a run and afresh
 * after a success, and past it the task fails for good, naming the records not written, whose
 * offsets are never reported. The task's clock is moved by hand: no test waits for the timeout.
 */
class RetryTimeoutTest {

  @RegisterExtension
  final StandInTask sink = new StandInTask("qdrant.timeout.ms", "30000", "retry.backoff.ms", "10");

  private final QdrantGrpcStandIn qdrant = sink.qdrant;
  private final QdrantClient reader = sink.reader;

  /** The task's clock, in nanoseconds, moved by hand. */
  private final AtomicLong now = new AtomicLong();

  private QdrantVectorSinkTask task;

  /** A task that wrote its first record (creating the collection), so every later call writes. */
  private void startTask(String timeoutMs, String... keyValues) {
    List<String> props = new ArrayList<>(List.of("retry.timeout.ms", timeoutMs));
    props.addAll(List.of(keyValues));
    task = sink.start(now::get, props.toArray(String[]::new));
    task.put(List.of(record("creates the collection")));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit());
  }

  private SinkRecord record(String text) {
    return record(sink.offset() + 1, text);
  }

  private SinkRecord record(long id, String text) {
    return sink.record(null, Map.of("id", id, "text", text));
  }

  private void advance(Duration time) {
    now.addAndGet(time.toNanos());
  }

  /** Puts a record whose write then fails in flight (preCommit finds it): the batch is kept. */
  private void keepABatch(Status.Code code) {
    qdrant.failNext(1, code);
    task.put(List.of(record("secret words")));
    assertEquals(
        Map.of(PARTITION, new OffsetAndMetadata(sink.offset() - 1)), sink.preCommit(), "kept");
  }

  @Test
  void anInternalErrorThatAlwaysRecursFailsTheTaskOnceTheTimeoutHasPassed() throws Exception {
    startTask("10000");
    keepABatch(Status.Code.INTERNAL);
    qdrant.failNext(3, Status.Code.INTERNAL);
    assertThrows(RetriableException.class, () -> task.put(List.of()));
    advance(Duration.ofMillis(9_999));
    List<SinkRecord> next = List.of(record("more secret words"), record("and more"));
    assertThrows(RetriableException.class, () -> task.put(next), "within the timeout");

    advance(Duration.ofMillis(1));
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(next));
    assertFalse(e instanceof RetriableException, e.toString());
    String message = e.getMessage();
    assertTrue(message.contains("after 3 attempt(s) over 10.0 s"), message);
    assertTrue(message.contains("retry.timeout.ms=10000"), message);
    assertTrue(message.contains("last error: gRPC status INTERNAL"), message);
    assertTrue(message.contains("memory.events-0@1..3"), message); // the kept batch and next
    assertFalse(message.contains("secret"), message);
    assertEquals(0, qdrant.pendingFailures());

    assertSame(e, assertThrows(ConnectException.class, () -> task.put(next)), "it sticks");
    assertEquals(
        Map.of(PARTITION, new OffsetAndMetadata(1)),
        sink.preCommit(),
        "only what Qdrant acknowledged: a restart delivers the rest again");
    assertEquals(1, reader.countAsync("memories").get());
  }

  @Test
  void aSuccessfulWriteStartsTheTimeoutAfresh() {
    startTask("10000");
    keepABatch(Status.Code.UNAVAILABLE);
    qdrant.failNext(1, Status.Code.UNAVAILABLE);
    assertThrows(RetriableException.class, () -> task.put(List.of()));
    advance(Duration.ofSeconds(9));
    task.put(List.of()); // written
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(2)), sink.preCommit());

    keepABatch(Status.Code.UNAVAILABLE); // this run starts here, 9 s in
    qdrant.failNext(3, Status.Code.UNAVAILABLE);
    assertThrows(RetriableException.class, () -> task.put(List.of()));
    advance(Duration.ofSeconds(9));
    assertThrows(
        RetriableException.class,
        () -> task.put(List.of()),
        "18 s after the first failure, but 9 s into this run");
    advance(Duration.ofSeconds(1));
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(List.of()));
    assertFalse(e instanceof RetriableException, e.toString());
    assertTrue(e.getMessage().contains("after 3 attempt(s) over 10.0 s"), e.getMessage());
    assertTrue(e.getMessage().contains("memory.events-0@2"), e.getMessage());
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(2)), sink.preCommit());
  }

  /**
   * A write that fails in flight is found by a preCommit (here 6 s, a commit interval, later) or a
   * put: the run counts from when that write was sent, not from when its failure was found, so the
   * task gives up retry.timeout.ms after the first failed attempt, not a commit interval later.
   */
  @Test
  void aWriteFoundFailedByPreCommitCountsFromWhenItWasSent() {
    startTask("10000");
    qdrant.failNext(3, Status.Code.UNAVAILABLE);
    task.put(List.of(record("secret words"))); // sent now, fails in flight
    advance(Duration.ofSeconds(6));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit(), "kept");
    advance(Duration.ofSeconds(3));
    assertThrows(RetriableException.class, () -> task.put(List.of()), "9 s after the write");

    advance(Duration.ofSeconds(1));
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(List.of()));
    assertFalse(e instanceof RetriableException, e.toString());
    assertTrue(e.getMessage().contains("over 10.0 s"), e.getMessage());
    assertTrue(e.getMessage().contains("memory.events-0@1"), e.getMessage());
  }

  @Test
  void aWriteFoundFailedByTheNextPutCountsFromWhenItWasSent() {
    startTask("10000");
    qdrant.failNext(2, Status.Code.UNAVAILABLE);
    task.put(List.of(record("secret words"))); // point 2, sent now, fails in flight
    advance(Duration.ofSeconds(6));
    // point 2 again: this put waits for the batch in flight and finds its failure
    List<SinkRecord> next = List.of(record(2, "more secret words"));
    assertThrows(RetriableException.class, () -> task.put(next), "6 s after the write");

    advance(Duration.ofSeconds(4));
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(next));
    assertFalse(e instanceof RetriableException, e.toString());
    assertTrue(e.getMessage().contains("over 10.0 s"), e.getMessage());
  }

  /** A failed write whose batch a rebalance dropped does not start the next run of failures. */
  @Test
  void aFailedWriteOfAClosedPartitionStartsNoRun() {
    startTask("10000");
    qdrant.failNext(1, Status.Code.UNAVAILABLE);
    task.put(List.of(record("secret words"))); // fails in flight
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), sink.preCommit(), "kept");
    task.close(List.of(PARTITION)); // the kept batch goes with the partition
    task.open(List.of(PARTITION));
    advance(Duration.ofSeconds(20));

    qdrant.failNext(1, Status.Code.UNAVAILABLE);
    task.put(List.of(record(9, "fails in flight"))); // the first put since
    List<SinkRecord> next = List.of(record(9, "and again"));
    assertThrows(RetriableException.class, () -> task.put(next), "this run has just begun");
  }

  /**
   * A failed write whose kept batch a closed partition took away starts no run either when the
   * first put after it fails before sending anything (its embeddings endpoint down): that run
   * begins now, not when the forgotten write was sent.
   */
  @Test
  void aFailedWriteOfAClosedPartitionIsForgottenWithItsBatch() throws Exception {
    AtomicBoolean embeddingsDown = new AtomicBoolean();
    HttpServer embeddings = HttpServer.create(new InetSocketAddress("localhost", 0), 0);
    embeddings.createContext("/v1/embeddings", exchange -> answer(exchange, embeddingsDown.get()));
    embeddings.start();
    try {
      startTask(
          "10000",
          "embedder",
          "openai",
          "embedder.openai.url",
          "http://localhost:" + embeddings.getAddress().getPort() + "/v1",
          "embedder.openai.model",
          "test-model",
          "embedder.openai.max.retries",
          "0");
      keepABatch(Status.Code.UNAVAILABLE);
      task.close(List.of(PARTITION)); // the kept batch goes with the partition
      task.open(List.of(PARTITION));
      advance(Duration.ofSeconds(20));

      embeddingsDown.set(true);
      List<SinkRecord> first = List.of(record("cannot be embedded now"));
      assertThrows(RetriableException.class, () -> task.put(first), "this run has just begun");
    } finally {
      embeddings.stop(0);
    }
  }

  /** An OpenAI embeddings answer of one 8-dimension vector per input, or 503 while down. */
  private static void answer(HttpExchange exchange, boolean down) throws IOException {
    JsonNode request = RecordJson.MAPPER.readTree(exchange.getRequestBody());
    StringBuilder data = new StringBuilder();
    for (int i = 0; i < request.get("input").size(); i++) {
      data.append(i == 0 ? "" : ",")
          .append("{\"index\":")
          .append(i)
          .append(",\"embedding\":[1,0,0,0,0,0,0,0]}");
    }
    byte[] body =
        (down ? "{\"error\":{\"message\":\"down\"}}" : "{\"data\":[" + data + "]}")
            .getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(down ? 503 : 200, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  @Test
  void minusOneRetriesForever() {
    startTask("-1");
    keepABatch(Status.Code.UNAVAILABLE);
    qdrant.failNext(3, Status.Code.UNAVAILABLE);
    for (int day = 0; day < 3; day++) {
      assertThrows(RetriableException.class, () -> task.put(List.of()));
      advance(Duration.ofDays(1));
    }
    task.put(List.of());
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(2)), sink.preCommit());
  }
}
