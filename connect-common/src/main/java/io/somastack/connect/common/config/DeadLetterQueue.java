package io.somastack.connect.common.config;

import java.util.Locale;
import java.util.Map;

/**
 * Whether a sink connector's records that fail go to a dead letter queue: Connect's {@code
 * errors.deadletterqueue.topic.name} set and {@code errors.tolerance=all}. Not the same as the task
 * having an {@code ErrantRecordReporter}: Connect makes one for {@code errors.log.enable=true} too,
 * and with {@code errors.tolerance=none} its report fails the task ("Tolerance exceeded").
 */
public final class DeadLetterQueue {

  static final String TOPIC = "errors.deadletterqueue.topic.name";
  static final String TOLERANCE = "errors.tolerance";

  private DeadLetterQueue() {}

  /** Whether the connector's (or task's) settings send failed records to a dead letter queue. */
  public static boolean configured(Map<String, String> props) {
    String topic = props.get(TOPIC);
    String tolerance = props.get(TOLERANCE);
    return topic != null
        && !topic.isBlank()
        && tolerance != null
        && tolerance.trim().toLowerCase(Locale.ROOT).equals("all");
  }

  /**
   * The warning for a dead letter queue topic set while errors.tolerance is not all, or null:
   * Connect reports the first record the sink finds bad to the queue and then fails the task. Both
   * are the worker framework's options, so this is a warning at start, not a validate error.
   */
  public static String topicWithoutTolerance(Map<String, ?> originals) {
    Object topic = originals.get(TOPIC);
    Object tolerance = originals.get(TOLERANCE);
    if (topic == null
        || topic.toString().isBlank()
        || (tolerance != null && tolerance.toString().trim().equalsIgnoreCase("all"))) {
      return null;
    }
    return TOPIC
        + " is set but "
        + TOLERANCE
        + " is "
        + (tolerance == null ? "none (the default)" : tolerance)
        + ": the first bad record is dead-lettered and then fails the task, again at each"
        + " restart (one more copy in the dead letter queue each time); set errors.tolerance=all"
        + " to dead-letter bad records and go on";
  }
}
