package io.somastack.connect.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.PackagedPlugins;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quickstart run as ./soma-connect quickstart runs it, with the packaged plugins of
 * target/plugin-path, a real KRaft broker, Connect worker and PostgreSQL; on free ports, so a
 * quickstart on 8083 and 9092 is left alone.
 */
class QuickstartRunTest {

  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

  @TempDir Path work;

  private int run(Map<String, String> env, String... args) throws Exception {
    return Quickstart.run(args, out, env, PackagedPlugins.projectRoot(), work);
  }

  private String output() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  private static String freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return String.valueOf(socket.getLocalPort());
    }
  }

  /**
   * A second quickstart while the first still runs: Connect's REST server failed to bind after
   * PostgreSQL and Kafka had started, with a stack trace, and the JVM then hung, its broker still
   * running.
   */
  @Test
  void aRestPortInUseIsReportedBeforeAnythingStarts() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("localhost"))) {
      int port = taken.getLocalPort();

      int status = run(Map.of(), "--exit", "--rest-port", String.valueOf(port));

      assertEquals(1, status);
      assertTrue(
          output()
              .contains(
                  "Port "
                      + port
                      + " (Connect REST) is in use: is another quickstart still running? Stop"
                      + " it, or pass --rest-port with a free port."),
          output());
      assertFalse(output().contains("PostgreSQL"), output());
    }
  }

  /**
   * A second quickstart from the same directory, on another --rest-port as the port message
   * advises: it deleted target/quickstart/kafka, the running broker's log directory, before
   * anything else. It is refused while the first holds the lock, before it deletes anything.
   */
  @Test
  void aSecondQuickstartFromTheSameDirectoryIsRefusedBeforeItDeletesAnything(@TempDir Path root)
      throws Exception {
    Path brokerData = Files.createDirectories(work.resolve("kafka").resolve("meta"));
    Files.writeString(brokerData.resolve("meta.properties"), "node.id=1");
    try (FileChannel channel =
            FileChannel.open(
                work.resolve(Quickstart.LOCK_FILE),
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        FileLock held = channel.lock()) {

      int status =
          Quickstart.run(
              new String[] {"--exit", "--rest-port", freePort()}, out, Map.of(), root, work);

      assertEquals(1, status, output());
      assertTrue(
          output().contains("Another quickstart is running from this directory (" + work + ")"),
          output());
      assertTrue(Files.exists(brokerData.resolve("meta.properties")), "the broker's data deleted");
      assertFalse(output().contains("PostgreSQL"), output());
    }
  }

  /**
   * Two pipeline files declaring one connector: the quickstart deployed both, the second silently
   * replacing the first's config. They are refused before anything starts.
   */
  @Test
  void twoPipelineFilesForOneConnectorAreRefusedBeforeAnythingStarts(@TempDir Path root)
      throws Exception {
    Path configs = Files.createDirectories(root.resolve("connector-configs"));
    String body =
        "{\"name\": \"memory-kv\", \"config\": {\"connector.class\": \"x.Sink\","
            + " \"name\": \"memory-kv\"}}";
    Files.writeString(configs.resolve("memory-kv.json"), body);
    Files.writeString(configs.resolve("memory-kv-copy.json"), body);

    int status = Quickstart.run(new String[] {"--exit"}, out, Map.of(), root, work);

    assertEquals(1, status, output());
    assertTrue(output().contains("connector memory-kv is declared by both"), output());
    assertFalse(output().contains("PostgreSQL"), output());
  }

  /**
   * SOMA_PG_URL naming the database of an earlier run: its soma_connect_offsets said the sinks had
   * written offsets this run's new, empty Kafka only reached again later, so they skipped this
   * run's events as already written, and the summary still counted the earlier run's rows.
   */
  @Test
  void aDatabaseHoldingAnEarlierRunsSinkOffsetsIsRefused() throws Exception {
    PostgresServer server = PostgresServer.shared();
    String url = server.createDatabase("quickstart_earlier_run");
    try (Connection c = server.connect("quickstart_earlier_run");
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE soma_connect_offsets (connector text NOT NULL, topic text NOT NULL,"
              + " kafka_partition integer NOT NULL, next_offset bigint NOT NULL,"
              + " updated_at timestamptz NOT NULL DEFAULT now(),"
              + " PRIMARY KEY (connector, topic, kafka_partition))");
      s.execute(
          "INSERT INTO soma_connect_offsets (connector, topic, kafka_partition, next_offset)"
              + " VALUES ('memory-kv', 'memory.events', 0, 500)");
    }
    Map<String, String> env = Map.of("SOMA_PG_URL", url, "SOMA_PG_USER", server.user());

    int status =
        run(env, "--exit", "--rounds", "1", "--rest-port", freePort(), "--kafka-port", freePort());

    assertEquals(1, status, output());
    assertTrue(output().contains("already holds the sink offsets of an earlier run"), output());
    // emptying the offsets table alone made the next run drop events silently (see below)
    assertTrue(output().contains("Use a new, empty database: createdb NAME"), output());
    assertTrue(
        output().contains("DROP DATABASE \"quickstart_earlier_run\"; CREATE DATABASE"), output());
    assertFalse(output().contains("TRUNCATE"), output());
    assertFalse(output().contains("(KRaft, single node)"), output());
  }

  /**
   * What the refusal above advised: an earlier run's database with soma_connect_offsets emptied.
   * This run's Kafka starts at offset 0 again, so memory-kv refused its upserts as stale and the
   * dlq table took its dead letters for ones it held; nothing moved any more, which looked settled,
   * and --exit ended with status 0. Each table must land what this run sent it, counted from the
   * rows it held before.
   */
  @Test
  void exitStatusIsOneWhenATableFallsShortOfWhatThisRunSentIt() throws Exception {
    PostgresServer server = PostgresServer.shared();
    String url = server.createDatabase("quickstart_offsets_emptied");
    Map<String, String> env = Map.of("SOMA_PG_URL", url, "SOMA_PG_USER", server.user());
    int first =
        run(env, "--exit", "--rounds", "5", "--rest-port", freePort(), "--kafka-port", freePort());
    assertEquals(0, first, output());
    try (Connection c = server.connect("quickstart_offsets_emptied");
        Statement s = c.createStatement()) {
      s.execute("TRUNCATE soma_connect_offsets");
    }
    bytes.reset();

    int status =
        run(env, "--exit", "--rounds", "5", "--rest-port", freePort(), "--kafka-port", freePort());

    assertEquals(1, status, output());
    assertTrue(output().contains("Not every table landed the rows this run sent it"), output());
    assertTrue(output().contains("memory_kv: landed 0 of 5"), output());
    // the tables that did land count only this run's rows, not the first run's too
    assertTrue(output().contains("memory_replica 5"), output());
  }

  /**
   * With --exit the status is what a script checks: 0 only once the events have landed. It was 0
   * even when --timeout ran out with the events still on their way.
   */
  @Test
  void exitStatusIsOneWhenTheEventsHaveNotLandedWithinTheTimeout() throws Exception {
    int status =
        run(
            Map.of(),
            "--exit",
            "--rounds",
            "50",
            "--timeout",
            "1",
            "--rest-port",
            freePort(),
            "--kafka-port",
            freePort());

    assertEquals(1, status, output());
    assertTrue(
        output().contains("Not every table landed the rows this run sent it within --timeout 1 s"),
        output());
  }

  /**
   * A pipeline whose tasks die once the events flow (here every sink's: the database has an offsets
   * table of some other shape): nothing moves any more, which looked settled, and --exit ended with
   * status 0.
   */
  @Test
  void exitStatusIsOneWhenAPipelineFailedWhileTheEventsFlowed() throws Exception {
    PostgresServer server = PostgresServer.shared();
    String url = server.createDatabase("quickstart_broken_offsets");
    try (Connection c = server.connect("quickstart_broken_offsets");
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE soma_connect_offsets (connector text, topic text)");
    }
    Map<String, String> env = Map.of("SOMA_PG_URL", url, "SOMA_PG_USER", server.user());

    int status =
        run(env, "--exit", "--rounds", "5", "--rest-port", freePort(), "--kafka-port", freePort());

    assertEquals(1, status, output());
    assertTrue(output().contains("memory-kv: task 0 FAILED"), output());
  }

  /**
   * A SOMA_PG_URL with a client key's sslpassword=: the quickstart printed it and passed it on in
   * the URL, which the connectors refuse, so no PostgreSQL pipeline deployed. It reaches them as
   * connection.sslpassword (SOMA_PG_SSLPASSWORD), and is never printed.
   */
  @Test
  void anSslPasswordInSomaPgUrlReachesTheConnectorsApartAndIsNotPrinted() throws Exception {
    PostgresServer server = PostgresServer.shared();
    String url = server.createDatabase("quickstart_sslpassword");
    String withKeyPassword =
        url + (url.contains("?") ? "&" : "?") + "sslmode=disable&sslpassword=s3cret-key-pw";
    Map<String, String> env = Map.of("SOMA_PG_URL", withKeyPassword, "SOMA_PG_USER", server.user());

    int status =
        run(env, "--exit", "--rounds", "5", "--rest-port", freePort(), "--kafka-port", freePort());

    assertEquals(0, status, output());
    assertFalse(output().contains("s3cret-key-pw"), output());
    assertTrue(output().contains("sslpassword=***"), output());
  }

  @Test
  void exitStatusIsZeroOnceEveryPipelineRunsAndTheEventsHaveLanded() throws Exception {
    int status =
        run(
            Map.of(),
            "--exit",
            "--rounds",
            "20",
            "--rest-port",
            freePort(),
            "--kafka-port",
            freePort());

    assertEquals(0, status, output());
    assertTrue(output().contains("Summary: 124 events sent (4 malformed on purpose)"), output());
    assertTrue(output().contains("4 records dead-lettered"), output());
    // every table's rows: the events' kinds, the outbox's rows, and 4 + 1 bad outbox row in dlq
    assertTrue(output().contains("135 rows landed this run (135 expected)"), output());
  }
}
