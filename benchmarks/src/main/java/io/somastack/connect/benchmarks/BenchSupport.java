package io.somastack.connect.benchmarks;

import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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
}
