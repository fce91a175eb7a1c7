package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.apache.kafka.connect.errors.ConnectException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * pgjdbc quotes a URL it cannot parse whole ("Unable to parse URL jdbc:postgresql://..."), and a
 * URL may carry a password as a parameter: the task's failure, which Connect shows in the REST
 * status with its causes, must not repeat it.
 */
class UrlNeverQuotedTest {

  private PostgresOutboxSourceTask task;

  @AfterEach
  void stop() {
    if (task != null) {
      task.stop();
    }
  }

  @Test
  void aUrlTheDriverCannotParseIsNotQuotedInTheFailure() {
    Map<String, String> props =
        HandRunSourceContext.relayProps(
            "jdbc:postgresql://127.0.0.1:notaport/soma?sslpassword=s3cret", "postgres");
    task = HandRunSourceContext.startedTask(props, Map.of());
    ConnectException e = assertThrows(ConnectException.class, () -> task.poll());
    StringWriter trace = new StringWriter();
    e.printStackTrace(new PrintWriter(trace));
    assertFalse(trace.toString().contains("s3cret"), trace.toString());
  }
}
