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
    this.initialMs = initial.toMillis();
    this.maxMs = max.toMillis();
  }

  /** The upper bound of the wait before retry number {@code attempt} (0-based). */
  public long ceilingMs(int attempt) {
    int shift = Math.min(Math.max(attempt, 0), 30);
    long ceiling = initialMs << shift;
    return ceiling <= 0 || ceiling > maxMs ? maxMs : ceiling;
  }

  /** A jittered wait before retry number {@code attempt} (0-based), at least 1 ms. */
  public long delayMs(int attempt) {
    return Math.max(1, ThreadLocalRandom.current().nextLong(ceilingMs(attempt) + 1));
  }

  @Override
  public String toString() {
    return "Backoff[" + initialMs + "ms.." + maxMs + "ms]";
  }
}
