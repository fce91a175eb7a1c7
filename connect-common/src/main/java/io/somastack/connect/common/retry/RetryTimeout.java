package io.somastack.connect.common.retry;

import java.util.function.LongSupplier;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;

/**
 * The sinks' {@code retry.timeout.ms}: how long a run of consecutive transient failures is retried
 * before the task fails. One definition, so both sinks document and validate it alike.
 */
public final class RetryTimeout {

  public static final String CONFIG = "retry.timeout.ms";

  /** 15 minutes: long enough for a server restart or a failover, short enough to be noticed. */
  public static final long DEFAULT_MS = 900_000L;

  private RetryTimeout() {}

  /**
   * Defines the option in {@code group} at {@code order}; {@code failures} names the sink's
   * transient failures, {@code lastError} what the message of giving up reports of the last one.
   */
  public static void define(
      ConfigDef def, String group, int order, String failures, String lastError) {
    def.define(
        CONFIG,
        Type.LONG,
        DEFAULT_MS,
        ConfigDef.Range.atLeast(-1),
        Importance.LOW,
        "How long to keep retrying "
            + failures
            + " before the task fails. The time counts from the first failure of a run of"
            + " consecutive ones and starts again after any successful write, or a put() with no"
            + " records (Connect then holds no failed batch to deliver again); a failure after it"
            + " has passed fails the task (state FAILED, which alerting on task state sees) with"
            + " an error naming the attempts, the time, the last error ("
            + lastError
            + ") and the partitions and offsets of the records not written, which are not"
            + " acknowledged: a restart of the task resumes from them and loses nothing. -1"
            + " retries for ever (the task stays RUNNING through an outage of any length); 0"
            + " fails at the first transient failure. It does not have to exceed the retry"
            + " backoff: the task gives up at the first failure after it has passed.",
        group,
        order,
        Width.SHORT,
        "Retry timeout (ms)");
  }

  /** A clock of the configured value in milliseconds (-1: none) reading {@code nanoTime}. */
  public static RetryClock clock(long millis, LongSupplier nanoTime) {
    return new RetryClock(RetryClock.limitOfMillis(millis), nanoTime);
  }

  /**
   * The message of giving up: "Gave up retrying {@code failures} after 5 attempt(s) over 900.2 s
   * (retry.timeout.ms=900000); last error: {@code lastError}; records not acknowledged: {@code
   * records}. {@code resume}". Callers pass only positions and status codes, never record contents.
   */
  public static String gaveUp(
      RetryClock clock,
      long timeoutMs,
      String failures,
      String lastError,
      String records,
      String resume) {
    return "Gave up retrying "
        + failures
        + " after "
        + clock.summary()
        + " ("
        + CONFIG
        + "="
        + timeoutMs
        + "); last error: "
        + lastError
        + "; records not acknowledged: "
        + records
        + ". "
        + resume;
  }
}
