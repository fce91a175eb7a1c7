package io.somastack.connect.it.outbox;

import static io.somastack.connect.it.outbox.OutboxItSupport.count;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.ConnectHarness;
import io.somastack.connect.testing.postgres.LocalPostgresCluster;
import io.somastack.connect.testing.postgres.LocalPostgresCluster.ClientCertificate;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.runtime.rest.errors.ConnectRestException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The outbox relay over verify-full TLS with a client certificate whose key is encrypted
 * (connection.sslpassword), and a wrong password for that key stopping the task saying so.
 */
class OutboxTlsIT {

  private static final String DB = "outbox_tls_cert_it";
  private static final String CERT_USER = "soma_outbox_tls_client";
  private static final String KEY_PASSWORD = "outb0x-k3y-pa55word";

  private static LocalPostgresCluster pg;
  private static ConnectHarness harness;
  private static String url;
  private static Path caCert;
  private static ClientCertificate clientCert;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.owned();
    caCert = pg.enableTls();
    url = OutboxItSupport.createDatabase(pg, DB);
    // a role of its own, let in by its certificate only: other tests' connections stay as they are
    try (Connection c = pg.connect(DB);
        Statement s = c.createStatement()) {
      s.execute(
          "DO $$ BEGIN CREATE ROLE "
              + CERT_USER
              + " LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
      s.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO " + CERT_USER);
      s.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO " + CERT_USER);
    }
    pg.requireClientCertificate(DB, CERT_USER);
    clientCert = pg.issueClientCertificate(CERT_USER, KEY_PASSWORD);
    harness = ConnectHarness.builder("outbox-tls").exactlyOnceSource().start();
  }

  @AfterAll
  static void stop() {
    if (harness != null) {
      harness.close();
    }
  }

  @Test
  void relaysWithAClientCertificateWhoseKeyIsEncrypted() throws Exception {
    harness.deploy("outbox-tls", config(KEY_PASSWORD), 1);
    try (Connection c = pg.connect(DB);
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO outbox(topic, payload, dedupe_key) VALUES"
              + " ('somastack.tools', '{}', 'tls-1'), ('somastack.tools', '{}', 'tls-2')");
    }
    // delete mode: the rows leave the table once Kafka committed their records
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> count(pg, DB, "SELECT count(*) FROM outbox") == 0);
    assertEquals(
        2,
        OutboxItSupport.readCommitted(harness.bootstrapServers(), OutboxItSupport.TOPICS).size());
    assertEquals(
        List.of("/CN=" + CERT_USER),
        OutboxItSupport.strings(
            pg,
            DB,
            "SELECT s.client_dn FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)"
                + " WHERE a.application_name LIKE 'soma-connect outbox source%' AND s.ssl"
                + " AND a.usename = '"
                + CERT_USER
                + "'"));
  }

  @Test
  void aWrongPasswordOfTheClientKeyStopsTheTaskSayingSo() throws Exception {
    String wrongPassword = "n0t-the-outb0x-pa55word";
    Map<String, String> config = config(wrongPassword);
    harness.connect().configureConnector("outbox-tls-bad-key", config);
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptionsInstanceOf(ConnectRestException.class) // no status until it starts
        .until(
            () ->
                harness.status("outbox-tls-bad-key").tasks().stream()
                    .anyMatch(t -> "FAILED".equals(t.state())));
    String trace = harness.status("outbox-tls-bad-key").tasks().get(0).trace();
    assertTrue(trace.contains("retrying will not fix"), trace);
    assertTrue(trace.contains("Could not decrypt SSL key file"), trace);
    assertFalse(trace.contains(wrongPassword), trace);
    assertFalse(trace.contains(KEY_PASSWORD), trace);
  }

  private static Map<String, String> config(String keyPassword) {
    Map<String, String> config = new HashMap<>(OutboxItSupport.connectorConfig(pg, url));
    config.put(
        "connection.url",
        url + "?sslcert=" + clientCert.certificate() + "&sslkey=" + clientCert.key());
    config.put("connection.user", CERT_USER);
    config.put("connection.sslmode", "verify-full");
    config.put("connection.sslrootcert", caCert.toString());
    config.put("connection.sslpassword", keyPassword);
    return config;
  }
}
