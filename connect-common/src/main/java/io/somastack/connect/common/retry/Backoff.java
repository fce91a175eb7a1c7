package io.somastack.connect.common.retry;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with full jitter: attempt n waits a random time in [0, min(max, initial *
 * 2^n)]. Jitter keeps many tasks that failed together from retrying together.
 */
public final class Backoff {

  private final long initialMs;
  private final long maxMs;

  public Backoff(Duration initial, Duration max) {
    if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("backoff needs 0 < initial <= max");
    }
    // under a millisecond counts as one: a zero would read as an overflow, i.e. the maximum
    this.initialMs = Math.max(1, initial.toMillis());
    this.maxMs = Math.max(initialMs, max.toMillis());
  }

  /** The upper bound of the wait before retry number {@code attempt} (0-based). */
  public long ceilingMs(int attempt) {
    int shift = Math.min(Math.max(attempt, 0), 30);
    // compared before shifting: a shift past 63 bits can wrap to a small positive number
    return initialMs > maxMs >> shift ? maxMs : initialMs << shift;
  }

  /** A jittered wait before retry number {@code attempt} (0-based), at least 1 ms. */
  public long delayMs(int attempt) {
    long bound = Math.min(ceilingMs(attempt), Long.MAX_VALUE - 1) + 1; // + 1 must not overflow
    return Math.max(1, ThreadLocalRandom.current().nextLong(bound));
  }

  @Override
  public String toString() {
    return "Backoff[" + initialMs + "ms.." + maxMs + "ms]";
  }
}
