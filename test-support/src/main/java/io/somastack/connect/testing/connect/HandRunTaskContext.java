package io.somastack.connect.testing.connect;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.common.metrics.internals.PluginMetricsImpl;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTaskContext;

/**
 * Connect's sink task context for a task run by hand, in a unit test or a benchmark: a fixed
 * assignment, plugin metrics that can be read back, the last timeout the task asked for, and a dead
 * letter queue that keeps what it is given (none unless asked for, as with a connector without
 * errors.deadletterqueue.topic.name).
 */
public final class HandRunTaskContext implements SinkTaskContext {

  private final Map<TopicPartition, Long> requestedOffsets = new ConcurrentHashMap<>();

  private final Set<TopicPartition> assignment;
  private final Metrics registry = new Metrics();
  private final PluginMetrics metrics = new PluginMetricsImpl(registry, Map.of());
  private final List<Map.Entry<SinkRecord, Throwable>> deadLettered = new CopyOnWriteArrayList<>();
  private volatile boolean deadLetterQueue;
  private volatile RuntimeException reportThrows;
  private volatile Throwable reportFails;
  private volatile long timeoutMs;

  public HandRunTaskContext(TopicPartition... assignment) {
    this.assignment = Set.of(assignment);
  }

  /** With a dead letter queue, or without one (errantRecordReporter() returns null). */
  public HandRunTaskContext deadLetterQueue(boolean enabled) {
    deadLetterQueue = enabled;
    return this;
  }

  /**
   * With a dead letter queue whose report() throws this, as a reporter may (Connect's throws when
   * errors.tolerance=none; another worker's might throw anything).
   */
  public HandRunTaskContext deadLetterQueueThrowing(RuntimeException thrown) {
    deadLetterQueue = true;
    reportThrows = thrown;
    return this;
  }

  /**
   * With a dead letter queue whose report() returns a future that fails with this, as Connect's
   * does when its producer cannot write the dead letter topic.
   */
  public HandRunTaskContext deadLetterQueueFailing(Throwable cause) {
    deadLetterQueue = true;
    reportFails = cause;
    return this;
  }

  /** What the dead letter queue took, in order: each record with its reason. */
  public List<Map.Entry<SinkRecord, Throwable>> deadLettered() {
    return deadLettered;
  }

  /** The last timeout the task asked for through {@link #timeout(long)}; 0 if none. */
  public long timeoutMs() {
    return timeoutMs;
  }

  /** The value of the task's first metric of that name. */
  public double metric(String name) {
    return registry.metrics().entrySet().stream()
        .filter(e -> e.getKey().name().equals(name))
        .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue())
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no metric " + name));
  }

  @Override
  public ErrantRecordReporter errantRecordReporter() {
    if (!deadLetterQueue) {
      return null;
    }
    return (record, reason) -> {
      if (reportThrows != null) {
        throw reportThrows;
      }
      if (reportFails != null) {
        return CompletableFuture.failedFuture(reportFails);
      }
      deadLettered.add(Map.entry(record, reason));
      return CompletableFuture.completedFuture(null);
    };
  }

  @Override
  public Map<String, String> configs() {
    return Map.of();
  }

  @Override
  public void offset(Map<TopicPartition, Long> offsets) {
    requestedOffsets.putAll(offsets);
  }

  @Override
  public void offset(TopicPartition tp, long offset) {
    requestedOffsets.put(tp, offset);
  }

  /** The last offset the task asked Connect to rewind (or skip) each partition to. */
  public Map<TopicPartition, Long> requestedOffsets() {
    return Map.copyOf(requestedOffsets);
  }

  @Override
  public void timeout(long timeoutMs) {
    this.timeoutMs = timeoutMs;
  }

  @Override
  public Set<TopicPartition> assignment() {
    return assignment;
  }

  @Override
  public void pause(TopicPartition... partitions) {}

  @Override
  public void resume(TopicPartition... partitions) {}

  @Override
  public void requestCommit() {}

  @Override
  public PluginMetrics pluginMetrics() {
    return metrics;
  }
}
