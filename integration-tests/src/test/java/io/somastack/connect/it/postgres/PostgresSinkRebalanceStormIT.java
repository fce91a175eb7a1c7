package io.somastack.connect.it.postgres;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.it.storm.StormCluster;
import io.somastack.connect.it.storm.StormLoad;
import io.somastack.connect.testing.connect.ConnectHarness;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exactly once under a rebalance storm: 3 workers, a 12-partition topic, a producer running
 * throughout, while workers are stopped and added, tasks.max changes (4, 2, 6, 4) and the
 * connectors and tasks are restarted through the REST API. An append and an upsert connector read
 * the same topic at the same time. At the end every event is in the append table once, contiguous
 * per partition, every upsert key holds its latest value, and the offsets table holds each
 * partition's last offset + 1.
 */
class PostgresSinkRebalanceStormIT {

  private static final Logger log = LoggerFactory.getLogger(PostgresSinkRebalanceStormIT.class);

  private static final String TOPIC = "storm.events";
  private static final int PARTITIONS = 12;
  private static final int KEYS_PER_PARTITION = 20;
  private static final String APPEND = "storm-append";
  private static final String UPSERT = "storm-upsert";

  private ConnectHarness connect;
  private PostgresSinkFixture db;
  private StormLoad load;

  @AfterEach
  void stop() throws Exception {
    if (load != null) {
      load.close();
    }
    if (connect != null) {
      connect.close();
    }
  }

  @Test
  void exactlyOnceThroughARebalanceStorm() throws Exception {
    connect = StormCluster.builder("storm").start();
    connect.createTopic(TOPIC, PARTITIONS);
    db = new PostgresSinkFixture("sink_storm");

    Map<String, String> append = config("append", 4);
    append.put("table.name.format", "storm_append");
    Map<String, String> upsert = config("upsert", 4);
    upsert.put("table.name.format", "storm_kv");
    upsert.put("key.fields", "namespace,id");
    connect.deploy(APPEND, append, 4);
    connect.deploy(UPSERT, upsert, 4);

    load =
        StormLoad.start(
            connect.bootstrapServers(), PARTITIONS, PostgresSinkRebalanceStormIT::event);
    awaitProgress(500);

    int[] tasksMax = {4};
    List<String> done = new ArrayList<>();
    Runnable[] storm = {
      () -> {
        connect.connect().removeWorker();
        done.add("removeWorker");
      },
      () -> {
        reconfigure(append, upsert, 2, tasksMax);
        done.add("tasks.max=2");
      },
      () -> {
        connect.connect().addWorker();
        done.add("addWorker");
      },
      () -> {
        connect.connect().restartConnectorAndTasks(APPEND, false, true, false);
        connect.connect().restartConnectorAndTasks(UPSERT, false, true, false);
        done.add("restart connector+tasks");
      },
      () -> {
        reconfigure(append, upsert, 6, tasksMax);
        done.add("tasks.max=6");
      },
      () -> {
        connect.connect().removeWorker();
        done.add("removeWorker");
      },
      () -> {
        connect.connect().restartTask(APPEND, 1);
        connect.connect().restartTask(UPSERT, 1);
        connect.connect().restartTask(APPEND, 4);
        done.add("restartTask 1,4");
      },
      () -> {
        connect.connect().addWorker();
        done.add("addWorker");
      },
      () -> {
        reconfigure(append, upsert, 4, tasksMax);
        done.add("tasks.max=4");
      },
      () -> {
        // back to back: a worker leaves and one joins while the first rebalance runs
        connect.connect().removeWorker();
        connect.connect().addWorker();
        connect.connect().restartConnectorAndTasks(UPSERT, false, true, false);
        done.add("removeWorker+addWorker+restart upsert");
      },
    };
    for (Runnable step : storm) {
      step.run();
      connect.awaitRunningAfterReconfiguration(APPEND, tasksMax[0]);
      connect.awaitRunningAfterReconfiguration(UPSERT, tasksMax[0]);
      awaitProgress(300);
      log.info(
          "STORM step done: "
              + done.get(done.size() - 1)
              + " append done="
              + db.recordsDone(APPEND)
              + " upsert done="
              + db.recordsDone(UPSERT)
              + " sent="
              + load.sent());
    }

    long total = load.stop();
    log.info("STORM produced " + total + " events over " + PARTITIONS + " partitions");

    await("append done with " + total)
        .atMost(Duration.ofSeconds(180))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> db.recordsDone(APPEND) >= total && db.recordsDone(UPSERT) >= total);

    // ---- append: exactly one row per event, positions unique and contiguous per partition
    assertEquals(total, db.countRows("storm_append"), "append rows");
    assertEquals(
        total, db.count("SELECT count(DISTINCT event_id) FROM storm_append"), "distinct ids");
    assertEquals(
        total,
        db.count(
            "SELECT count(*) FROM (SELECT DISTINCT kafka_topic, kafka_partition, kafka_offset"
                + " FROM storm_append) d"),
        "distinct positions");
    Map<String, String> perPartition =
        db.pairs(
            "SELECT kafka_partition::text, count(*) || '/' || min(kafka_offset) || '/'"
                + " || max(kafka_offset) || '/' || count(DISTINCT (payload->>'seq'))"
                + " || '/' || max((payload->>'seq')::bigint)"
                + " FROM storm_append GROUP BY kafka_partition");
    Map<String, String> expected = new TreeMap<>();
    for (int p = 0; p < PARTITIONS; p++) {
      long n = load.sent(p);
      expected.put(Integer.toString(p), n + "/0/" + (n - 1) + "/" + n + "/" + (n - 1));
    }
    assertEquals(expected, perPartition, "per partition count/min/max offset/seqs/max seq");
    assertEquals(
        0,
        db.count(
            "SELECT count(*) FROM storm_append WHERE (payload->>'seq')::bigint <> kafka_offset"),
        "seq equals offset");

    // ---- offsets table: last offset + 1 per partition, for both connectors
    Map<String, String> offsetsExpected = new TreeMap<>();
    for (int p = 0; p < PARTITIONS; p++) {
      offsetsExpected.put(Integer.toString(p), Long.toString(load.sent(p)));
    }
    for (String connector : List.of(APPEND, UPSERT)) {
      assertEquals(
          offsetsExpected,
          db.pairs(
              "SELECT kafka_partition::text, next_offset::text FROM soma_connect_offsets"
                  + " WHERE connector = '"
                  + connector
                  + "' AND topic = '"
                  + TOPIC
                  + "'"),
          "offsets table of " + connector);
    }

    // ---- upsert: every key holds its latest value
    Map<String, String> latest = new TreeMap<>();
    for (int p = 0; p < PARTITIONS; p++) {
      for (int k = 0; k < KEYS_PER_PARTITION; k++) {
        long last = StormLoad.lastOfKey(load.sent(p), k, KEYS_PER_PARTITION);
        if (last >= 0) {
          latest.put("p" + p + "/k" + k, Long.toString(last));
        }
      }
    }
    assertEquals(
        latest,
        db.pairs("SELECT namespace || '/' || id, payload->>'seq' FROM storm_kv"),
        "upsert latest values");
    log.info(
        "STORM passed: steps="
            + done
            + " events="
            + total
            + " appendRows="
            + db.countRows("storm_append")
            + " upsertRows="
            + db.countRows("storm_kv"));
    dumpLog();
  }

  private void dumpLog() throws Exception {
    try (Connection c = db.server.connect(db.database);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT connector, kafka_partition, next_offset FROM soma_connect_offsets"
                    + " ORDER BY 1, 2")) {
      StringBuilder sb = new StringBuilder("STORM offsets table:");
      while (rs.next()) {
        sb.append(' ')
            .append(rs.getString(1))
            .append('/')
            .append(rs.getInt(2))
            .append('=')
            .append(rs.getLong(3));
      }
      log.info(sb.toString());
    }
  }

  private Map<String, String> config(String mode, int tasks) {
    Map<String, String> config = db.sinkConfig(TOPIC, mode, "storm.dlq." + mode);
    config.put("tasks.max", Integer.toString(tasks));
    return config;
  }

  private void reconfigure(
      Map<String, String> append, Map<String, String> upsert, int tasks, int[] tasksMax) {
    append.put("tasks.max", Integer.toString(tasks));
    upsert.put("tasks.max", Integer.toString(tasks));
    connect.connect().configureConnector(APPEND, append); // PUT /connectors/x/config
    connect.connect().configureConnector(UPSERT, upsert);
    tasksMax[0] = tasks;
    // the old generation's tasks are gone only when the new count is reported
    await("task count " + tasks)
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> taskCount(APPEND) == tasks && taskCount(UPSERT) == tasks);
  }

  private int taskCount(String connector) {
    try {
      return connect.status(connector).tasks().size();
    } catch (RuntimeException e) {
      return -1;
    }
  }

  /** Waits until both connectors have written {@code records} more records than now. */
  private void awaitProgress(long records) {
    long a = db.recordsDone(APPEND);
    long u = db.recordsDone(UPSERT);
    await("progress of " + records + " records")
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> db.recordsDone(APPEND) >= a + records && db.recordsDone(UPSERT) >= u + records);
  }

  /** The n-th event of a partition: a unique id, one of its 20 keys, n as its seq. */
  private static ProducerRecord<String, String> event(int p, long seq) {
    String id = "k" + (seq % KEYS_PER_PARTITION);
    String value =
        "{\"event_id\":\"p"
            + p
            + "-s"
            + seq
            + "\",\"namespace\":\"p"
            + p
            + "\",\"id\":\""
            + id
            + "\",\"seq\":"
            + seq
            + ",\"partition\":"
            + p
            + ",\"timestamp\":\"2026-11-23T10:00:00Z\",\"payload\":{\"text\":\"s"
            + seq
            + "\"}}";
    return new ProducerRecord<>(TOPIC, p, "p" + p + "/" + id, value);
  }
}
