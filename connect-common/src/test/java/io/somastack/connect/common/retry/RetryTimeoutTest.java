package io.somastack.connect.common.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class RetryTimeoutTest {

  private static Map<String, Object> parse(Map<String, String> props) {
    ConfigDef def = new ConfigDef();
    RetryTimeout.define(def, "Retries", 1, "transient errors", "its status");
    return def.parse(props);
  }

  @Test
  void defaultsToFifteenMinutesAndTakesMinusOneForNeverAndZeroForNoRetries() {
    assertEquals(900_000L, parse(Map.of()).get(RetryTimeout.CONFIG));
    assertEquals(-1L, parse(Map.of(RetryTimeout.CONFIG, "-1")).get(RetryTimeout.CONFIG));
    assertEquals(0L, parse(Map.of(RetryTimeout.CONFIG, "0")).get(RetryTimeout.CONFIG));
    assertThrows(ConfigException.class, () -> parse(Map.of(RetryTimeout.CONFIG, "-2")));
  }

  @Test
  void theMessageOfGivingUpNamesAttemptsTimeLastErrorAndRecords() {
    AtomicLong now = new AtomicLong();
    RetryClock clock = RetryTimeout.clock(1_000, now::get);
    clock.failed();
    now.addAndGet(1_500_000_000L);
    clock.failed();
    String message =
        RetryTimeout.gaveUp(clock, 1_000, "transient errors", "SQLSTATE 08006", "t-0@3..5", "Bye.");
    assertEquals(
        "Gave up retrying transient errors after 2 attempt(s) over 1.5 s (retry.timeout.ms=1000);"
            + " last error: SQLSTATE 08006; records not acknowledged: t-0@3..5. Bye.",
        message);
    assertTrue(clock.expired());
  }
}
