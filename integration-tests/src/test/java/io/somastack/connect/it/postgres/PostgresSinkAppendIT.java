package io.somastack.connect.it.postgres;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.ConnectHarness;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorOffset;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorOffsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Append mode through the packaged plugin in a real Connect cluster, into a real PostgreSQL. */
class PostgresSinkAppendIT {

  private static ConnectHarness connect;
  private static PostgresSinkFixture db;

  @BeforeAll
  static void start() {
    db = new PostgresSinkFixture("sink_append");
    connect = ConnectHarness.builder("append").start();
  }

  @AfterAll
  static void stop() {
    if (connect != null) {
      connect.close();
    }
  }

  /**
   * An alter through Connect's REST API (PATCH /connectors/{name}/offsets, the connector stopped)
   * reaches the offsets the sink keeps in PostgreSQL: rewound to 0, the events are read again and
   * land again in a table emptied meanwhile. Had only the consumer group moved, the task would have
   * sought to the stored offsets and landed nothing. (A reset leaves the stored offsets: the fault
   * tests rewind the group that way and see nothing written twice.)
   */
  @Test
  void anAlterThroughTheRestApiReadsTheTopicAgain() throws Exception {
    connect.createTopic("memory.rewind", 2);
    Map<String, String> config = db.sinkConfig("memory.rewind", "append", "memory.rewind.dlq");
    config.put("table.name.format", "memory_rewind");
    connect.deploy("rewind", config, 1);
    int events = 40;
    for (int i = 0; i < events; i++) {
      connect.send(
          "memory.rewind", "m" + i, PostgresSinkFixture.memoryEvent("r" + i, "ns", "m" + i, i));
    }
    connect.flush();
    await().atMost(Duration.ofSeconds(60)).until(() -> db.countRows("memory_rewind") == events);

    connect.connect().stopConnector("rewind");
    connect.connect().assertions().assertConnectorIsStopped("rewind", "the connector did not stop");
    List<ConnectorOffset> toStart = new ArrayList<>();
    for (int partition = 0; partition < 2; partition++) {
      toStart.add(
          new ConnectorOffset(
              Map.of("kafka_topic", "memory.rewind", "kafka_partition", partition),
              Map.of("kafka_offset", 0)));
    }
    connect.connect().alterConnectorOffsets("rewind", new ConnectorOffsets(toStart));
    assertEquals(
        0,
        db.count("SELECT sum(next_offset) FROM soma_connect_offsets WHERE connector = 'rewind'"));
    db.execute("DELETE FROM memory_rewind");
    connect.connect().resumeConnector("rewind");

    await().atMost(Duration.ofSeconds(60)).until(() -> db.countRows("memory_rewind") == events);
  }

  @Test
  void everyEventLandsOnceAsJsonbAndReplaysMakeNoSecondRow() throws Exception {
    connect.createTopic("memory.wal", 3);
    Map<String, String> config = db.sinkConfig("memory.wal", "append", "memory.wal.dlq");
    config.put("table.name.format", "memory_replica");
    config.put("columns", "tenant:text:metadata.tenant_id,version:bigint:version");
    connect.deploy("replica", config, 2);

    int events = 3000;
    for (int i = 0; i < events; i++) {
      String id = UUID.nameUUIDFromBytes(("e" + i).getBytes()).toString();
      String json = PostgresSinkFixture.memoryEvent(id, "ns", "m" + i, i);
      connect.send("memory.wal", "m" + i, json);
      if (i % 10 == 0) {
        connect.send("memory.wal", "m" + i, json); // a producer retry: same event twice
      }
    }
    connect.flush();

    await().atMost(Duration.ofSeconds(60)).until(() -> db.countRows("memory_replica") == events);
    assertEquals(events, db.count("SELECT count(DISTINCT event_id) FROM memory_replica"));
    assertEquals(events, db.count("SELECT count(*) FROM memory_replica WHERE tenant = 't1'"));
    assertEquals(
        events,
        db.count(
            "SELECT count(*) FROM memory_replica WHERE payload->'payload'->>'text' LIKE 'remember%'"));
    assertEquals(
        (long) events * (events - 1) / 2, db.count("SELECT sum(version) FROM memory_replica"));
    // the offsets table covers every record, duplicates included
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                db.count(
                        "SELECT sum(next_offset) FROM soma_connect_offsets WHERE connector = 'replica'")
                    == events + events / 10);
    // the plugin's own metrics, through Connect's PluginMetrics, on JMX
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> assertEquals(events, pluginMetric("replica", "records-written-total")));
    assertEquals(events / 10, pluginMetric("replica", "duplicates-skipped-total"));
    assertTrue(pluginMetric("replica", "batches-total") > 0);
  }

  @Test
  void newlyConfiguredColumnsAreAddedAndNothingIsRewritten() throws Exception {
    connect.createTopic("memory.evolving", 1);
    Map<String, String> config = db.sinkConfig("memory.evolving", "append", "memory.dlq");
    config.put("tasks.max", "1");
    config.put("columns", "tenant:text:metadata.tenant_id");
    connect.deploy("evolving", config, 1);
    connect.send("memory.evolving", "k", PostgresSinkFixture.memoryEvent("ev-1", "ns", "m1", 1));
    connect.flush();
    await().atMost(Duration.ofSeconds(60)).until(() -> db.countRows("memory_evolving") == 1);

    config.put("columns", "tenant:text:metadata.tenant_id,version:bigint:version");
    connect.deploy("evolving", config, 1);
    // ev-1 again in a later batch: COPY meets the stored event id and that batch falls back to
    // INSERT ... ON CONFLICT DO NOTHING, so no second row
    connect.send("memory.evolving", "k", PostgresSinkFixture.memoryEvent("ev-1", "ns", "m1", 1));
    connect.send("memory.evolving", "k", PostgresSinkFixture.memoryEvent("ev-2", "ns", "m2", 2));
    connect.flush();
    await().atMost(Duration.ofSeconds(60)).until(() -> db.countRows("memory_evolving") == 2);
    assertEquals(1, db.count("SELECT count(*) FROM memory_evolving WHERE version = 2"));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                db.count(
                        "SELECT next_offset FROM soma_connect_offsets WHERE connector = 'evolving'")
                    == 3);
    assertEquals(2, db.countRows("memory_evolving"));
    // the row written before the column existed is left as it was
    assertEquals(
        1,
        db.count(
            "SELECT count(*) FROM memory_evolving WHERE event_id = 'ev-1' AND version IS NULL AND tenant = 't1'"));
  }

  /** A metric summed over the connector's tasks, read from the platform MBean server. */
  private static double pluginMetric(String connector, String attribute) throws Exception {
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    double sum = 0;
    for (ObjectName name : server.queryNames(new ObjectName("kafka.connect:*"), null)) {
      if (!connector.equals(name.getKeyProperty("connector"))
          || name.getKeyProperty("task") == null) {
        continue;
      }
      try {
        sum += ((Number) server.getAttribute(name, attribute)).doubleValue();
      } catch (javax.management.AttributeNotFoundException notThisBean) {
        // Connect's own task metrics share the tags; only the plugin's bean has this attribute
      }
    }
    return sum;
  }
}
