package io.somastack.connect.it.outbox;

import static io.somastack.connect.it.outbox.OutboxItSupport.TOPICS;
import static io.somastack.connect.it.outbox.OutboxItSupport.count;
import static io.somastack.connect.it.outbox.OutboxItSupport.header;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.testing.connect.ConnectHarness;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Interleaved transactions from several writers, and one transaction that inserts first and commits
 * last, after the relay has read every other writer's row: the case that loses rows in an
 * id-incrementing JDBC source. Every row must arrive exactly once.
 */
class OutboxRelayIT {

  private static final String DB = "outbox_relay_it";
  private static final int WRITERS = 4;
  private static final int TXNS_PER_WRITER = 60;

  private static PostgresServer pg;
  private static ConnectHarness harness;
  private static String url;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.shared();
    url = OutboxItSupport.createDatabase(pg, DB);
    harness = ConnectHarness.builder("outbox-relay").exactlyOnceSource().start();
  }

  @AfterAll
  static void stop() {
    if (harness != null) {
      harness.close();
    }
  }

  @Test
  void interleavedTransactionsIncludingALateCommitterLoseNothing() throws Exception {
    harness.deploy("outbox-relay", OutboxItSupport.connectorConfig(pg, url), 1);

    Set<String> committed = ConcurrentHashMap.newKeySet();
    try (Connection marker = pg.connect(DB);
        Connection late = pg.connect(DB)) {
      // the marker: its transaction id (and row id) before the late one's, its commit after the
      // writers', so a relay that hands it out has read after every writer's row was committed
      marker.setAutoCommit(false);
      List<String> markerTxn = new ArrayList<>();
      insert(marker, TOPICS.get(0), "marker", markerTxn);
      // the late transaction: inserts before the writers (lower ids), commits after them
      late.setAutoCommit(false);
      List<String> lateTxn = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        insert(late, TOPICS.get(i), "late-" + i, lateTxn);
      }
      runWriters(committed);
      marker.commit();
      committed.addAll(markerTxn);
      // once the marker is in Kafka the relay has read past the late rows' ids: the read that
      // found the marker saw every writer's row committed. A relay that skips a lower id
      // committed late loses the late rows now, or the marker already (when it read writers'
      // rows before the marker committed), and this wait fails
      await("the marker, committed after the writers, in Kafka")
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  OutboxItSupport.readCommitted(harness.bootstrapServers(), TOPICS).stream()
                      .anyMatch(r -> "marker".equals(header(r, "id"))));
      late.commit();
      committed.addAll(lateTxn);
    }
    Set<String> expected = new TreeSet<>(committed);

    awaitOutboxEmpty();
    List<ConsumerRecord<String, String>> records =
        OutboxItSupport.readCommitted(harness.bootstrapServers(), TOPICS);
    List<String> keys = records.stream().map(r -> header(r, "id")).toList();
    assertEquals(expected, new TreeSet<>(keys), "every committed row arrives");
    assertEquals(keys.size(), new HashSet<>(keys).size(), "and only once");
    for (ConsumerRecord<String, String> record : records) {
      assertEquals(record.key(), header(record, "id"));
      assertEquals("{\"k\": \"" + record.key() + "\"}", record.value());
    }

    // Connect created the topics with the seeds' partitions and retention
    try (Admin admin = harness.connect().kafka().createAdminClient()) {
      Map<String, Long> retention =
          Map.of(
              "somastack.tools", Duration.ofDays(7).toMillis(),
              "somastack.delegation", Duration.ofDays(3).toMillis(),
              "somastack.events.audit", Duration.ofDays(30).toMillis());
      for (Map.Entry<String, Long> topic : retention.entrySet()) {
        assertEquals(
            3,
            admin
                .describeTopics(List.of(topic.getKey()))
                .allTopicNames()
                .get()
                .get(topic.getKey())
                .partitions()
                .size());
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic.getKey());
        Config config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
        assertEquals(String.valueOf(topic.getValue()), config.get("retention.ms").value());
      }
    }
  }

  /**
   * Delete mode: a row leaves the table once Kafka committed its record, so an empty table means
   * every record that will come is committed. A relay that skipped rows leaves them here: the
   * failure names them.
   */
  private static void awaitOutboxEmpty() throws SQLException {
    try {
      await("outbox empty")
          .atMost(Duration.ofSeconds(60))
          .until(() -> count(pg, DB, "SELECT count(*) FROM outbox") == 0);
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(
          "rows never relayed: "
              + OutboxItSupport.strings(pg, DB, "SELECT dedupe_key FROM outbox ORDER BY id"),
          e);
    }
  }

  /** Writers in parallel, interleaving their transactions, some rolled back; returns when done. */
  private static void runWriters(Set<String> committed) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int w = 0; w < WRITERS; w++) {
        int writer = w;
        futures.add(pool.submit(() -> write(writer, committed)));
      }
      for (Future<?> f : futures) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
  }

  private static Void write(int writer, Set<String> committed) throws Exception {
    try (Connection c = pg.connect(DB)) {
      c.setAutoCommit(false);
      for (int t = 0; t < TXNS_PER_WRITER; t++) {
        List<String> txn = new ArrayList<>();
        int rows = 1 + ThreadLocalRandom.current().nextInt(4);
        for (int r = 0; r < rows; r++) {
          insert(c, TOPICS.get((t + r) % 3), "w" + writer + "-t" + t + "-r" + r, txn);
        }
        if (ThreadLocalRandom.current().nextInt(10) == 0) {
          c.rollback(); // rolled-back rows must never appear
          txn.clear();
          insert(c, TOPICS.get(0), "w" + writer + "-t" + t + "-retry", txn);
        }
        c.commit();
        committed.addAll(txn);
      }
    }
    return null;
  }

  private static void insert(Connection c, String topic, String key, List<String> txn)
      throws Exception {
    txn.add(key);
    try (PreparedStatement s =
        c.prepareStatement(
            "INSERT INTO outbox(topic, payload, dedupe_key) VALUES (?, ?::jsonb, ?)")) {
      s.setString(1, topic);
      s.setString(2, "{\"k\": \"" + key + "\"}");
      s.setString(3, key);
      s.executeUpdate();
    }
  }
}
