package io.somastack.connect.testing.connect;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;

/**
 * A real Kafka Connect cluster in this JVM (a KRaft broker and distributed workers, Kafka's own
 * {@link EmbeddedConnectCluster}) that loads the soma-connect plugins from their packaged folders
 * on {@code plugin.path}, with Connect's plugin isolation, exactly as users deploy them.
 */
public final class ConnectHarness implements AutoCloseable {

  private final EmbeddedConnectCluster connect;
  private KafkaProducer<String, String> producer;

  private ConnectHarness(EmbeddedConnectCluster connect) {
    this.connect = connect;
  }

  public static Builder builder(String name) {
    return new Builder(name);
  }

  public EmbeddedConnectCluster connect() {
    return connect;
  }

  public String bootstrapServers() {
    return connect.kafka().bootstrapServers();
  }

  public void createTopic(String topic, int partitions) {
    connect.kafka().createTopic(topic, partitions);
  }

  /**
   * Sends a record without waiting for it (one {@link #flush()} for many is far faster than
   * EmbeddedKafkaCluster#produce, which waits for each record).
   */
  public void send(String topic, Integer partition, String key, String value, Header... headers) {
    producer().send(new ProducerRecord<>(topic, partition, key, value, List.of(headers)));
  }

  public void send(String topic, String key, String value) {
    send(topic, null, key, value);
  }

  public void flush() {
    producer().flush();
  }

  private synchronized KafkaProducer<String, String> producer() {
    if (producer == null) {
      Map<String, Object> props = new HashMap<>();
      props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
      props.put(ProducerConfig.ACKS_CONFIG, "all");
      props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
      props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
      producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }
    return producer;
  }

  /** Creates or updates a connector and waits until it and {@code tasks} tasks are RUNNING. */
  public void deploy(String name, Map<String, String> config, int tasks) {
    connect.configureConnector(name, config);
    awaitRunning(name, tasks);
  }

  public void awaitRunning(String name, int tasks) {
    await("connector " + name + " and " + tasks + " task(s) RUNNING")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> isRunning(name, tasks));
  }

  /**
   * As {@link #awaitRunning}, after tasks.max changed: exactly {@code tasks} tasks, all RUNNING. A
   * task FAILED with Connect's TooManyTasksException is not the plugin's failure: lowering
   * tasks.max races Connect's start of task configs generated under the old value
   * (tasks.max.enforce, KIP-1019), and Connect replaces them once the connector's new ones are
   * written. Such a task is waited for, and restarted through the REST API if it stays FAILED for
   * 10 s; any other FAILED task fails the test at once.
   */
  public void awaitRunningAfterReconfiguration(String name, int tasks) {
    Map<Integer, Long> failedSince = new HashMap<>();
    await("connector " + name + " and exactly " + tasks + " task(s) RUNNING")
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              ConnectorStateInfo status;
              try {
                status = connect.connectorStatus(name);
              } catch (RuntimeException e) {
                return false; // no status yet, or the worker asked is leaving
              }
              for (ConnectorStateInfo.TaskState task : status.tasks()) {
                if (!"FAILED".equals(task.state())) {
                  failedSince.remove(task.id());
                  continue;
                }
                if (task.trace() == null || !task.trace().contains("TooManyTasksException")) {
                  throw new AssertionError(
                      "task " + task.id() + " of " + name + " FAILED:\n" + task.trace());
                }
                long since = failedSince.computeIfAbsent(task.id(), id -> System.nanoTime());
                if (System.nanoTime() - since > Duration.ofSeconds(10).toNanos()) {
                  connect.restartTask(name, task.id());
                  failedSince.remove(task.id());
                }
              }
              return "RUNNING".equals(status.connector().state())
                  && status.tasks().size() == tasks
                  && status.tasks().stream().allMatch(t -> "RUNNING".equals(t.state()));
            });
  }

  private boolean isRunning(String name, int tasks) {
    try {
      ConnectorStateInfo status = connect.connectorStatus(name);
      long running = status.tasks().stream().filter(t -> "RUNNING".equals(t.state())).count();
      status.tasks().stream()
          .filter(t -> "FAILED".equals(t.state()))
          .findFirst()
          .ifPresent(
              t -> {
                throw new AssertionError(
                    "task " + t.id() + " of " + name + " FAILED:\n" + t.trace());
              });
      return "RUNNING".equals(status.connector().state()) && running >= tasks;
    } catch (org.apache.kafka.connect.runtime.rest.errors.ConnectRestException e) {
      return false;
    }
  }

  /** The state of a connector's task, e.g. FAILED, with its trace. */
  public ConnectorStateInfo status(String name) {
    return connect.connectorStatus(name);
  }

  /** Reads every record of the given topics from the beginning until {@code count} are seen. */
  public List<ConsumerRecord<String, String>> consume(
      int count, Duration timeout, String... topics) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "harness-" + System.nanoTime());
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<String, String>> records = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(Set.of(topics));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (records.size() < count && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    return records;
  }

  @Override
  public void close() {
    if (producer != null) {
      producer.close(Duration.ofSeconds(5));
    }
    connect.stop();
  }

  /** Builds and starts a harness. */
  public static final class Builder {
    private final String name;
    private int workers = 1;
    private boolean exactlyOnceSource;
    private final Map<String, String> workerProps = new HashMap<>();
    private final Properties brokerProps = new Properties();

    private Builder(String name) {
      this.name = name;
    }

    public Builder workers(int workers) {
      this.workers = workers;
      return this;
    }

    /** Turns on KIP-618 exactly-once support for source connectors. */
    public Builder exactlyOnceSource() {
      this.exactlyOnceSource = true;
      return this;
    }

    public Builder workerProp(String key, String value) {
      workerProps.put(key, value);
      return this;
    }

    public Builder brokerProp(String key, String value) {
      brokerProps.put(key, value);
      return this;
    }

    public ConnectHarness start() {
      Map<String, String> worker = new HashMap<>();
      worker.put("plugin.path", PackagedPlugins.pluginPath().toString());
      // Our plugins ship META-INF/services manifests; scanning every jar instead doubles start-up.
      worker.put("plugin.discovery", "service_load");
      worker.put("offset.flush.interval.ms", "1000");
      // ${env:...} in configs, as users write them; tests may add variables at run time.
      worker.put("config.providers", "env");
      worker.put("config.providers.env.class", EnvOverlayConfigProvider.class.getName());
      Properties broker = new Properties();
      // One broker: internal topics must not wait for replicas that do not exist.
      broker.put("transaction.state.log.replication.factor", "1");
      broker.put("transaction.state.log.min.isr", "1");
      broker.put("offsets.topic.replication.factor", "1");
      if (exactlyOnceSource) {
        worker.put("exactly.once.source.support", "enabled");
      }
      worker.putAll(workerProps);
      broker.putAll(brokerProps);
      EmbeddedConnectCluster cluster =
          new EmbeddedConnectCluster.Builder()
              .name(name)
              .numWorkers(workers)
              .numBrokers(1)
              .workerProps(worker)
              .brokerProps(broker)
              .build();
      cluster.start();
      try {
        cluster
            .assertions()
            .assertAtLeastNumWorkersAreUp(workers, "Connect workers did not start in time");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        cluster.stop();
        throw new IllegalStateException("interrupted while Connect started", e);
      }
      return new ConnectHarness(cluster);
    }
  }
}
