package io.somastack.connect.common.retry;

import io.somastack.connect.common.config.OptionConflict;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;

/**
 * The options of a plugin's {@link Backoff}: its first wait and {@code retry.backoff.max.ms}.
 * Defined and checked once, so every plugin documents them alike and refuses a maximum below the
 * first wait on the maximum, in validate too, rather than fail each task at start or wait longer
 * than the maximum asked for. The first wait's name and default are each plugin's own: the
 * PostgreSQL plugins' {@link #INITIAL_CONFIG}, the Qdrant sink's retry.backoff.ms (Kafka's clients'
 * name).
 */
public final class RetryBackoff {

  public static final String INITIAL_CONFIG = "retry.backoff.initial.ms";
  public static final String MAX_CONFIG = "retry.backoff.max.ms";

  public static final long DEFAULT_MAX_MS = 30_000L;

  private RetryBackoff() {}

  /**
   * Defines the first wait, {@code initial}, at {@code order} in {@code group} and the maximum
   * after it; {@code failures} says what is retried ("a transient database error (...)").
   *
   * @return the last order used, for options the caller adds to the same group
   */
  public static int define(
      ConfigDef def, String group, int order, String initial, long initialMs, String failures) {
    return define(def, group, order, initial, initialMs, failures, "");
  }

  /**
   * As {@link #define(ConfigDef, String, int, String, long, String)}, with {@code maxNote} (a
   * sentence or more, empty for none) added to the maximum's documentation: how the plugin's waits
   * are bounded beyond it, say.
   */
  public static int define(
      ConfigDef def,
      String group,
      int order,
      String initial,
      long initialMs,
      String failures,
      String maxNote) {
    def.define(
        initial,
        Type.LONG,
        initialMs,
        ConfigDef.Range.atLeast(1),
        Importance.LOW,
        "First wait after "
            + failures
            + "; doubled at each further failure, up to "
            + MAX_CONFIG
            + ". Each wait is drawn at random up to its bound (jitter), so that tasks failing"
            + " together do not retry together.",
        group,
        order,
        Width.SHORT,
        "Retry backoff, first (ms)");
    def.define(
        MAX_CONFIG,
        Type.LONG,
        DEFAULT_MAX_MS,
        ConfigDef.Range.atLeast(1),
        Importance.LOW,
        "Longest wait between retries; at least "
            + initial
            + "."
            + (maxNote.isEmpty() ? "" : " " + maxNote),
        group,
        order + 1,
        Width.SHORT,
        "Retry backoff, longest (ms)");
    return order + 1;
  }

  /**
   * Refuses a maximum below the first wait, on the maximum: {@link Backoff} cannot be made of them.
   */
  public static void check(AbstractConfig config, String initial) {
    long initialMs = config.getLong(initial);
    long maxMs = config.getLong(MAX_CONFIG);
    if (maxMs < initialMs) {
      throw new OptionConflict(
          MAX_CONFIG,
          maxMs,
          "must not be below "
              + initial
              + " ("
              + initialMs
              + "): the first wait after a failure cannot be longer than the longest");
    }
  }
}
