package io.somastack.connect.quickstart;

import io.somastack.connect.deploy.ConnectRestClient;
import io.somastack.connect.deploy.PipelineDeployer;
import io.somastack.connect.deploy.PipelineFile;
import io.somastack.connect.deploy.topics.TopicFile;
import io.somastack.connect.deploy.topics.TopicProvisioner;
import io.somastack.connect.testing.connect.EnvOverlayConfigProvider;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;

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

  private Quickstart() {}

  public static void main(String[] args) throws Exception {
    Options options = Options.parse(args);
    long start = System.nanoTime();
    Path root =
        Paths.get(System.getProperty("soma.project.root", ".")).toAbsolutePath().normalize();
    Path work = root.resolve("target/quickstart");
    Files.createDirectories(work);
    deleteRecursively(work.resolve("kafka"));

    List<AutoCloseable> running = new ArrayList<>();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(new Thread(() -> shutdown(running, stopped), "quickstart-shutdown"));

    OUT.println("soma-connect quickstart");
    Database db = Database.obtain();
    running.add(db.server());
    OUT.println("  PostgreSQL   " + db.url());

    int kafkaPort = freeOr(options.kafkaPort);
    EmbeddedKafkaBroker kafka =
        EmbeddedKafkaBroker.start(work.resolve("kafka"), kafkaPort, freeOr(kafkaPort + 1));
    running.add(0, kafka);
    OUT.println("  Kafka        " + kafka.bootstrapServers() + " (KRaft, single node)");

    setEnvironment(db);
    EmbeddedConnectWorker worker =
        EmbeddedConnectWorker.start(
            kafka.bootstrapServers(), options.restPort, root.resolve("target/plugin-path"));
    running.add(0, worker);
    URI rest = URI.create("http://localhost:" + options.restPort);
    ConnectRestClient client = new ConnectRestClient(rest, null, null);
    client.info();
    OUT.printf("  Connect REST %s (up %.1f s after start)%n%n", rest, seconds(start));

    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      List<String> created =
          TopicProvisioner.provision(
                  admin, TopicFile.read(root.resolve("connector-configs/topics.json")))
              .created();
      OUT.println("Created " + created.size() + " topics from connector-configs/topics.json");
      deployAll(client, root.resolve("connector-configs"));
      streamAndWatch(options, kafka, admin, db, start);
    }
    if (options.exitWhenDone) {
      System.exit(0); // the shutdown hook stops everything
    }
    OUT.println();
    OUT.println(
        "The worker stays up: try  curl -s localhost:"
            + options.restPort
            + "/connectors?expand=status");
    OUT.println(
        "and  psql '"
            + db.url().replace("jdbc:", "")
            + "?user="
            + db.server().user()
            + "'. Ctrl-C stops everything.");
    stopped.await();
  }

  /**
   * What connector-configs/ refer to as ${env:...} and only this run knows: the throwaway database,
   * and (unless the environment has them) a fresh encryption key for this run's PII.
   */
  private static void setEnvironment(Database db) {
    EnvOverlayConfigProvider.set("SOMA_PG_URL", db.url());
    EnvOverlayConfigProvider.set("SOMA_PG_USER", db.server().user());
    EnvOverlayConfigProvider.set(
        "SOMA_PG_PASSWORD", db.server().password() == null ? "" : db.server().password());
    if (System.getenv("SOMA_ENCRYPTION_KEYS") == null) {
      byte[] key = new byte[32];
      new SecureRandom().nextBytes(key);
      EnvOverlayConfigProvider.set(
          "SOMA_ENCRYPTION_KEYS", "memory:1:" + Base64.getEncoder().encodeToString(key));
      EnvOverlayConfigProvider.set("SOMA_ENCRYPTION_KEY_ID", "memory");
    }
  }

  private static void deployAll(ConnectRestClient client, Path configs) throws IOException {
    PipelineDeployer deployer = new PipelineDeployer(client, OUT, Duration.ofSeconds(90));
    boolean qdrant = System.getenv("SOMA_QDRANT_URL") != null;
    for (Path file : PipelineFile.list(configs)) {
      PipelineFile pipeline = PipelineFile.read(file);
      if (pipeline.connectorClass().contains("Qdrant") && !qdrant) {
        OUT.println(
            pipeline.name()
                + ": skipped (vector indexing needs a real Qdrant: set SOMA_QDRANT_URL)");
        continue;
      }
      if (!deployer.deploy(pipeline, false).ok()) {
        throw new IllegalStateException(
            "pipeline " + pipeline.name() + " did not start; see above");
      }
    }
  }

  private static void streamAndWatch(
      Options options, EmbeddedKafkaBroker kafka, Admin admin, Database db, long start)
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
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
      EventGenerator events = new EventGenerator(producer);
      OutboxWriter outbox = new OutboxWriter(db.server(), db.name());
      OUT.println();
      OUT.println("Sending " + options.rounds + " rounds of the seeds' events ...");
      Thread sender =
          new Thread(
              () -> {
                events.send(options.rounds);
                try {
                  outbox.write(Math.max(10, options.rounds / 10));
                } catch (java.sql.SQLException e) {
                  OUT.println("  could not write outbox rows: " + e.getMessage());
                }
              },
              "event-generator");
      sender.start();
      ProgressReporter.Progress last = null;
      long deadline = System.nanoTime() + Duration.ofSeconds(options.timeoutSeconds).toNanos();
      int unchanged = 0;
      while (System.nanoTime() < deadline && unchanged < 3) {
        Thread.sleep(1000); // a human-paced progress line, once a second
        ProgressReporter.Progress now = progress.read();
        progress.print(OUT, (long) seconds(start), events.sent.get(), now);
        // settled: everything sent, the outbox drained, and nothing moved for three seconds
        boolean settled = !sender.isAlive() && now.outboxBacklog() == 0 && now.equals(last);
        unchanged = settled ? unchanged + 1 : 0;
        last = now;
      }
      sender.join();
      OUT.println();
      OUT.printf(
          "Summary: %d events sent (%d malformed on purpose) and %d outbox rows written (%d bad on"
              + " purpose); %d rows landed, %d records dead-lettered, lag %d%n",
          events.sent.get(),
          events.malformed.get(),
          outbox.written,
          outbox.bad,
          last.rows(),
          last.deadLettered(),
          last.lag());
      if (last.lag() > 0) {
        OUT.println(
            "  (topics written in Kafka transactions, like the outbox relay's, end with a commit"
                + " marker that lag counts as one record per partition)");
      }
    }
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

  private static void shutdown(List<AutoCloseable> running, CountDownLatch stopped) {
    OUT.println("Stopping ...");
    for (AutoCloseable component : running) {
      try {
        long started = System.nanoTime();
        component.close();
        OUT.printf(
            "  stopped %s in %.1f s%n", component.getClass().getSimpleName(), seconds(started));
      } catch (Exception e) {
        OUT.println("  while stopping: " + e);
      }
    }
    stopped.countDown();
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** The database the pipelines write to. */
  record Database(PostgresServer server, String name, String url) {
    static Database obtain() {
      String configured = System.getenv("SOMA_PG_URL");
      if (configured != null && !configured.isBlank()) {
        PostgresServer server =
            PostgresServer.external(
                configured, System.getenv("SOMA_PG_USER"), System.getenv("SOMA_PG_PASSWORD"));
        return new Database(server, configured.replaceAll("^.*/([^/?]+).*$", "$1"), configured);
      }
      PostgresServer server = PostgresServer.shared();
      return new Database(server, "soma", server.createDatabase("soma"));
    }
  }

  /** Command-line options. */
  static final class Options {
    int rounds = 2000;
    int restPort = 8083;
    int kafkaPort = 9092;
    int timeoutSeconds = 120;
    boolean exitWhenDone;

    static Options parse(String[] args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--rounds" -> o.rounds = Integer.parseInt(args[++i]);
          case "--rest-port" -> o.restPort = Integer.parseInt(args[++i]);
          case "--kafka-port" -> o.kafkaPort = Integer.parseInt(args[++i]);
          case "--timeout" -> o.timeoutSeconds = Integer.parseInt(args[++i]);
          case "--exit" -> o.exitWhenDone = true;
          default ->
              throw new IllegalArgumentException(
                  "unknown option "
                      + args[i]
                      + "; options: --rounds N --rest-port P --kafka-port P --timeout S --exit");
        }
      }
      return o;
    }
  }
}
