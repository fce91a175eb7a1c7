package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A task that lost its partition without hearing of it yet (its worker paused through a rebalance,
 * or cut off from the broker) still holds records and writes them. The task that owns the partition
 * now has written them already: the late batch must not land a second time.
 */
class ZombieTaskTest {

  private static final TopicPartition PARTITION = new TopicPartition("audit", 0);
  private static final String DATABASE = "zombie_task";

  private PostgresMemorySinkTask zombie;
  private PostgresMemorySinkTask owner;

  @AfterEach
  void stop() {
    zombie.stop();
    owner.stop();
  }

  @Test
  void aBatchOfATaskThatLostItsPartitionIsNotWrittenAgain() throws Exception {
    String url = SERVER.createDatabase(DATABASE);
    HandRunTaskContext zombieContext = new HandRunTaskContext(PARTITION);
    zombie = LocalTasks.started(url, zombieContext, "write.mode", "audit");
    zombie.put(List.of(event(0), event(1)));

    // the partition moves on; the new owner reads offset 2 and writes 2 and 3
    owner = LocalTasks.started(url, new HandRunTaskContext(PARTITION), "write.mode", "audit");
    owner.put(List.of(event(2), event(3)));

    List<SinkRecord> late = List.of(event(2), event(3));
    assertThrows(RetriableException.class, () -> zombie.put(late));
    assertEquals(4, count("SELECT count(*) FROM audit"), "the late batch rolled back");

    zombie.put(late); // Connect delivers them again: the task reads the offsets first
    assertEquals(Map.of(PARTITION, 4L), zombieContext.requestedOffsets());
    assertEquals(4, count("SELECT count(*) FROM audit"));
    assertEquals(0, count("SELECT count(*) FROM soma_audit_verify('audit')"), "chain unbroken");
  }

  private static SinkRecord event(long offset) {
    String json = "{\"event_id\":\"e" + offset + "\",\"timestamp\":\"2026-12-01T00:00:00Z\"}";
    return new SinkRecord(PARTITION.topic(), PARTITION.partition(), null, null, null, json, offset);
  }

  private static long count(String sql) throws Exception {
    return LocalTasks.count(DATABASE, sql);
  }
}
