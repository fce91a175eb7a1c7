package io.somastack.connect.testing.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ExternalPostgresTest {

  private static final String URL = "jdbc:postgresql://db.example:6543/x?user=app&password=s3cret";

  @Test
  void theUrlsUserAndPasswordHoldUnlessGivenSeparately() {
    ExternalPostgres fromUrl = ExternalPostgres.of(URL, null, null);
    assertEquals("app", fromUrl.user());
    assertEquals("s3cret", fromUrl.password());
    assertEquals("jdbc:postgresql://db.example:6543/test", fromUrl.jdbcUrl("test"));

    ExternalPostgres given = ExternalPostgres.of(URL, "other", "pw");
    assertEquals("other", given.user());
    assertEquals("pw", given.password());
  }

  /**
   * The URL's other parameters (TLS settings and the like) were dropped: connections made through
   * jdbcUrl went without sslmode, sslrootcert, ... The user and password are left out, since
   * connect() passes them as properties and the given ones win.
   */
  @Test
  void jdbcUrlsKeepTheParametersOtherThanUserAndPassword() {
    ExternalPostgres server =
        ExternalPostgres.of(
            "jdbc:postgresql://db.example:6543/x?sslmode=verify-full&user=app"
                + "&sslrootcert=/etc/pg/root%20ca.crt&password=s3cret",
            null, null);
    assertEquals(
        "jdbc:postgresql://db.example:6543/test?sslmode=verify-full"
            + "&sslrootcert=/etc/pg/root%20ca.crt",
        server.jdbcUrl("test"));
    assertEquals("app", server.user());
    assertEquals("s3cret", server.password());
  }

  /**
   * A client key's password was passed on in the URL, and none could be given apart: the
   * quickstart's connections used the URL's sslpassword= (or none, and pgjdbc asked the console)
   * while its connectors used SOMA_PG_SSLPASSWORD. It is a connection property now, like the
   * password, the given one winning, and never in jdbcUrl.
   */
  @Test
  void theKeyPasswordIsAPropertyTheGivenOneWinning() {
    String url =
        "jdbc:postgresql://db.example:6543/x?sslmode=verify-full&sslpassword=a%20b%26c"
            + "&sslkey=/k.pk8&SSLPassword=other";
    ExternalPostgres fromUrl = ExternalPostgres.of(url, null, null, null);
    assertEquals("a b&c", fromUrl.sslPassword());
    assertEquals(
        "jdbc:postgresql://db.example:6543/test?sslmode=verify-full&sslkey=/k.pk8",
        fromUrl.jdbcUrl("test"));

    ExternalPostgres given = ExternalPostgres.of(url, null, null, "from-env");
    assertEquals("from-env", given.sslPassword());
    assertEquals(fromUrl.jdbcUrl("test"), given.jdbcUrl("test"));
    assertEquals("", ExternalPostgres.of(url, null, null, "").sslPassword());

    assertNull(ExternalPostgres.of(URL, null, null, null).sslPassword());
    assertEquals("k", PostgresServer.external(URL, null, null, "k").sslPassword());
  }

  /**
   * java.net.URI parsed the URL and its exception quoted it whole, passwords and all (the
   * quickstart printed it; test logs are published): a badly percent-encoded value is refused
   * saying why, without the URL's text.
   */
  @Test
  void aUrlThatCannotBeReadIsRefusedWithoutRepeatingIt() {
    List<String> urls =
        List.of(
            "jdbc:postgresql://127.0.0.1:5432/soma?sslpassword=s3cret&application_name=a%ZZ",
            "jdbc:postgresql://127.0.0.1:5432/soma?password=s3cret%ZZ",
            "jdbc:postgresql://127.0.0.1:5432/soma?sslpassword=s3cret%",
            "jdbc:postgresql://127.0.0.1:5432/soma?password=a&s3cret=%ZZ",
            "jdbc:postgresql://soma:s3cret@127.0.0.1:5432/soma",
            "jdbc:postgresql://127.0.0.1:5432?password=s3cret",
            "jdbc:postgresql://127.0.0.1:port/soma?password=s3cret",
            "jdbc:mysql://127.0.0.1:5432/soma?password=s3cret");
    for (String url : urls) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> ExternalPostgres.fromUrl(url), url);
      assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
      assertFalse(e.getMessage().contains("127.0.0.1"), e.getMessage());
    }
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    ExternalPostgres.fromUrl(
                        "jdbc:postgresql://h/soma?sslpassword=s3cret&ApplicationName=a%ZZ"))
            .getMessage()
            .contains("its ApplicationName parameter"));
  }

  /** What pgjdbc reads but java.net.URI refused (a space) or misread (an underscore, two hosts). */
  @Test
  void aUrlPgjdbcReadsIsAcceptedAsItReadsIt() {
    ExternalPostgres spaced =
        ExternalPostgres.fromUrl(
            "jdbc:postgresql://127.0.0.1:5432/soma?sslpassword=s3cret&application_name=a b");
    assertEquals("s3cret", spaced.sslPassword());
    assertEquals("jdbc:postgresql://127.0.0.1:5432/t?application_name=a b", spaced.jdbcUrl("t"));
    assertEquals(
        "jdbc:postgresql://pg_primary:5432/t",
        ExternalPostgres.fromUrl("jdbc:postgresql://pg_primary/x").jdbcUrl("t"));
    assertEquals(
        "jdbc:postgresql://h1:5433,h2:5432,[::1]:5432,[::1]:6000/t",
        ExternalPostgres.fromUrl("jdbc:postgresql://h1:5433,h2,[::1],[::1]:6000/x?").jdbcUrl("t"));
    assertEquals(
        "jdbc:postgresql://localhost:5432/t",
        ExternalPostgres.fromUrl("jdbc:postgresql:soma").jdbcUrl("t"));
  }

  /** SOMA_TEST_PG_URL's problems name the variable, never repeating the URL. */
  @Test
  void aTestUrlThatCannotBeReadIsNamedNotRepeated() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> PostgresServers.external("jdbc:postgresql://h/soma?password=s3cret%ZZ"));
    assertTrue(e.getMessage().startsWith("SOMA_TEST_PG_URL "), e.getMessage());
    assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
  }
}
