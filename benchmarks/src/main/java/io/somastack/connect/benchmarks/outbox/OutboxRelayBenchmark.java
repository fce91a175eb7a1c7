package io.somastack.connect.benchmarks.outbox;

import static io.somastack.connect.benchmarks.BenchSupport.percentiles;
import static io.somastack.connect.benchmarks.BenchSupport.readCommittedConsumer;

import io.somastack.connect.testing.connect.ConnectHarness;
import io.somastack.connect.testing.connect.PackagedPlugins;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * End-to-end figures of the packaged outbox source (embedded Connect with exactly-once source
 * support, a throwaway PostgreSQL), recorded in BENCHMARKS.md:
 *
 * <ol>
 *   <li>backlog: rows/s relayed from a backlog of N rows (default 200,000) inserted before the
 *       connector starts, until a read_committed consumer has all of them;
 *   <li>steady: a writer inserts R rows/s (default 1,000, autocommit, one row per transaction) for
 *       S seconds; pickup latency = broker append time (topic with LogAppendTime) minus the time
 *       just before the INSERT, and end-to-end = read_committed consumer receive time minus the
 *       same; p50/p99/max.
 * </ol>
 *
 * Run (after {@code mvn -pl source-outbox -am install -DskipTests}): {@code java -cp <benchmarks
 * classpath> io.somastack.connect.benchmarks.outbox.OutboxRelayBenchmark [backlogRows]
 * [rowsPerSecond] [seconds]}
 */
public final class OutboxRelayBenchmark {

  private static final String DB = "outbox_bench";
  private static final String TOPIC = "somastack.bench";

  private OutboxRelayBenchmark() {}

  public static void main(String[] args) throws Exception {
    int backlogRows = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    int rate = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 30;
    PostgresServer pg = PostgresServer.shared();
    pg.createDatabase(DB);
    String ddl =
        Files.readString(PackagedPlugins.projectRoot().resolve("source-outbox/sql/outbox.sql"));
    try (Connection c = pg.connect(DB);
        Statement s = c.createStatement()) {
      s.execute(ddl);
    }
    try (ConnectHarness harness =
        ConnectHarness.builder("outbox-bench").exactlyOnceSource().start()) {
      try (Admin admin = harness.connect().kafka().createAdminClient()) {
        admin
            .createTopics(
                List.of(
                    new NewTopic(TOPIC, 3, (short) 1)
                        .configs(Map.of("message.timestamp.type", "LogAppendTime"))))
            .all()
            .get();
      }
      backlog(pg, harness, backlogRows);
      steady(pg, harness, rate, seconds, backlogRows);
    }
    pg.close();
  }

  private static Map<String, String> connector(PostgresServer pg) {
    Map<String, String> config = new HashMap<>();
    config.put("connector.class", "io.somastack.connect.outbox.PostgresOutboxSourceConnector");
    config.put("tasks.max", "1");
    config.put("connection.url", pg.jdbcUrl(DB));
    config.put("connection.user", pg.user());
    config.put("key.converter", "org.apache.kafka.connect.storage.StringConverter");
    config.put("value.converter", "org.apache.kafka.connect.storage.StringConverter");
    config.put("exactly.once.support", "required");
    config.put("poll.max.rows", "2000");
    config.put("producer.override.linger.ms", "0");
    return config;
  }

  private static void backlog(PostgresServer pg, ConnectHarness harness, int rows)
      throws Exception {
    try (Connection c = pg.connect(DB);
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO outbox(topic, payload, dedupe_key) SELECT '"
              + TOPIC
              + "', jsonb_build_object('n', g, 't', 0, 'body', repeat('x', 200)),"
              + " 'backlog-' || g FROM generate_series(1, "
              + rows
              + ") g");
    }
    try (KafkaConsumer<String, String> consumer =
        readCommittedConsumer(harness.bootstrapServers(), TOPIC, 3, false)) {
      long start = System.nanoTime();
      harness.deploy("outbox-bench", connector(pg), 1);
      int seen = 0;
      while (seen < rows) {
        seen += consumer.poll(Duration.ofMillis(200)).count();
        if (System.nanoTime() - start > TimeUnit.MINUTES.toNanos(10)) {
          throw new IllegalStateException("backlog not relayed in 10 minutes: " + seen);
        }
      }
      double secs = (System.nanoTime() - start) / 1e9;
      System.out.printf(
          "BACKLOG rows=%d seconds=%.2f rows/s=%.0f (from deploy to last record consumed)%n",
          rows, secs, rows / secs);
    }
  }

  private static void steady(
      PostgresServer pg, ConnectHarness harness, int rate, int seconds, int offset)
      throws Exception {
    int total = rate * seconds;
    List<Long> pickup = Collections.synchronizedList(new ArrayList<>());
    List<Long> endToEnd = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger sent = new AtomicInteger();
    try (KafkaConsumer<String, String> consumer =
            readCommittedConsumer(harness.bootstrapServers(), TOPIC, 3, true);
        Connection c = pg.connect(DB)) {
      PreparedStatement insert =
          c.prepareStatement(
              "INSERT INTO outbox(topic, payload, dedupe_key) VALUES (?, ?::jsonb, ?)");
      ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor();
      long periodNanos = 1_000_000_000L / rate;
      writer.scheduleAtFixedRate(
          () -> {
            int n = sent.incrementAndGet();
            if (n > total) {
              return;
            }
            try {
              insert.setString(1, TOPIC);
              insert.setString(
                  2,
                  "{\"n\": " + n + ", \"t\": " + System.currentTimeMillis() + ", \"body\": \"x\"}");
              insert.setString(3, "steady-" + n);
              insert.executeUpdate();
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          },
          0,
          periodNanos,
          TimeUnit.NANOSECONDS);
      int seen = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds + 60L);
      while (seen < total && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(100))) {
          long now = System.currentTimeMillis();
          String value = record.value();
          int t = value.indexOf("\"t\": ");
          long insertedAt = Long.parseLong(value.substring(t + 5, value.indexOf(',', t)));
          if (insertedAt == 0) {
            continue; // a backlog row
          }
          seen++;
          pickup.add(record.timestamp() - insertedAt);
          endToEnd.add(now - insertedAt);
        }
      }
      writer.shutdownNow();
      System.out.printf(
          "STEADY rate=%d rows/s seconds=%d rows=%d received=%d%n", rate, seconds, total, seen);
      System.out.println("STEADY pickup (broker append - insert) ms: " + percentiles(pickup));
      System.out.println(
          "STEADY end-to-end (read_committed receive - insert) ms: " + percentiles(endToEnd));
    }
  }
}
