package io.somastack.connect.it.qdrant;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qdrant.client.WithPayloadSelectorFactory;
import io.qdrant.client.grpc.Points.RetrievedPoint;
import io.qdrant.client.grpc.Points.ScrollPoints;
import io.somastack.connect.it.storm.StormCluster;
import io.somastack.connect.it.storm.StormLoad;
import io.somastack.connect.testing.connect.ConnectHarness;
import io.somastack.connect.testing.qdrant.QdrantEndpoint;
import io.somastack.connect.testing.qdrant.QdrantGrpcStandIn;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorOffset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Qdrant sink through the same rebalance storm as PostgresSinkRebalanceStormIT, against the
 * gRPC stand-in: at the end every point holds the payload of its key's latest event.
 */
class QdrantRebalanceStormIT {

  private static final Logger log = LoggerFactory.getLogger(QdrantRebalanceStormIT.class);

  private static final String TOPIC = "qstorm";
  private static final String NAME = "qstorm";
  private static final int PARTITIONS = 12;
  private static final int KEYS_PER_PARTITION = 20;

  private ConnectHarness connect;
  private QdrantGrpcStandIn standIn;
  private QdrantEndpoint qdrant;
  private StormLoad load;

  @AfterEach
  void stop() throws Exception {
    if (load != null) {
      load.close();
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
    connect = StormCluster.builder("qstorm").start();
    connect.createTopic(TOPIC, PARTITIONS);
    Map<String, String> config =
        QdrantSinkBehaviour.sinkConfig(qdrant.url(), TOPIC, "tasks.max", "4");
    connect.deploy(NAME, config, 4);
    load = StormLoad.start(connect.bootstrapServers(), PARTITIONS, QdrantRebalanceStormIT::event);
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
      log.info("QSTORM step " + step + " committed=" + committed());
    }
    long total = load.stop();
    Map<String, String> latest = new TreeMap<>();
    for (int p = 0; p < PARTITIONS; p++) {
      for (int k = 0; k < KEYS_PER_PARTITION; k++) {
        long last = StormLoad.lastOfKey(load.sent(p), k, KEYS_PER_PARTITION);
        if (last >= 0) {
          latest.put("p" + p + "-k" + k, "s" + last);
        }
      }
    }
    long sent = total;
    log.info("QSTORM produced " + sent);
    await("committed " + sent)
        .atMost(Duration.ofSeconds(180))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> committed() >= sent);
    Map<String, String> actual = points();
    assertEquals(latest, actual, "latest payload per point");
    log.info(
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

  /** The n-th event of a partition: one of its 20 points, n in its text. */
  private static ProducerRecord<String, String> event(int p, long seq) {
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
    return new ProducerRecord<>(TOPIC, p, id, value);
  }
}
