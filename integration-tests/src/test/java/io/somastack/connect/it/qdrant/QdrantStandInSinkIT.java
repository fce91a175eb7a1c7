package io.somastack.connect.it.qdrant;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.somastack.connect.testing.qdrant.QdrantEndpoint;
import io.somastack.connect.testing.qdrant.QdrantGrpcStandIn;
import io.somastack.connect.testing.qdrant.QdrantGrpcStandIn.Operation;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The behaviour against the in-memory gRPC stand-in, plus what only the stand-in can show: the
 * requests themselves, and injected overload.
 */
class QdrantStandInSinkIT extends QdrantSinkBehaviour {

  private QdrantGrpcStandIn standIn;

  @Override
  protected QdrantEndpoint openEndpoint() {
    standIn = QdrantGrpcStandIn.startOnFreePort();
    return QdrantEndpoint.of(standIn);
  }

  @Test
  void repeatedIdsInOneBatchAreSentOnceAsTheirLastWrite() {
    String topic = unique("requests");
    connect.createTopic(topic, 1);
    for (int version = 1; version <= 5; version++) {
      connect.send(topic, "x", "{\"id\":\"x\",\"text\":\"version " + version + "\"}");
      connect.send(topic, "y", "{\"id\":\"y\",\"text\":\"version " + version + "\"}");
    }
    connect.send(topic, "x", null);
    connect.flush();
    connect.deploy(topic, config(topic), 1);

    // the delete may still be in flight once y's upsert is counted: wait for the whole list
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              List<Operation> writes =
                  standIn.operations().stream()
                      .filter(op -> op.collection().equals(topic))
                      .toList();
              assertEquals(3, writes.size(), writes.toString());
              assertEquals(new Operation("create", topic, List.of()), writes.get(0));
              // x's last write is its tombstone, y's its fifth version; they touch different
              // points, so the two requests go together and may arrive in either order
              assertEquals(
                  Set.of(
                      new Operation("upsert", topic, List.of(UUID5.get("y"))),
                      new Operation("delete", topic, List.of(UUID5.get("x")))),
                  Set.copyOf(writes.subList(1, 3)));
            });
    assertEquals(1, count(topic));
    connect.connect().deleteConnector(topic);
  }

  /**
   * Qdrant refuses the connector's next writes as overloaded (its reads, and this test's, are
   * answered): the connector hands the records back to Connect and writes them later, dead-letters
   * none.
   */
  @Test
  void anOverloadedQdrantIsRetriedNotDeadLettered() throws Exception {
    String topic = unique("overload");
    connect.createTopic(topic, 1);
    connect.deploy(topic, config(topic), 1);
    sendMemories(topic, 0, 10);
    await().atMost(WAIT).until(() -> count(topic) == 10);
    assertEquals(0.0, pluginMetric(topic, "retries-total"));

    standIn.failNextWrites(3, Status.Code.RESOURCE_EXHAUSTED);
    sendMemories(topic, 10, 50);
    await().atMost(WAIT).until(() -> count(topic) == 50);
    assertEquals(0, standIn.pendingFailures(), "the connector's writes met every failure");
    double retries = pluginMetric(topic, "retries-total");
    assertTrue(retries > 0, "retries-total " + retries);
    assertEquals(0.0, pluginMetric(topic, "records-dead-lettered-total"));
    assertTrue(connect.consume(1, Duration.ofSeconds(2), topic + ".dlq").isEmpty());
    connect.connect().deleteConnector(topic);
  }
}
