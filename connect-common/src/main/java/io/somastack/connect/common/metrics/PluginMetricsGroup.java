package io.somastack.connect.common.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.Gauge;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.metrics.stats.Avg;
import org.apache.kafka.common.metrics.stats.CumulativeSum;
import org.apache.kafka.common.metrics.stats.Max;
import org.apache.kafka.common.metrics.stats.Rate;

/**
 * A plugin's metrics, registered through Connect's {@link PluginMetrics} (KIP-877), which tags them
 * with the connector and task and exposes them over JMX next to Connect's own. Everything
 * registered here is removed again by {@link #close()}.
 */
public final class PluginMetricsGroup implements AutoCloseable {

  private static final LinkedHashMap<String, String> NO_TAGS = new LinkedHashMap<>();

  private final PluginMetrics metrics;

  /**
   * Sensor names are global to the worker's metrics registry, whatever tags the metrics carry: two
   * tasks asking for "records-written" would share one sensor and each count the other's records. A
   * per-instance prefix keeps every task's sensors its own. A random one, not a count: each plugin
   * folder ships its own copy of this class in its own class loader, so a static counter would give
   * the first task of every plugin on a worker the same prefix.
   */
  private final String sensorPrefix = "soma-" + UUID.randomUUID() + "-";

  private final List<String> sensors = new ArrayList<>();
  private final List<MetricName> gauges = new ArrayList<>();

  public PluginMetricsGroup(PluginMetrics metrics) {
    this.metrics = metrics;
  }

  /** A count: {@code <name>-total} (since start) and {@code <name>-rate} (per second). */
  public Sensor counter(String name, String description) {
    Sensor sensor = sensor(name);
    sensor.add(metricName(name + "-total", "Total " + description), new CumulativeSum());
    sensor.add(metricName(name + "-rate", description + " per second"), new Rate());
    return sensor;
  }

  /** A measured quantity: {@code <name>-avg} and {@code <name>-max}. */
  public Sensor distribution(String name, String description) {
    Sensor sensor = sensor(name);
    sensor.add(metricName(name + "-avg", "Average " + description), new Avg());
    sensor.add(metricName(name + "-max", "Maximum " + description), new Max());
    return sensor;
  }

  /** A value read when the metric is read. */
  public void gauge(String name, String description, Supplier<? extends Number> value) {
    MetricName metricName = metricName(name, description);
    metrics.addMetric(metricName, (Gauge<Number>) (config, now) -> value.get());
    gauges.add(metricName);
  }

  private Sensor sensor(String name) {
    String unique = sensorPrefix + name;
    Sensor sensor = metrics.addSensor(unique); // throws for a duplicate: then nothing to remove
    sensors.add(unique);
    return sensor;
  }

  private MetricName metricName(String name, String description) {
    return metrics.metricName(name, description, NO_TAGS);
  }

  @Override
  public void close() {
    try {
      sensors.forEach(metrics::removeSensor);
      gauges.forEach(metrics::removeMetric);
    } catch (IllegalStateException closed) {
      // the worker closed the plugin's metrics first, and removed everything registered here
    } finally {
      sensors.clear();
      gauges.clear();
    }
  }
}
