package io.somastack.connect.it.postgres;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.CapturedStderr;
import io.somastack.connect.testing.connect.ConnectHarness;
import io.somastack.connect.testing.postgres.LocalPostgresCluster;
import io.somastack.connect.testing.postgres.LocalPostgresCluster.ClientCertificate;
import io.somastack.connect.testing.postgres.LocalPostgresCluster.KeyEncryption;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS to PostgreSQL: verify-full against the server's CA, and a wrong CA is refused; a client
 * certificate whose key is encrypted (connection.sslpassword) authenticates, and a wrong password
 * for that key stops the task saying so.
 */
class PostgresSinkTlsIT {

  /** A role whose TLS connections to {@link #certDb} must present a client certificate. */
  private static final String CERT_USER = "soma_tls_client";

  private static final String KEY_PASSWORD = "k3y-pa55word-of-the-client";

  private static ConnectHarness connect;
  private static PostgresSinkFixture db;
  private static PostgresSinkFixture certDb;
  private static ClientCertificate clientCert;
  private static Path caCert;

  @BeforeAll
  static void start() throws Exception {
    db = PostgresSinkFixture.onOwnedServer("sink_tls");
    LocalPostgresCluster server = PostgresServer.owned();
    caCert = server.enableTls();
    // a database of its own, owned by a role of its own: other tests' connections stay as they are
    certDb = PostgresSinkFixture.onOwnedServer("sink_tls_cert");
    certDb.execute(
        "DO $$ BEGIN CREATE ROLE "
            + CERT_USER
            + " LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    certDb.execute("ALTER DATABASE sink_tls_cert OWNER TO " + CERT_USER);
    server.requireClientCertificate("sink_tls_cert", CERT_USER);
    clientCert = server.issueClientCertificate(CERT_USER, KEY_PASSWORD);
    connect = ConnectHarness.builder("tls").start();
    connect.createTopic("memory.tls", 1);
    connect.createTopic("memory.tls.other", 1);
    connect.createTopic("memory.tls.cert", 1);
    connect.createTopic("memory.tls.badkey", 1);
    connect.createTopic("memory.tls.pbes2", 1);
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

  @Test
  void authenticatesWithAClientCertificateWhoseKeyIsEncrypted() throws Exception {
    // without a certificate the server refuses the role: the certificate is what lets it in
    SQLException refused =
        assertThrows(SQLException.class, () -> connectWithoutClientCertificate().close());
    assertTrue(refused.getMessage().contains("certificate"), refused.getMessage());

    Map<String, String> config = clientCertificateConfig("memory.tls.cert", KEY_PASSWORD);
    connect.deploy("tls-cert-sink", config, 1);
    for (int i = 0; i < 10; i++) {
      connect.send(
          "memory.tls.cert", "k", PostgresSinkFixture.memoryEvent("cert-" + i, "ns", "m" + i, i));
    }
    connect.flush();
    await().atMost(Duration.ofSeconds(60)).until(() -> certDb.countRows("memory_tls_cert") == 10);
    // the sink's session is the role's, over TLS, with the client certificate the CA signed
    assertEquals(
        Map.of(CERT_USER, "/CN=" + CERT_USER),
        certDb.pairs(
            "SELECT a.usename, s.client_dn FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)"
                + " WHERE a.application_name = 'soma-connect postgres sink' AND s.ssl"
                + " AND a.datname = 'sink_tls_cert'"));
  }

  @Test
  void aWrongPasswordOfTheClientKeyStopsTheTaskSayingSo() throws Exception {
    String wrongPassword = "not-the-k3y-pa55word";
    Map<String, String> config = clientCertificateConfig("memory.tls.badkey", wrongPassword);
    config.put("table.name.format", "never_written_cert");
    String log =
        CapturedStderr.ofWork(
            () -> {
              connect.connect().configureConnector("tls-bad-key", config);
              connect.send(
                  "memory.tls.badkey", "k", PostgresSinkFixture.memoryEvent("x", "ns", "m", 1));
              connect.flush();
              // a key that cannot be decrypted is no transient fault: the task stops, not retries
              await()
                  .atMost(Duration.ofSeconds(60))
                  .until(
                      () ->
                          connect.status("tls-bad-key").tasks().stream()
                              .anyMatch(t -> "FAILED".equals(t.state())));
            });
    String trace = connect.status("tls-bad-key").tasks().get(0).trace();
    assertTrue(trace.contains("Could not decrypt SSL key file"), trace);
    assertTrue(trace.contains(clientCert.key().toString()), trace);
    assertFalse(log.contains("Transient database error"), log);
    for (String secret : new String[] {wrongPassword, KEY_PASSWORD}) {
      assertFalse(trace.contains(secret), trace);
      assertFalse(log.contains(secret), log);
    }
    assertEquals(0, certDb.countRows("never_written_cert"));
  }

  /**
   * A key encrypted as OpenSSL 3 does by default (PBES2, AES-256) is one pgjdbc cannot open on Java
   * 17, whatever the password: the task stops at once naming the scheme, rather than retrying a
   * connection that can never be made. Should a later pgjdbc or JDK open it, this test fails: then
   * connection.sslpassword's docs may recommend the default.
   */
  @Test
  void aKeyInAnEncryptionPgjdbcCannotOpenStopsTheTaskNamingIt() throws Exception {
    ClientCertificate pbes2 =
        PostgresServer.owned()
            .issueClientCertificate(CERT_USER, KEY_PASSWORD, KeyEncryption.PBES2_AES_256);
    Map<String, String> config = clientCertificateConfig("memory.tls.pbes2", KEY_PASSWORD, pbes2);
    config.put("table.name.format", "never_written_pbes2");
    connect.connect().configureConnector("tls-pbes2-key", config);
    connect.send("memory.tls.pbes2", "k", PostgresSinkFixture.memoryEvent("y", "ns", "m", 1));
    connect.flush();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                connect.status("tls-pbes2-key").tasks().stream()
                    .anyMatch(t -> "FAILED".equals(t.state())));
    String trace = connect.status("tls-pbes2-key").tasks().get(0).trace();
    assertTrue(trace.contains("PBES2"), trace);
    assertFalse(trace.contains(KEY_PASSWORD), trace);
    assertEquals(0, certDb.countRows("never_written_pbes2"));
  }

  /** A sink on {@link #certDb} as {@link #CERT_USER}, its certificate and key in the URL. */
  private static Map<String, String> clientCertificateConfig(String topic, String keyPassword) {
    return clientCertificateConfig(topic, keyPassword, clientCert);
  }

  private static Map<String, String> clientCertificateConfig(
      String topic, String keyPassword, ClientCertificate cert) {
    Map<String, String> config = certDb.sinkConfig(topic, "append", "memory.dlq");
    config.put(
        "connection.url", certDb.url + "?sslcert=" + cert.certificate() + "&sslkey=" + cert.key());
    config.put("connection.user", CERT_USER);
    config.put("connection.sslmode", "verify-full");
    config.put("connection.sslrootcert", caCert.toString());
    config.put("connection.sslpassword", keyPassword);
    config.put("tasks.max", "1");
    return config;
  }

  private static Connection connectWithoutClientCertificate() throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", CERT_USER);
    props.setProperty("sslmode", "verify-full");
    props.setProperty("sslrootcert", caCert.toString());
    return DriverManager.getConnection(certDb.url, props);
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
