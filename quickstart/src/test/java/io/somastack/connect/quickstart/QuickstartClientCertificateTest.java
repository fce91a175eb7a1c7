package io.somastack.connect.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.PackagedPlugins;
import io.somastack.connect.testing.postgres.LocalPostgresCluster;
import io.somastack.connect.testing.postgres.LocalPostgresCluster.ClientCertificate;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SOMA_PG_URL whose client certificate's key is encrypted, its password exported as
 * SOMA_PG_SSLPASSWORD, against a real server that authenticates the user by that certificate. Only
 * the connectors got the password: the quickstart's own connections (the offsets check, the outbox
 * writer, the progress report) went without one, so pgjdbc asked the console for it ("Console is
 * not available" here, a prompt per connection in a terminal) and the run stopped.
 */
class QuickstartClientCertificateTest {

  private static final String USER = "quickstart_cert";
  private static final String KEY_PASSWORD = "key-pw-from-env";

  private static LocalPostgresCluster server;
  private static Path caCert;
  private static ClientCertificate cert;

  @BeforeAll
  static void serverWithClientCertificates() throws Exception {
    server = PostgresServer.owned();
    caCert = server.enableTls();
    cert = server.issueClientCertificate(USER, KEY_PASSWORD);
    try (Connection c = server.connect("postgres");
        Statement s = c.createStatement()) {
      s.execute(
          "DO $$ BEGIN CREATE ROLE "
              + USER
              + " LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    }
  }

  /** A fresh database owned by the certificate's user, which it must authenticate to. */
  private static String databaseRequiringTheCertificate(String name) throws Exception {
    server.createDatabase(name);
    try (Connection c = server.connect("postgres");
        Statement s = c.createStatement()) {
      s.execute("ALTER DATABASE " + name + " OWNER TO " + USER);
    }
    server.requireClientCertificate(name, USER);
    return server.jdbcUrl(name)
        + "?sslmode=verify-full&sslrootcert="
        + caCert
        + "&sslcert="
        + cert.certificate()
        + "&sslkey="
        + cert.key();
  }

  @Test
  void theQuickstartsOwnConnectionsUseTheExportedKeyPassword() throws Exception {
    String url = databaseRequiringTheCertificate("quickstart_cert_own");

    Quickstart.Database db =
        Quickstart.Database.obtain(
            Map.of("SOMA_PG_URL", url, "SOMA_PG_USER", USER, "SOMA_PG_SSLPASSWORD", KEY_PASSWORD));

    assertFalse(db.holdsSinkOffsets());
    assertEquals(USER, currentUser(db));
  }

  /**
   * The exported password wins over the URL's for the connectors; the quickstart's own connections
   * used the URL's all the same.
   */
  @Test
  void theExportedKeyPasswordWinsOverTheUrlsForTheQuickstartToo() throws Exception {
    String url = databaseRequiringTheCertificate("quickstart_cert_both") + "&sslpassword=stale";

    Quickstart.Database db =
        Quickstart.Database.obtain(
            Map.of("SOMA_PG_URL", url, "SOMA_PG_USER", USER, "SOMA_PG_SSLPASSWORD", KEY_PASSWORD));

    assertEquals(KEY_PASSWORD, db.sslPassword());
    assertEquals(USER, currentUser(db));
  }

  /** The whole run: every pipeline deployed and the events landed, over the certificate alone. */
  @Test
  void aQuickstartRunsWithAnEncryptedClientKeyAndTheExportedPassword(@TempDir Path work)
      throws Exception {
    String url = databaseRequiringTheCertificate("quickstart_cert_run");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    int status =
        Quickstart.run(
            new String[] {
              "--exit", "--rounds", "5", "--rest-port", freePort(), "--kafka-port", freePort()
            },
            new PrintStream(bytes, true, StandardCharsets.UTF_8),
            Map.of("SOMA_PG_URL", url, "SOMA_PG_USER", USER, "SOMA_PG_SSLPASSWORD", KEY_PASSWORD),
            PackagedPlugins.projectRoot(),
            work);

    String output = bytes.toString(StandardCharsets.UTF_8);
    assertEquals(0, status, output);
    assertTrue(output.contains("Summary:"), output);
    assertFalse(output.contains(KEY_PASSWORD), output);
  }

  private static String currentUser(Quickstart.Database db) throws Exception {
    try (Connection c = db.server().connect(db.name());
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT current_user")) {
      assertTrue(rs.next());
      return rs.getString(1);
    }
  }

  private static String freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return String.valueOf(socket.getLocalPort());
    }
  }
}
