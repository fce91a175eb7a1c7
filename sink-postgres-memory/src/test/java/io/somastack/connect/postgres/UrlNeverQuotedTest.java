package io.somastack.connect.postgres;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * pgjdbc quotes a URL it cannot parse whole ("Unable to parse URL jdbc:postgresql://...", and a
 * WARNING log line), and a URL may carry a password as a parameter: such a URL is refused when the
 * task starts (as validate refuses it), on connection.url, and the refusal, which Connect shows in
 * the REST status with its causes and the worker logs, does not repeat it.
 */
class UrlNeverQuotedTest {

  private static final TopicPartition PARTITION = new TopicPartition("memories", 0);
  private final PostgresMemorySinkTask task = new PostgresMemorySinkTask();

  @AfterEach
  void stop() {
    task.stop();
  }

  @Test
  void aUrlTheDriverCannotParseIsRefusedAtStartWithoutQuotingIt() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () ->
                LocalTasks.started(
                    task,
                    "jdbc:postgresql://127.0.0.1:notaport/soma?sslpassword=s3cret",
                    new HandRunTaskContext(PARTITION)));
    StringWriter trace = new StringWriter();
    e.printStackTrace(new PrintWriter(trace));
    assertTrue(e.getMessage().contains("connection.url"), e.getMessage());
    assertFalse(trace.toString().contains("s3cret"), trace.toString());
  }
}
