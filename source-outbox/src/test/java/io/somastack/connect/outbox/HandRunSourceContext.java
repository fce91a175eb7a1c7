package io.somastack.connect.outbox;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.common.metrics.internals.PluginMetricsImpl;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTaskContext;
import org.apache.kafka.connect.storage.OffsetStorageReader;

/**
 * Connect's context for a source task run by hand: the given stored offsets (per source partition),
 * readable plugin metrics, no transactions, and an offset read that fails when asked to.
 */
final class HandRunSourceContext implements SourceTaskContext {
  private final Map<String, String> configs;
  private final Map<Map<String, ?>, Map<String, Object>> offsets;
  private final Metrics registry = new Metrics();
  private final PluginMetrics metrics = new PluginMetricsImpl(registry, Map.of());
  private volatile boolean failNextOffsetRead;

  /**
   * A relay's settings for tests: the database, tables created, rows marked, a short poll interval
   * (a poll with nothing to do waits that long). Mutable, for each test's own additions.
   */
  static Map<String, String> relayProps(String url, String user) {
    Map<String, String> props = new HashMap<>();
    props.put("connection.url", url);
    props.put("connection.user", user);
    props.put("outbox.table.create", "true");
    props.put("after.publish", "mark");
    props.put("poll.interval.ms", "20");
    return props;
  }

  /** A relay task started by hand with the settings, finding these stored offsets. */
  static PostgresOutboxSourceTask startedTask(
      Map<String, String> props, Map<Map<String, ?>, Map<String, Object>> offsets) {
    PostgresOutboxSourceTask task = new PostgresOutboxSourceTask();
    task.initialize(new HandRunSourceContext(props, offsets));
    task.start(props);
    return task;
  }

  /**
   * Polls, acknowledging every record as Connect does once Kafka has it, until {@code count}
   * records came and a poll after them (which marks or deletes them) returned nothing; gives up
   * after many more polls than that needs.
   */
  static List<SourceRecord> relayUntil(PostgresOutboxSourceTask task, int count)
      throws InterruptedException {
    List<SourceRecord> relayed = new ArrayList<>();
    for (int poll = 0; poll < 100; poll++) {
      List<SourceRecord> records = task.poll();
      if (records != null) {
        relayed.addAll(records);
        records.forEach(record -> task.commitRecord(record, null));
      } else if (relayed.size() >= count && poll > 0) {
        break;
      }
    }
    return relayed;
  }

  /** Polls, without acknowledging, until at least {@code count} records came (10 s at most). */
  static List<SourceRecord> pollUntil(PostgresOutboxSourceTask task, int count) {
    List<SourceRecord> relayed = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              List<SourceRecord> records = task.poll();
              if (records != null) {
                relayed.addAll(records);
              }
              return relayed.size() >= count;
            });
    return relayed;
  }

  /** The outbox row ids of relayed records, from their source offsets. */
  static List<Long> ids(List<SourceRecord> records) {
    return records.stream().map(r -> OutboxCursor.fromOffset(r.sourceOffset()).id()).toList();
  }

  HandRunSourceContext(
      Map<String, String> configs, Map<Map<String, ?>, Map<String, Object>> offsets) {
    this.configs = configs;
    this.offsets = offsets;
  }

  @Override
  public Map<String, String> configs() {
    return configs;
  }

  /**
   * Makes the next offset read fail as Connect's reader does when Kafka does not answer in time: a
   * ConnectException.
   */
  void failNextOffsetRead() {
    failNextOffsetRead = true;
  }

  private void maybeFail() {
    if (failNextOffsetRead) {
      failNextOffsetRead = false;
      throw new ConnectException("Failed to fetch offsets.");
    }
  }

  @Override
  public OffsetStorageReader offsetStorageReader() {
    return new OffsetStorageReader() {
      @Override
      public <T> Map<String, Object> offset(Map<String, T> partition) {
        maybeFail();
        return offsets.get(partition);
      }

      @Override
      public <T> Map<Map<String, T>, Map<String, Object>> offsets(
          Collection<Map<String, T>> partitions) {
        maybeFail();
        Map<Map<String, T>, Map<String, Object>> found = new HashMap<>();
        for (Map<String, T> partition : partitions) {
          if (offsets.containsKey(partition)) {
            found.put(partition, offsets.get(partition));
          }
        }
        return found;
      }
    };
  }

  @Override
  public PluginMetrics pluginMetrics() {
    return metrics;
  }

  /** The current value of the task's numeric plugin metric {@code name}. */
  double metric(String name) {
    Object value =
        registry.metrics().entrySet().stream()
            .filter(entry -> entry.getKey().name().equals(name))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no metric " + name))
            .getValue()
            .metricValue();
    return ((Number) value).doubleValue();
  }
}
