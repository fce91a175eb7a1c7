package io.somastack.connect.common.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class ValidatorsTest {

  /**
   * A libpq-style URL is the usual mistake, and it often carries the password: the message, which
   * reaches logs and the REST validate answer, names the option but never repeats the URL.
   */
  @Test
  void aWrongDatabaseUrlIsNamedButNeverEchoed() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () ->
                Validators.postgresUrl()
                    .ensureValid("connection.url", "postgresql://soma:s3cret@db:5432/soma"));
    assertTrue(e.getMessage().contains("connection.url"), e.getMessage());
    assertTrue(e.getMessage().contains("jdbc:postgresql://"), e.getMessage());
    assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
  }

  /**
   * pgjdbc cannot parse user:password@ in a JDBC URL and fails with "Unable to parse URL" and the
   * URL whole, which would put the password into the task's status and the logs: refused here,
   * without the value, pointing to the options that take the credentials.
   */
  @Test
  void aJdbcUrlWithCredentialsIsRefusedWithoutEchoingThem() {
    for (String url :
        new String[] {
          "jdbc:postgresql://soma:s3cret@db/soma",
          "jdbc:postgresql://soma:s3cret@db:5432,db2:5432/soma?sslmode=verify-full",
          "jdbc:postgresql://soma@db/soma",
          "jdbc:postgresql://soma:s3/cret@db/soma"
        }) {
      ConfigException e =
          assertThrows(
              ConfigException.class,
              () -> Validators.postgresUrl().ensureValid("connection.url", url),
              url);
      assertTrue(e.getMessage().contains("connection.user"), e.getMessage());
      assertTrue(e.getMessage().contains("connection.password"), e.getMessage());
      assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
      assertFalse(e.getMessage().contains("soma@"), e.getMessage());
    }
    // an @ in a query parameter is no user name
    for (String url :
        new String[] {
          "jdbc:postgresql://db:5432/soma",
          "jdbc:postgresql://db/soma?ApplicationName=relay@eu",
          "jdbc:postgresql://[::1]:5432/soma",
          "jdbc:postgresql:soma",
          "jdbc:postgresql://db/soma?options=-c%20search_path=a@b"
        }) {
      Validators.postgresUrl().ensureValid("connection.url", url);
    }
  }

  /**
   * A password= in the URL would be logged: the connector's settings are logged at start, and
   * connection.url is no PASSWORD option. Refused, without the value, pointing to
   * connection.password; other parameters, and names that only end alike, pass.
   */
  @Test
  void aJdbcUrlWithAPasswordParameterIsRefusedWithoutEchoingIt() {
    for (String url :
        new String[] {
          "jdbc:postgresql://db/soma?password=s3cret",
          "jdbc:postgresql://db/soma?sslmode=verify-full&password=s3cret",
          "jdbc:postgresql://db/soma?sslkey=/k.pk8&password=s3cret",
          "jdbc:postgresql:soma?user=soma&password=s3cret",
          "jdbc:postgresql://db/soma?Password=s3cret",
          "jdbc:postgresql://db/soma?pass%77ord=s3cret"
        }) {
      ConfigException e =
          assertThrows(
              ConfigException.class,
              () -> Validators.postgresUrl().ensureValid("connection.url", url),
              url);
      assertTrue(e.getMessage().contains("connection.password"), e.getMessage());
      assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
    }
    for (String url :
        new String[] {
          "jdbc:postgresql://db/soma?sslmode=verify-full&sslrootcert=/r.crt",
          "jdbc:postgresql://db/soma?ApplicationName=password",
          "jdbc:postgresql://db/soma?xpassword=1"
        }) {
      Validators.postgresUrl().ensureValid("connection.url", url);
    }
  }

  /**
   * sslpassword, the client key's password, would be logged with the connector's settings like
   * password=: refused in any case or encoding, without the value, pointing to the option that
   * takes it.
   */
  @Test
  void aJdbcUrlWithAnSslPasswordIsRefusedWithoutEchoingIt() {
    for (String url :
        new String[] {
          "jdbc:postgresql://db/soma?sslkey=/k.pk8&sslpassword=s3cret",
          "jdbc:postgresql://db/soma?SSLPassword=s3cret",
          "jdbc:postgresql://db/soma?ssl%70assword=s3cret",
          "jdbc:postgresql://db/soma?sslpassword"
        }) {
      ConfigException e =
          assertThrows(
              ConfigException.class,
              () -> Validators.postgresUrl().ensureValid("connection.url", url),
              url);
      assertTrue(e.getMessage().contains("sslpassword"), e.getMessage());
      assertTrue(e.getMessage().contains("connection.sslpassword"), e.getMessage());
      assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
    }
    Validators.postgresUrl()
        .ensureValid("connection.url", "jdbc:postgresql://db/soma?sslkey=/k.pk8&sslcert=/c.crt");
  }
}
