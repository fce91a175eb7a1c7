package io.somastack.connect.benchmarks.postgres;

import static io.somastack.connect.benchmarks.BenchSupport.load;

import io.somastack.connect.benchmarks.BenchSupport;
import io.somastack.connect.testing.connect.ConnectHarness;
import io.somastack.connect.testing.connect.PackagedPlugins;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * PostgreSQL sink throughput and latency, side by side in one run (issue 3): our
 * PostgresMemorySinkConnector, raw COPY of the same rows (the physical limit), and Debezium's JDBC
 * sink on the same events with schemas. Embedded Connect (one worker, one KRaft broker) and a
 * throwaway PostgreSQL cluster in this JVM; recorded in BENCHMARKS.md.
 *
 * <ol>
 *   <li>throughput: N events (default 200,000, ~500 bytes) pre-produced to P partitions (default
 *       6), once schemaless JSON (ours) and once with JsonConverter schemas (Debezium). For each
 *       peer: deploy a fresh connector (new consumer group, new table), and take the time from the
 *       deploy request to the commit of the last row (PostgreSQL's commit timestamp of each row,
 *       track_commit_timestamp=on), and also the first-row-to-last-row rate. Peers alternate order
 *       between rounds.
 *   <li>latency: a producer paced at R events/s (default 2,000) for S seconds, each event carrying
 *       its send time; latency = commit time of its row - send time, p50/p99 by percentile_cont.
 *   <li>heap: used heap of this JVM (broker, worker, tasks and harness together) sampled every 50
 *       ms during each run; max, and after a System.gc() at the end of the run.
 * </ol>
 *
 * Run: {@code java -Xmx3g -cp benchmarks/target/benchmarks.jar
 * io.somastack.connect.benchmarks.postgres.PostgresSinkBenchmark [key=value...]}, keys: events,
 * partitions, rounds, warmupRounds (0 or 1: a round 0 of every peer, reported, left out of the
 * medians), peers, latencyPeers, rate, seconds, peersDir, dbDelayMs (connectors, not COPY, reach
 * PostgreSQL through a {@link DelayLine} that delivers its replies this late). A peer is {@code
 * variant} or {@code variant@tasks} (default tasks 2); variants: copy, copy-2 (two parallel COPY
 * streams), copy-binary (COPY's binary format, as the sink writes its own tables), copy-binary-2,
 * ours-append, ours-append-5000, ours-upsert, ours-upsert-5000, dbz-default, dbz-5000, dbz-unnest,
 * and the counting sink null-5000; a suffix -str or -bytes reads values with StringConverter or
 * ByteArrayConverter instead of JsonConverter (e.g. ours-append-5000-bytes, null-5000-bytes).
 */
public final class PostgresSinkBenchmark {

  private static final String DB = "sink_bench";
  private static final String JSON_TOPIC = "bench.events.json";
  private static final String SCHEMA_TOPIC = "bench.events.schema";
  private static final String OURS = "io.somastack.connect.postgres.PostgresMemorySinkConnector";
  private static final String DEBEZIUM = "io.debezium.connector.jdbc.JdbcSinkConnector";

  private final Map<String, String> opts;
  private final int events;
  private final int partitions;
  private PostgresServer pg;
  private ConnectHarness harness;
  private Connection db;
  private final HeapSampler heap = new HeapSampler();

  /** Between the connectors and PostgreSQL when {@code dbDelayMs} is set, else null. */
  private DelayLine delayLine;

  private final List<String> results = new ArrayList<>();

  private PostgresSinkBenchmark(Map<String, String> opts) {
    this.opts = opts;
    this.events = Integer.parseInt(opts.getOrDefault("events", "200000"));
    this.partitions = Integer.parseInt(opts.getOrDefault("partitions", "6"));
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new LinkedHashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException("arguments are key=value: " + arg);
      }
      opts.put(arg.substring(0, eq), arg.substring(eq + 1));
    }
    new PostgresSinkBenchmark(opts).run();
    System.exit(0);
  }

  private void run() throws Exception {
    int rounds = Integer.parseInt(opts.getOrDefault("rounds", "2"));
    List<String> peers =
        List.of(
            opts.getOrDefault(
                    "peers",
                    "copy,copy-2,ours-append,ours-append-5000,ours-upsert-5000,dbz-default,"
                        + "dbz-5000,dbz-unnest")
                .split(","));
    List<String> latencyPeers =
        List.of(
            opts.getOrDefault("latencyPeers", "ours-append,ours-upsert,dbz-default,dbz-unnest")
                .split(","));
    Path dbzPlugins =
        Paths.get(opts.getOrDefault("peersDir", "benchmarks/target/peers/plugins"))
            .toAbsolutePath()
            .normalize();
    String pluginPath = PackagedPlugins.pluginPath().toString();
    if (Files.isDirectory(dbzPlugins)) {
      pluginPath += "," + dbzPlugins;
    } else {
      System.out.println("NOTE no Debezium plugins at " + dbzPlugins + "; its peers will fail");
    }
    header(pluginPath);

    pg = PostgresServer.shared();
    try (Connection c = pg.connect("postgres");
        Statement s = c.createStatement()) {
      // exact commit time of every row: the "row visible" instant for all peers alike
      s.execute("ALTER SYSTEM SET track_commit_timestamp = on");
    }
    pg.restart();
    pg.createDatabase(DB);
    db = pg.connect(DB);
    try (Statement s = db.createStatement()) {
      // the harness's own counts must not start parallel workers on the cores the peers run on
      s.execute("SET max_parallel_workers_per_gather = 0");
    }
    double delayMs = Double.parseDouble(opts.getOrDefault("dbDelayMs", "0"));
    if (delayMs > 0) {
      java.net.URI direct = java.net.URI.create(pg.jdbcUrl(DB).substring("jdbc:".length()));
      delayLine = new DelayLine(direct.getHost(), direct.getPort(), delayMs);
      System.out.println(
          "Connectors reach PostgreSQL through a delay line: every reply " + delayMs + " ms late");
    }
    System.out.println("PostgreSQL: " + query("SELECT version()"));
    System.out.println(
        "PostgreSQL settings: fsync="
            + query("SHOW fsync")
            + " synchronous_commit="
            + query("SHOW synchronous_commit")
            + " shared_buffers="
            + query("SHOW shared_buffers")
            + " track_commit_timestamp="
            + query("SHOW track_commit_timestamp"));

    harness =
        ConnectHarness.builder("sink-bench")
            .workerProp("plugin.path", pluginPath)
            .brokerProp("group.initial.rebalance.delay.ms", "0")
            .start();
    heap.start();
    harness.createTopic(JSON_TOPIC, partitions);
    harness.createTopic(SCHEMA_TOPIC, partitions);
    produceBacklog();

    // Round 0: every peer once, reported but not counted, so that no peer's counted rounds pay
    // the class loading and JIT warm-up of its first connector in this JVM.
    int warmupRounds = Integer.parseInt(opts.getOrDefault("warmupRounds", "0"));
    for (int round = 1 - Math.min(warmupRounds, 1); round <= rounds; round++) {
      List<String> order = new ArrayList<>(peers);
      if (round % 2 == 0) {
        java.util.Collections.reverse(order);
      }
      for (String peer : order) {
        try {
          throughput(round, peer);
        } catch (Exception | AssertionError e) {
          report(String.format("RESULT round=%d peer=%s FAILED: %s", round, peer, e));
          e.printStackTrace(System.out);
        }
      }
    }
    int rate = Integer.parseInt(opts.getOrDefault("rate", "2000"));
    int seconds = Integer.parseInt(opts.getOrDefault("seconds", "45"));
    int latencyRounds = Integer.parseInt(opts.getOrDefault("latencyRounds", "1"));
    for (int round = 1; seconds > 0 && round <= latencyRounds; round++) {
      List<String> order = new ArrayList<>(latencyPeers);
      if (round % 2 == 0) {
        java.util.Collections.reverse(order);
      }
      for (String peer : order) {
        try {
          latency(round, peer, rate, seconds);
        } catch (Exception | AssertionError e) {
          report(String.format("LATENCY peer=%s FAILED: %s", peer, e));
          e.printStackTrace(System.out);
        }
      }
    }
    System.out.println();
    System.out.println("==== SUMMARY ====");
    results.forEach(System.out::println);
    harness.close();
    db.close();
    pg.close();
  }

  /** The connectors' JDBC URL: straight to PostgreSQL, or through the delay line. */
  private String connectorUrl() {
    String url = pg.jdbcUrl(DB);
    if (delayLine == null) {
      return url;
    }
    java.net.URI direct = java.net.URI.create(url.substring("jdbc:".length()));
    return url.replace(direct.getHost() + ":" + direct.getPort(), "127.0.0.1:" + delayLine.port());
  }

  private void header(String pluginPath) throws Exception {
    System.out.println("==== PostgresSinkBenchmark " + opts + " ====");
    System.out.println("date: " + java.time.ZonedDateTime.now());
    System.out.println(
        "java: "
            + System.getProperty("java.vm.name")
            + " "
            + System.getProperty("java.runtime.version")
            + ", max heap "
            + Runtime.getRuntime().maxMemory() / (1 << 20)
            + " MB, args "
            + ManagementFactory.getRuntimeMXBean().getInputArguments());
    System.out.println("nproc: " + Runtime.getRuntime().availableProcessors());
    System.out.println("plugin.path: " + pluginPath);
    System.out.println("load: " + load());
  }

  // ---------------------------------------------------------------- data

  private KafkaProducer<String, String> producer(int lingerMs) {
    Map<String, Object> props = new HashMap<>();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, harness.bootstrapServers());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.LINGER_MS_CONFIG, lingerMs);
    // one request in flight: strictly ordered, so event n lands at offset n / P of its partition
    props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, lingerMs > 0 ? 256 * 1024 : 16 * 1024);
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 600_000);
    return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
  }

  /** Event n goes to partition n % P; one idempotent producer, so its offset there is n / P. */
  private void produceBacklog() {
    long start = System.nanoTime();
    long jsonBytes = 0;
    long schemaBytes = 0;
    FailureCounter failures = new FailureCounter();
    try (KafkaProducer<String, String> producer = producer(20)) {
      for (int n = 0; n < events; n++) {
        MemoryEvents.Event e = MemoryEvents.event(n, 0);
        String json = e.json();
        String schema = e.schemaValue();
        jsonBytes += json.length();
        schemaBytes += schema.length();
        producer.send(
            new ProducerRecord<>(JSON_TOPIC, n % partitions, e.plainKey(), json), failures);
        producer.send(
            new ProducerRecord<>(SCHEMA_TOPIC, n % partitions, e.schemaKey(), schema), failures);
      }
      producer.flush();
    }
    if (failures.count.get() > 0) {
      throw new IllegalStateException(failures.count.get() + " events could not be produced");
    }
    System.out.printf(
        Locale.ROOT,
        "PRODUCED %d events x2 topics x %d partitions in %.1f s; mean value size: schemaless %d"
            + " B, with schema envelope %d B%n",
        events,
        partitions,
        (System.nanoTime() - start) / 1e9,
        jsonBytes / events,
        schemaBytes / events);
  }

  // ---------------------------------------------------------------- throughput

  private void throughput(int round, String peer) throws Exception {
    String variant = peer.contains("@") ? peer.substring(0, peer.indexOf('@')) : peer;
    int tasks = peer.contains("@") ? Integer.parseInt(peer.substring(peer.indexOf('@') + 1)) : 2;
    String name = ("r" + round + "_" + variant + "_t" + tasks).replace('-', '_');
    execute("CHECKPOINT");
    System.gc();
    long baseline = heap.used();
    String loadBefore = load();
    heap.reset();
    if (variant.startsWith("copy")
        || variant.startsWith("unnest")
        || variant.startsWith("staged")) {
      int streams = variant.endsWith("-2") ? 2 : 1;
      copy(round, name, variant, streams, loadBefore, baseline);
      return;
    }
    Map<String, String> config = connectorConfig(variant, tasks, name, false);
    if (variant.startsWith("null")) {
      counting(round, name, variant, tasks, config, loadBefore);
      return;
    }
    BenchSupport.CpuMeter cpu = BenchSupport.cpu();
    long deployMs = System.currentTimeMillis();
    harness.connect().configureConnector(name, config);
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(15);
    long lastStatus = 0;
    long rows = 0;
    long lastProgress = System.nanoTime();
    while (rows < events) {
      // Progress comes from the statistics counters, not count(*): a count(*) every second still
      // cost PostgreSQL ~0.7 s of CPU per round (perf: parallel seq scans and their workers),
      // taken from the peer under test on 2 cores. The counters lag by up to a second; the
      // figure comes from commit timestamps, so the lag costs wall time only.
      Thread.sleep(1000);
      long now = Math.min(insertedRows(name), events);
      if (now >= events) {
        now = countRows(name); // the counters also count rows of rolled-back transactions
      }
      if (now != rows) {
        lastProgress = System.nanoTime();
      } else if (System.nanoTime() - lastProgress > TimeUnit.SECONDS.toNanos(90)) {
        throw new IllegalStateException("stalled at " + rows + " rows for 90 s");
      }
      rows = now;
      if (System.nanoTime() - lastStatus > TimeUnit.SECONDS.toNanos(2)) {
        lastStatus = System.nanoTime();
        failIfFailed(name);
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("only " + rows + " rows after 15 minutes");
      }
    }
    cpu.stop();
    long heapMax = heap.max();
    System.gc();
    long heapAfter = heap.used();
    String loadAfter = load();
    double[] commits = commitRange(name);
    double total = (commits[1] - deployMs) / 1000.0;
    double steady = (commits[1] - commits[0]) / 1000.0;
    report(
        String.format(
            Locale.ROOT,
            "RESULT round=%d peer=%s tasks=%d rows=%d deploy_to_last_commit_s=%.2f rows_per_s=%.0f"
                + " first_to_last_commit_s=%.2f steady_rows_per_s=%.0f %s heap_baseline_mb=%d"
                + " heap_max_mb=%d heap_after_gc_mb=%d load_before=[%s] load_after=[%s]",
            round,
            variant,
            tasks,
            rows,
            total,
            events / total,
            steady,
            events / steady,
            cpu.describe(rows),
            baseline >> 20,
            heapMax >> 20,
            heapAfter >> 20,
            loadBefore,
            loadAfter));
    if (round == 1) {
      System.out.println("TABLE " + name + ": " + describe(name));
    }
    harness.connect().deleteConnector(name);
    Thread.sleep(1000);
    execute("DROP TABLE IF EXISTS " + name);
  }

  /**
   * The counting sink: Kafka, Connect and the converter with no database. Timed like the other
   * connectors, from the deploy request to the last put instead of the last commit.
   */
  private void counting(
      int round,
      String name,
      String variant,
      int tasks,
      Map<String, String> config,
      String loadBefore)
      throws Exception {
    CountingSinkConnector.Progress progress = CountingSinkConnector.progress(name);
    BenchSupport.CpuMeter cpu = BenchSupport.cpu();
    long deployMs = System.currentTimeMillis();
    harness.connect().configureConnector(name, config);
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (progress.records() < events) {
      Thread.sleep(50);
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("only " + progress.records() + " records after 5 minutes");
      }
    }
    cpu.stop();
    double total = (progress.lastPutMs() - deployMs) / 1000.0;
    double steady = (progress.lastPutMs() - progress.firstPutMs()) / 1000.0;
    report(
        String.format(
            Locale.ROOT,
            "RESULT round=%d peer=%s tasks=%d rows=%d deploy_to_last_put_s=%.2f rows_per_s=%.0f"
                + " first_to_last_put_s=%.2f steady_rows_per_s=%.0f %s load_before=[%s]"
                + " load_after=[%s]",
            round,
            variant,
            tasks,
            progress.records(),
            total,
            events / total,
            steady,
            events / steady,
            cpu.describe(events),
            loadBefore,
            load()));
    harness.connect().deleteConnector(name);
  }

  /** Keys as strings; values as JSON text ({@code -str}) or JsonConverter maps without schemas. */
  private static void putSchemalessConverters(Map<String, String> c, String variant) {
    c.put("key.converter", "org.apache.kafka.connect.storage.StringConverter");
    if (variant.endsWith("-str")) {
      c.put("value.converter", "org.apache.kafka.connect.storage.StringConverter");
    } else if (variant.endsWith("-bytes")) {
      c.put("value.converter", "org.apache.kafka.connect.converters.ByteArrayConverter");
    } else {
      c.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
      c.put("value.converter.schemas.enable", "false");
    }
  }

  private Map<String, String> connectorConfig(
      String variant, int tasks, String table, boolean latency) {
    Map<String, String> c = new HashMap<>();
    c.put("tasks.max", String.valueOf(tasks));
    c.put("consumer.override.auto.offset.reset", "earliest");
    boolean tuned = variant.contains("5000") || variant.equals("dbz-unnest");
    if (tuned) {
      c.put("consumer.override.max.poll.records", "5000");
      // 5000 records of up to ~1.2 kB from 3 partitions per task: more than the 1 MB default
      c.put("consumer.override.max.partition.fetch.bytes", String.valueOf(8 << 20));
    }
    if (variant.contains("20000")) {
      // larger transactions: fewer per-batch costs (savepoint, offsets upsert, commit)
      c.put("consumer.override.max.poll.records", "20000");
      c.put("consumer.override.max.partition.fetch.bytes", String.valueOf(32 << 20));
      c.put("consumer.override.fetch.max.bytes", String.valueOf(64 << 20));
      c.put("batch.max.records", "20000");
      c.put("batch.max.bytes", String.valueOf(64L << 20));
    }
    if (variant.startsWith("ours")) {
      String topic = latency ? "lat." + table : JSON_TOPIC;
      c.put("connector.class", OURS);
      c.put("topics", topic);
      c.put("connection.url", connectorUrl());
      c.put("connection.user", pg.user());
      c.put("table.name.format", table);
      putSchemalessConverters(c, variant);
      if (variant.contains("upsert")) {
        c.put("write.mode", "upsert");
        c.put("key.fields", "namespace,id");
      } else {
        c.put("write.mode", "append");
      }
      return c;
    }
    if (variant.startsWith("null")) {
      c.put("connector.class", CountingSinkConnector.class.getName());
      c.put("topics", JSON_TOPIC);
      putSchemalessConverters(c, variant);
      return c;
    }
    if (variant.startsWith("dbz")) {
      String topic = latency ? "lat." + table : SCHEMA_TOPIC;
      c.put("connector.class", DEBEZIUM);
      c.put("topics", topic);
      c.put("connection.url", connectorUrl());
      c.put("connection.username", pg.user());
      if (pg.password() != null) {
        c.put("connection.password", pg.password());
      }
      c.put("insert.mode", "upsert");
      c.put("primary.key.mode", "record_key");
      c.put("schema.evolution", "basic");
      c.put("collection.name.format", table);
      c.put("key.converter", "org.apache.kafka.connect.json.JsonConverter");
      c.put("key.converter.schemas.enable", "true");
      c.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
      c.put("value.converter.schemas.enable", "true");
      if (tuned) {
        c.put("batch.size", "5000");
      }
      if (variant.equals("dbz-unnest")) {
        c.put("dialect.postgres.unnest.insert.enabled", "true");
      }
      return c;
    }
    throw new IllegalArgumentException("unknown peer " + variant);
  }

  /**
   * The rows of stream s in COPY's binary format (the format the sink uses for its own tables): per
   * value its length and the type's binary form, jsonb as a version byte and the JSON text.
   */
  private byte[] binaryCopyData(int s, int streams) throws java.io.IOException {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(events / streams * 600);
    java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
    out.write("PGCOPY\n\377\r\n\0".getBytes(StandardCharsets.ISO_8859_1));
    out.writeInt(0); // flags
    out.writeInt(0); // header extension
    byte[] topic = JSON_TOPIC.getBytes(StandardCharsets.UTF_8);
    for (int n = 0; n < events; n++) {
      int partition = n % partitions;
      if (partition % streams != s) {
        continue;
      }
      MemoryEvents.Event e = MemoryEvents.event(n, 0);
      byte[] id = e.eventId().getBytes(StandardCharsets.UTF_8);
      byte[] json = e.json().getBytes(StandardCharsets.UTF_8);
      out.writeShort(5);
      out.writeInt(id.length);
      out.write(id);
      out.writeInt(json.length + 1);
      out.write(1); // jsonb version
      out.write(json);
      out.writeInt(topic.length);
      out.write(topic);
      out.writeInt(4);
      out.writeInt(partition);
      out.writeInt(8);
      out.writeLong(n / partitions);
    }
    out.writeShort(-1);
    return bytes.toByteArray();
  }

  /**
   * COPY of the same rows into a table like our append table (unique event_id, jsonb payload); or,
   * with {@code unnest}, the statement our sink sends in append mode (arrays unnested server-side,
   * ON CONFLICT DO NOTHING, one transaction per 5,000 rows) from plain JDBC without Connect, to
   * split the sink's cost into SQL and the rest.
   */
  private void copy(
      int round, String table, String variant, int streams, String loadBefore, long baseline)
      throws Exception {
    execute(
        "CREATE TABLE "
            + table
            + " (event_id text NOT NULL, payload jsonb NOT NULL, kafka_topic text NOT NULL,"
            + " kafka_partition integer NOT NULL, kafka_offset bigint NOT NULL,"
            + " ingested_at timestamptz NOT NULL DEFAULT now(), UNIQUE (event_id))");
    if (!variant.startsWith("copy")) {
      unnest(round, table, variant, streams, loadBefore, baseline);
      return;
    }
    boolean binary = variant.startsWith("copy-binary");
    // the rows, built before the clock starts: stream s gets partitions p with p % streams == s
    byte[][] data = new byte[streams][];
    for (int s = 0; binary && s < streams; s++) {
      data[s] = binaryCopyData(s, streams);
    }
    for (int s = 0; !binary && s < streams; s++) {
      StringBuilder out = new StringBuilder(events / streams * 560);
      for (int n = 0; n < events; n++) {
        int partition = n % partitions;
        if (partition % streams != s) {
          continue;
        }
        MemoryEvents.Event e = MemoryEvents.event(n, 0);
        MemoryEvents.copyField(out, e.eventId());
        out.append('\t');
        MemoryEvents.copyField(out, e.json());
        out.append('\t').append(JSON_TOPIC).append('\t').append(partition).append('\t');
        out.append(n / partitions).append('\n');
      }
      data[s] = out.toString().getBytes(StandardCharsets.UTF_8);
    }
    ExecutorService pool = Executors.newFixedThreadPool(streams);
    List<Future<Long>> done = new ArrayList<>();
    BenchSupport.CpuMeter cpu = BenchSupport.cpu();
    long startMs = System.currentTimeMillis();
    long start = System.nanoTime();
    for (int s = 0; s < streams; s++) {
      byte[] bytes = data[s];
      done.add(
          pool.submit(
              () -> {
                try (Connection c = pg.connect(DB)) {
                  CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
                  return copy.copyIn(
                      "COPY "
                          + table
                          + " (event_id, payload, kafka_topic, kafka_partition, kafka_offset)"
                          + " FROM STDIN"
                          + (binary ? " WITH (FORMAT binary)" : ""),
                      new ByteArrayInputStream(bytes));
                }
              }));
    }
    long rows = 0;
    for (Future<Long> f : done) {
      rows += f.get();
    }
    double secs = (System.nanoTime() - start) / 1e9;
    cpu.stop();
    pool.shutdown();
    long heapMax = heap.max();
    data = null;
    System.gc();
    long heapAfter = heap.used();
    double[] commits = commitRange(table);
    report(
        String.format(
            Locale.ROOT,
            "RESULT round=%d peer=%s streams=%d rows=%d copy_s=%.2f rows_per_s=%.0f"
                + " (start_to_last_commit_s=%.2f) %s heap_baseline_mb=%d heap_max_mb=%d"
                + " heap_after_gc_mb=%d load_before=[%s] load_after=[%s]",
            round,
            (binary ? "copy-binary" : "copy") + (streams == 1 ? "" : "-" + streams),
            streams,
            rows,
            secs,
            rows / secs,
            (commits[1] - startMs) / 1000.0,
            cpu.describe(rows),
            baseline >> 20,
            heapMax >> 20,
            heapAfter >> 20,
            loadBefore,
            load()));
    execute("DROP TABLE IF EXISTS " + table);
  }

  /**
   * Statement shapes, one transaction per 5,000 rows, plain JDBC: {@code unnest} is our sink's
   * append statement; {@code unnest-plain} the same without ON CONFLICT; {@code staged} COPY into a
   * temporary table and INSERT ... SELECT ... ON CONFLICT DO NOTHING from it.
   */
  private void unnest(
      int round, String table, String variant, int streams, String loadBefore, long baseline)
      throws Exception {
    boolean staged = variant.startsWith("staged");
    boolean plain = variant.startsWith("unnest-plain");
    int batch = 5000;
    List<List<Object[]>> rowsPerStream = new ArrayList<>();
    for (int s = 0; s < streams; s++) {
      rowsPerStream.add(new ArrayList<>());
    }
    for (int n = 0; n < events; n++) {
      int partition = n % partitions;
      MemoryEvents.Event e = MemoryEvents.event(n, 0);
      rowsPerStream
          .get(partition % streams)
          .add(
              new Object[] {e.eventId(), e.json(), JSON_TOPIC, partition, (long) (n / partitions)});
    }
    String sql =
        "INSERT INTO "
            + table
            + " AS t (\"event_id\", \"payload\", \"kafka_topic\", \"kafka_partition\","
            + " \"kafka_offset\") SELECT u.\"u_event_id\", u.\"u_payload\"::jsonb,"
            + " u.\"u_kafka_topic\", u.\"u_kafka_partition\", u.\"u_kafka_offset\" FROM"
            + " unnest(?::text[], ?::text[], ?::text[], ?::int4[], ?::int8[]) AS u(\"u_event_id\","
            + " \"u_payload\", \"u_kafka_topic\", \"u_kafka_partition\", \"u_kafka_offset\")"
            + (plain ? "" : " ON CONFLICT (\"event_id\") DO NOTHING");
    String stagedInsert =
        "INSERT INTO "
            + table
            + " (event_id, payload, kafka_topic, kafka_partition, kafka_offset) SELECT event_id,"
            + " payload::jsonb, kafka_topic, kafka_partition, kafka_offset FROM stage"
            + " ON CONFLICT (event_id) DO NOTHING";
    ExecutorService pool = Executors.newFixedThreadPool(streams);
    List<Future<Long>> done = new ArrayList<>();
    long start = System.nanoTime();
    for (List<Object[]> rows : rowsPerStream) {
      done.add(
          pool.submit(
              () -> {
                java.util.Properties props = new java.util.Properties();
                props.setProperty("user", pg.user());
                props.setProperty("prepareThreshold", "1");
                try (Connection c = java.sql.DriverManager.getConnection(pg.jdbcUrl(DB), props)) {
                  c.setAutoCommit(false);
                  long written = 0;
                  if (staged) {
                    try (Statement st = c.createStatement()) {
                      st.execute(
                          "CREATE TEMP TABLE stage (event_id text, payload text, kafka_topic text,"
                              + " kafka_partition int, kafka_offset bigint) ON COMMIT DELETE ROWS");
                    }
                    c.commit();
                    CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
                    try (java.sql.PreparedStatement ps = c.prepareStatement(stagedInsert)) {
                      for (int from = 0; from < rows.size(); from += batch) {
                        List<Object[]> chunk =
                            rows.subList(from, Math.min(rows.size(), from + batch));
                        StringBuilder out = new StringBuilder(chunk.size() * 600);
                        for (Object[] r : chunk) {
                          MemoryEvents.copyField(out, (String) r[0]);
                          out.append('\t');
                          MemoryEvents.copyField(out, (String) r[1]);
                          out.append('\t').append(r[2]).append('\t').append(r[3]).append('\t');
                          out.append(r[4]).append('\n');
                        }
                        copy.copyIn(
                            "COPY stage FROM STDIN",
                            new ByteArrayInputStream(
                                out.toString().getBytes(StandardCharsets.UTF_8)));
                        written += ps.executeUpdate();
                        c.commit();
                      }
                    }
                    return written;
                  }
                  try (java.sql.PreparedStatement ps = c.prepareStatement(sql)) {
                    for (int from = 0; from < rows.size(); from += batch) {
                      List<Object[]> chunk =
                          rows.subList(from, Math.min(rows.size(), from + batch));
                      int size = chunk.size();
                      String[] ids = new String[size];
                      String[] payloads = new String[size];
                      String[] topics = new String[size];
                      Integer[] parts = new Integer[size];
                      Long[] offsets = new Long[size];
                      for (int i = 0; i < size; i++) {
                        Object[] r = chunk.get(i);
                        ids[i] = (String) r[0];
                        payloads[i] = (String) r[1];
                        topics[i] = (String) r[2];
                        parts[i] = (Integer) r[3];
                        offsets[i] = (Long) r[4];
                      }
                      ps.setArray(1, c.createArrayOf("text", ids));
                      ps.setArray(2, c.createArrayOf("text", payloads));
                      ps.setArray(3, c.createArrayOf("text", topics));
                      ps.setArray(4, c.createArrayOf("int4", parts));
                      ps.setArray(5, c.createArrayOf("int8", offsets));
                      written += ps.executeUpdate();
                      c.commit();
                    }
                  }
                  return written;
                }
              }));
    }
    long rows = 0;
    for (Future<Long> f : done) {
      rows += f.get();
    }
    double secs = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    long heapMax = heap.max();
    rowsPerStream = null;
    System.gc();
    report(
        String.format(
            Locale.ROOT,
            "RESULT round=%d peer=%s streams=%d rows=%d unnest_s=%.2f rows_per_s=%.0f"
                + " heap_baseline_mb=%d heap_max_mb=%d heap_after_gc_mb=%d load_before=[%s]"
                + " load_after=[%s]",
            round,
            variant,
            streams,
            rows,
            secs,
            rows / secs,
            baseline >> 20,
            heapMax >> 20,
            heap.used() >> 20,
            loadBefore,
            load()));
    execute("DROP TABLE IF EXISTS " + table);
  }

  // ---------------------------------------------------------------- latency

  private void latency(int round, String variant, int rate, int seconds) throws Exception {
    int tasks = 2;
    String table = ("lat_r" + round + "_" + variant).replace('-', '_');
    String topic = "lat." + table;
    harness.createTopic(topic, partitions);
    boolean schema = variant.startsWith("dbz");
    execute("CHECKPOINT");
    harness.deploy(table, connectorConfig(variant, tasks, table, true), tasks);
    long base = 10_000_000L; // ids apart from the backlog's
    int warm = 200;
    try (KafkaProducer<String, String> producer = producer(0)) {
      // warm-up: the task has its partitions and its table before the clock starts
      for (int i = 0; i < warm; i++) {
        send(producer, topic, schema, base + i, 0, i);
      }
      producer.flush();
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (countRows(table) < warm) {
        Thread.sleep(200);
        failIfFailed(table);
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("warm-up rows did not land");
        }
      }
      System.gc();
      long baseline = heap.used();
      String loadBefore = load();
      heap.reset();
      int total = rate * seconds;
      long periodNanos = 1_000_000_000L / rate;
      long t0 = System.nanoTime();
      long wallAtT0 = System.currentTimeMillis();
      for (int i = 0; i < total; i++) {
        long due = t0 + i * periodNanos;
        long wait;
        while ((wait = due - System.nanoTime()) > 0) {
          LockSupport.parkNanos(wait);
        }
        // stamped with when it was due, not when the loop got to it: after a pause (GC, the
        // loop descheduled on the shared cores) the late events' wait counts in their latency
        // rather than vanishing (coordinated omission)
        long dueWallMs = wallAtT0 + TimeUnit.NANOSECONDS.toMillis(i * periodNanos);
        send(producer, topic, schema, base + warm + i, dueWallMs, warm + i);
      }
      producer.flush();
      double achieved = total / ((System.nanoTime() - t0) / 1e9);
      deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      while (countRows(table) < warm + total) {
        Thread.sleep(200);
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("latency rows did not all land");
        }
      }
      long heapMax = heap.max();
      String sentAt =
          schema
              ? "(metadata->>'sent_at_ms')::bigint"
              : "(payload->'metadata'->>'sent_at_ms')::bigint";
      String sql =
          "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lat),"
              + " percentile_cont(0.99) WITHIN GROUP (ORDER BY lat), max(lat), count(*) FROM"
              + " (SELECT extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000 - "
              + sentAt
              + " AS lat FROM "
              + table
              + " WHERE "
              + sentAt
              + " > 0) x";
      try (Statement s = db.createStatement();
          ResultSet rs = s.executeQuery(sql)) {
        rs.next();
        report(
            String.format(
                Locale.ROOT,
                "LATENCY round=%d peer=%s tasks=%d rate=%d/s (achieved %.0f/s) seconds=%d rows=%d"
                    + " p50_ms=%.1f p99_ms=%.1f max_ms=%.1f heap_baseline_mb=%d heap_max_mb=%d"
                    + " load_before=[%s] load_after=[%s]",
                round,
                variant,
                tasks,
                rate,
                achieved,
                seconds,
                rs.getLong(4),
                rs.getDouble(1),
                rs.getDouble(2),
                rs.getDouble(3),
                baseline >> 20,
                heapMax >> 20,
                loadBefore,
                load()));
      }
    }
    harness.connect().deleteConnector(table);
    Thread.sleep(1000);
    execute("DROP TABLE IF EXISTS " + table);
  }

  private void send(
      KafkaProducer<String, String> producer,
      String topic,
      boolean schema,
      long n,
      long sentAt,
      int seq) {
    MemoryEvents.Event e = MemoryEvents.event(n, sentAt);
    int partition = seq % partitions;
    if (schema) {
      producer.send(new ProducerRecord<>(topic, partition, e.schemaKey(), e.schemaValue()));
    } else {
      producer.send(new ProducerRecord<>(topic, partition, e.plainKey(), e.json()));
    }
  }

  // ---------------------------------------------------------------- helpers

  private void failIfFailed(String connector) {
    try {
      ConnectorStateInfo status = harness.status(connector);
      for (var t : status.tasks()) {
        if ("FAILED".equals(t.state())) {
          throw new IllegalStateException("task " + t.id() + " FAILED: " + t.trace());
        }
      }
      if ("FAILED".equals(status.connector().state())) {
        throw new IllegalStateException("connector FAILED: " + status.connector().trace());
      }
    } catch (org.apache.kafka.connect.runtime.rest.errors.ConnectRestException e) {
      // not there yet
    }
  }

  /** Rows inserted into a table as the statistics counters have them (0 before it exists). */
  private long insertedRows(String table) {
    try (Statement s = db.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT coalesce(pg_stat_get_tuples_inserted(to_regclass('" + table + "')), 0)")) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      return 0;
    }
  }

  /** Rows in a table; 0 while the connector has not created it. */
  private long countRows(String table) {
    try (Statement s = db.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      return 0;
    }
  }

  /** Epoch ms of the first and last row commits of a table. */
  private double[] commitRange(String table) throws SQLException {
    try (Statement s = db.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT extract(epoch FROM min(pg_xact_commit_timestamp(xmin))) * 1000,"
                    + " extract(epoch FROM max(pg_xact_commit_timestamp(xmin))) * 1000 FROM "
                    + table)) {
      rs.next();
      return new double[] {rs.getDouble(1), rs.getDouble(2)};
    }
  }

  /** The columns and indexes of a table as the peer made it. */
  private String describe(String table) throws SQLException {
    return query(
        "SELECT (SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position)"
            + " FROM information_schema.columns WHERE table_name = '"
            + table
            + "') || ' | ' || (SELECT string_agg(indexdef, '; ') FROM pg_indexes WHERE tablename = '"
            + table
            + "') || ' | ' || pg_size_pretty(pg_total_relation_size('"
            + table
            + "'))");
  }

  private String query(String sql) throws SQLException {
    try (Statement s = db.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private void execute(String sql) throws SQLException {
    try (Statement s = db.createStatement()) {
      s.execute(sql);
    }
  }

  private void report(String line) {
    System.out.println(line);
    results.add(line);
  }

  /** Counts sends that failed (a benchmark on missing records would never finish). */
  private static final class FailureCounter implements org.apache.kafka.clients.producer.Callback {
    final AtomicLong count = new AtomicLong();

    @Override
    public void onCompletion(
        org.apache.kafka.clients.producer.RecordMetadata metadata, Exception exception) {
      if (exception != null && count.getAndIncrement() == 0) {
        System.out.println("PRODUCE FAILED: " + exception);
      }
    }
  }

  /** Used heap of this whole JVM, sampled every 50 ms; max since the last reset. */
  private static final class HeapSampler {
    private final AtomicLong max = new AtomicLong();

    void start() {
      Thread t =
          new Thread(
              () -> {
                while (true) {
                  max.accumulateAndGet(used(), Math::max);
                  LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
                }
              },
              "heap-sampler");
      t.setDaemon(true);
      t.start();
    }

    long used() {
      return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    void reset() {
      max.set(used());
    }

    long max() {
      return max.get();
    }
  }
}
