package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.io.IOException;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Records below the stored offset (a replay after a rewind or a restart) count as
 * duplicates-skipped once each, when the put that skips them commits: Connect delivers a put that
 * failed again, and a count taken before the write would count its replays once per attempt.
 */
class ReplayCountsTest {

  private static final TopicPartition PARTITION = new TopicPartition("events", 0);

  private final String database = "replay_counts";
  private final HandRunTaskContext context = new HandRunTaskContext(PARTITION);
  private CuttingProxy proxy;
  private PostgresMemorySinkTask task;

  @BeforeEach
  void start() throws Exception {
    proxy = CuttingProxy.before(SERVER.createDatabase(database));
    task =
        LocalTasks.started(
            proxy.jdbcUrl(database),
            context,
            "write.mode",
            "append",
            "table.name.format",
            "events",
            "retry.backoff.initial.ms",
            "10");
  }

  @AfterEach
  void stop() throws IOException {
    task.stop();
    proxy.close();
  }

  @Test
  void replaysInAPutThatFailedAndCameAgainCountOnce() throws Exception {
    task.put(List.of(event(0), event(1), event(2)));
    List<SinkRecord> replayedAndNew = List.of(event(0), event(1), event(2), event(3));

    proxy.goDown();
    assertThrows(RetriableException.class, () -> task.put(replayedAndNew));
    assertThrows(RetriableException.class, () -> task.put(replayedAndNew));
    proxy.comeBack();
    task.put(replayedAndNew);

    assertEquals(4, LocalTasks.count(database, "SELECT count(*) FROM events"));
    assertEquals(3.0, context.metric("duplicates-skipped-total"), "the three replays, once each");
    assertEquals(4.0, context.metric("records-written-total"));
    assertEquals(2.0, context.metric("retries-total"));
  }

  private static SinkRecord event(long offset) {
    String json = "{\"event_id\":\"e" + offset + "\"}";
    return new SinkRecord(PARTITION.topic(), PARTITION.partition(), null, null, null, json, offset);
  }
}
