package io.somastack.connect.postgres;

import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.common.metrics.internals.PluginMetricsImpl;
import org.apache.kafka.connect.sink.SinkTaskContext;

/** Just enough of Connect's task context for a task run by hand: no dead letter queue. */
final class TaskContext implements SinkTaskContext {

  private final Set<TopicPartition> assignment;
  private final PluginMetrics metrics = new PluginMetricsImpl(new Metrics(), Map.of());

  TaskContext(TopicPartition... assignment) {
    this.assignment = Set.of(assignment);
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
