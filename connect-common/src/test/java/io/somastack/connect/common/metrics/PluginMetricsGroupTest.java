package io.somastack.connect.common.metrics;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.metrics.internals.PluginMetricsImpl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PluginMetricsGroupTest {

  private final Metrics registry = new Metrics();
  private final PluginMetricsImpl plugin =
      new PluginMetricsImpl(registry, new LinkedHashMap<>(Map.of("connector", "c", "task", "0")));

  @AfterEach
  void closeRegistry() {
    registry.close();
  }

  private List<String> pluginMetricNames() {
    return registry.metrics().keySet().stream()
        .filter(name -> name.group().equals("plugins"))
        .map(MetricName::name)
        .sorted()
        .toList();
  }

  @Test
  void closeRemovesEverythingItRegistered() {
    PluginMetricsGroup group = new PluginMetricsGroup(plugin);
    group.counter("records", "records written");
    group.distribution("batch-size", "records per batch");
    group.gauge("lag", "records behind", () -> 5);
    assertEquals(
        List.of("batch-size-avg", "batch-size-max", "lag", "records-rate", "records-total"),
        pluginMetricNames());
    group.close();
    assertEquals(List.of(), pluginMetricNames());
  }

  /**
   * A name refused as a duplicate was still listed for removal: close() then failed on it ("Unknown
   * sensor") before removing the gauges, which stayed registered for the next task to trip over.
   */
  @Test
  void aRefusedDuplicateDoesNotStopCloseFromRemovingTheRest() {
    PluginMetricsGroup group = new PluginMetricsGroup(plugin);
    group.counter("records", "records written");
    assertThrows(IllegalArgumentException.class, () -> group.counter("records", "records written"));
    group.gauge("lag", "records behind", () -> 5);
    assertDoesNotThrow(group::close);
    assertEquals(List.of(), pluginMetricNames());
  }

  /** Metrics the worker already closed (and so removed) leave nothing for close() to fail on. */
  @Test
  void closingAfterTheWorkerClosedThePluginsMetricsIsQuiet() throws Exception {
    PluginMetricsGroup group = new PluginMetricsGroup(plugin);
    group.counter("records", "records written");
    group.gauge("lag", "records behind", () -> 5);
    plugin.close();
    assertDoesNotThrow(group::close);
    assertEquals(List.of(), pluginMetricNames());
  }
}
