package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.net.URI;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A task opened while PostgreSQL was unreachable, which then gets only records a transform filtered
 * out (every put empty): no put ever reads the stored offsets, so preCommit must, or the positions
 * Connect skipped are never saved and the consumer group's lag grows for ever.
 */
class FilteredAfterFailedLoadTest {

  private static final TopicPartition PARTITION = new TopicPartition("filtered", 0);
  private static final String DATABASE = "filtered_after_failed_load";

  private CuttingProxy proxy;
  private String url;
  private PostgresMemorySinkTask first;
  private PostgresMemorySinkTask task;

  @BeforeEach
  void start() throws Exception {
    URI direct = URI.create(SERVER.createDatabase(DATABASE).substring("jdbc:".length()));
    proxy = new CuttingProxy(direct.getHost(), direct.getPort());
    url = "jdbc:postgresql://127.0.0.1:" + proxy.port() + "/" + DATABASE;
  }

  @AfterEach
  void stop() throws Exception {
    first.stop();
    if (task != null) {
      task.stop();
    }
    proxy.close();
  }

  @Test
  void offsetsOfFilteredRecordsAreSavedOnceTheDatabaseIsBack() throws Exception {
    first = LocalTasks.started(url, new HandRunTaskContext(PARTITION));
    first.put(List.of(event(0)));
    first.stop();

    proxy.goDown();
    HandRunTaskContext context = new HandRunTaskContext(PARTITION);
    task = LocalTasks.started(url, context); // open() cannot read the stored offsets
    proxy.comeBack();

    task.put(List.of()); // records 1-9, all filtered out
    Map<TopicPartition, OffsetAndMetadata> consumed = Map.of(PARTITION, new OffsetAndMetadata(10));
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(1)), task.preCommit(consumed));
    assertEquals(Map.of(PARTITION, 1L), context.requestedOffsets(), "resumed where it stored");

    task.put(List.of()); // Connect sought back to 1, and polled 1-9 again: filtered out again
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(10)), task.preCommit(consumed));
    assertEquals(10, LocalTasks.count(DATABASE, "SELECT next_offset FROM soma_connect_offsets"));
  }

  private static SinkRecord event(long offset) {
    String json = "{\"event_id\":\"e" + offset + "\"}";
    return new SinkRecord(PARTITION.topic(), PARTITION.partition(), null, null, null, json, offset);
  }
}
