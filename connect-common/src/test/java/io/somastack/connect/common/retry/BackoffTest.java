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

  /**
   * A huge initial wait must not wrap around to a small one (2^40 + 1 ms shifted 30 times used to
   * come back as 2^30 ms), nor a ceiling of Long.MAX_VALUE overflow the random bound.
   */
  @Test
  void hugeWaitsSaturateAtTheMaximumInsteadOfOverflowing() {
    Backoff huge =
        new Backoff(Duration.ofMillis((1L << 40) + 1), Duration.ofMillis(Long.MAX_VALUE));
    for (int attempt = 0; attempt <= 64; attempt++) {
      assertTrue(huge.ceilingMs(attempt) >= (1L << 40) + 1, "attempt " + attempt);
      assertTrue(huge.delayMs(attempt) >= 1, "attempt " + attempt);
    }
    assertEquals(Long.MAX_VALUE, huge.ceilingMs(30));
  }

  /** An initial wait under a millisecond starts at 1 ms, not at the maximum. */
  @Test
  void aSubMillisecondInitialWaitStartsSmall() {
    Backoff backoff = new Backoff(Duration.ofNanos(500), Duration.ofSeconds(10));
    assertEquals(1, backoff.ceilingMs(0));
    assertEquals(8, backoff.ceilingMs(3));
  }
}
