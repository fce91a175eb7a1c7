package io.somastack.connect.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.postgres.PostgresServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The database a SOMA_PG_URL names, and how the quickstart's own connections reach it. */
class QuickstartDatabaseTest {

  /**
   * The name was the URL's last '/'-separated segment, so a parameter holding a path (here
   * sslrootcert) became the database: root.crt.
   */
  @Test
  void theDatabaseIsTheUrlsPathNotASegmentOfItsParameters() {
    assertEquals(
        "soma",
        Quickstart.Database.databaseName(
            "jdbc:postgresql://h:5432/soma?sslmode=verify-full&sslrootcert=/etc/pg/root.crt"));
    assertEquals("soma", Quickstart.Database.databaseName("jdbc:postgresql://h/soma"));
    assertEquals(
        "soma", Quickstart.Database.databaseName("jdbc:postgresql://h1:5432,h2:5433/soma?a=b/c"));
    assertEquals("my db", Quickstart.Database.databaseName("jdbc:postgresql://h/my%20db"));
    assertEquals(
        "soma",
        Quickstart.Database.obtain(
                Map.of(
                    "SOMA_PG_URL",
                    "jdbc:postgresql://h:5432/soma?sslmode=verify-full&sslrootcert=/etc/pg/root.crt"))
            .name());
  }

  @Test
  void aUrlWithoutADatabaseIsRefusedNamingTheVariable() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Quickstart.Database.databaseName("jdbc:postgresql://h:5432/?sslmode=require"));
    assertTrue(e.getMessage().contains("SOMA_PG_URL"), e.getMessage());
  }

  /**
   * The sinks got the whole SOMA_PG_URL, but the quickstart's own connections (the offsets check,
   * the outbox writer, the progress report) were made to host:port/database alone: sslmode,
   * sslrootcert and the like were dropped. ApplicationName stands in for them here, since the
   * server reports it back.
   */
  @Test
  void theQuickstartsOwnConnectionsKeepTheUrlsParameters() throws Exception {
    PostgresServer server = PostgresServer.shared();
    String url = server.createDatabase("quickstart_url_parameters");
    String withParameters =
        url + (url.contains("?") ? "&" : "?") + "ApplicationName=soma-quickstart-probe";
    Quickstart.Database db =
        Quickstart.Database.obtain(
            Map.of("SOMA_PG_URL", withParameters, "SOMA_PG_USER", server.user()));

    try (Connection c = db.server().connect(db.name());
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT current_setting('application_name')")) {
      assertTrue(rs.next());
      assertEquals("soma-quickstart-probe", rs.getString(1));
    }
  }

  /**
   * The connectors refuse a password= in connection.url (their settings are logged): they get the
   * URL without it, and the password through SOMA_PG_PASSWORD.
   */
  @Test
  void theConnectorsGetTheUrlWithoutItsPassword() {
    String url = "jdbc:postgresql://h/soma?user=u&password=s3cret&sslmode=require";
    String forConnectors = Quickstart.Database.forConnectors(url);
    assertEquals("jdbc:postgresql://h/soma?user=u&sslmode=require", forConnectors);
    assertEquals(
        "jdbc:postgresql://h/soma",
        Quickstart.Database.forConnectors("jdbc:postgresql://h/soma?password=s3cret"));
    assertEquals(
        "jdbc:postgresql://h/soma?sslmode=require",
        Quickstart.Database.forConnectors("jdbc:postgresql://h/soma?sslmode=require"));
    assertEquals(
        "jdbc:postgresql://h/soma?sslmode=require",
        Quickstart.Database.forConnectors(
            "jdbc:postgresql://h/soma?Password=a&pass%77ord=b&sslmode=require"));
  }

  /** The psql command the quickstart prints carries no password from SOMA_PG_URL. */
  @Test
  void thePrintedPsqlUrlHasNoPassword() {
    PostgresServer server = PostgresServer.shared();
    assertEquals(
        "postgresql://h/soma?user=" + server.user(),
        new Quickstart.Database(server, "soma", "jdbc:postgresql://h/soma?password=s3cret")
            .psqlUrl());
    assertEquals(
        "postgresql://h/soma?sslmode=require&user=" + server.user(),
        new Quickstart.Database(
                server, "soma", "jdbc:postgresql://h/soma?password=s3cret&sslmode=require")
            .psqlUrl());
  }

  /**
   * A SOMA_PG_URL with user info (soma:secret@host, libpq's form) was printed whole, password and
   * all, as the quickstart's PostgreSQL line; pgjdbc cannot read it and the connectors refuse it,
   * so it is refused before anything is printed, naming the variables to use instead.
   */
  @Test
  void aUrlWithUserInfoIsRefusedWithoutPrintingIt(@TempDir Path root, @TempDir Path work)
      throws Exception {
    Files.createDirectories(root.resolve("connector-configs"));
    String output = refusedRun("jdbc:postgresql://soma:s3cret@h:5432/soma", root, work);
    assertFalse(output.contains("s3cret"), output);
    assertTrue(
        output.contains("SOMA_PG_URL holds a user name or password before the host"), output);
    assertTrue(output.contains("SOMA_PG_USER and SOMA_PG_PASSWORD"), output);
    assertFalse(output.contains("(KRaft, single node)"), output);
  }

  /**
   * A SOMA_PG_URL java.net.URI could not parse was printed whole, its passwords with it: URI's
   * exception quoted the URL ("Malformed escape pair at index 70:
   * postgresql://...sslpassword=..."). It is refused saying what is wrong with it, and nothing of
   * its text.
   */
  @Test
  void aUrlThatCannotBeReadIsRefusedWithoutPrintingIt(@TempDir Path root, @TempDir Path work)
      throws Exception {
    Files.createDirectories(root.resolve("connector-configs"));
    for (String url :
        List.of(
            "jdbc:postgresql://127.0.0.1:5432/soma?sslpassword=s3cret&password=pw-s3cret"
                + "&application_name=a%ZZ",
            "jdbc:postgresql://127.0.0.1:5432/soma?password=s3cret%ZZ",
            "jdbc:postgresql://127.0.0.1:port/soma?sslpassword=s3cret",
            "jdbc:mysql://127.0.0.1:5432/soma?password=s3cret")) {
      String output = refusedRun(url, root, work);
      assertFalse(output.contains("s3cret"), output);
      assertFalse(output.contains("127.0.0.1"), output);
      assertTrue(output.contains("SOMA_PG_URL "), output);
      assertFalse(output.contains("(KRaft, single node)"), output);
    }
  }

  /**
   * A space in a parameter's value: pgjdbc reads it, but java.net.URI refused the URL, quoting it
   * whole ("Illegal character in query"), so the quickstart printed its passwords and stopped.
   */
  @Test
  void aUrlPgjdbcReadsIsUsedAsItReadsIt() throws Exception {
    PostgresServer server = PostgresServer.shared();
    String url = server.createDatabase("quickstart_url_spaced");
    String spaced =
        url + (url.contains("?") ? "&" : "?") + "sslpassword=s3cret&ApplicationName=soma probe";
    Quickstart.Database db =
        Quickstart.Database.obtain(Map.of("SOMA_PG_URL", spaced, "SOMA_PG_USER", server.user()));

    try (Connection c = db.server().connect(db.name());
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT current_setting('application_name')")) {
      assertTrue(rs.next());
      assertEquals("soma probe", rs.getString(1));
    }
  }

  /** The quickstart's output for this SOMA_PG_URL, asserting that it exited with status 1. */
  private static String refusedRun(String url, Path root, Path work) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int status =
        Quickstart.run(
            new String[] {"--exit", "--rest-port", freePort()},
            new PrintStream(bytes, true, StandardCharsets.UTF_8),
            Map.of("SOMA_PG_URL", url),
            root,
            work);
    String output = bytes.toString(StandardCharsets.UTF_8);
    assertEquals(1, status, output);
    return output;
  }

  private static String freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return String.valueOf(socket.getLocalPort());
    }
  }

  @Test
  void aPasswordInTheUrlIsNotPrinted() {
    assertEquals(
        "jdbc:postgresql://h/soma?user=u&password=***&sslmode=require",
        Quickstart.Database.shown(
            "jdbc:postgresql://h/soma?user=u&password=s3cret&sslmode=require"));
    assertEquals(
        "jdbc:postgresql://h/soma?Password=***",
        Quickstart.Database.shown("jdbc:postgresql://h/soma?Password=s3cret"));
    assertEquals(
        "jdbc:postgresql://h/soma?pass%77ord=***",
        Quickstart.Database.shown("jdbc:postgresql://h/soma?pass%77ord=s3cret"));
  }

  /**
   * A client key's sslpassword= in SOMA_PG_URL was printed in clear (the PostgreSQL line and the
   * psql command) and handed to the connectors in the URL, which they refuse: every PostgreSQL
   * pipeline failed validation. It is hidden, and moved to connection.sslpassword.
   */
  private static final String WITH_KEY_PASSWORD =
      "jdbc:postgresql://db:5432/soma?sslmode=verify-full&sslkey=/k.p12&sslpassword=s3cret"
          + "&password=pw";

  @Test
  void anSslPasswordInTheUrlIsNotPrinted() {
    assertEquals(
        "jdbc:postgresql://db:5432/soma?sslmode=verify-full&sslkey=/k.p12&sslpassword=***"
            + "&password=***",
        Quickstart.Database.shown(WITH_KEY_PASSWORD));
    assertEquals(
        "jdbc:postgresql://h/soma?SSLPassword=***&ssl%70assword=***",
        Quickstart.Database.shown("jdbc:postgresql://h/soma?SSLPassword=a&ssl%70assword=b"));
    PostgresServer server = PostgresServer.shared();
    String psql = new Quickstart.Database(server, "soma", WITH_KEY_PASSWORD).psqlUrl();
    assertFalse(psql.contains("s3cret"), psql);
    assertFalse(psql.contains("sslpassword"), psql);
  }

  @Test
  void theConnectorsGetTheUrlWithoutItsSslPasswordAndTheValueApart() {
    assertEquals(
        "jdbc:postgresql://db:5432/soma?sslmode=verify-full&sslkey=/k.p12",
        Quickstart.Database.forConnectors(WITH_KEY_PASSWORD));
    assertEquals(
        "s3cret",
        Quickstart.Database.obtain(Map.of("SOMA_PG_URL", WITH_KEY_PASSWORD)).sslPassword());
    assertEquals(
        "from-env",
        Quickstart.Database.obtain(
                Map.of("SOMA_PG_URL", WITH_KEY_PASSWORD, "SOMA_PG_SSLPASSWORD", "from-env"))
            .sslPassword());
    assertEquals(
        "a b&c",
        Quickstart.Database.obtain(
                Map.of("SOMA_PG_URL", "jdbc:postgresql://h/soma?sslpassword=a%20b%26c"))
            .sslPassword());
    assertEquals(
        "",
        Quickstart.Database.obtain(Map.of("SOMA_PG_URL", "jdbc:postgresql://h/soma"))
            .sslPassword());
  }
}
