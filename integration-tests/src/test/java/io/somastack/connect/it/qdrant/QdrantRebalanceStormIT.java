package io.somastack.connect.it.qdrant;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qdrant.client.WithPayloadSelectorFactory;
import io.qdrant.client.grpc.Points.RetrievedPoint;
import io.qdrant.client.grpc.Points.ScrollPoints;
import io.somastack.connect.testing.connect.ConnectHarness;
import io.somastack.connect.testing.qdrant.QdrantEndpoint;
import io.somastack.connect.testing.qdrant.QdrantGrpcStandIn;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorOffset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The Qdrant sink through the same rebalance storm as PostgresSinkRebalanceStormIT, against the
 * gRPC stand-in: at the end every point holds the payload of its key's latest event.
 */
class QdrantRebalanceStormIT {

  private static final String TOPIC = "qstorm";
  private static final String NAME = "qstorm";
  private static final int PARTITIONS = 12;
  private static final int KEYS_PER_PARTITION = 20;

  private ConnectHarness connect;
  private QdrantGrpcStandIn standIn;
  private QdrantEndpoint qdrant;
  private KafkaProducer<String, String> producer;
  private Thread producerThread;
  private final AtomicBoolean producing = new AtomicBoolean(true);
  private final long[] nextSeq = new long[PARTITIONS];

  @AfterEach
  void stop() throws Exception {
    producing.set(false);
    if (producerThread != null) {
      producerThread.join(10_000);
    }
    if (producer != null) {
      producer.close(Duration.ofSeconds(5));
    }
    if (connect != null) {
      connect.close();
    }
    if (qdrant != null) {
      qdrant.close();
    }
  }

  @Test
  void latestPayloadPerPointThroughARebalanceStorm() throws Exception {
    standIn = QdrantGrpcStandIn.startOnFreePort();
    qdrant = QdrantEndpoint.of(standIn);
    connect =
        ConnectHarness.builder("qstorm")
            .workers(3)
            .workerProp("scheduled.rebalance.max.delay.ms", "2000")
            .start();
    connect.createTopic(TOPIC, PARTITIONS);
    Map<String, String> config = new HashMap<>();
    config.put("connector.class", QdrantSinkBehaviour.CONNECTOR);
    config.put("tasks.max", "4");
    config.put("topics", TOPIC);
    config.put("key.converter", "org.apache.kafka.connect.storage.StringConverter");
    config.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
    config.put("value.converter.schemas.enable", "false");
    config.put("qdrant.url", qdrant.url());
    config.put("qdrant.timeout.ms", "2000");
    config.put("vector.size", "16");
    config.put("retry.backoff.ms", "100");
    config.put("retry.backoff.max.ms", "1000");
    config.put("errors.tolerance", "all");
    config.put("errors.deadletterqueue.topic.name", TOPIC + ".dlq");
    config.put("errors.deadletterqueue.topic.replication.factor", "1");
    connect.deploy(NAME, config, 4);
    startProducer();
    awaitProgress(500);

    int[] steps = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    int tasks = 4;
    for (int step : steps) {
      switch (step) {
        case 0, 5 -> connect.connect().removeWorker();
        case 2, 7 -> connect.connect().addWorker();
        case 1 -> tasks = reconfigure(config, 2);
        case 4 -> tasks = reconfigure(config, 6);
        case 8 -> tasks = reconfigure(config, 4);
        case 3 -> connect.connect().restartConnectorAndTasks(NAME, false, true, false);
        case 6 -> {
          connect.connect().restartTask(NAME, 1);
          connect.connect().restartTask(NAME, 4);
        }
        default -> {
          connect.connect().removeWorker();
          connect.connect().addWorker();
          connect.connect().restartConnectorAndTasks(NAME, false, true, false);
        }
      }
      connect.awaitRunningAfterReconfiguration(NAME, tasks);
      awaitProgress(300);
      System.out.println("QSTORM step " + step + " committed=" + committed());
    }
    producing.set(false);
    producerThread.join(30_000);
    producer.flush();
    long total = 0;
    Map<String, String> latest = new TreeMap<>();
    for (int p = 0; p < PARTITIONS; p++) {
      total += nextSeq[p];
      for (int k = 0; k < KEYS_PER_PARTITION; k++) {
        for (long s = nextSeq[p] - 1; s >= 0; s--) {
          if (s % KEYS_PER_PARTITION == k) {
            latest.put("p" + p + "-k" + k, "s" + s);
            break;
          }
        }
      }
    }
    long sent = total;
    System.out.println("QSTORM produced " + sent);
    await("committed " + sent)
        .atMost(Duration.ofSeconds(180))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> committed() >= sent);
    Map<String, String> actual = points();
    assertEquals(latest, actual, "latest payload per point");
    System.out.println(
        "QSTORM passed: events=" + sent + " points=" + actual.size() + " committed=" + committed());
  }

  private Map<String, String> points() throws Exception {
    Map<String, String> points = new TreeMap<>();
    for (RetrievedPoint point :
        qdrant
            .client()
            .scrollAsync(
                ScrollPoints.newBuilder()
                    .setCollectionName(TOPIC)
                    .setLimit(100_000)
                    .setWithPayload(WithPayloadSelectorFactory.enable(true))
                    .build())
            .get()
            .getResultList()) {
      String id = point.getPayloadMap().get("id").getStringValue();
      String text = point.getPayloadMap().get("text").getStringValue();
      if (points.put(id, text) != null) {
        throw new AssertionError("two points for " + id);
      }
    }
    return points;
  }

  private int reconfigure(Map<String, String> config, int tasks) {
    config.put("tasks.max", Integer.toString(tasks));
    connect.connect().configureConnector(NAME, config);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> connect.status(NAME).tasks().size() == tasks);
    return tasks;
  }

  private long committed() {
    try {
      long sum = 0;
      for (ConnectorOffset o : connect.connect().connectorOffsets(NAME).offsets()) {
        sum += ((Number) o.offset().get("kafka_offset")).longValue();
      }
      return sum;
    } catch (RuntimeException e) {
      return -1;
    }
  }

  private void awaitProgress(long records) {
    long before = committed();
    await("progress")
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> committed() >= before + records);
  }

  private void startProducer() {
    Map<String, Object> props = new HashMap<>();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, connect.bootstrapServers());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    producerThread =
        new Thread(
            () -> {
              while (producing.get()) {
                for (int p = 0; p < PARTITIONS; p++) {
                  long seq = nextSeq[p]++;
                  String id = "p" + p + "-k" + (seq % KEYS_PER_PARTITION);
                  String value =
                      "{\"id\":\""
                          + id
                          + "\",\"event_id\":\"e-"
                          + p
                          + "-"
                          + seq
                          + "\",\"tenant_id\":\"a\",\"text\":\"s"
                          + seq
                          + "\"}";
                  producer.send(new ProducerRecord<>(TOPIC, p, id, value));
                }
                try {
                  Thread.sleep(25);
                } catch (InterruptedException e) {
                  return;
                }
              }
              producer.flush();
            },
            "qstorm-producer");
    producerThread.start();
  }
}
