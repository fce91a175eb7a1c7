package io.somastack.connect.common.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class JdbcUrlTest {

  @Test
  void aParameterIsReadAsPgjdbcReadsIt() {
    JdbcUrl url =
        JdbcUrl.parse(
            "jdbc:postgresql://db/soma?sslmode=require&SSLMODE=disable&sslmode=verify-full"
                + "&ApplicationName=a%20b&ssl&options=");
    assertEquals("verify-full", url.parameter("sslmode")); // the last wins, exact names
    assertEquals("a b", url.parameter("ApplicationName"));
    assertEquals("", url.parameter("ssl"));
    assertEquals("", url.parameter("options"));
    assertNull(url.parameter("applicationname"));
    assertNull(JdbcUrl.parse("jdbc:postgresql://db/soma").parameter("sslmode"));
  }

  /** Only the first '=' ends a name: a value may hold more. */
  @Test
  void aValueKeepsItsEqualsSigns() {
    assertEquals(
        "-c search_path=a",
        JdbcUrl.parse("jdbc:postgresql://db/soma?options=-c%20search_path=a").parameter("options"));
  }

  @Test
  void aBadlyEncodedValueIsAnErrorNamingTheParameterOnly() {
    JdbcUrl url = JdbcUrl.parse("jdbc:postgresql://db/soma?sslpassword=s3cret&sslmode=%zz");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> url.parameter("sslmode"));
    assertTrue(e.getMessage().contains("sslmode"), e.getMessage());
    assertFalse(e.getMessage().contains("%zz"), e.getMessage());
    assertNull(e.getCause()); // URLDecoder's message quotes the value
    assertEquals("s3cret", url.parameter("sslpassword")); // other parameters are still read
  }

  @Test
  void aParameterLikeANameIsFoundInAnyCaseAndEncoding() {
    for (String query : List.of("password=x", "Password=x", "pass%77ord=x", "a=1&PASSWORD")) {
      assertTrue(
          JdbcUrl.parse("jdbc:postgresql://db/soma?" + query).hasParameterLike("password"), query);
    }
    for (String query : List.of("sslpassword=x", "a=password", "pass%zzword=x", "")) {
      assertFalse(
          JdbcUrl.parse("jdbc:postgresql://db/soma?" + query).hasParameterLike("password"), query);
    }
    assertFalse(JdbcUrl.parse("jdbc:postgresql://db/password").hasParameterLike("password"));
  }

  @Test
  void anAtBeforeTheQueryIsUserInfo() {
    for (String url :
        List.of(
            "jdbc:postgresql://soma:s3cret@db/soma",
            "jdbc:postgresql://soma@db/soma",
            "jdbc:postgresql://soma:s3/cret@db/soma?ssl=true")) {
      assertTrue(JdbcUrl.parse(url).hasUserInfo(), url);
    }
    for (String url :
        List.of(
            "jdbc:postgresql://db/soma",
            "jdbc:postgresql://db/so%40ma",
            "jdbc:postgresql://db/soma?ApplicationName=a@b",
            "jdbc:postgresql:soma@x")) {
      assertFalse(JdbcUrl.parse(url).hasUserInfo(), url);
    }
  }

  /** What test-support's ExternalPostgres makes a URL of another database from. */
  @Test
  void itsHostListIsAsWrittenAndNoneWithUserInfo() {
    assertEquals(
        "h1:5433,h2,[::1]",
        JdbcUrl.parse("jdbc:postgresql://h1:5433,h2,[::1]/soma?ssl=true").hostList());
    assertEquals("", JdbcUrl.parse("jdbc:postgresql:///soma").hostList());
    assertEquals("db", JdbcUrl.parse("jdbc:postgresql://db").hostList());
    assertNull(JdbcUrl.parse("jdbc:postgresql:soma").hostList());
    assertNull(JdbcUrl.parse("jdbc:postgresql://soma:s3cret@db/soma").hostList());
  }

  @Test
  void theQueryWithoutCredentialsKeepsTheRestAsWritten() {
    JdbcUrl url =
        JdbcUrl.parse(
            "jdbc:postgresql://db/soma?sslmode=verify-full&user=app&Password=p&&ssl"
                + "&sslrootcert=/etc/root%20ca.crt&pass%77ord=q&sslpassword=k&options=a=b");
    assertEquals(
        "sslmode=verify-full&ssl&sslrootcert=/etc/root%20ca.crt&options=a=b",
        url.queryWithout("user", "password", "sslpassword"));
    assertEquals("", JdbcUrl.parse("jdbc:postgresql://db/soma?").queryWithout("user"));
    assertEquals("", JdbcUrl.parse("jdbc:postgresql://db/soma?user=x").queryWithout("user"));
  }

  @Test
  void itNeverShowsTheUrl() {
    String shown = JdbcUrl.parse("jdbc:postgresql://db/soma?sslpassword=s3cret").toString();
    assertFalse(shown.contains("s3cret"), shown);
  }
}
