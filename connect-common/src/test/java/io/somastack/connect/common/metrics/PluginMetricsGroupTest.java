package io.somastack.connect.common.metrics;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.common.metrics.Sensor;
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

  /**
   * Connect loads each plugin folder in a class loader of its own, and each folder ships its own
   * copy of this class: a per-class counter numbered the first task of every plugin "1", so the
   * PostgreSQL sink's and the Qdrant sink's "retries" were one sensor, counting each other's
   * retries and both removed when either task stopped.
   */
  @Test
  void tasksOfTwoPluginsLoadedApartKeepTheirOwnSensors() throws Exception {
    PluginMetricsImpl other =
        new PluginMetricsImpl(registry, new LinkedHashMap<>(Map.of("connector", "d", "task", "0")));
    try (PluginFolder first = new PluginFolder(plugin);
        PluginFolder second = new PluginFolder(other)) {
      Sensor firstRetries = first.counter("retries");
      second.counter("retries");
      firstRetries.record();
      assertEquals(1.0, retriesTotal("c"));
      assertEquals(0.0, retriesTotal("d"), "one plugin's retries counted for the other");
      first.closeGroup();
      assertEquals(0.0, retriesTotal("d"), "one plugin's stop removed the other's metric");
    }
  }

  private Object retriesTotal(String connector) {
    return registry.metrics().entrySet().stream()
        .filter(e -> e.getKey().name().equals("retries-total"))
        .filter(e -> connector.equals(e.getKey().tags().get("connector")))
        .findFirst()
        .map(e -> e.getValue().metricValue())
        .orElseThrow(() -> new AssertionError("no retries-total for connector " + connector));
  }

  /**
   * A {@link PluginMetricsGroup} from this module's classes loaded again, child first, the way
   * Connect's PluginClassLoader loads a plugin folder's copy of connect-common; Kafka's classes
   * come from the parent, as on a worker.
   */
  private static final class PluginFolder extends URLClassLoader {
    private final Object group;

    PluginFolder(PluginMetrics metrics) throws Exception {
      super(
          new URL[] {PluginMetricsGroup.class.getProtectionDomain().getCodeSource().getLocation()},
          PluginMetricsGroupTest.class.getClassLoader());
      Class<?> type = loadClass(PluginMetricsGroup.class.getName());
      assertNotSame(PluginMetricsGroup.class, type, "loaded apart from the test's copy");
      group = type.getConstructor(PluginMetrics.class).newInstance(metrics);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      synchronized (getClassLoadingLock(name)) {
        if (!name.startsWith("io.somastack.")) {
          return super.loadClass(name, resolve);
        }
        Class<?> loaded = findLoadedClass(name);
        return loaded != null ? loaded : findClass(name);
      }
    }

    Sensor counter(String name) throws Exception {
      return (Sensor)
          group
              .getClass()
              .getMethod("counter", String.class, String.class)
              .invoke(group, name, name);
    }

    void closeGroup() throws Exception {
      group.getClass().getMethod("close").invoke(group);
    }
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
