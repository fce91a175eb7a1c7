package io.somastack.connect.quickstart;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.postgres.JdbcUrl;
import io.somastack.connect.common.sql.SqlIdentifier;
import io.somastack.connect.deploy.ConnectRestClient;
import io.somastack.connect.deploy.PipelineDeployer;
import io.somastack.connect.deploy.PipelineFile;
import io.somastack.connect.deploy.strimzi.StrimziResources;
import io.somastack.connect.deploy.topics.TopicFile;
import io.somastack.connect.deploy.topics.TopicProvisioner;
import io.somastack.connect.testing.connect.EnvOverlayConfigProvider;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.io.Closeable;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.LoggerFactory;

/**
 * {@code ./soma-connect quickstart}: the whole bundle on this machine. A KRaft broker and a Connect
 * worker start in this JVM (REST on localhost:8083), PostgreSQL comes the same way the tests get it
 * (or from SOMA_PG_URL), the topics of connector-configs/topics.json are created, every pipeline in
 * connector-configs/ is validated and deployed through the REST API, and a stream of the seeds'
 * events (some malformed on purpose) flows while progress is shown. The worker then stays up to
 * explore with curl until Ctrl-C.
 */
public final class Quickstart {

  private static final PrintStream OUT = System.out;

  /** Where simplelogger.properties sends the log, relative to the project root. */
  private static final String LOG_FILE = "target/quickstart/quickstart.log";

  /** In the work directory: held while a quickstart runs from it. */
  static final String LOCK_FILE = "quickstart.lock";

  /** The sink's offsets table (offsets.table, which no file of connector-configs/ changes). */
  private static final String SINK_OFFSETS = "soma_connect_offsets";

  private static final String SSLROOTCERT = StrimziResources.PG_SSLROOTCERT_ENV;
  private static final String SSLPASSWORD = "SOMA_PG_SSLPASSWORD";

  private static final String KEYS = "SOMA_ENCRYPTION_KEYS";
  private static final String KEY_ID = "SOMA_ENCRYPTION_KEY_ID";

  /**
   * The usage text: quickstart-usage.txt, which ./soma-connect prints itself for --help, without
   * building first.
   */
  static final String USAGE = usage();

  private Quickstart() {}

  private static String usage() {
    try (var in = Quickstart.class.getResourceAsStream("/quickstart-usage.txt")) {
      if (in == null) {
        throw new IllegalStateException("quickstart-usage.txt is missing from the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).stripTrailing();
    } catch (IOException e) {
      throw new IllegalStateException("quickstart-usage.txt cannot be read", e);
    }
  }

  public static void main(String[] args) {
    Path root =
        Paths.get(System.getProperty("soma.project.root", ".")).toAbsolutePath().normalize();
    Path work = root.resolve("target/quickstart");
    createLogDirectory(work);
    // exit, not return: Kafka's and Connect's threads would keep a failed run's JVM alive
    System.exit(run(args, OUT, System.getenv(), root, work));
  }

  /**
   * Before the first logger: slf4j-simple opens simplelogger.properties' log file (in the work
   * directory) once, when it starts, and writes to stderr for good when it cannot; on a fresh clone
   * the directory does not exist yet. So this class has no static logger either.
   */
  private static void createLogDirectory(Path work) {
    try {
      Files.createDirectories(work);
    } catch (IOException e) {
      OUT.println("Cannot create " + work + " (" + reason(e) + "): the log goes to stderr");
    }
  }

  /**
   * Runs the quickstart and returns the exit status: 0 (with --exit, only when every pipeline ran
   * and the events landed), 1 when something failed, 2 for a usage error. Whatever it started is
   * stopped before it returns, or by the shutdown hook on Ctrl-C.
   */
  static int run(String[] args, PrintStream out, Map<String, String> env, Path root, Path work) {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      out.println(e.getMessage());
      out.println(USAGE);
      return 2;
    }
    if (options.help) {
      out.println(USAGE);
      return 0;
    }
    try (WorkLock lock = WorkLock.take(work, out)) {
      if (lock == null) {
        out.println(
            "Another quickstart is running from this directory ("
                + work
                + "): it keeps its Kafka data there. Stop it first (Ctrl-C in its terminal).");
        return 1;
      }
      return runLocked(options, out, env, root, work);
    } catch (IOException e) {
      out.println("The quickstart cannot lock " + work.resolve(LOCK_FILE) + ": " + reason(e));
      return 1;
    }
  }

  /** The run, holding the work directory's lock: no other quickstart uses the directory. */
  private static int runLocked(
      Options options, PrintStream out, Map<String, String> env, Path root, Path work) {
    if (!localPortFree(options.restPort)) {
      out.println(
          "Port "
              + options.restPort
              + " (Connect REST) is in use: is another quickstart still running? Stop it, or pass"
              + " --rest-port with a free port.");
      return 1;
    }
    Running running = new Running(out);
    Thread hook = new Thread(running::stopAll, "quickstart-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      return start(options, out, env, root, work, running);
    } catch (Exception e) {
      if (running.stopping()) {
        return 1; // Ctrl-C while starting: the failure is only a consequence of stopping
      }
      LoggerFactory.getLogger(Quickstart.class).error("The quickstart failed", e);
      out.println("The quickstart failed: " + reason(e) + " (the details are in " + LOG_FILE + ")");
      return 1;
    } finally {
      running.stopAll();
      removeShutdownHook(hook);
    }
  }

  private static int start(
      Options options,
      PrintStream out,
      Map<String, String> env,
      Path root,
      Path work,
      Running running)
      throws Exception {
    long start = System.nanoTime();
    deleteRecursively(work.resolve("kafka"));

    out.println("soma-connect quickstart");
    Map<String, String> defaults;
    try {
      defaults = environmentDefaults(env);
    } catch (IllegalArgumentException e) {
      out.println(e.getMessage());
      return 1;
    }
    // read before anything starts: a broken or doubled pipeline file is reported at once
    List<PipelineFile> pipelines = readPipelines(root.resolve("connector-configs"));
    // not added to running: the throwaway server stops itself at exit, after the worker stopped
    // and its sinks no longer need it; a SOMA_PG_URL server is not ours to stop
    Database db;
    try {
      db = Database.obtain(env);
    } catch (IllegalArgumentException e) {
      out.println(e.getMessage());
      return 1;
    }
    out.println("  PostgreSQL   " + Database.shown(db.url()));
    if (db.holdsSinkOffsets()) {
      // not "clear the offsets": the sinks would then compare this run's Kafka positions, which
      // start at 0 again, with the rows' and refuse the upserts as stale, and the dead-letter
      // table would take this run's dead letters for ones it holds
      out.println(
          "The database "
              + Database.shown(db.url())
              + " already holds the sink offsets of an earlier run (table "
              + SINK_OFFSETS
              + "). This run's Kafka starts empty, so the sinks would take its events for ones"
              + " already written and skip them. Use a new, empty database: createdb NAME (or"
              + " DROP DATABASE "
              + SqlIdentifier.quote(db.name())
              + "; CREATE DATABASE "
              + SqlIdentifier.quote(db.name())
              + ";) and point SOMA_PG_URL at it. Do not only empty "
              + SINK_OFFSETS
              + ": the earlier rows would still refuse this run's events.");
      return 1;
    }

    int kafkaPort = freeOr(options.kafkaPort);
    EmbeddedKafkaBroker kafka =
        EmbeddedKafkaBroker.start(work.resolve("kafka"), kafkaPort, freeOr(kafkaPort + 1));
    running.add(kafka);
    out.println("  Kafka        " + kafka.bootstrapServers() + " (KRaft, single node)");

    setEnvironment(db, defaults);
    EmbeddedConnectWorker worker =
        EmbeddedConnectWorker.start(
            kafka.bootstrapServers(), options.restPort, root.resolve("target/plugin-path"));
    running.add(worker);
    URI rest = URI.create("http://localhost:" + options.restPort);
    ConnectRestClient client = new ConnectRestClient(rest, null, null);
    client.info();
    out.printf("  Connect REST %s (up %.1f s after start)%n%n", rest, seconds(start));

    boolean landed;
    List<String> deployed;
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      List<String> created =
          TopicProvisioner.provision(
                  admin, TopicFile.read(root.resolve("connector-configs/topics.json")))
              .created();
      out.println("Created " + created.size() + " topics from connector-configs/topics.json");
      deployed = deployAll(client, pipelines, env, out);
      landed = streamAndWatch(options, kafka, admin, db, start, out);
    }
    boolean healthy = reportFailures(client, deployed, options, out);
    if (options.exitWhenDone) {
      return landed && healthy ? 0 : 1;
    }
    out.println();
    out.println(
        "The worker stays up: try  curl -s 'localhost:"
            + options.restPort
            + "/connectors?expand=status'");
    out.println("and  psql '" + db.psqlUrl() + "'. Ctrl-C stops everything.");
    running.awaitStopped();
    return 0;
  }

  /**
   * Prints each connector and task of the deployed pipelines that FAILED (the first line of its
   * trace; a trace names no record contents) and returns whether there were none.
   */
  private static boolean reportFailures(
      ConnectRestClient client, List<String> pipelines, Options options, PrintStream out)
      throws IOException {
    List<String> failures = new ArrayList<>();
    for (String pipeline : pipelines) {
      JsonNode status = client.status(pipeline);
      if (status == null) {
        failures.add(pipeline + ": no status (the connector is gone)");
        continue;
      }
      if ("FAILED".equals(status.path("connector").path("state").asText())) {
        failures.add(pipeline + ": connector FAILED: " + firstLine(status.path("connector")));
      }
      for (JsonNode task : status.path("tasks")) {
        if ("FAILED".equals(task.path("state").asText())) {
          failures.add(
              pipeline + ": task " + task.path("id").asText() + " FAILED: " + firstLine(task));
        }
      }
    }
    if (!failures.isEmpty()) {
      out.println(
          "Pipelines FAILED (whole traces: curl -s localhost:"
              + options.restPort
              + "/connectors/NAME/status, and "
              + LOG_FILE
              + "):");
      failures.forEach(f -> out.println("  " + f));
    }
    return failures.isEmpty();
  }

  private static String firstLine(JsonNode instance) {
    return instance.path("trace").asText().lines().findFirst().orElse("");
  }

  /** Whether nothing listens on the port Connect binds (localhost), so its REST server can. */
  private static boolean localPortFree(int port) {
    try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getByName("localhost"))) {
      return true;
    } catch (IOException taken) {
      return false;
    }
  }

  private static void removeShutdownHook(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs, or has run: nothing to remove
    }
  }

  /** The exception's message, or its kind where there is none. */
  private static String reason(Exception e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /**
   * What connector-configs/ refer to as ${env:...} and only this run knows: the throwaway database,
   * and the {@link #environmentDefaults} of what the environment lacks.
   */
  private static void setEnvironment(Database db, Map<String, String> defaults) {
    EnvOverlayConfigProvider.set("SOMA_PG_URL", Database.forConnectors(db.url()));
    EnvOverlayConfigProvider.set("SOMA_PG_USER", db.server().user());
    EnvOverlayConfigProvider.set(
        "SOMA_PG_PASSWORD", db.server().password() == null ? "" : db.server().password());
    EnvOverlayConfigProvider.set(SSLPASSWORD, db.sslPassword());
    defaults.forEach(EnvOverlayConfigProvider::set);
  }

  /**
   * Values for the variables connector-configs/ read that {@code env} lacks, each on its own: a
   * variable neither set nor defaulted stays a literal ${env:NAME} in the connector config. A fresh
   * key for this run's PII (under the exported key id, if any); the key id of the exported keys
   * when they hold one id only; no Qdrant API key; no PostgreSQL root certificate (pgjdbc's
   * default, or the URL's sslrootcert=).
   *
   * @throws IllegalArgumentException when the key id cannot be told, naming the variable to export
   */
  static Map<String, String> environmentDefaults(Map<String, String> env) {
    Map<String, String> defaults = new TreeMap<>();
    String keys = env.get(KEYS);
    String keyId = env.get(KEY_ID);
    if (keys == null || keys.isBlank()) {
      String id = keyId == null || keyId.isBlank() ? "memory" : keyId.trim();
      byte[] key = new byte[32];
      new SecureRandom().nextBytes(key);
      defaults.put(KEYS, id + ":1:" + Base64.getEncoder().encodeToString(key));
      if (!id.equals(keyId)) {
        defaults.put(KEY_ID, id);
      }
    } else if (keyId == null || keyId.isBlank()) {
      defaults.put(KEY_ID, onlyKeyId(keys));
    }
    if (env.get("SOMA_QDRANT_API_KEY") == null) {
      defaults.put("SOMA_QDRANT_API_KEY", "");
    }
    if (env.get(SSLROOTCERT) == null) {
      defaults.put(SSLROOTCERT, "");
    }
    return defaults;
  }

  /** The one key id of id:version:key entries; never quotes the keys. */
  private static String onlyKeyId(String keys) {
    Set<String> ids = new TreeSet<>();
    for (String entry : keys.split(",")) {
      int colon = entry.indexOf(':');
      if (!entry.isBlank()) {
        ids.add(colon < 0 ? "" : entry.substring(0, colon).trim());
      }
    }
    if (ids.size() == 1 && !ids.contains("")) {
      return ids.iterator().next();
    }
    throw new IllegalArgumentException(
        KEYS
            + " is set but "
            + KEY_ID
            + " is not, and the keys do not hold exactly one key id"
            + (ids.contains("") ? "" : " (they hold " + String.join(", ", ids) + ")")
            + ": export "
            + KEY_ID
            + " with the id new ciphertexts use, or unset both for a fresh key");
  }

  /**
   * Every pipeline file of {@code configs}; two declaring one connector are refused, since the
   * second deploy would silently replace the first's config.
   */
  private static List<PipelineFile> readPipelines(Path configs) throws IOException {
    List<PipelineFile> pipelines = new ArrayList<>();
    for (Path file : PipelineFile.list(configs)) {
      pipelines.add(PipelineFile.read(file));
    }
    List<String> clashes = PipelineFile.sameNames(pipelines);
    if (!clashes.isEmpty()) {
      throw new IllegalStateException(String.join("; ", clashes) + ": one file per connector");
    }
    return pipelines;
  }

  /** Deploys every pipeline this machine can run and returns their names. */
  private static List<String> deployAll(
      ConnectRestClient client,
      List<PipelineFile> pipelines,
      Map<String, String> env,
      PrintStream out)
      throws IOException {
    List<String> deployed = new ArrayList<>();
    PipelineDeployer deployer = new PipelineDeployer(client, out, Duration.ofSeconds(90));
    boolean qdrant = env.get("SOMA_QDRANT_URL") != null;
    for (PipelineFile pipeline : pipelines) {
      if (pipeline.connectorClass().contains("Qdrant") && !qdrant) {
        out.println(
            pipeline.name()
                + ": skipped (vector indexing needs a real Qdrant: set SOMA_QDRANT_URL)");
        continue;
      }
      if (!deployer.deploy(pipeline, false).ok()) {
        throw new IllegalStateException(
            "pipeline " + pipeline.name() + " did not start; see above");
      }
      deployed.add(pipeline.name());
    }
    return deployed;
  }

  /** Readings without any change after which a run that fell short stops waiting. */
  static final int STALLED_READINGS = 10;

  /**
   * Sends the events, shows their progress, and returns whether every table landed the rows this
   * run sent it (counted from each table's rows before the run) within --timeout.
   */
  private static boolean streamAndWatch(
      Options options,
      EmbeddedKafkaBroker kafka,
      Admin admin,
      Database db,
      long start,
      PrintStream out)
      throws Exception {
    Map<String, Object> props =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            kafka.bootstrapServers(),
            ProducerConfig.LINGER_MS_CONFIG,
            10,
            ProducerConfig.ACKS_CONFIG,
            "all");
    ProgressReporter progress = new ProgressReporter(admin, db.server(), db.name());
    Set<String> uncountedBefore = progress.takeBaseline();
    if (!uncountedBefore.isEmpty()) {
      out.println(
          "Could not count the rows of "
              + String.join(", ", uncountedBefore)
              + " before the run (locked?): what lands there is not known, so it counts as short");
    }
    Expected expected = new Expected();
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
      EventGenerator events = new EventGenerator(producer, expected);
      OutboxWriter outbox = new OutboxWriter(db.server(), db.name(), expected);
      out.println();
      out.println("Sending " + options.rounds + " rounds of the seeds' events ...");
      Thread sender =
          new Thread(
              () -> {
                events.send(options.rounds);
                try {
                  outbox.write(Math.max(10, options.rounds / 10));
                } catch (java.sql.SQLException e) {
                  out.println("  could not write outbox rows: " + e.getMessage());
                }
              },
              "event-generator");
      sender.start();
      ProgressReporter.Progress last = null;
      int markers = transactionalPartitions(admin);
      long deadline = System.nanoTime() + Duration.ofSeconds(options.timeoutSeconds).toNanos();
      int unchanged = 0;
      List<String> shortfalls = List.of("nothing read yet");
      boolean settled = false;
      while (System.nanoTime() < deadline) {
        Thread.sleep(1000); // a human-paced progress line, once a second
        ProgressReporter.Progress now = progress.read();
        progress.print(out, (long) seconds(start), events.sent.get(), now);
        boolean sent = !sender.isAlive() && now.outboxBacklog() == 0;
        unchanged = sent && now.equals(last) ? unchanged + 1 : 0;
        last = now;
        shortfalls = sent ? Expected.shortfalls(expected.rows(), now.landedPerTable()) : shortfalls;
        // done: everything sent and landed, and nothing moved for a second (the lag settled);
        // or nothing moves any more although tables fell short and nothing is left to consume
        // (with records left, a sink may be waiting out a retry backoff of up to 30 s: wait on)
        settled = sent && shortfalls.isEmpty() && unchanged >= 1;
        if (settled
            || sent
                && !shortfalls.isEmpty()
                && unchanged >= STALLED_READINGS
                && nothingLeft(now.lag(), markers)) {
          break;
        }
      }
      sender.join();
      if (!sender.isAlive() && last != null) {
        shortfalls = Expected.shortfalls(expected.rows(), last.landedPerTable());
      }
      if (!settled && shortfalls.isEmpty()) {
        // the rows were all there at the last reading, but it came after --timeout (a reading
        // can take seconds on a busy machine) or before the lag settled: not seen in time
        shortfalls = List.of("every table had its rows only at a reading at or past the timeout");
      }
      out.println();
      out.printf(
          "Summary: %d events sent (%d malformed on purpose) and %d outbox rows written (%d bad on"
              + " purpose); %d rows landed this run (%d expected), %d records dead-lettered, lag"
              + " %d%n",
          events.sent.get(),
          events.malformed.get(),
          outbox.written,
          outbox.bad,
          last == null ? 0 : last.rows(),
          expected.rows().values().stream().mapToLong(Long::longValue).sum(),
          last == null ? 0 : last.deadLettered(),
          last == null ? 0 : last.lag());
      if (last != null && lagIsCommitMarkers(last.lag(), markers)) {
        out.println(
            "  (topics written in Kafka transactions, like the outbox relay's, end with a commit"
                + " marker that lag counts as one record per partition)");
      }
      if (last == null || !shortfalls.isEmpty()) {
        out.println(
            "Not every table landed the rows this run sent it within --timeout "
                + options.timeoutSeconds
                + " s"
                + (last == null ? "" : " (" + String.join("; ", shortfalls) + ")")
                + ": still moving (a longer --timeout gives them more time), or dropped (see "
                + LOG_FILE
                + ").");
        return false;
      }
      return true;
    }
  }

  /**
   * Whether the lag is no more than the commit markers of the partitions written in Kafka
   * transactions (the outbox relay's), which lag counts as one record each: larger, it is records.
   */
  static boolean lagIsCommitMarkers(long lag, int transactionalPartitions) {
    return lag > 0 && lag <= transactionalPartitions;
  }

  /** Whether the sinks have consumed every record: no lag, or only the commit markers. */
  static boolean nothingLeft(long lag, int transactionalPartitions) {
    return lag <= transactionalPartitions;
  }

  /** The partitions of the topic the outbox relay writes, in Kafka transactions. */
  private static int transactionalPartitions(Admin admin) throws Exception {
    return admin.describeTopics(List.of(OutboxWriter.TOPIC)).allTopicNames().get().values().stream()
        .mapToInt(d -> d.partitions().size())
        .sum();
  }

  private static double seconds(long start) {
    return (System.nanoTime() - start) / 1e9;
  }

  private static int freeOr(int preferred) throws IOException {
    try (ServerSocket socket = new ServerSocket(preferred)) {
      return preferred;
    } catch (IOException taken) {
      try (ServerSocket socket = new ServerSocket(0)) {
        return socket.getLocalPort();
      }
    }
  }

  /**
   * What this run started, stopped newest first and each once: when the run ends, or by the
   * shutdown hook on Ctrl-C, which may come while the run is still starting things.
   */
  static final class Running {
    private final PrintStream out;
    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private boolean stopping;

    Running(PrintStream out) {
      this.out = out;
    }

    synchronized void add(AutoCloseable component) {
      started.push(component);
    }

    synchronized boolean stopping() {
      return stopping;
    }

    void stopAll() {
      synchronized (this) {
        if (!stopping && !started.isEmpty()) {
          out.println("Stopping ...");
        }
        stopping = true;
      }
      // taken one at a time: what the run adds meanwhile (it was starting it) is stopped too
      for (AutoCloseable component = next(); component != null; component = next()) {
        try {
          long started = System.nanoTime();
          component.close();
          out.printf(
              "  stopped %s in %.1f s%n", component.getClass().getSimpleName(), seconds(started));
        } catch (Exception e) {
          out.println("  while stopping: " + e);
        }
      }
      stopped.countDown();
    }

    private synchronized AutoCloseable next() {
      return started.poll();
    }

    void awaitStopped() throws InterruptedException {
      stopped.await();
    }
  }

  /**
   * The lock on the work directory's {@link #LOCK_FILE}, which each run holds until it returns (the
   * OS drops it when the JVM ends): a run deletes the directory's Kafka data, which a quickstart
   * still running from it (on another --rest-port) is using. Where the file system cannot lock, the
   * run warns and goes on without it.
   */
  static final class WorkLock implements AutoCloseable {
    /** How the lock is tried: {@link FileChannel#tryLock()}, or a test's file system's. */
    interface Attempt {
      FileLock tryLock(FileChannel channel) throws IOException;
    }

    private final Closeable held;
    private final PrintStream out;

    WorkLock(Closeable held, PrintStream out) {
      this.held = held;
      this.out = out;
    }

    /** The lock, or null when another run holds it. */
    static WorkLock take(Path work, PrintStream out) throws IOException {
      return take(work, out, FileChannel::tryLock);
    }

    static WorkLock take(Path work, PrintStream out, Attempt attempt) throws IOException {
      Files.createDirectories(work);
      Path file = work.resolve(LOCK_FILE);
      FileChannel channel =
          FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      try {
        if (attempt.tryLock(channel) != null) {
          return new WorkLock(channel, out);
        }
      } catch (OverlappingFileLockException heldInThisJvm) {
        // another run in this JVM holds it
      } catch (IOException cannotLock) {
        // some NFS and bind mounts ("No locks available"): run as the quickstart did before it
        // locked
        new WorkLock(channel, out).close();
        out.println(
            "Cannot lock "
                + file
                + " ("
                + reason(cannotLock)
                + "): running without the lock, so start no other quickstart from this directory"
                + " while this one runs.");
        return new WorkLock(() -> {}, out);
      }
      channel.close();
      return null;
    }

    /** Releases the lock; a failure only warns, as the OS drops the lock when the JVM ends. */
    @Override
    public void close() {
      try {
        held.close();
      } catch (IOException e) {
        out.println(
            "Cannot release the quickstart's lock (" + reason(e) + "): it ends with the JVM");
      }
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /**
   * The database the pipelines write to; {@code sslPassword} is the password of the client
   * certificate's key, "" for none: SOMA_PG_SSLPASSWORD, else an sslpassword= of SOMA_PG_URL.
   */
  record Database(PostgresServer server, String name, String url, String sslPassword) {

    Database(PostgresServer server, String name, String url) {
      this(server, name, url, "");
    }

    /** The URL for psql: no jdbc: prefix, and the user among the URL's parameters. */
    String psqlUrl() {
      // printed: never with a password parameter (psql asks, or reads PGPASSWORD)
      String shown = forConnectors(url);
      return shown.replaceFirst("^jdbc:", "")
          + (shown.contains("?") ? "&" : "?")
          + "user="
          + server.user();
    }

    /** Whether the sinks of an earlier run saved their offsets in this database. */
    boolean holdsSinkOffsets() throws SQLException {
      try (Connection c = server.connect(name);
          Statement s = c.createStatement();
          ResultSet table = s.executeQuery("SELECT to_regclass('" + SINK_OFFSETS + "')")) {
        if (!table.next() || table.getString(1) == null) {
          return false;
        }
        try (ResultSet rows =
            s.executeQuery("SELECT EXISTS (SELECT 1 FROM " + SINK_OFFSETS + ")")) {
          return rows.next() && rows.getBoolean(1);
        }
      }
    }

    /**
     * The database SOMA_PG_URL names, else a fresh one on the tests' server. The client key's
     * password (SOMA_PG_SSLPASSWORD, else the URL's sslpassword=) is the one the connectors get,
     * and the quickstart's own connections too: with only the URL's, or none, pgjdbc asked the
     * console for it.
     *
     * @throws IllegalArgumentException when SOMA_PG_URL cannot be used; the message never quotes
     *     it, as it may hold passwords
     */
    static Database obtain(Map<String, String> env) {
      String configured = env.get("SOMA_PG_URL");
      if (configured != null && !configured.isBlank()) {
        JdbcUrl parsed = JdbcUrl.parse(configured);
        if (parsed.hasUserInfo()) {
          // the URL itself is not repeated: it holds a password
          throw new IllegalArgumentException(
              "SOMA_PG_URL holds a user name or password before the host (user:password@host),"
                  + " which pgjdbc cannot read and the connectors refuse: give"
                  + " jdbc:postgresql://HOST:PORT/DATABASE, and the credentials in SOMA_PG_USER"
                  + " and SOMA_PG_PASSWORD");
        }
        // before anything reads it: java.net.URI's and URLDecoder's messages quote what they
        // cannot read
        String unparsable = parsed.unparsable();
        if (unparsable != null) {
          throw new IllegalArgumentException("SOMA_PG_URL " + unparsable);
        }
        String sslPassword = env.get(SSLPASSWORD);
        if (sslPassword == null) {
          sslPassword = parsed.parameter("sslpassword");
        }
        if (sslPassword == null) {
          sslPassword = "";
        }
        PostgresServer server;
        try {
          server =
              PostgresServer.external(
                  configured, env.get("SOMA_PG_USER"), env.get("SOMA_PG_PASSWORD"), sslPassword);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("SOMA_PG_URL " + e.getMessage(), e);
        }
        return new Database(server, databaseName(configured), configured, sslPassword);
      }
      PostgresServer server = PostgresServer.shared();
      return new Database(server, "soma", server.createDatabase("soma"));
    }

    /**
     * The URL the connectors get: without a password or sslpassword parameter, which they refuse
     * (it would be logged with their settings); SOMA_PG_PASSWORD, or the server's password, read
     * from the URL when that is unset, goes to connection.password, and SOMA_PG_SSLPASSWORD, or the
     * URL's sslpassword, to connection.sslpassword.
     */
    static String forConnectors(String url) {
      int query = url.indexOf('?');
      if (query < 0) {
        return url;
      }
      String kept =
          Arrays.stream(url.substring(query + 1).split("&"))
              .filter(pair -> !isPasswordKey(pair.split("=", 2)[0]))
              .collect(Collectors.joining("&"));
      return url.substring(0, query) + (kept.isEmpty() ? "" : "?" + kept);
    }

    /** The URL as printed: a password parameter's value hidden (SOMA_PG_URL may carry one). */
    static String shown(String url) {
      int query = url.indexOf('?');
      if (query < 0) {
        return url;
      }
      String params =
          Arrays.stream(url.substring(query + 1).split("&"))
              .map(
                  pair ->
                      isPasswordKey(pair.split("=", 2)[0]) ? pair.split("=", 2)[0] + "=***" : pair)
              .collect(Collectors.joining("&"));
      return url.substring(0, query + 1) + params;
    }

    /**
     * A password parameter's name, as the connectors refuse it: password or sslpassword (a client
     * certificate key's), in any case, percent-encoded or not (pgjdbc reads only the lower-case
     * names, but the others are passwords all the same).
     */
    private static boolean isPasswordKey(String key) {
      String name;
      try {
        name = URLDecoder.decode(key, StandardCharsets.UTF_8);
      } catch (IllegalArgumentException badlyEncoded) {
        name = key;
      }
      return name.equalsIgnoreCase("password") || name.equalsIgnoreCase("sslpassword");
    }

    /**
     * The database a jdbc:postgresql: URL names, read as pgjdbc reads it: the path after
     * //host[:port][,host[:port]...]/ and before the '?', decoded. Not the URL's last '/' segment,
     * which may lie in a parameter's value (sslrootcert=/etc/pg/root.crt).
     *
     * @throws IllegalArgumentException when the URL names no database
     */
    static String databaseName(String url) {
      String rest = url.replaceFirst("^jdbc:postgresql:", "");
      int query = rest.indexOf('?');
      String path = query < 0 ? rest : rest.substring(0, query);
      if (path.startsWith("//")) {
        int slash = path.indexOf('/', 2);
        path = slash < 0 ? "" : path.substring(slash + 1);
      }
      if (path.isEmpty()) {
        // the URL itself is not repeated: it may hold a password
        throw new IllegalArgumentException(
            "SOMA_PG_URL names no database: give jdbc:postgresql://HOST:PORT/DATABASE");
      }
      return URLDecoder.decode(path, StandardCharsets.UTF_8);
    }
  }

  /** Command-line options. */
  static final class Options {
    int rounds = 2000;
    int restPort = 8083;
    int kafkaPort = 9092;
    int timeoutSeconds = 120;
    boolean exitWhenDone;
    boolean help;

    /** The options; an IllegalArgumentException says what is wrong with them. */
    static Options parse(String[] args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i++) {
        String option = args[i];
        switch (option) {
          case "--rounds" -> o.rounds = number(args, ++i, option, 1, Integer.MAX_VALUE);
          case "--rest-port" -> o.restPort = number(args, ++i, option, 1, 65535);
          // the controller listens on the port after Kafka's
          case "--kafka-port" -> o.kafkaPort = number(args, ++i, option, 1, 65534);
          case "--timeout" -> o.timeoutSeconds = number(args, ++i, option, 1, 86400);
          case "--exit" -> o.exitWhenDone = true;
          case "-h", "--help" -> o.help = true;
          default -> throw new IllegalArgumentException("unknown option " + option);
        }
      }
      return o;
    }

    private static int number(String[] args, int i, String option, int min, int max) {
      if (i >= args.length) {
        throw new IllegalArgumentException(option + " needs a value");
      }
      int value;
      try {
        value = Integer.parseInt(args[i]);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(option + " needs a whole number, not '" + args[i] + "'");
      }
      if (value < min) {
        throw new IllegalArgumentException(option + " must be at least " + min + ", not " + value);
      }
      if (value > max) {
        throw new IllegalArgumentException(option + " must be at most " + max + ", not " + value);
      }
      return value;
    }
  }
}
