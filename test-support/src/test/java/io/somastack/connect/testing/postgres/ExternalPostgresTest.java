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
}
