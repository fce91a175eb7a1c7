package io.somastack.connect.testing.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
