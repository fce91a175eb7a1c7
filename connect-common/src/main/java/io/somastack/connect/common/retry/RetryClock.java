package io.somastack.connect.common.retry;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The time spent failing, against a limit. A run of failures starts at its first failure and ends
 * at the next success; {@link #settled()} ends a run keeping its time spent (a budget summed over
 * runs), {@link #reset()} forgets every run (a timeout on one run of consecutive failures). The
 * clock ({@code System::nanoTime} in production) is injectable, so tests need not wait.
 *
 * <p>The sinks bound their retries of transient failures with it ({@code retry.timeout.ms}): a
 * fault that looks transient but never passes would otherwise be retried for ever, with the task
 * shown RUNNING. The OpenAI embedder bounds the retries of one put's requests with it.
 */
public final class RetryClock {

  /** The limit that never passes. */
  public static final Duration FOREVER = Duration.ofNanos(-1);

  private final long limitNanos;
  private final LongSupplier nanoTime;
  private boolean failing;
  private long since;
  private long spent;
  private int failures;

  /** A clock of the limit (negative: none), reading {@code nanoTime} ({@code System::nanoTime}). */
  public RetryClock(Duration limit, LongSupplier nanoTime) {
    this.limitNanos = limit.isNegative() ? -1 : nanosOrNever(limit);
    this.nanoTime = nanoTime;
  }

  /** A limit beyond what nanoseconds count (about 292 years) is never reached: none. */
  private static long nanosOrNever(Duration limit) {
    try {
      return limit.toNanos();
    } catch (ArithmeticException beyondNanos) {
      return -1;
    }
  }

  public RetryClock(Duration limit) {
    this(limit, System::nanoTime);
  }

  /** A limit in milliseconds as configured: -1 (any negative) never passes. */
  public static Duration limitOfMillis(long millis) {
    return millis < 0 ? FOREVER : Duration.ofMillis(millis);
  }

  /** The clock's current reading, for {@link #failed(long)}. */
  public long now() {
    return nanoTime.getAsLong();
  }

  /** A failure now: starts a run unless one is going on. */
  public void failed() {
    failed(now());
  }

  /**
   * A failure of an attempt begun at {@code startedNanos} (a {@link #now()} reading): a run it
   * starts counts the failed attempt's own time too.
   */
  public void failed(long startedNanos) {
    if (!failing) {
      failing = true;
      since = startedNanos;
    }
    failures++;
  }

  /** Ends the run going on, if any; its time stays spent. */
  public void settled() {
    if (failing) {
      spent += now() - since;
      failing = false;
    }
  }

  /** Forgets every run: a success after which failures start counting afresh. */
  public void reset() {
    failing = false;
    spent = 0;
    failures = 0;
  }

  /** Failures since the last {@link #reset()}. */
  public int failures() {
    return failures;
  }

  /** Time spent failing since the last {@link #reset()}, the run going on included. */
  public Duration elapsed() {
    return Duration.ofNanos(spent + (failing ? now() - since : 0));
  }

  /** Milliseconds left before the limit; {@link Long#MAX_VALUE} without one. */
  public long millisLeft() {
    if (limitNanos < 0) {
      return Long.MAX_VALUE;
    }
    return TimeUnit.NANOSECONDS.toMillis(limitNanos - elapsed().toNanos());
  }

  /**
   * Whether the limit has passed: time to stop retrying. A limit of 0 passes at the first failure;
   * none passes before one.
   */
  public boolean expired() {
    return limitNanos >= 0 && failures > 0 && elapsed().toNanos() >= limitNanos;
  }

  /** "5 attempt(s) over 12.3 s", for the message of giving up. */
  public String summary() {
    return String.format(
        Locale.ROOT, "%d attempt(s) over %.1f s", failures, elapsed().toMillis() / 1000.0);
  }
}
