package io.somastack.connect.common.metrics;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.Gauge;
import org.apache.kafka.common.metrics.MeasurableStat;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.metrics.stats.Avg;
import org.apache.kafka.common.metrics.stats.CumulativeSum;
import org.apache.kafka.common.metrics.stats.Max;
import org.apache.kafka.common.metrics.stats.Rate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A plugin's metrics, registered through Connect's {@link PluginMetrics} (KIP-877), which tags them
 * with the connector and task and exposes them over JMX next to Connect's own. Everything
 * registered here is removed again by {@link #close()}.
 *
 * <p>A name another instance still holds does not fail the task. A task stuck longer than
 * task.shutdown.graceful.timeout.ms (a put() blocked behind a DBA's LOCK TABLE) is abandoned by the
 * worker, which removes its own task metrics but not the plugin metrics: those stay until the stuck
 * thread returns and its stop() closes them. A restart, config update or rebalance meanwhile starts
 * a new instance with the same connector and task tags, whose names the worker's registry refuses
 * ("A metric named ... already exists"). Such a name is kept pending, with a warning, and its
 * registration retried in the background every {@link #RETRY_INTERVAL_MS} until the old instance
 * let go of it or this group is closed. Until then the sensor handed out lacks that stat: values
 * recorded meanwhile are not counted in it (dropped), and the registry shows the old instance's
 * value. Recording is Kafka's {@link Sensor#record} as before, at no extra cost: the retry adds the
 * stat to that same sensor, under the sensor's own lock, as Kafka's {@link Sensor#add} does.
 */
public final class PluginMetricsGroup implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PluginMetricsGroup.class);

  private static final LinkedHashMap<String, String> NO_TAGS = new LinkedHashMap<>();

  /** How often a name another instance holds is tried again. */
  static final long RETRY_INTERVAL_MS = 1_000;

  /**
   * The retries of every group of this class loader (a plugin folder): one daemon thread, started
   * at the first name refused and ending once no retry has been pending for a while. It is kept
   * while a retry is scheduled: a pool worker times out only when its queue is empty.
   */
  private static final ScheduledThreadPoolExecutor RETRIES = retries();

  private static ScheduledThreadPoolExecutor retries() {
    ScheduledThreadPoolExecutor retries =
        new ScheduledThreadPoolExecutor(
            1,
            task -> {
              Thread thread = new Thread(task, "soma-plugin-metrics-retry");
              thread.setDaemon(true);
              return thread;
            });
    retries.setKeepAliveTime(30, TimeUnit.SECONDS);
    retries.allowCoreThreadTimeOut(true);
    retries.setRemoveOnCancelPolicy(true);
    return retries;
  }

  private final PluginMetrics metrics;

  /**
   * Sensor names are global to the worker's metrics registry, whatever tags the metrics carry: two
   * tasks asking for "records-written" would share one sensor and each count the other's records. A
   * per-instance prefix keeps every task's sensors its own. A random one, not a count: each plugin
   * folder ships its own copy of this class in its own class loader, so a static counter would give
   * the first task of every plugin on a worker the same prefix.
   */
  private final String sensorPrefix = "soma-" + UUID.randomUUID() + "-";

  // all guarded by this: the task's thread registers and closes, the retry thread registers
  private final List<String> sensors = new ArrayList<>();
  private final List<MetricName> gauges = new ArrayList<>();
  private final Set<MetricName> names = new HashSet<>();
  private final List<Pending> pending = new ArrayList<>();
  private ScheduledFuture<?> retry;
  private boolean closed;

  public PluginMetricsGroup(PluginMetrics metrics) {
    this.metrics = metrics;
  }

  /** A count: {@code <name>-total} (since start) and {@code <name>-rate} (per second). */
  public synchronized Sensor counter(String name, String description) {
    Sensor sensor = sensor(name);
    stat(sensor, metricName(name + "-total", "Total " + description), new CumulativeSum());
    stat(sensor, metricName(name + "-rate", description + " per second"), new Rate());
    return sensor;
  }

  /** A measured quantity: {@code <name>-avg} and {@code <name>-max}. */
  public synchronized Sensor distribution(String name, String description) {
    Sensor sensor = sensor(name);
    stat(sensor, metricName(name + "-avg", "Average " + description), new Avg());
    stat(sensor, metricName(name + "-max", "Maximum " + description), new Max());
    return sensor;
  }

  /** A value read when the metric is read. */
  public synchronized void gauge(
      String name, String description, Supplier<? extends Number> value) {
    MetricName metricName = metricName(name, description);
    claim(metricName);
    register(new PendingGauge(metricName, (config, now) -> value.get()));
  }

  private Sensor sensor(String name) {
    String unique = sensorPrefix + name;
    Sensor sensor = metrics.addSensor(unique); // throws for a duplicate: then nothing to remove
    sensors.add(unique);
    return sensor;
  }

  private void stat(Sensor sensor, MetricName metricName, MeasurableStat stat) {
    claim(metricName);
    register(new PendingStat(sensor, metricName, stat));
  }

  /** The same name asked for twice of one group is a mistake, refused as Kafka refuses it. */
  private void claim(MetricName metricName) {
    if (!names.add(metricName)) {
      throw new IllegalArgumentException(
          "A metric named " + metricName + " was already registered by this group");
    }
  }

  private void register(Pending registration) {
    try {
      registration.register();
    } catch (IllegalArgumentException taken) {
      // another instance's, with this task's tags: one the worker gave up on, still stopping
      if (pending.isEmpty() && retry == null) {
        log.warn(
            "Plugin metric {} is still registered by an earlier instance of this task, which has"
                + " not stopped yet (stuck past task.shutdown.graceful.timeout.ms); this instance"
                + " runs on and registers its metrics once the earlier one released them, until"
                + " then they are not counted",
            registration.name());
        retry =
            RETRIES.scheduleWithFixedDelay(
                this::retry, RETRY_INTERVAL_MS, RETRY_INTERVAL_MS, TimeUnit.MILLISECONDS);
      }
      pending.add(registration);
    }
  }

  private synchronized void retry() {
    if (closed || pending.isEmpty()) {
      return;
    }
    try {
      // PluginMetricsImpl refuses anything once the worker closed it, but a stat is added to its
      // sensor directly, into the worker's registry: after that close nothing would remove it
      metrics.metricName("closed-check", "", NO_TAGS);
      pending.removeIf(Pending::tryRegister);
      if (pending.isEmpty()) {
        log.info("Plugin metrics an earlier instance of this task held are registered now");
      }
    } catch (IllegalStateException workerClosedThem) {
      pending.clear();
    } catch (RuntimeException unexpected) {
      log.warn("Plugin metrics of this task could not be registered, given up", unexpected);
      pending.clear();
    }
    if (pending.isEmpty()) {
      cancelRetry();
    }
  }

  private void cancelRetry() {
    if (retry != null) {
      retry.cancel(false);
      retry = null;
    }
  }

  private MetricName metricName(String name, String description) {
    return metrics.metricName(name, description, NO_TAGS);
  }

  @Override
  public synchronized void close() {
    closed = true;
    cancelRetry();
    pending.clear();
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

  /** A registration: refused with an IllegalArgumentException while the name is taken. */
  private abstract static class Pending {
    abstract MetricName name();

    abstract void register();

    /** Whether it is registered now. */
    final boolean tryRegister() {
      try {
        register();
        return true;
      } catch (IllegalArgumentException stillTaken) {
        return false;
      }
    }
  }

  /**
   * A stat of one of this group's sensors. Sensor.add registers into the worker's registry before
   * it adds the stat, so a refused name leaves the sensor as it was; it is idempotent for a name
   * the sensor has, and synchronized with the sensor's recording.
   */
  private static final class PendingStat extends Pending {
    private final Sensor sensor;
    private final MetricName name;
    private final MeasurableStat stat;

    PendingStat(Sensor sensor, MetricName name, MeasurableStat stat) {
      this.sensor = sensor;
      this.name = name;
      this.stat = stat;
    }

    @Override
    MetricName name() {
      return name;
    }

    @Override
    void register() {
      sensor.add(name, stat);
    }
  }

  private final class PendingGauge extends Pending {
    private final MetricName name;
    private final Gauge<Number> gauge;

    PendingGauge(MetricName name, Gauge<Number> gauge) {
      this.name = name;
      this.gauge = gauge;
    }

    @Override
    MetricName name() {
      return name;
    }

    @Override
    void register() {
      metrics.addMetric(name, gauge);
      gauges.add(name);
    }
  }
}
