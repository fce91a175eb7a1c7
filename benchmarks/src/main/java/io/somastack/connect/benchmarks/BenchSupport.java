package io.somastack.connect.benchmarks;

import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/** What the end-to-end harnesses share: a read_committed consumer, percentiles, the load. */
public final class BenchSupport {

  private BenchSupport() {}

  /**
   * A read_committed consumer assigned to every partition of a topic, positioned at its end (to
   * time what arrives from now on) or its beginning, with the position resolved before returning.
   */
  public static KafkaConsumer<String, String> readCommittedConsumer(
      String bootstrapServers, String topic, int partitions, boolean fromEnd) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-" + System.nanoTime());
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
    KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    List<TopicPartition> assigned = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      assigned.add(new TopicPartition(topic, p));
    }
    consumer.assign(assigned);
    if (fromEnd) {
      consumer.seekToEnd(assigned);
    } else {
      consumer.seekToBeginning(assigned);
    }
    assigned.forEach(consumer::position); // resolve now, before the writer starts
    return consumer;
  }

  /** p50, p99 and max of the samples, and their count. */
  public static String percentiles(List<Long> samples) {
    List<Long> sorted = new ArrayList<>(samples);
    Collections.sort(sorted);
    if (sorted.isEmpty()) {
      return "no samples";
    }
    return String.format(
        "p50=%d p99=%d max=%d (n=%d)",
        sorted.get((int) (sorted.size() * 0.50)),
        sorted.get(Math.min(sorted.size() - 1, (int) (sorted.size() * 0.99))),
        sorted.get(sorted.size() - 1),
        sorted.size());
  }

  /** The 1, 5 and 15-minute load averages, printed with every figure on a shared machine. */
  public static String load() {
    try {
      String[] parts = Files.readString(Paths.get("/proc/loadavg")).trim().split(" ");
      return parts[0] + " " + parts[1] + " " + parts[2];
    } catch (Exception e) {
      return "n/a";
    }
  }

  /**
   * CPU time spent between {@link #cpu()} and {@link CpuMeter#stop()}: the whole machine's (from
   * /proc/stat, so PostgreSQL's backends count too) and this JVM's (broker, Connect worker and
   * tasks). On a 2-core machine shared by Kafka, Connect and PostgreSQL, throughput follows CPU per
   * row, so that is the figure that says where a peer's time goes; on a quiet machine the machine
   * figure is all of it.
   */
  public static CpuMeter cpu() {
    return new CpuMeter();
  }

  /** See {@link #cpu()}. */
  public static final class CpuMeter {
    private final long machineStart = machineJiffies();
    private final long jvmStart = jvmCpuNanos();
    private double machineSeconds;
    private double jvmSeconds;

    public CpuMeter stop() {
      machineSeconds = (machineJiffies() - machineStart) / 100.0; // USER_HZ is 100 on Linux
      jvmSeconds = (jvmCpuNanos() - jvmStart) / 1e9;
      return this;
    }

    public String describe(long rows) {
      return String.format(
          Locale.ROOT,
          "cpu_machine_s=%.2f cpu_jvm_s=%.2f cpu_machine_us_per_row=%.1f cpu_jvm_us_per_row=%.1f",
          machineSeconds,
          jvmSeconds,
          machineSeconds * 1e6 / rows,
          jvmSeconds * 1e6 / rows);
    }

    /** user + nice + system + irq + softirq + steal of the "cpu" line, in USER_HZ ticks. */
    private static long machineJiffies() {
      try {
        String[] f = Files.readAllLines(Paths.get("/proc/stat")).get(0).trim().split("\\s+");
        long sum = 0;
        for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
          sum += Long.parseLong(f[i]);
        }
        return sum;
      } catch (Exception e) {
        return 0;
      }
    }

    private static long jvmCpuNanos() {
      java.lang.management.OperatingSystemMXBean os =
          java.lang.management.ManagementFactory.getOperatingSystemMXBean();
      return os instanceof com.sun.management.OperatingSystemMXBean sun
          ? sun.getProcessCpuTime()
          : 0;
    }
  }
}
