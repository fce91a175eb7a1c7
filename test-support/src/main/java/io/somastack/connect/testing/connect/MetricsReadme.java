package io.somastack.connect.testing.connect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.MBeanAttributeInfo;
import javax.management.ObjectName;
import org.apache.kafka.common.metrics.JmxReporter;
import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.metrics.KafkaMetricsContext;
import org.apache.kafka.common.metrics.MetricConfig;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.common.metrics.internals.PluginMetricsImpl;
import org.apache.kafka.common.metrics.stats.Avg;
import org.apache.kafka.common.metrics.stats.CumulativeSum;
import org.apache.kafka.common.metrics.stats.Max;
import org.apache.kafka.common.metrics.stats.Rate;
import org.apache.kafka.common.utils.Time;

/**
 * Checks a module README's metrics section against the metrics a task registers: its table lists
 * exactly those, each with its kind, and its example MBean is the one Connect's JMX reporter shows
 * them under. Operators alert on these names, so a renamed or added sensor must come with its
 * documentation.
 *
 * <p>The section is headed "## Metrics"; its first code block is one task's ObjectName, and its
 * table rows start with the metric's name in backquotes, then its kind (total, rate, avg, max or
 * value).
 */
public final class MetricsReadme {

  /** The kind each of PluginMetricsGroup's stats is documented as. */
  private static final Map<Class<?>, String> KINDS =
      Map.of(CumulativeSum.class, "total", Rate.class, "rate", Avg.class, "avg", Max.class, "max");

  private MetricsReadme() {}

  /**
   * Registers a task's metrics as a Connect worker would ({@code register} makes them from the
   * task's PluginMetrics, as its start() does) and asserts the README documents exactly those.
   */
  public static void assertDocuments(Path readmeFile, Consumer<PluginMetrics> register)
      throws Exception {
    String readme = Files.readString(readmeFile);
    ObjectName example = exampleMBean(readme);
    try (Metrics registry = connectMetrics()) {
      register.accept(taskPluginMetrics(registry, example)); // closing the registry removes them
      Map<String, String> documented = documented(readme);
      Map<String, String> registered = registered(registry);
      assertEquals(registered, documented, () -> drift(readmeFile, registered, documented));
      assertEquals(documented.keySet(), attributes(example), "the MBean " + example);
    }
  }

  /** As Connect's worker has them: a JMX reporter under the domain kafka.connect. */
  private static Metrics connectMetrics() {
    JmxReporter jmx = new JmxReporter();
    jmx.configure(Map.of());
    return new Metrics(
        new MetricConfig(), List.of(jmx), Time.SYSTEM, new KafkaMetricsContext("kafka.connect"));
  }

  /** A task's, tagged with its connector and task (Connect's ConnectMetrics.taskPluginMetrics). */
  private static PluginMetrics taskPluginMetrics(Metrics registry, ObjectName example) {
    LinkedHashMap<String, String> tags = new LinkedHashMap<>();
    tags.put("connector", example.getKeyProperty("connector"));
    tags.put("task", example.getKeyProperty("task"));
    return new PluginMetricsImpl(registry, tags);
  }

  private static Map<String, String> registered(Metrics registry) {
    Map<String, String> kinds = new TreeMap<>();
    registry
        .metrics()
        .forEach(
            (name, metric) -> {
              if (name.group().equals("plugins")) {
                kinds.put(name.name(), kind(metric));
              }
            });
    return kinds;
  }

  private static String drift(
      Path readme, Map<String, String> registered, Map<String, String> documented) {
    return readme
        + "'s metrics table (metric=kind) lacks "
        + minus(registered, documented)
        + " and lists "
        + minus(documented, registered)
        + ", which the task does not register";
  }

  private static Set<String> minus(Map<String, String> these, Map<String, String> those) {
    Set<String> rest = new TreeSet<>();
    these.forEach(
        (name, kind) -> {
          if (!kind.equals(those.get(name))) {
            rest.add(name + "=" + kind);
          }
        });
    return rest;
  }

  private static String kind(KafkaMetric metric) {
    return metric.isMeasurable() ? KINDS.get(metric.measurable().getClass()) : "value";
  }

  private static TreeSet<String> attributes(ObjectName mbean) throws Exception {
    MBeanAttributeInfo[] attributes =
        ManagementFactory.getPlatformMBeanServer().getMBeanInfo(mbean).getAttributes();
    return new TreeSet<>(Arrays.stream(attributes).map(MBeanAttributeInfo::getName).toList());
  }

  /** The first code block of the metrics section: the ObjectName of one task's metrics. */
  private static ObjectName exampleMBean(String readme) throws Exception {
    Matcher block =
        Pattern.compile("```\\n(kafka\\.connect:[^\\n]+)\\n```").matcher(section(readme));
    assertTrue(block.find(), "no example ObjectName in the metrics section");
    return new ObjectName(block.group(1));
  }

  /** Metric name to kind, from the rows of the metrics section's table. */
  private static Map<String, String> documented(String readme) {
    Map<String, String> kinds = new TreeMap<>();
    for (String line : section(readme).split("\n")) {
      if (line.startsWith("| `")) {
        String[] cells = line.split("\\|");
        String name = cells[1].trim().replace("`", "");
        assertNull(kinds.put(name, cells[2].trim()), name + " is listed twice");
      }
    }
    return kinds;
  }

  private static String section(String readme) {
    int start = readme.indexOf("\n## Metrics");
    assertTrue(start >= 0, "the README has no Metrics section");
    int end = readme.indexOf("\n## ", start + 1);
    return readme.substring(start, end < 0 ? readme.length() : end);
  }
}
