package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.CapturedStderr;
import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * retry.timeout.ms: a database that goes away (a proxy in front of the real server cuts every
 * connection and refuses new ones) is retried within the timeout, counted from the first failure of
 * a run and afresh after a success, and past it the task fails for good, naming what it could not
 * write, with the stored offsets as they were. The task's clock is moved by hand: no test waits for
 * the timeout.
 */
class RetryTimeoutTest {

  private static final TopicPartition PARTITION = new TopicPartition("retry.events", 0);
  private static final String DATABASE = "retry_timeout";

  private final HandRunTaskContext context = new HandRunTaskContext(PARTITION);
  private final AtomicLong now = new AtomicLong();
  private CuttingProxy proxy;
  private String url;
  private PostgresMemorySinkTask task;
  private PostgresMemorySinkTask restarted;

  @BeforeEach
  void start() throws Exception {
    proxy = CuttingProxy.before(SERVER.createDatabase(DATABASE));
    url = proxy.jdbcUrl(DATABASE);
  }

  @AfterEach
  void stop() throws Exception {
    task.stop();
    if (restarted != null) {
      restarted.stop();
    }
    proxy.close();
  }

  private void startTask(String timeoutMs) {
    startTask(timeoutMs, context);
  }

  private void startTask(String timeoutMs, HandRunTaskContext context) {
    task =
        LocalTasks.started(
            new PostgresMemorySinkTask(now::get),
            url,
            context,
            "retry.timeout.ms",
            timeoutMs,
            "retry.backoff.initial.ms",
            "10");
  }

  private void advance(Duration time) {
    now.addAndGet(time.toNanos());
  }

  @Test
  void aDatabaseThatStaysAwayFailsTheTaskOnceTheTimeoutHasPassed() throws Exception {
    startTask("10000");
    task.put(List.of(event(0)));
    proxy.goDown();
    List<SinkRecord> batch = List.of(event(1), event(2), event(3));
    assertThrows(RetriableException.class, () -> task.put(batch));
    advance(Duration.ofMillis(9_999));
    assertThrows(RetriableException.class, () -> task.put(batch), "within the timeout");

    advance(Duration.ofMillis(1));
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(batch));
    assertFalse(e instanceof RetriableException, e.toString());
    String message = e.getMessage();
    assertTrue(message.contains("after 3 attempt(s) over 10.0 s"), message);
    assertTrue(message.contains("retry.timeout.ms=10000"), message);
    assertTrue(message.contains("last error: SQLSTATE 08"), message);
    assertTrue(message.contains("retry.events-0@1..3"), message);
    assertFalse(message.contains("secret"), message);
    assertSame(e, assertThrows(ConnectException.class, () -> task.put(batch)), "it sticks");

    proxy.comeBack();
    Map<TopicPartition, OffsetAndMetadata> consumed = Map.of(PARTITION, new OffsetAndMetadata(4));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), task.preCommit(consumed));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT next_offset FROM soma_connect_offsets"));
    // a restart resumes exactly where the database says, and writes the batch
    HandRunTaskContext again = new HandRunTaskContext(PARTITION);
    restarted = LocalTasks.started(url, again);
    assertEquals(Map.of(PARTITION, 1L), again.requestedOffsets());
    restarted.put(batch);
    assertEquals(4, LocalTasks.count(DATABASE, "SELECT count(*) FROM retry_events"));
  }

  @Test
  void aSuccessfulWriteStartsTheTimeoutAfresh() throws Exception {
    startTask("10000");
    proxy.goDown();
    List<SinkRecord> first = List.of(event(0));
    assertThrows(RetriableException.class, () -> task.put(first));
    advance(Duration.ofSeconds(9));
    proxy.comeBack();
    task.put(first);

    proxy.goDown();
    List<SinkRecord> second = List.of(event(1));
    advance(Duration.ofSeconds(9));
    assertThrows(RetriableException.class, () -> task.put(second));
    advance(Duration.ofSeconds(9));
    assertThrows(
        RetriableException.class,
        () -> task.put(second),
        "18 s after the first failure, but 9 s into this run");
    advance(Duration.ofSeconds(1));
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(second));
    assertFalse(e instanceof RetriableException, e.toString());
    assertTrue(e.getMessage().contains("after 3 attempt(s) over 10.0 s"), e.getMessage());
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM retry_events"));
  }

  /**
   * A rebalance during the backoff moves the failed batch's partition away: Connect drops the batch
   * it would have delivered again, and puts only empty batches until records come. An empty put
   * means no failed batch is waiting, so the run of failures is over: a transient failure hours
   * later starts a run of its own, at the first backoff step, rather than failing the task at once.
   */
  @Test
  void anEmptyPutEndsTheRunOfFailures() throws Exception {
    TopicPartition other = new TopicPartition(PARTITION.topic(), 1);
    startTask("10000", new HandRunTaskContext(PARTITION, other));
    proxy.goDown();
    assertThrows(RetriableException.class, () -> task.put(List.of(event(0))));
    task.close(List.of(PARTITION)); // the rebalance
    task.put(List.of());
    advance(Duration.ofHours(2));

    SinkRecord onOther =
        new SinkRecord(
            other.topic(), other.partition(), null, null, null, "{\"event_id\":\"o\"}", 0);
    String logged =
        CapturedStderr.ofWork(
            () ->
                assertThrows(
                    RetriableException.class,
                    () -> task.put(List.of(onOther)),
                    "a new run of failures, within its timeout"));
    assertTrue(logged.contains("retry 1 in"), logged);
  }

  /**
   * The timeout counts from the start of the run's first failed attempt, not from when its failure
   * was seen: an attempt that took 6 s to fail (a connection refused after its connect timeout, a
   * query hung until the socket timeout) has spent 6 s of it already.
   */
  @Test
  void theTimeoutCountsTheFirstFailedAttemptsOwnTime() {
    proxy.goDown();
    startTask("10000");
    AtomicBoolean slow = new AtomicBoolean(true);
    proxy.whenRefused(
        () -> {
          if (slow.getAndSet(false)) {
            advance(Duration.ofSeconds(6));
          }
        });
    List<SinkRecord> batch = List.of(event(0));
    assertThrows(RetriableException.class, () -> task.put(batch), "6 s into the timeout");
    assertFalse(slow.get(), "the attempt met the refusal");
    advance(Duration.ofSeconds(4));
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(batch));
    assertFalse(e instanceof RetriableException, e.toString());
    assertTrue(e.getMessage().contains("after 2 attempt(s) over 10.0 s"), e.getMessage());
  }

  @Test
  void minusOneRetriesForever() {
    startTask("-1");
    proxy.goDown();
    List<SinkRecord> batch = List.of(event(0));
    for (int day = 0; day < 3; day++) {
      assertThrows(RetriableException.class, () -> task.put(batch));
      advance(Duration.ofDays(1));
    }
  }

  @Test
  void zeroFailsAtTheFirstTransientError() {
    startTask("0");
    proxy.goDown();
    ConnectException e =
        assertThrows(ConnectException.class, () -> task.put(List.of(event(0), event(1))));
    assertFalse(e instanceof RetriableException, e.toString());
    assertTrue(e.getMessage().contains("after 1 attempt(s) over 0.0 s"), e.getMessage());
    assertTrue(e.getMessage().contains("retry.events-0@0..1"), e.getMessage());
  }

  private static SinkRecord event(long offset) {
    String json = "{\"event_id\":\"e" + offset + "\",\"text\":\"secret words\"}";
    return new SinkRecord(PARTITION.topic(), PARTITION.partition(), null, null, null, json, offset);
  }
}
