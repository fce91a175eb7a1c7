package io.somastack.connect.it.postgres;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.ConnectHarness;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** TLS to PostgreSQL: verify-full against the server's CA, and a wrong CA is refused. */
class PostgresSinkTlsIT {

  private static ConnectHarness connect;
  private static PostgresSinkFixture db;
  private static Path caCert;

  @BeforeAll
  static void start() throws Exception {
    db = PostgresSinkFixture.onOwnedServer("sink_tls");
    caCert = PostgresServer.owned().enableTls();
    connect = ConnectHarness.builder("tls").start();
    connect.createTopic("memory.tls", 1);
    connect.createTopic("memory.tls.other", 1);
  }

  @AfterAll
  static void stop() {
    if (connect != null) {
      connect.close();
    }
  }

  @Test
  void writesOverVerifiedTls() throws Exception {
    Map<String, String> config = db.sinkConfig("memory.tls", "append", "memory.dlq");
    config.put("connection.sslmode", "verify-full");
    config.put("connection.sslrootcert", caCert.toString());
    config.put("tasks.max", "1");
    connect.deploy("tls-sink", config, 1);
    for (int i = 0; i < 20; i++) {
      connect.send(
          "memory.tls", "k", PostgresSinkFixture.memoryEvent("tls-" + i, "ns", "m" + i, i));
    }
    connect.flush();
    await().atMost(Duration.ofSeconds(60)).until(() -> db.countRows("memory_tls") == 20);
    // the sink's session is encrypted
    assertEquals(
        1,
        db.count(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)"
                + " WHERE a.application_name = 'soma-connect postgres sink' AND s.ssl"
                + " AND a.datname = 'sink_tls'"));
  }

  @Test
  void aServerThatTheConfiguredCaDidNotSignIsRefused() throws Exception {
    Path otherCa = otherCertificateAuthority();
    Map<String, String> config = db.sinkConfig("memory.tls.other", "append", "memory.dlq");
    config.put("connection.sslmode", "verify-full");
    config.put("connection.sslrootcert", otherCa.toString());
    config.put("tasks.max", "1");
    config.put("table.name.format", "never_written");
    connect.connect().configureConnector("tls-wrong-ca", config);
    connect.send("memory.tls.other", "k", PostgresSinkFixture.memoryEvent("x", "ns", "m", 1));
    connect.flush();
    // a certificate that does not verify is no transient fault: the task stops and says why
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                connect.status("tls-wrong-ca").tasks().stream()
                    .anyMatch(t -> "FAILED".equals(t.state())));
    String trace = connect.status("tls-wrong-ca").tasks().get(0).trace();
    assertTrue(trace.contains("SSL") || trace.contains("certif"), trace);
    assertEquals(0, db.countRows("never_written"));
  }

  private static Path otherCertificateAuthority() throws Exception {
    Path dir = Files.createTempDirectory("other-ca");
    Process openssl =
        new ProcessBuilder(
                "openssl",
                "req",
                "-new",
                "-x509",
                "-days",
                "1",
                "-nodes",
                "-subj",
                "/CN=other-ca",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt")
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .start();
    openssl.getInputStream().readAllBytes();
    assertEquals(0, openssl.waitFor());
    return dir.resolve("ca.crt");
  }
}
