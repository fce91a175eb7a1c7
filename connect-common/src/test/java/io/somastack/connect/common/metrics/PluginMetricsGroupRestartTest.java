package io.somastack.connect.common.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.metrics.internals.PluginMetricsImpl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A task stuck longer than task.shutdown.graceful.timeout.ms (a put() blocked behind a DBA's LOCK
 * TABLE) is abandoned by the worker, whose own task metrics go but whose plugin metrics stay until
 * the stuck thread finally runs close(). A restart, config update or rebalance meanwhile starts a
 * new instance with the same connector and task tags, on the same worker registry: Connect's
 * PluginMetricsImpl refused its metric names as taken ("A metric named ... already exists"),
 * start() threw and the task stayed FAILED until restarted by hand.
 */
class PluginMetricsGroupRestartTest {

  private static final Duration WELL_PAST_A_RETRY = Duration.ofSeconds(10);

  /** One registry per worker, as Connect's: tasks' plugin metrics differ only by their tags. */
  private final Metrics worker = new Metrics();

  @AfterEach
  void closeWorker() throws Exception {
    worker.close();
  }

  private PluginMetricsImpl taskMetrics() {
    return new PluginMetricsImpl(
        worker, new LinkedHashMap<>(Map.of("connector", "orders-sink", "task", "0")));
  }

  /** The plugin metrics of the worker, by name, with their values. */
  private Map<String, Object> pluginMetrics() {
    Map<String, Object> values = new TreeMap<>();
    for (Map.Entry<MetricName, KafkaMetric> e : worker.metrics().entrySet()) {
      if (e.getKey().group().equals("plugins")) {
        values.put(e.getKey().name(), e.getValue().metricValue());
      }
    }
    return values;
  }

  private static final List<String> ALL =
      List.of("batch-size-avg", "batch-size-max", "lag", "records-rate", "records-total");

  @Test
  void aRestartedInstanceStartsWhileTheStuckOneHoldsItsMetricsAndGetsThemOnceItCloses()
      throws Exception {
    PluginMetricsImpl stuckMetrics = taskMetrics();
    PluginMetricsGroup stuck = new PluginMetricsGroup(stuckMetrics);
    Sensor stuckRecords = stuck.counter("records", "records written");
    stuck.distribution("batch-size", "records per batch");
    stuck.gauge("lag", "records behind", () -> 5.0);
    stuckRecords.record();
    stuckRecords.record();
    stuckRecords.record();

    PluginMetricsImpl restartedMetrics = taskMetrics();
    PluginMetricsGroup restarted =
        assertDoesNotThrow(() -> new PluginMetricsGroup(restartedMetrics));
    Sensor records =
        assertDoesNotThrow(() -> restarted.counter("records", "records written"), "start() threw");
    Sensor batchSize =
        assertDoesNotThrow(() -> restarted.distribution("batch-size", "records per batch"));
    assertDoesNotThrow(() -> restarted.gauge("lag", "records behind", () -> 7.0));
    records.record(); // while the stuck instance holds the name: not counted
    assertEquals(3.0, pluginMetrics().get("records-total"), "the stuck instance's count stays");
    assertEquals(5.0, pluginMetrics().get("lag"));

    stuck.close(); // the stuck put() returned at last, and the task's stop() ran
    stuckMetrics.close();

    await()
        .atMost(WELL_PAST_A_RETRY)
        .until(() -> pluginMetrics().keySet().containsAll(ALL) && gaugeIsTheRestartedOnes());
    assertEquals(0.0, pluginMetrics().get("records-total"), "a fresh count, the new instance's");
    records.record();
    records.record();
    batchSize.record(40);
    assertEquals(2.0, pluginMetrics().get("records-total"));
    assertEquals(40.0, pluginMetrics().get("batch-size-max"));

    restarted.close();
    restartedMetrics.close();
    assertEquals(Map.of(), pluginMetrics());
  }

  private boolean gaugeIsTheRestartedOnes() {
    return Double.valueOf(7.0).equals(pluginMetrics().get("lag")); // absent between the two
  }

  /** A restarted instance stopped before the stuck one let go registers nothing afterwards. */
  @Test
  void aRestartedInstanceClosedFirstLeavesNothingBehind() throws Exception {
    PluginMetricsImpl stuckMetrics = taskMetrics();
    PluginMetricsGroup stuck = new PluginMetricsGroup(stuckMetrics);
    stuck.counter("records", "records written");
    stuck.gauge("lag", "records behind", () -> 5.0);

    PluginMetricsImpl restartedMetrics = taskMetrics();
    PluginMetricsGroup restarted = new PluginMetricsGroup(restartedMetrics);
    restarted.counter("records", "records written");
    restarted.gauge("lag", "records behind", () -> 7.0);
    restarted.close();
    restartedMetrics.close();

    stuck.close();
    stuckMetrics.close();
    await()
        .during(Duration.ofMillis(3 * PluginMetricsGroup.RETRY_INTERVAL_MS))
        .atMost(WELL_PAST_A_RETRY)
        .until(() -> pluginMetrics().isEmpty());
  }

  /**
   * The worker may close a task's plugin metrics without the task's stop() running (a task that
   * failed in start()): the group must not then register into the worker's registry behind
   * PluginMetricsImpl's back, where nothing would ever remove it.
   */
  @Test
  void metricsTheWorkerClosedAreNotRegisteredLater() throws Exception {
    PluginMetricsImpl stuckMetrics = taskMetrics();
    PluginMetricsGroup stuck = new PluginMetricsGroup(stuckMetrics);
    stuck.counter("records", "records written");

    PluginMetricsImpl restartedMetrics = taskMetrics();
    new PluginMetricsGroup(restartedMetrics).counter("records", "records written");
    restartedMetrics.close();

    stuck.close();
    stuckMetrics.close();
    await()
        .during(Duration.ofMillis(3 * PluginMetricsGroup.RETRY_INTERVAL_MS))
        .atMost(WELL_PAST_A_RETRY)
        .until(() -> pluginMetrics().isEmpty());
  }

  /**
   * The stuck instance's close() removes its metrics one by one: a sensor whose first stat was
   * registered and whose second was refused gets the second later, and counts meanwhile.
   */
  @Test
  void namesFreedOneByOneAreEachRegisteredOnceFree() throws Exception {
    PluginMetricsImpl stuckMetrics = taskMetrics();
    PluginMetricsGroup stuck = new PluginMetricsGroup(stuckMetrics);
    stuck.gauge("records-rate", "holds the second name of the restarted counter", () -> 1.0);
    PluginMetricsGroup stuckLag = new PluginMetricsGroup(stuckMetrics);
    stuckLag.gauge("lag", "records behind", () -> 5.0);

    PluginMetricsImpl restartedMetrics = taskMetrics();
    PluginMetricsGroup restarted = new PluginMetricsGroup(restartedMetrics);
    Sensor records = restarted.counter("records", "records written");
    restarted.gauge("lag", "records behind", () -> 7.0);
    records.record();
    assertEquals(1.0, pluginMetrics().get("records-total"), "the free name counts at once");

    stuckLag.close();
    await().atMost(WELL_PAST_A_RETRY).until(this::gaugeIsTheRestartedOnes);
    assertEquals(1.0, pluginMetrics().get("records-rate"), "still the stuck instance's");

    stuck.close();
    stuckMetrics.close();
    await()
        .atMost(WELL_PAST_A_RETRY)
        .until(() -> pluginMetrics().get("records-rate") instanceof Double rate && rate != 1.0);
    records.record();
    assertEquals(Set.of("lag", "records-rate", "records-total"), pluginMetrics().keySet());
    assertEquals(2.0, pluginMetrics().get("records-total"));
    restarted.close();
    assertEquals(Map.of(), pluginMetrics());
  }
}
