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
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Interleaved transactions from several writers, one of which inserts first and commits last: the
 * case that loses rows in an id-incrementing JDBC source. Every row must arrive exactly once.
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
    ExecutorService pool = Executors.newFixedThreadPool(WRITERS + 1);
    CountDownLatch lateInserted = new CountDownLatch(1);
    CountDownLatch othersDone = new CountDownLatch(WRITERS);
    List<Future<?>> futures = new ArrayList<>();
    // the late transaction: inserts before everyone (lowest ids), commits after everyone
    futures.add(
        pool.submit(
            () -> {
              try (Connection c = pg.connect(DB)) {
                c.setAutoCommit(false);
                List<String> txn = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                  insert(c, TOPICS.get(i), "late-" + i, txn);
                }
                lateInserted.countDown();
                othersDone.await();
                c.commit();
                committed.addAll(txn);
              }
              return null;
            }));
    for (int w = 0; w < WRITERS; w++) {
      int writer = w;
      futures.add(
          pool.submit(
              () -> {
                lateInserted.await();
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
                } finally {
                  othersDone.countDown();
                }
                return null;
              }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    pool.shutdown();
    Set<String> expected = new TreeSet<>(committed);

    List<ConsumerRecord<String, String>> records =
        OutboxItSupport.readAll(
            harness.bootstrapServers(),
            expected.size(),
            Duration.ofSeconds(3),
            Duration.ofSeconds(60),
            TOPICS);
    List<String> keys = records.stream().map(r -> header(r, "id")).toList();
    assertEquals(expected, new TreeSet<>(keys), "every committed row arrives");
    assertEquals(keys.size(), new HashSet<>(keys).size(), "and only once");
    for (ConsumerRecord<String, String> record : records) {
      assertEquals(record.key(), header(record, "id"));
      assertEquals("{\"k\": \"" + record.key() + "\"}", record.value());
    }

    // delete mode: the relayed rows are gone
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> count(pg, DB, "SELECT count(*) FROM outbox") == 0);

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
