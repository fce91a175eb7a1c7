package io.somastack.connect.benchmarks.postgres;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.sink.SinkConnector;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;

/**
 * A sink that only counts what it is given: the cost of Kafka, the Connect runtime and the
 * converter alone, with no database. Measured beside our sink and raw COPY, it shows how much of
 * the 2-core machine a connector spends before it writes anything. Loaded from the benchmark's
 * classpath, so the harness reads its counters directly.
 */
public final class CountingSinkConnector extends SinkConnector {

  /** Records seen and the wall-clock span of the puts, per connector name. */
  public static final class Progress {
    final AtomicLong records = new AtomicLong();
    volatile long firstPutMs;
    volatile long lastPutMs;

    public long records() {
      return records.get();
    }

    public long firstPutMs() {
      return firstPutMs;
    }

    public long lastPutMs() {
      return lastPutMs;
    }
  }

  private static final Map<String, Progress> PROGRESS = new ConcurrentHashMap<>();

  public static Progress progress(String connector) {
    return PROGRESS.computeIfAbsent(connector, name -> new Progress());
  }

  private Map<String, String> props;

  @Override
  public void start(Map<String, String> props) {
    this.props = props;
  }

  @Override
  public Class<? extends Task> taskClass() {
    return CountingTask.class;
  }

  @Override
  public List<Map<String, String>> taskConfigs(int maxTasks) {
    List<Map<String, String>> configs = new ArrayList<>();
    for (int i = 0; i < maxTasks; i++) {
      configs.add(props);
    }
    return configs;
  }

  @Override
  public void stop() {}

  @Override
  public ConfigDef config() {
    return new ConfigDef();
  }

  @Override
  public String version() {
    return "bench";
  }

  /** Counts records; touches each value so a lazy converter cannot skip its work. */
  public static final class CountingTask extends SinkTask {
    /** Where the touched values go, so the JIT cannot drop the work. */
    private static volatile long blackhole;

    private Progress progress;
    private long touched;

    @Override
    public void start(Map<String, String> props) {
      progress = progress(props.get("name"));
    }

    @Override
    public void put(Collection<SinkRecord> records) {
      if (records.isEmpty()) {
        return;
      }
      for (SinkRecord record : records) {
        touched += record.value() == null ? 0 : record.value().hashCode();
      }
      long now = System.currentTimeMillis();
      if (progress.records.getAndAdd(records.size()) == 0) {
        progress.firstPutMs = now;
      }
      progress.lastPutMs = now;
    }

    @Override
    public void stop() {
      blackhole = touched;
    }

    @Override
    public String version() {
      return "bench";
    }
  }
}
