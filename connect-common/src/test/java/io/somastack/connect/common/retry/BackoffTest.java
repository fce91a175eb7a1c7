package io.somastack.connect.common.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {

  @Test
  void ceilingsDoubleUpToTheMaximumAndDelaysStayUnderThem() {
    Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1));
    assertEquals(100, backoff.ceilingMs(0));
    assertEquals(400, backoff.ceilingMs(2));
    assertEquals(1000, backoff.ceilingMs(4));
    assertEquals(1000, backoff.ceilingMs(1_000));
    for (int attempt = 0; attempt < 50; attempt++) {
      long delay = backoff.delayMs(attempt);
      assertTrue(delay >= 1 && delay <= backoff.ceilingMs(attempt), "attempt " + attempt);
    }
  }

  @Test
  void rejectsBoundsThatMakeNoSense() {
    assertThrows(
        IllegalArgumentException.class, () -> new Backoff(Duration.ZERO, Duration.ofSeconds(1)));
    assertThrows(
        IllegalArgumentException.class,
        () -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)));
  }
}
