package io.somastack.connect.benchmarks.debezium;

import static io.somastack.connect.benchmarks.BenchSupport.load;
import static io.somastack.connect.benchmarks.BenchSupport.percentiles;
import static io.somastack.connect.benchmarks.BenchSupport.readCommittedConsumer;

import io.somastack.connect.testing.connect.ConnectHarness;
import io.somastack.connect.testing.connect.PackagedPlugins;
import io.somastack.connect.testing.postgres.LocalPostgresCluster;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * Issue 5: our outbox source against Debezium's PostgreSQL connector with its outbox event router,
 * in one run, on the same outbox table ({@code source-outbox/sql/outbox.sql}) of one throwaway
 * cluster switched to {@code wal_level=logical} (ALTER SYSTEM and a restart of test-support's
 * cluster). One worker with exactly-once source support, so both peers publish in Kafka
 * transactions; a read_committed consumer counts.
 *
 * <ul>
 *   <li>backlog: N rows (default 200,000) inserted while the peer is not running; rows/s from
 *       deploy (ours) or resume (Debezium, whose replication slot was made before the insert; the
 *       rows are in the slot's WAL) to the last record read.
 *   <li>steady: R rows/s (default 1,000), one autocommit INSERT each, for S seconds; pickup =
 *       broker LogAppendTime - time just before the INSERT; end-to-end = read_committed receive -
 *       same.
 * </ul>
 *
 * Each peer gets its own topic (the row's topic column routes it). Debezium's slot is dropped after
 * its phases, so the WAL of our phases (inserts and deletes) is never decoded for it.
 *
 * <p>Run: {@code java -Xmx3g -cp benchmarks/target/benchmarks.jar
 * io.somastack.connect.benchmarks.debezium.OutboxDebeziumBenchmark [key=value...]}, keys: rows,
 * rate, seconds, rounds, peers (ours, dbz, dbz-fast: Debezium with poll.interval.ms=10), peersDir.
 */
public final class OutboxDebeziumBenchmark {

  private static final String DB = "outbox_vs_dbz";
  private static final Pattern T = Pattern.compile("\"t\": ?(\\d+)");

  private final Map<String, String> opts;
  private PostgresServer pg;
  private ConnectHarness harness;
  private final List<String> results = new ArrayList<>();

  private OutboxDebeziumBenchmark(Map<String, String> opts) {
    this.opts = opts;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new LinkedHashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      opts.put(arg.substring(0, eq), arg.substring(eq + 1));
    }
    new OutboxDebeziumBenchmark(opts).run();
    System.exit(0);
  }

  private void run() throws Exception {
    int rows = Integer.parseInt(opts.getOrDefault("rows", "200000"));
    int rate = Integer.parseInt(opts.getOrDefault("rate", "1000"));
    int seconds = Integer.parseInt(opts.getOrDefault("seconds", "30"));
    int rounds = Integer.parseInt(opts.getOrDefault("rounds", "2"));
    List<String> peers = List.of(opts.getOrDefault("peers", "ours,dbz,dbz-fast").split(","));
    Path dbzPlugins =
        Paths.get(opts.getOrDefault("peersDir", "benchmarks/target/peers/plugins"))
            .toAbsolutePath()
            .normalize();
    String pluginPath = PackagedPlugins.pluginPath() + "," + dbzPlugins;
    System.out.println("==== OutboxDebeziumBenchmark " + opts + " ====");
    System.out.println("date: " + java.time.ZonedDateTime.now());
    System.out.println("plugin.path: " + pluginPath);

    pg = PostgresServer.shared();
    if (!(pg instanceof LocalPostgresCluster)) {
      System.out.println("NOTE not a local throwaway cluster; wal_level must already be logical");
    }
    try (Connection c = pg.connect("postgres");
        Statement s = c.createStatement()) {
      s.execute("ALTER SYSTEM SET wal_level = logical");
      s.execute("ALTER SYSTEM SET max_replication_slots = 10");
      s.execute("ALTER SYSTEM SET max_wal_senders = 10");
    }
    pg.restart();
    pg.createDatabase(DB);
    String ddl =
        Files.readString(PackagedPlugins.projectRoot().resolve("source-outbox/sql/outbox.sql"));
    try (Connection c = pg.connect(DB);
        Statement s = c.createStatement()) {
      s.execute(ddl);
      System.out.println(
          "PostgreSQL: "
              + one(s, "SELECT version()")
              + "; wal_level="
              + one(s, "SHOW wal_level")
              + " fsync="
              + one(s, "SHOW fsync")
              + " synchronous_commit="
              + one(s, "SHOW synchronous_commit"));
    }
    harness =
        ConnectHarness.builder("outbox-vs-dbz")
            .exactlyOnceSource()
            .workerProp("plugin.path", pluginPath)
            .brokerProp("group.initial.rebalance.delay.ms", "0")
            .start();
    for (int round = 1; round <= rounds; round++) {
      List<String> order = new ArrayList<>(peers);
      if (round % 2 == 0) {
        Collections.reverse(order);
      }
      for (String peer : order) {
        try {
          if (peer.equals("ours")) {
            ours(round, rows, rate, seconds);
          } else {
            debezium(round, peer, rows, rate, seconds);
          }
        } catch (Exception | AssertionError e) {
          report("round=" + round + " peer=" + peer + " FAILED: " + e);
          e.printStackTrace(System.out);
        }
        try (Connection c = pg.connect(DB);
            Statement s = c.createStatement()) {
          s.execute("TRUNCATE outbox");
          s.execute("CHECKPOINT");
        }
      }
    }
    System.out.println();
    System.out.println("==== SUMMARY ====");
    results.forEach(System.out::println);
    harness.close();
    pg.close();
  }

  // ------------------------------------------------------------------ ours

  private void ours(int round, int rows, int rate, int seconds) throws Exception {
    String topic = "bench.r" + round + ".ours";
    createTopic(topic);
    insertBacklog(topic, rows);
    String name = "ours-r" + round;
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
    try (KafkaConsumer<String, String> consumer =
        readCommittedConsumer(harness.bootstrapServers(), topic, 3, false)) {
      String load = load();
      long start = System.nanoTime();
      harness.connect().configureConnector(name, config);
      drain(consumer, rows, start, round, "ours", load);
    }
    steady(round, "ours", topic, rate, seconds);
    harness.connect().deleteConnector(name);
  }

  // ------------------------------------------------------------------ Debezium

  private void debezium(int round, String peer, int rows, int rate, int seconds) throws Exception {
    String topic = "bench.r" + round + "." + peer;
    createTopic(topic);
    String name = peer + "-r" + round;
    String slot = (peer + "_r" + round).replace('-', '_');
    Map<String, String> config = new HashMap<>();
    config.put("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
    config.put("tasks.max", "1");
    config.put("database.hostname", "127.0.0.1");
    config.put("database.port", pg.jdbcUrl(DB).replaceAll(".*:(\\d+)/.*", "$1"));
    config.put("database.user", pg.user());
    config.put("database.password", pg.password() == null ? "unused" : pg.password());
    config.put("database.dbname", DB);
    config.put("topic.prefix", "dbz" + round + peer.replace("-", ""));
    config.put("plugin.name", "pgoutput");
    config.put("slot.name", slot);
    config.put("publication.name", slot + "_pub");
    config.put("publication.autocreate.mode", "filtered");
    config.put("table.include.list", "public.outbox");
    config.put("snapshot.mode", "no_data");
    config.put("tombstones.on.delete", "false");
    config.put("key.converter", "org.apache.kafka.connect.storage.StringConverter");
    config.put("value.converter", "org.apache.kafka.connect.storage.StringConverter");
    config.put("transforms", "outbox");
    config.put("transforms.outbox.type", "io.debezium.transforms.outbox.EventRouter");
    config.put("transforms.outbox.table.field.event.id", "id");
    config.put("transforms.outbox.table.field.event.key", "dedupe_key");
    config.put("transforms.outbox.table.field.event.payload", "payload");
    config.put("transforms.outbox.route.by.field", "topic");
    config.put("transforms.outbox.route.topic.replacement", "${routedByValue}");
    config.put("producer.override.linger.ms", "0");
    if (peer.equals("dbz-fast")) {
      config.put("poll.interval.ms", "10");
    }
    // first start: makes the slot and publication, streams from now (no snapshot of old rows)
    harness.deploy(name, config, 1);
    awaitSlotActive(slot);
    harness.connect().stopConnector(name);
    awaitSlotInactive(slot);
    insertBacklog(topic, rows);
    try (KafkaConsumer<String, String> consumer =
        readCommittedConsumer(harness.bootstrapServers(), topic, 3, false)) {
      String load = load();
      long start = System.nanoTime();
      harness.connect().resumeConnector(name);
      drain(consumer, rows, start, round, peer, load);
    }
    steady(round, peer, topic, rate, seconds);
    harness.connect().deleteConnector(name);
    awaitSlotInactive(slot);
    try (Connection c = pg.connect(DB);
        Statement s = c.createStatement()) {
      s.execute("SELECT pg_drop_replication_slot('" + slot + "')");
      s.execute("DROP PUBLICATION IF EXISTS " + slot + "_pub");
    }
  }

  private void awaitSlotActive(String slot) throws Exception {
    awaitSlot(slot, true);
  }

  private void awaitSlotInactive(String slot) throws Exception {
    awaitSlot(slot, false);
  }

  private void awaitSlot(String slot, boolean active) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    try (Connection c = pg.connect(DB);
        Statement s = c.createStatement()) {
      while (System.nanoTime() < deadline) {
        try (ResultSet rs =
            s.executeQuery(
                "SELECT coalesce(bool_or(active), false) FROM pg_replication_slots WHERE"
                    + " slot_name = '"
                    + slot
                    + "'")) {
          rs.next();
          if (rs.getBoolean(1) == active) {
            return;
          }
        }
        Thread.sleep(200);
      }
    }
    throw new IllegalStateException("slot " + slot + " never became active=" + active);
  }

  // ------------------------------------------------------------------ shared

  private void createTopic(String topic) throws Exception {
    try (Admin admin = harness.connect().kafka().createAdminClient()) {
      admin
          .createTopics(
              List.of(
                  new NewTopic(topic, 3, (short) 1)
                      .configs(Map.of("message.timestamp.type", "LogAppendTime"))))
          .all()
          .get();
    }
  }

  private void insertBacklog(String topic, int rows) throws Exception {
    try (Connection c = pg.connect(DB);
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO outbox(topic, payload, dedupe_key) SELECT '"
              + topic
              + "', jsonb_build_object('n', g, 't', 0, 'body', repeat('x', 200)),"
              + " 'backlog-' || g FROM generate_series(1, "
              + rows
              + ") g");
    }
  }

  private void drain(
      KafkaConsumer<String, String> consumer,
      int rows,
      long start,
      int round,
      String peer,
      String loadBefore) {
    int seen = 0;
    long lastProgress = System.nanoTime();
    while (seen < rows) {
      int n = consumer.poll(Duration.ofMillis(200)).count();
      seen += n;
      if (n > 0) {
        lastProgress = System.nanoTime();
      } else if (System.nanoTime() - lastProgress > TimeUnit.SECONDS.toNanos(120)) {
        throw new IllegalStateException("backlog stalled at " + seen + " records");
      }
    }
    double secs = (System.nanoTime() - start) / 1e9;
    report(
        String.format(
            Locale.ROOT,
            "BACKLOG round=%d peer=%s rows=%d seconds=%.2f rows_per_s=%.0f load_before=[%s]"
                + " load_after=[%s]",
            round,
            peer,
            rows,
            secs,
            rows / secs,
            loadBefore,
            load()));
  }

  private void steady(int round, String peer, String topic, int rate, int seconds)
      throws Exception {
    int total = rate * seconds;
    List<Long> pickup = new ArrayList<>(total);
    List<Long> endToEnd = new ArrayList<>(total);
    String loadBefore = load();
    try (KafkaConsumer<String, String> consumer =
            readCommittedConsumer(harness.bootstrapServers(), topic, 3, true);
        Connection c = pg.connect(DB)) {
      PreparedStatement insert =
          c.prepareStatement(
              "INSERT INTO outbox(topic, payload, dedupe_key) VALUES (?, ?::jsonb, ?)");
      Thread writer =
          new Thread(
              () -> {
                long period = 1_000_000_000L / rate;
                long t0 = System.nanoTime();
                try {
                  for (int i = 0; i < total; i++) {
                    long due = t0 + i * period;
                    long wait;
                    while ((wait = due - System.nanoTime()) > 0) {
                      LockSupport.parkNanos(wait);
                    }
                    insert.setString(1, topic);
                    insert.setString(
                        2,
                        "{\"n\": "
                            + i
                            + ", \"t\": "
                            + System.currentTimeMillis()
                            + ", \"body\": \"x\"}");
                    insert.setString(3, "steady-" + round + "-" + i);
                    insert.executeUpdate();
                  }
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              },
              "outbox-writer");
      writer.start();
      int seen = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds + 90L);
      while (seen < total && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(100))) {
          long now = System.currentTimeMillis();
          Matcher m = T.matcher(record.value());
          if (!m.find()) {
            continue;
          }
          long insertedAt = Long.parseLong(m.group(1));
          if (insertedAt == 0) {
            continue; // a backlog row
          }
          seen++;
          pickup.add(record.timestamp() - insertedAt);
          endToEnd.add(now - insertedAt);
        }
      }
      writer.join();
      report(
          String.format(
              Locale.ROOT,
              "STEADY round=%d peer=%s rate=%d/s seconds=%d received=%d/%d pickup_ms: %s;"
                  + " end_to_end_ms: %s; load_before=[%s] load_after=[%s]",
              round,
              peer,
              rate,
              seconds,
              seen,
              total,
              percentiles(pickup),
              percentiles(endToEnd),
              loadBefore,
              load()));
    }
  }

  private static String one(Statement s, String sql) throws Exception {
    try (ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private void report(String line) {
    System.out.println(line);
    results.add(line);
  }
}
