package io.somastack.connect.postgres;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.common.metrics.internals.PluginMetricsImpl;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTaskContext;

/**
 * Just enough of Connect's task context for a task run by hand; a dead letter queue only when asked
 * for, which keeps what it was given.
 */
final class TaskContext implements SinkTaskContext {

  private final Set<TopicPartition> assignment;
  private final PluginMetrics metrics = new PluginMetricsImpl(new Metrics(), Map.of());
  private boolean deadLetterQueue;

  /** What the dead letter queue took: each record with its reason. */
  final List<Map.Entry<SinkRecord, Throwable>> deadLettered = new ArrayList<>();

  TaskContext(TopicPartition... assignment) {
    this.assignment = Set.of(assignment);
  }

  TaskContext withDeadLetterQueue() {
    deadLetterQueue = true;
    return this;
  }

  @Override
  public ErrantRecordReporter errantRecordReporter() {
    if (!deadLetterQueue) {
      return null;
    }
    return (record, reason) -> {
      deadLettered.add(Map.entry(record, reason));
      return CompletableFuture.completedFuture(null);
    };
  }

  @Override
  public Map<String, String> configs() {
    return Map.of();
  }

  @Override
  public void offset(Map<TopicPartition, Long> offsets) {}

  @Override
  public void offset(TopicPartition tp, long offset) {}

  @Override
  public void timeout(long timeoutMs) {}

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
