package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A login the server refuses for good (a database that does not exist, a certificate key that
 * cannot be decrypted, pg_hba.conf) fails the task saying it could not connect, and why: not as a
 * batch PostgreSQL rejected, which sends an operator looking at the data.
 */
class LoginFailureTest {

  private static final TopicPartition PARTITION = new TopicPartition("memory", 0);

  private PostgresMemorySinkTask task;

  @AfterEach
  void stop() {
    task.stop();
  }

  @Test
  void aRefusedLoginIsNamedAsSuchWithTheServersReason() {
    String url = SERVER.jdbcUrl("soma_no_such_database");
    task = LocalTasks.started(url, new HandRunTaskContext(PARTITION));
    SinkRecord record = new SinkRecord("memory", 0, null, null, null, "{\"event_id\":\"e1\"}", 0);

    ConnectException e = assertThrows(ConnectException.class, () -> task.put(List.of(record)));

    assertTrue(
        e.getMessage().startsWith("Cannot connect to PostgreSQL (SQLSTATE 3D000): "),
        e.getMessage());
    assertTrue(e.getMessage().contains("soma_no_such_database"), e.getMessage());
    // and it stays failed: no retry meets another answer
    assertEquals(
        e.getMessage(),
        assertThrows(ConnectException.class, () -> task.put(List.of(record))).getMessage());
  }
}
