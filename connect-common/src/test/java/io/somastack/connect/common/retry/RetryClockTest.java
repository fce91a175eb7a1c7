package io.somastack.connect.common.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The clock is a hand-moved counter: no test waits. */
class RetryClockTest {

  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  private RetryClock clock(long limitMs) {
    return RetryTimeout.clock(limitMs, now::get);
  }

  private void advanceMs(long ms) {
    now.addAndGet(Duration.ofMillis(ms).toNanos());
  }

  @Test
  void aRunOfFailuresExpiresOnceTheTimeoutHasPassedSinceItsFirstFailure() {
    RetryClock clock = clock(10_000);
    advanceMs(5_000); // time before the first failure does not count
    clock.failed();
    assertFalse(clock.expired());
    advanceMs(9_999);
    clock.failed();
    assertFalse(clock.expired());
    advanceMs(1);
    clock.failed();
    assertTrue(clock.expired());
    assertEquals(3, clock.failures());
    assertEquals(Duration.ofSeconds(10), clock.elapsed());
    assertEquals("3 attempt(s) over 10.0 s", clock.summary());
  }

  @Test
  void aSuccessStartsTheNextRunAfresh() {
    RetryClock clock = clock(10_000);
    clock.failed();
    advanceMs(9_000);
    clock.failed();
    clock.reset(); // a write succeeded
    advanceMs(5_000);
    clock.failed();
    advanceMs(9_000);
    clock.failed();
    assertFalse(clock.expired(), "9 s into the second run, not 23 s since the first failure");
    assertEquals(2, clock.failures());
    assertEquals(1_000, clock.millisLeft());
  }

  @Test
  void minusOneNeverExpiresAndZeroExpiresAtTheFirstFailure() {
    RetryClock forever = clock(-1);
    forever.failed();
    advanceMs(Duration.ofDays(365).toMillis());
    forever.failed();
    assertFalse(forever.expired());
    assertEquals(Long.MAX_VALUE, forever.millisLeft());

    RetryClock none = clock(0);
    assertFalse(none.expired(), "nothing failed yet");
    none.failed();
    assertTrue(none.expired());
  }

  /** As a budget (the embedder's): runs ended by settled() add up; waits between them do not. */
  @Test
  void settledRunsAddUpAndTheGapsBetweenThemDoNot() {
    RetryClock budget = new RetryClock(Duration.ofSeconds(10), now::get);
    long started = budget.now();
    advanceMs(2_000); // the failed attempt's own time counts: the run starts when it began
    budget.failed(started);
    advanceMs(1_000);
    budget.settled();
    assertEquals(Duration.ofSeconds(3), budget.elapsed());
    advanceMs(60_000); // successful requests spend nothing
    budget.settled(); // no run going on: nothing changes
    budget.failed();
    advanceMs(4_000);
    assertEquals(3_000, budget.millisLeft());
    budget.settled();
    assertEquals(Duration.ofSeconds(7), budget.elapsed());
    assertFalse(budget.expired());
  }

  /** retry.timeout.ms=Long.MAX_VALUE, someone's "practically forever", failed the task's start. */
  @Test
  void aLimitBeyondWhatNanosecondsCountNeverPasses() {
    RetryClock clock = new RetryClock(RetryClock.limitOfMillis(Long.MAX_VALUE), () -> 0L);
    clock.failed();
    assertFalse(clock.expired());
    assertEquals(Long.MAX_VALUE, clock.millisLeft());
  }
}
