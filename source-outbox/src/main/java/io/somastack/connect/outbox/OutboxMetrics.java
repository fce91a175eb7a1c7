package io.somastack.connect.outbox;

import io.somastack.connect.common.metrics.PluginMetricsGroup;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.common.metrics.Sensor;

/**
 * The task's metrics, through Connect's {@link PluginMetrics} (tagged with connector and task):
 * {@code rows-relayed-total/-rate}, {@code bad-rows-total/-rate}, {@code
 * pickup-latency-ms-avg/-max} (from the row's created_at to the moment the task hands the record to
 * Connect), {@code polls-full-by-rows/-by-bytes-total/-rate} (polls the budget ended with rows
 * left), and the gauges {@code backlog-rows} and {@code oldest-unpublished-age-ms}, refreshed every
 * metrics.backlog.interval.ms over the tables the task holds, and {@code tables-locked-elsewhere}
 * (tables of the task whose lock set another session's relay holds in part, so this task does not
 * relay them; 0 while disconnected).
 */
final class OutboxMetrics implements AutoCloseable {

  private final PluginMetricsGroup group;
  private final Sensor relayed;
  private final Sensor bad;
  private final Sensor pickupLatency;
  private final Sensor pollsFullByRows;
  private final Sensor pollsFullByBytes;
  private volatile long backlogRows;
  private volatile long oldestAgeMs;
  private volatile int lockedElsewhere;

  OutboxMetrics(PluginMetrics metrics) {
    this.group = new PluginMetricsGroup(metrics);
    relayed = group.counter("rows-relayed", "outbox rows handed to Kafka");
    bad = group.counter("bad-rows", "outbox rows moved to the dead-letter table or flagged");
    pickupLatency =
        group.distribution(
            "pickup-latency-ms", "milliseconds from a row's created_at to its relay");
    pollsFullByRows =
        group.counter(
            "polls-full-by-rows", "polls that ended at poll.max.rows with rows left to read");
    pollsFullByBytes =
        group.counter(
            "polls-full-by-bytes", "polls that ended at poll.max.bytes with rows left to read");
    group.gauge("backlog-rows", "unpublished outbox rows", () -> backlogRows);
    group.gauge(
        "oldest-unpublished-age-ms",
        "age in milliseconds of the oldest unpublished outbox row",
        () -> oldestAgeMs);
    group.gauge(
        "tables-locked-elsewhere",
        "outbox tables of this task whose relay locks another session holds in part; not relayed"
            + " here",
        () -> lockedElsewhere);
  }

  void relayed(long createdAtMs, long nowMs) {
    relayed.record(1, nowMs);
    if (createdAtMs > 0) {
      pickupLatency.record(Math.max(0, nowMs - createdAtMs), nowMs);
    }
  }

  void bad(int rows) {
    bad.record(rows);
  }

  /** A poll ended with rows left to read, at poll.max.rows ({@code byRows}) or poll.max.bytes. */
  void pollFull(boolean byRows) {
    (byRows ? pollsFullByRows : pollsFullByBytes).record(1);
  }

  void backlog(long rows, long oldestAgeMs) {
    this.backlogRows = rows;
    this.oldestAgeMs = oldestAgeMs;
  }

  void lockedElsewhere(int tables) {
    this.lockedElsewhere = tables;
  }

  @Override
  public void close() {
    group.close();
  }
}
