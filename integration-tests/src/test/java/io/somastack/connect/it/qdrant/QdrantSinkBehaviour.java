package io.somastack.connect.it.qdrant;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qdrant.client.PointIdFactory;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Common.PointId;
import io.qdrant.client.grpc.Points.RetrievedPoint;
import io.qdrant.client.grpc.Points.VectorOutput;
import io.somastack.connect.testing.connect.ConnectHarness;
import io.somastack.connect.testing.qdrant.QdrantEndpoint;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.apache.kafka.connect.runtime.rest.errors.ConnectRestException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What the Qdrant sink must do, written once against a {@link QdrantEndpoint} and run per backend
 * (the gRPC stand-in, a container, a server from the environment), in a real embedded Connect
 * cluster loading the packaged plugin.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class QdrantSinkBehaviour {

  static final String CONNECTOR = "io.somastack.connect.qdrant.QdrantVectorSinkConnector";
  static final Duration WAIT = Duration.ofSeconds(60);

  /** uuid.uuid5(uuid.NAMESPACE_URL, name) in Python, the connector's default namespace. */
  static final Map<String, String> UUID5 =
      Map.of(
          "mem-1", "c8ca989b-f9d2-5ecb-8560-ad1541525126",
          "mem-2", "4dc73ff6-6acb-5b2f-bb82-a307531df8f2",
          "mem-3", "800d02ab-17d4-5602-ac78-ead1798c9689",
          "marker", "9c05bc8f-27ce-511a-b913-7f0a31803219",
          "x", "4cd605e7-afa2-5360-b5b9-c5e9fb5c76f4",
          "y", "d090ad11-8267-5b5c-90d5-45ab4bda05ea");

  private static final AtomicInteger NAMES = new AtomicInteger();

  protected QdrantEndpoint qdrant;
  protected ConnectHarness connect;

  /** The backend under test; closed after the class. */
  protected abstract QdrantEndpoint openEndpoint();

  @BeforeAll
  void startAll() {
    qdrant = openEndpoint();
    connect = ConnectHarness.builder("qdrant-it").start();
  }

  @AfterAll
  void stopAll() {
    if (connect != null) {
      connect.close();
    }
    if (qdrant != null) {
      qdrant.close();
    }
  }

  // ------------------------------------------------------------------ behaviour

  @Test
  void mapsSchemalessValuesToTemplatedCollectionsWithDeterministicIdsAcrossAReplay() {
    String topic = unique("mapping");
    connect.createTopic(topic, 1);
    String uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";
    connect.send(topic, "mem-1", memory("\"mem-1\"", "a", "agents remember"));
    connect.send(topic, "42", memory("42", "a", "numeric ids stay numbers"));
    connect.send(topic, "u", memory("\"" + uuid + "\"", "b", "uuid ids stay uuids"));
    connect.flush();
    Map<String, String> config =
        config(
            topic,
            "collection.name",
            "${topic}_${value.tenant_id}",
            "delete.enabled",
            "false",
            "payload.exclude",
            "secret");
    connect.deploy(topic, config, 1);

    await().atMost(WAIT).until(() -> count(topic + "_a") == 2 && count(topic + "_b") == 1);
    RetrievedPoint mem1 = point(topic + "_a", uuid(UUID5.get("mem-1")));
    assertEquals("agents remember", mem1.getPayloadOrThrow("text").getStringValue());
    assertFalse(mem1.containsPayload("secret"));
    List<Float> vector = dense(mem1.getVectors().getVector());
    assertEquals(16, vector.size());
    assertEquals(1.0, Math.sqrt(vector.stream().mapToDouble(v -> v * v).sum()), 1e-4);
    assertEquals(
        42, point(topic + "_a", PointIdFactory.id(42)).getPayloadOrThrow("id").getIntegerValue());
    assertTrue(point(topic + "_b", uuid(uuid)) != null);

    // a replay: another connector (a new consumer group) reads the topic from the start again
    connect.connect().deleteConnector(topic);
    connect.deploy(topic + "-replay", config, 1);
    connect.send(topic, "marker", memory("\"marker\"", "a", "sent after the replay started"));
    connect.flush();
    await().atMost(WAIT).until(() -> point(topic + "_a", uuid(UUID5.get("marker"))) != null);
    assertEquals(3, count(topic + "_a"), "the replay hit the same points");
    assertEquals(1, count(topic + "_b"));
    connect.connect().deleteConnector(topic + "-replay");
  }

  @Test
  void mapsStructValuesWithNamedFieldVectors() {
    String topic = unique("struct");
    connect.createTopic(topic, 1);
    String schema =
        "{\"type\":\"struct\",\"fields\":["
            + "{\"field\":\"id\",\"type\":\"int64\"},"
            + "{\"field\":\"text\",\"type\":\"string\"},"
            + "{\"field\":\"embedding\",\"type\":\"array\",\"items\":{\"type\":\"float\"}}]}";
    connect.send(
        topic,
        "7",
        "{\"schema\":"
            + schema
            + ",\"payload\":{\"id\":7,\"text\":\"from embedding.responses\","
            + "\"embedding\":[0.5,0.5,0.5,0.5]}}");
    connect.flush();
    Map<String, String> config =
        config(
            topic,
            "value.converter.schemas.enable",
            "true",
            "embedder",
            "field",
            "vector.field",
            "embedding",
            "vector.name",
            "dense",
            "vector.size",
            "4",
            "collection.distance",
            "dot");
    connect.deploy(topic, config, 1);

    await().atMost(WAIT).until(() -> count(topic) == 1);
    RetrievedPoint point = point(topic, PointIdFactory.id(7));
    assertEquals(
        List.of(0.5f, 0.5f, 0.5f, 0.5f),
        dense(point.getVectors().getVectors().getVectorsOrThrow("dense")));
    assertEquals("from embedding.responses", point.getPayloadOrThrow("text").getStringValue());
    assertFalse(point.containsPayload("embedding"), "the vector is not copied into the payload");
    connect.connect().deleteConnector(topic);
  }

  @Test
  void tombstonesDeleteThePointNamedByTheKey() {
    String topic = unique("tombstones");
    connect.createTopic(topic, 1);
    connect.deploy(topic, config(topic), 1);
    for (String id : List.of("mem-1", "mem-2", "mem-3")) {
      connect.send(topic, id, memory("\"" + id + "\"", "a", "text of " + id));
    }
    connect.flush();
    await().atMost(WAIT).until(() -> count(topic) == 3);
    connect.send(topic, "mem-2", null);
    connect.flush();
    await().atMost(WAIT).until(() -> count(topic) == 2);
    assertNull(point(topic, uuid(UUID5.get("mem-2"))));
    connect.connect().deleteConnector(topic);
  }

  /**
   * Records a transform filters out never reach put(); Connect still moves past them, and so must
   * the committed offset, or the group lags forever and they come again after every rebalance.
   */
  @Test
  void recordsFilteredBeforeThePutAreCommittedPastToo() {
    String topic = unique("filtered");
    connect.createTopic(topic, 1);
    sendMemories(topic, 0, 3);
    for (int i = 3; i < 6; i++) {
      connect.send(
          topic,
          0,
          String.valueOf(i),
          memory(String.valueOf(i), "a", "filtered " + i),
          new RecordHeader("skip", new byte[0]));
    }
    connect.flush();
    connect.deploy(
        topic,
        config(
            topic,
            "transforms",
            "skip",
            "transforms.skip.type",
            "org.apache.kafka.connect.transforms.Filter",
            "transforms.skip.predicate",
            "skipped",
            "predicates",
            "skipped",
            "predicates.skipped.type",
            "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
            "predicates.skipped.name",
            "skip"),
        1);

    await().atMost(WAIT).until(() -> count(topic) == 3);
    await().atMost(WAIT).until(() -> committedOffset(topic) == 6L);
    connect.connect().deleteConnector(topic);
  }

  /** The offset the connector's consumer group committed for partition 0, or -1. */
  private long committedOffset(String connector) {
    return connect.connect().connectorOffsets(connector).offsets().stream()
        .filter(offset -> Integer.valueOf(0).equals(offset.partition().get("kafka_partition")))
        .map(offset -> ((Number) offset.offset().get("kafka_offset")).longValue())
        .findFirst()
        .orElse(-1L);
  }

  @Test
  void theLastWriteToAnIdInOneBatchWins() {
    String topic = unique("ordering");
    connect.createTopic(topic, 1);
    // all on the topic before the connector starts, so they arrive in one batch
    for (int version = 1; version <= 20; version++) {
      connect.send(
          topic,
          "x",
          "{\"id\":\"x\",\"text\":\"version " + version + "\",\"version\":" + version + "}");
      if (version == 10) {
        connect.send(topic, "x", null);
        connect.send(topic, "y", "{\"id\":\"y\",\"text\":\"y lives\",\"version\":1}");
      }
    }
    connect.send(topic, "y", null); // y: upsert then delete
    connect.send(topic, "marker", memory("\"marker\"", "a", "last"));
    connect.flush();
    connect.deploy(topic, config(topic), 1);

    await().atMost(WAIT).until(() -> point(topic, uuid(UUID5.get("marker"))) != null);
    assertEquals(
        20, point(topic, uuid(UUID5.get("x"))).getPayloadOrThrow("version").getIntegerValue());
    assertNull(point(topic, uuid(UUID5.get("y"))));
    assertEquals(2, count(topic));
    connect.connect().deleteConnector(topic);
  }

  @Test
  void aCollectionWithAnotherVectorSizeFailsTheConnectorWithAClearMessage() throws Exception {
    String topic = unique("wrongsize");
    connect.createTopic(topic, 1);
    qdrant
        .client()
        .createCollectionAsync(
            topic, VectorParams.newBuilder().setSize(8).setDistance(Distance.Cosine).build())
        .get();
    connect.connect().configureConnector(topic, config(topic, "collection.name", topic));

    await()
        .atMost(WAIT)
        .ignoreExceptionsInstanceOf(ConnectRestException.class) // no status until it starts
        .until(() -> failureTrace(connect.status(topic)) != null);
    String trace = failureTrace(connect.status(topic));
    assertTrue(trace.contains("holds vectors of size 8 but vector.size is 16"), trace);
    connect.connect().deleteConnector(topic);
  }

  @Test
  void qdrantGoingAwayMidStreamLosesAndDeadLettersNothing() {
    assumeTrue(qdrant.canGoAway(), "this backend cannot be stopped by the tests");
    String topic = unique("outage");
    connect.createTopic(topic, 1);
    connect.deploy(topic, config(topic), 1);
    sendMemories(topic, 0, 100);
    await().atMost(WAIT).until(() -> count(topic) == 100);

    qdrant.goAway();
    try {
      sendMemories(topic, 100, 200);
      await("the task to retry")
          .atMost(WAIT)
          .until(() -> pluginMetric(topic, "retries-total") >= 2);
    } finally {
      qdrant.comeBack();
    }
    await().atMost(WAIT).until(() -> count(topic) == 200);
    assertEquals("RUNNING", connect.status(topic).tasks().get(0).state());
    assertTrue(connect.consume(1, Duration.ofSeconds(2), topic + ".dlq").isEmpty());
    connect.connect().deleteConnector(topic);
  }

  /**
   * collection.create=false with a collection per tenant: a tenant whose collection is not there is
   * that record's problem. Its record goes to the dead letter queue naming the collection, the
   * others land, and once the collection is made the tenant's next records land in it.
   */
  @Test
  void aTenantWhoseCollectionIsMissingIsDeadLetteredUntilTheCollectionIsMade() throws Exception {
    String topic = unique("tenants");
    connect.createTopic(topic, 1);
    VectorParams vectors =
        VectorParams.newBuilder().setSize(16).setDistance(Distance.Cosine).build();
    qdrant.client().createCollectionAsync(topic + "_a", vectors).get();
    connect.send(topic, "mem-1", memory("\"mem-1\"", "a", "tenant a exists"));
    connect.send(topic, "mem-2", memory("\"mem-2\"", "b", "tenant b has no collection"));
    connect.send(topic, "mem-3", memory("\"mem-3\"", "a", "tenant a again"));
    connect.flush();
    connect.deploy(
        topic,
        config(
            topic,
            "collection.name",
            "${topic}_${value.tenant_id}",
            "delete.enabled",
            "false",
            "collection.create",
            "false"),
        1);

    List<ConsumerRecord<String, String>> dead = connect.consume(1, WAIT, topic + ".dlq");
    await().atMost(WAIT).until(() -> count(topic + "_a") == 2);
    assertEquals("mem-2", dead.get(0).key());
    String reason = reason(dead.get(0));
    assertTrue(reason.contains("'" + topic + "_b' does not exist"), reason);
    assertTrue(reason.contains("collection.create"), reason);
    assertFalse(reason.contains("tenant b has no collection"), reason);
    assertEquals(-1, count(topic + "_b"));

    qdrant.client().createCollectionAsync(topic + "_b", vectors).get();
    connect.send(topic, "x", memory("\"x\"", "b", "tenant b now has one"));
    connect.flush();
    await().atMost(WAIT).until(() -> count(topic + "_b") == 1);
    assertTrue(point(topic + "_b", uuid(UUID5.get("x"))) != null);
    assertEquals("RUNNING", connect.status(topic).tasks().get(0).state());
    connect.connect().deleteConnector(topic);
  }

  @Test
  void badRecordsGoToTheDeadLetterQueueWithTheReason() {
    String topic = unique("dlq");
    connect.createTopic(topic, 1);
    String good = "[" + "0.25,".repeat(15) + "0.25]";
    connect.send(topic, "1", "{\"id\":1,\"vector\":" + good + "}");
    connect.send(topic, "2", "{\"vector\":" + good + "}");
    connect.send(topic, "3", "{\"id\":3,\"vector\":[1,2,3]}");
    connect.send(
        topic, "4", "{\"id\":4,\"vector\":" + good + ",\"text\":\"" + "x".repeat(8000) + "\"}");
    connect.send(topic, "5", "{\"id\":5,\"vector\":" + good + "}");
    connect.flush();
    connect.deploy(topic, config(topic, "embedder", "field", "batch.max.bytes", "4096"), 1);

    String texts = unique("dlqtext");
    connect.createTopic(texts, 1);
    connect.send(texts, "1", "{\"id\":1,\"text\":\"   \"}");
    connect.send(texts, "2", "{\"id\":2,\"text\":\"fine\"}");
    connect.flush();
    connect.deploy(texts, config(texts), 1);

    List<ConsumerRecord<String, String>> dead = connect.consume(3, WAIT, topic + ".dlq");
    List<ConsumerRecord<String, String>> deadTexts = connect.consume(1, WAIT, texts + ".dlq");
    await().atMost(WAIT).until(() -> count(topic) == 2 && count(texts) == 1);
    Map<String, String> reasons = new HashMap<>();
    dead.forEach(r -> reasons.put(r.key(), reason(r)));
    assertEquals(3, dead.size(), reasons.toString());
    assertTrue(reasons.get("2").contains("no point id"), reasons.toString());
    assertTrue(reasons.get("3").contains("3 dimensions but vector.size is 16"), reasons.toString());
    assertTrue(reasons.get("4").contains("batch.max.bytes"), reasons.toString());
    assertEquals(1, deadTexts.size());
    assertTrue(reason(deadTexts.get(0)).contains("no text to embed"));
    connect.connect().deleteConnector(topic);
    connect.connect().deleteConnector(texts);
  }

  // ------------------------------------------------------------------ helpers

  Map<String, String> config(String topic, String... overrides) {
    return sinkConfig(qdrant.url(), topic, overrides);
  }

  /** The sink's config for a topic, against the Qdrant at {@code qdrantUrl}, with overrides. */
  static Map<String, String> sinkConfig(String qdrantUrl, String topic, String... overrides) {
    Map<String, String> config = new HashMap<>();
    config.put("connector.class", CONNECTOR);
    config.put("tasks.max", "1");
    config.put("topics", topic);
    config.put("key.converter", "org.apache.kafka.connect.storage.StringConverter");
    config.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
    config.put("value.converter.schemas.enable", "false");
    config.put("qdrant.url", qdrantUrl);
    config.put("qdrant.timeout.ms", "2000");
    config.put("vector.size", "16");
    config.put("retry.backoff.ms", "100");
    config.put("retry.backoff.max.ms", "1000");
    config.put("errors.tolerance", "all");
    config.put("errors.deadletterqueue.topic.name", topic + ".dlq");
    config.put("errors.deadletterqueue.topic.replication.factor", "1");
    config.put("errors.deadletterqueue.context.headers.enable", "true");
    for (int i = 0; i < overrides.length; i += 2) {
      config.put(overrides[i], overrides[i + 1]);
    }
    return config;
  }

  static String unique(String prefix) {
    return "q_" + prefix + "_" + NAMES.incrementAndGet();
  }

  static String memory(String idJson, String tenant, String text) {
    return "{\"id\":"
        + idJson
        + ",\"event_id\":\"e-"
        + UUID.randomUUID()
        + "\",\"tenant_id\":\""
        + tenant
        + "\",\"text\":\""
        + text
        + "\",\"secret\":\"do not index\"}";
  }

  void sendMemories(String topic, int from, int to) {
    for (int i = from; i < to; i++) {
      connect.send(topic, String.valueOf(i), memory(String.valueOf(i), "a", "memory number " + i));
    }
    connect.flush();
  }

  /** Points in a collection; -1 while it does not exist. */
  long count(String collection) {
    try {
      if (!qdrant.client().collectionExistsAsync(collection).get()) {
        return -1;
      }
      return qdrant.client().countAsync(collection).get();
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot count points of " + collection, e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  RetrievedPoint point(String collection, PointId id) {
    try {
      List<RetrievedPoint> points =
          qdrant.client().retrieveAsync(collection, id, true, true, null).get();
      return points.isEmpty() ? null : points.get(0);
    } catch (ExecutionException e) {
      return null; // the collection does not exist yet
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static PointId uuid(String uuid) {
    return PointIdFactory.id(UUID.fromString(uuid));
  }

  /** A dense vector as Qdrant returns it, in the new or the deprecated field. */
  static List<Float> dense(VectorOutput vector) {
    return vector.hasDense() ? vector.getDense().getDataList() : vector.getDataList();
  }

  static String reason(ConsumerRecord<String, String> record) {
    Header header = record.headers().lastHeader("__connect.errors.exception.message");
    return header == null ? "" : new String(header.value(), StandardCharsets.UTF_8);
  }

  /** The trace of a FAILED connector or task, or null while nothing failed. */
  static String failureTrace(ConnectorStateInfo status) {
    if ("FAILED".equals(status.connector().state())) {
      return status.connector().trace();
    }
    return status.tasks().stream()
        .filter(t -> "FAILED".equals(t.state()))
        .map(ConnectorStateInfo.TaskState::trace)
        .findFirst()
        .orElse(null);
  }

  /** A plugin metric of a connector's task, read over JMX as an operator would. */
  static double pluginMetric(String connector, String attribute) throws Exception {
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    for (ObjectName name : server.queryNames(new ObjectName("kafka.connect:*"), null)) {
      if (connector.equals(name.getKeyProperty("connector"))) {
        try {
          Object value = server.getAttribute(name, attribute);
          if (value instanceof Number number) {
            return number.doubleValue();
          }
        } catch (javax.management.AttributeNotFoundException e) {
          // another of the connector's metric groups
        }
      }
    }
    return 0;
  }
}
