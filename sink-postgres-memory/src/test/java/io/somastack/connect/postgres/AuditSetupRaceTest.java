package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * Two tasks setting up two audit tables at the same moment (as at every month's start) share the
 * chain heads table and the verify function: neither may fail for the other.
 */
class AuditSetupRaceTest {

  @Test
  void twoTasksSettingUpTwoAuditTablesAtOnceBothSucceed() throws Exception {
    String url = SERVER.createDatabase("audit_setup_race");
    List<String> errors = Collections.synchronizedList(new ArrayList<>());
    for (int round = 0; round < 10 && errors.isEmpty(); round++) {
      CyclicBarrier together = new CyclicBarrier(2);
      List<Thread> threads = new ArrayList<>();
      for (String topic : List.of("first_" + round, "second_" + round)) {
        Thread thread = new Thread(() -> putOne(url, topic, together, errors));
        thread.start();
        threads.add(thread);
      }
      for (Thread thread : threads) {
        thread.join();
      }
    }
    assertEquals(List.of(), errors);
  }

  private static void putOne(
      String url, String topic, CyclicBarrier together, List<String> errors) {
    HandRunTaskContext context = new HandRunTaskContext(new TopicPartition(topic, 0));
    PostgresMemorySinkTask task = LocalTasks.started(url, context, "write.mode", "audit");
    try {
      together.await();
      String json = "{\"event_id\":\"e\",\"timestamp\":\"2026-12-01T00:00:00Z\"}";
      task.put(List.of(new SinkRecord(topic, 0, null, null, null, json, 0)));
    } catch (Exception e) {
      errors.add(topic + ": " + e);
    } finally {
      task.stop();
    }
  }
}
