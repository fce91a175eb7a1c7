package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.CapturedStderr;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * With errors.tolerance=all Connect counts every record it drops as done — without the worker's
 * exactly-once support that is every failed send, whatever its cause, not only a record over
 * max.request.size — and the relay then deletes or marks its row: rows are lost with only Connect's
 * ERROR line to show it. The connector says so when it starts. (The tests log through slf4j-simple,
 * which writes to System.err.)
 */
class ErrorsToleranceAllWarningTest {

  @Test
  void startingWithErrorsToleranceAllWarnsThatFailedRowsAreDeleted() {
    String logged = started(Map.of("errors.tolerance", "all", "after.publish", "delete"));

    String warning = warning(logged);
    assertTrue(warning.contains("errors.tolerance=all"), warning);
    assertTrue(warning.contains("its row is deleted without having reached Kafka"), warning);
    assertTrue(warning.contains("delivery.timeout.ms"), warning);
    assertTrue(warning.contains("a topic that does not exist"), warning);
    assertTrue(warning.contains("max.request.size"), warning);
    assertTrue(warning.contains("exactly.once.source.support=enabled"), warning);
  }

  @Test
  void withMarkItWarnsThatTheyAreMarked() {
    String warning = warning(started(Map.of("errors.tolerance", "ALL", "after.publish", "mark")));
    assertTrue(warning.contains("its row is marked published without having reached"), warning);
  }

  @Test
  void noWarningWithErrorsToleranceNoneOrUnset() {
    assertFalse(started(Map.of("errors.tolerance", "none")).contains("errors.tolerance"));
    assertFalse(started(Map.of()).contains("errors.tolerance"));
  }

  /** What the connector logs as it starts with one table (no database needed) and these options. */
  private static String started(Map<String, String> extra) {
    Map<String, String> props = new HashMap<>();
    props.put("connection.url", "jdbc:postgresql://127.0.0.1:1/none");
    props.put("connection.user", "relay");
    props.put("outbox.tables", "public.outbox");
    props.putAll(extra);
    return CapturedStderr.of(
        () -> {
          PostgresOutboxSourceConnector connector = new PostgresOutboxSourceConnector();
          connector.start(props);
          connector.stop();
        });
  }

  private static String warning(String logged) {
    return logged
        .lines()
        .filter(line -> line.contains("WARN") && line.contains("errors.tolerance"))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no warning in: " + logged));
  }
}
