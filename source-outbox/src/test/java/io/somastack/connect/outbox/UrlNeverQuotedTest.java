package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * pgjdbc quotes a URL it cannot parse whole ("Unable to parse URL jdbc:postgresql://...", and a
 * WARNING log line), and a URL may carry a password as a parameter: such a URL is refused when the
 * task starts (as validate refuses it), on connection.url, and the refusal, which Connect shows in
 * the REST status with its causes, does not repeat it.
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
  void aUrlTheDriverCannotParseIsRefusedAtStartWithoutQuotingIt() {
    Map<String, String> props =
        HandRunSourceContext.relayProps(
            "jdbc:postgresql://127.0.0.1:notaport/soma?sslpassword=s3cret", "postgres");
    ConfigException e =
        assertThrows(
            ConfigException.class, () -> task = HandRunSourceContext.startedTask(props, Map.of()));
    StringWriter trace = new StringWriter();
    e.printStackTrace(new PrintWriter(trace));
    assertTrue(e.getMessage().contains("connection.url"), e.getMessage());
    assertFalse(trace.toString().contains("s3cret"), trace.toString());
  }
}
