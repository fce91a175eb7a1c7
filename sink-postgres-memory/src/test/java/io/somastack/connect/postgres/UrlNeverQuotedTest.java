package io.somastack.connect.postgres;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * pgjdbc quotes a URL it cannot parse whole ("Unable to parse URL jdbc:postgresql://..."), and a
 * URL may carry a password as a parameter: the task's failure, which Connect shows in the REST
 * status with its causes and the worker logs, must not repeat it.
 */
class UrlNeverQuotedTest {

  private static final TopicPartition PARTITION = new TopicPartition("memories", 0);
  private final PostgresMemorySinkTask task = new PostgresMemorySinkTask();

  @AfterEach
  void stop() {
    task.stop();
  }

  @Test
  void aUrlTheDriverCannotParseIsNotQuotedInTheFailure() {
    ConnectException e =
        assertThrows(
            ConnectException.class,
            () -> {
              LocalTasks.started(
                  task,
                  "jdbc:postgresql://127.0.0.1:notaport/soma?sslpassword=s3cret",
                  new HandRunTaskContext(PARTITION));
              task.put(
                  List.of(
                      new SinkRecord(
                          PARTITION.topic(), 0, null, null, null, "{\"event_id\":\"a\"}", 0)));
            });
    StringWriter trace = new StringWriter();
    e.printStackTrace(new PrintWriter(trace));
    assertFalse(trace.toString().contains("s3cret"), trace.toString());
  }
}
