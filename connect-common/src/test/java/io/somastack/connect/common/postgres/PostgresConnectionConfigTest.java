package io.somastack.connect.common.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.common.config.OptionConflict;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class PostgresConnectionConfigTest {

  private static AbstractConfig config(String url, String sslmode) {
    ConfigDef def = new ConfigDef();
    PostgresConnectionConfig.define(def, "Connection", "");
    Map<String, String> props = new HashMap<>();
    props.put(PostgresConnectionConfig.URL, url);
    if (sslmode != null) {
      props.put(PostgresConnectionConfig.SSLMODE, sslmode);
    }
    return new AbstractConfig(def, props);
  }

  /**
   * A PKCS-12 client key (.p12) cannot be opened without a password, and the URL may not carry one:
   * connection.sslpassword reaches pgjdbc as its sslpassword property, a password option shown
   * hidden, and is left out when unset so that an unencrypted PKCS-8 key is read as before.
   */
  @Test
  void theClientKeyPasswordReachesPgjdbcAndIsNeverShown() {
    ConfigDef def = new ConfigDef();
    PostgresConnectionConfig.define(def, "Connection", "");
    assertEquals(
        ConfigDef.Type.PASSWORD, def.configKeys().get(PostgresConnectionConfig.SSLPASSWORD).type);
    assertEquals("Connection", def.configKeys().get(PostgresConnectionConfig.SSLPASSWORD).group);
    AbstractConfig config =
        new AbstractConfig(
            def,
            Map.of(
                PostgresConnectionConfig.URL,
                "jdbc:postgresql://db/soma?sslkey=/certs/client.p12&sslcert=/certs/client.crt",
                PostgresConnectionConfig.SSLPASSWORD,
                "k3y-s3cret"));
    Properties props = PostgresConnectionConfig.properties(config, "t");
    assertEquals("k3y-s3cret", props.getProperty("sslpassword"));
    assertFalse(config.toString().contains("k3y-s3cret"), config.toString());
    assertFalse(
        PostgresConnectionConfig.properties(config("jdbc:postgresql://db/soma", null), "t")
            .containsKey("sslpassword"));
  }

  /**
   * pgjdbc lets a URL parameter beat the same connection property: connection.sslmode=verify-full
   * with sslmode=disable in the URL would connect without TLS, silently. Such a pair is refused.
   */
  @Test
  void anSslmodeInTheUrlThatContradictsTheConfigIsRefused() {
    AbstractConfig contradicting =
        config("jdbc:postgresql://db:5432/soma?ApplicationName=x&sslmode=disable", "verify-full");
    ConfigException e =
        assertThrows(
            ConfigException.class, () -> PostgresConnectionConfig.properties(contradicting, "t"));
    assertTrue(e.getMessage().contains("sslmode"), e.getMessage());
  }

  @Test
  void anSslmodeInTheUrlAloneIsTheOneUsed() {
    AbstractConfig urlOnly = config("jdbc:postgresql://db:5432/soma?sslmode=verify-full", null);
    assertEquals(
        "verify-full", PostgresConnectionConfig.properties(urlOnly, "t").getProperty("sslmode"));
    AbstractConfig agreeing = config("jdbc:postgresql://db:5432/soma?sslmode=require", "require");
    assertEquals(
        "require", PostgresConnectionConfig.properties(agreeing, "t").getProperty("sslmode"));
  }

  /**
   * pgjdbc reads URL parameters in order and the last one wins: a second sslmode=disable after an
   * agreeing sslmode=verify-full would turn TLS off behind the check.
   */
  @Test
  void theLastSslmodeInTheUrlIsTheOneCheckedAsPgjdbcUsesIt() {
    AbstractConfig repeated =
        config("jdbc:postgresql://db:5432/soma?sslmode=verify-full&sslmode=disable", "verify-full");
    assertThrows(ConfigException.class, () -> PostgresConnectionConfig.properties(repeated, "t"));
    AbstractConfig urlOnly =
        config("jdbc:postgresql://db:5432/soma?sslmode=require&sslmode=verify-full", null);
    assertEquals(
        "verify-full", PostgresConnectionConfig.properties(urlOnly, "t").getProperty("sslmode"));
  }

  /** pgjdbc's parameter names are case-sensitive: SSLMODE=disable is not a TLS mode to it. */
  @Test
  void aParameterPgjdbcIgnoresIsNotTakenForTheTlsMode() {
    AbstractConfig upper = config("jdbc:postgresql://db:5432/soma?SSLMODE=disable", "verify-full");
    assertEquals(
        "verify-full", PostgresConnectionConfig.properties(upper, "t").getProperty("sslmode"));
    AbstractConfig upperOnly = config("jdbc:postgresql://db:5432/soma?SSLMODE=disable", null);
    assertEquals(
        "prefer", PostgresConnectionConfig.properties(upperOnly, "t").getProperty("sslmode"));
  }

  /**
   * pgjdbc reads ssl=true (or a bare ssl) without an sslmode as verify-full; the default
   * connection.sslmode=prefer passed as a property would quietly weaken that to prefer.
   */
  @Test
  void sslTrueInTheUrlKeepsPgjdbcsVerifyFull() {
    for (String url :
        List.of(
            "jdbc:postgresql://db:5432/soma?ssl=true", "jdbc:postgresql://[::1]:5432/soma?ssl")) {
      Properties props = PostgresConnectionConfig.properties(config(url, null), "t");
      assertNull(props.getProperty("sslmode"), url);
    }
    AbstractConfig explicit = config("jdbc:postgresql://db:5432/soma?ssl=true", "verify-full");
    assertEquals(
        "verify-full", PostgresConnectionConfig.properties(explicit, "t").getProperty("sslmode"));
  }

  /**
   * An explicit connection.sslmode, passed as a property, beats the URL's ssl=true with pgjdbc: one
   * weaker than the verify-full that ssl=true reads as would connect without the checks the URL
   * asks for (prefer: plaintext, silently), so it is refused like a contradicting URL sslmode.
   */
  @Test
  void anSslmodeThatContradictsSslTrueInTheUrlIsRefused() {
    for (String url :
        List.of(
            "jdbc:postgresql://db/soma?ssl=true",
            "jdbc:postgresql://db/soma?ssl=TRUE",
            "jdbc:postgresql://db/soma?ssl=",
            "jdbc:postgresql://db/soma?ssl")) {
      OptionConflict e =
          assertThrows(
              OptionConflict.class, () -> PostgresConnectionConfig.check(config(url, "prefer")));
      assertEquals(PostgresConnectionConfig.SSLMODE, e.option());
      assertTrue(e.getMessage().contains("ssl=true"), e.getMessage());
    }
    // ssl=false is prefer to pgjdbc, and the property is the mode: nothing to contradict
    AbstractConfig sslFalse = config("jdbc:postgresql://db/soma?ssl=false", "require");
    PostgresConnectionConfig.check(sslFalse);
    assertEquals(
        "require", PostgresConnectionConfig.properties(sslFalse, "t").getProperty("sslmode"));
    // an sslmode in the URL decides, not ssl
    PostgresConnectionConfig.check(
        config("jdbc:postgresql://db/soma?ssl=true&sslmode=require", "require"));
  }

  /** pgjdbc reads sslmode in any case: VERIFY-FULL and verify-full are the same mode. */
  @Test
  void anSslmodeInTheUrlAgreesWhateverItsCase() {
    PostgresConnectionConfig.check(
        config("jdbc:postgresql://db/soma?sslmode=VERIFY-FULL", "verify-full"));
    PostgresConnectionConfig.check(config("jdbc:postgresql://db/soma?sslmode=Require", "require"));
    OptionConflict e =
        assertThrows(
            OptionConflict.class,
            () ->
                PostgresConnectionConfig.check(
                    config("jdbc:postgresql://db/soma?sslmode=DISABLE", "verify-full")));
    assertTrue(e.getMessage().contains("contradicts sslmode=disable"), e.getMessage());
  }

  /** The same against the driver itself: an upper-case sslmode that agrees connects. */
  @Test
  void anUpperCaseSslmodeThatAgreesConnects() throws SQLException {
    AbstractConfig upper =
        config("jdbc:postgresql://127.0.0.1:5432/postgres?sslmode=DISABLE", "disable");
    PostgresConnectionConfig.check(upper);
    Properties props = PostgresConnectionConfig.properties(upper, "t");
    props.setProperty("user", "postgres");
    try (Connection c = DriverManager.getConnection(PostgresConnectionConfig.url(upper), props)) {
      assertTrue(c.isValid(5));
    }
  }

  /**
   * pgjdbc refuses an sslmode it does not know only when connecting, with SQLSTATE 08001, which the
   * connectors retried for ever: refused on connection.url, without quoting the value, whether or
   * not connection.sslmode is set.
   */
  @Test
  void anUnknownSslmodeInTheUrlIsRefusedWithoutQuotingIt() {
    for (String url :
        List.of(
            "jdbc:postgresql://db/soma?sslmode=verify_full",
            "jdbc:postgresql://db/soma?sslmode=true",
            "jdbc:postgresql://db/soma?sslmode=",
            "jdbc:postgresql://db/soma?sslmode",
            "jdbc:postgresql://db/soma?sslmode=require&sslmode=s3cret")) {
      for (String sslmode : new String[] {null, "require"}) {
        ConfigException e = assertThrows(ConfigException.class, () -> config(url, sslmode), url);
        assertTrue(e.getMessage().contains(PostgresConnectionConfig.URL), e.getMessage());
        assertTrue(e.getMessage().contains("sslmode parameter"), e.getMessage());
        assertFalse(e.getMessage().contains("verify_full"), e.getMessage());
        assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
      }
    }
  }

  /**
   * pgjdbc lets the URL's sslrootcert beat connection.sslrootcert: two different ones would verify
   * the server against a CA the config does not name. Refused on connection.sslrootcert; the same
   * path in both, or one in either place, passes.
   */
  @Test
  void aDifferentRootCertificateInTheUrlIsRefused() {
    OptionConflict e =
        assertThrows(
            OptionConflict.class,
            () ->
                PostgresConnectionConfig.check(
                    withRootCert(
                        "jdbc:postgresql://db/soma?sslrootcert=/url/ca.pem", "/etc/ca.pem")));
    assertEquals(PostgresConnectionConfig.SSLROOTCERT, e.option());
    assertTrue(e.getMessage().contains("one place"), e.getMessage());
    PostgresConnectionConfig.check(
        withRootCert("jdbc:postgresql://db/soma?sslrootcert=%2Fetc%2Fca.pem", "/etc/ca.pem"));
    PostgresConnectionConfig.check(withRootCert("jdbc:postgresql://db/soma", "/etc/ca.pem"));
    PostgresConnectionConfig.check(
        withRootCert("jdbc:postgresql://db/soma?sslrootcert=/url/ca.pem", null));
  }

  private static AbstractConfig withRootCert(String url, String rootCert) {
    ConfigDef def = new ConfigDef();
    PostgresConnectionConfig.define(def, "Connection", "");
    Map<String, String> props = new HashMap<>();
    props.put(PostgresConnectionConfig.URL, url);
    if (rootCert != null) {
      props.put(PostgresConnectionConfig.SSLROOTCERT, rootCert);
    }
    return new AbstractConfig(def, props);
  }

  /**
   * The connectors call check() from their config classes, so validate shows the contradiction on
   * connection.sslmode and no task starts with it (it failed at the first connection before).
   */
  @Test
  void checkRefusesAContradictingSslmodeOnTheTlsOption() {
    AbstractConfig contradicting =
        config("jdbc:postgresql://db/soma?sslmode=disable", "verify-full");
    OptionConflict e =
        assertThrows(OptionConflict.class, () -> PostgresConnectionConfig.check(contradicting));
    assertEquals(PostgresConnectionConfig.SSLMODE, e.option());
    assertTrue(e.getMessage().contains("contradicts sslmode=disable"), e.getMessage());
    PostgresConnectionConfig.check(config("jdbc:postgresql://db/soma?sslmode=require", "require"));
    PostgresConnectionConfig.check(config("jdbc:postgresql://db/soma?ssl=true", null));
  }

  /**
   * pgjdbc percent-decodes the database name and every parameter's value, and refuses the whole URL
   * at connect when one is badly encoded ("Unable to parse URL ..."): refused on connection.url,
   * naming the part but quoting nothing of the URL.
   */
  @Test
  void aBadlyEncodedUrlIsRefusedWithoutQuotingIt() {
    for (String url :
        List.of(
            "jdbc:postgresql://db/soma?sslpassword=s3cret&sslmode=%zz",
            "jdbc:postgresql://db/soma?sslpassword=s3cret&ApplicationName=%zz",
            "jdbc:postgresql://db/so%zzma?sslpassword=s3cret",
            "jdbc:postgresql:so%zzma?sslpassword=s3cret",
            "jdbc:postgresql://db/soma?sslpassword=s3cret&ssl=%")) {
      String message = refusal(url);
      assertTrue(message.contains("percent-encoded"), message);
      assertFalse(message.contains("s3cret"), message);
      assertFalse(message.contains("zz"), message);
    }
    // an & in a value not encoded makes the rest read as a name, which is not repeated
    String message = refusal("jdbc:postgresql://db/soma?sslpassword=s3c&ret=%zz");
    assertTrue(message.contains("has a parameter value that"), message);
    assertFalse(message.contains("ret"), message);
    // pgjdbc decodes neither parameter names nor hosts: left to it
    config("jdbc:postgresql://db/so%40ma?a%zz=1&b=%41", null);
  }

  /** connection.url's refusal of the URL: its message, which must quote nothing of it. */
  private static String refusal(String url) {
    ConfigException e = assertThrows(ConfigException.class, () -> config(url, "require"), url);
    assertTrue(e.getMessage().contains(PostgresConnectionConfig.URL), e.getMessage());
    return e.getMessage();
  }

  /**
   * pgjdbc refuses a host list without a / after it, and a port that is no number from 1 to 65535,
   * at connect, logging the whole URL (query and all) at WARNING: refused on connection.url, saying
   * what is wrong and quoting nothing of the URL.
   */
  @Test
  void hostsPgjdbcCannotParseAreRefusedWithoutQuotingThem() {
    for (String url :
        List.of(
            "jdbc:postgresql://pghost7?sslpassword=s3cret",
            "jdbc:postgresql://pghost7/soma/x?sslpassword=s3cret",
            "jdbc:postgresql://pghost7:notaport/soma?sslpassword=s3cret",
            "jdbc:postgresql://pghost7:/soma?sslpassword=s3cret",
            "jdbc:postgresql://pghost7:0/soma?sslpassword=s3cret",
            "jdbc:postgresql://a:5432,pghost7:70000/soma?sslpassword=s3cret")) {
      String message = refusal(url);
      assertTrue(message.contains("could not parse"), message);
      assertFalse(message.contains("s3cret"), message);
      assertFalse(message.contains("pghost7"), message);
    }
    for (String url :
        List.of(
            "jdbc:postgresql://[::1]:5432/soma",
            "jdbc:postgresql://a:1,b/soma",
            "jdbc:postgresql://a:+5432/soma",
            "jdbc:postgresql://pghost7/so%2Fma",
            "jdbc:postgresql://",
            "jdbc:postgresql:///soma",
            "jdbc:postgresql://db/",
            "jdbc:postgresql:soma")) {
      PostgresConnectionConfig.check(config(url, "require"));
    }
  }

  /** pgjdbc's answer to a URL it cannot parse quotes it whole, password parameter and all. */
  @Test
  void anErrorQuotingTheUrlIsPassedOnWithoutIt() {
    String url = "jdbc:postgresql://db:notaport/soma?password=s3cret";
    SQLException parse = new SQLException("Unable to parse URL " + url, "99999");
    SQLException wrapped = new SQLException("connect failed", "08001", parse);
    for (SQLException e : List.of(parse, wrapped)) {
      SQLException safe = PostgresConnectionConfig.withoutUrl(e, url);
      assertFalse(safe.getMessage().contains("s3cret"), safe.getMessage());
      assertNull(safe.getCause());
      assertEquals(e.getSQLState(), safe.getSQLState());
    }
    assertEquals(
        "Unable to parse URL <connection.url>",
        PostgresConnectionConfig.withoutUrl(parse, url).getMessage());
    SQLException other = new SQLException("relation does not exist", "42P01");
    assertSame(other, PostgresConnectionConfig.withoutUrl(other, url));
  }

  /**
   * withoutUrl's copy has no causes and no next exceptions. pgjdbc's own error quoting the URL has
   * neither, so nothing an operator needs is lost: the copy keeps its message (the URL named by the
   * option) and SQLSTATE, and errors that do not quote the URL pass whole, causes and all.
   */
  @Test
  void pgjdbcsErrorQuotingTheUrlHasNothingTheCopyDrops() {
    String url = "jdbc:postgresql://127.0.0.1:notaport/soma?sslpassword=s3cret";
    SQLException e =
        assertThrows(
            SQLException.class, () -> new org.postgresql.Driver().connect(url, new Properties()));
    assertTrue(e.getMessage().contains(url), e.getMessage());
    assertNull(e.getCause());
    assertNull(e.getNextException());
    SQLException safe = PostgresConnectionConfig.withoutUrl(e, url);
    assertEquals("Unable to parse URL <connection.url>", safe.getMessage());
    assertEquals(e.getSQLState(), safe.getSQLState());
  }

  /**
   * pgjdbc connects to the first host of the URL that answers: after a failover the old primary,
   * back as a standby, would answer every write with 25006. targetServerType=primary is set unless
   * the URL names another server type, which wins as any URL parameter does.
   */
  @Test
  void onlyAPrimaryIsConnectedToUnlessTheUrlSaysOtherwise() {
    Properties props =
        PostgresConnectionConfig.properties(config("jdbc:postgresql://a,b/soma", null), "t");
    assertEquals("primary", props.getProperty("targetServerType"));
  }

  /**
   * Against the real server: a database that is read-only (as a standby is: pgjdbc asks the server
   * for transaction_read_only) is refused with the default, a writable one connects, and a URL's
   * targetServerType=any still connects to the read-only one.
   */
  @Test
  void aReadOnlyServerIsNotConnectedToByDefault() throws SQLException {
    String readOnly = "soma_read_only_" + Long.toUnsignedString(System.nanoTime(), 36);
    Properties admin = new Properties();
    admin.setProperty("user", "postgres");
    try (Connection c =
        DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres", admin)) {
      c.createStatement().execute("CREATE DATABASE " + readOnly);
      c.createStatement()
          .execute("ALTER DATABASE " + readOnly + " SET default_transaction_read_only = on");
    }
    try {
      Map<String, String> props = new HashMap<>();
      props.put(PostgresConnectionConfig.USER, "postgres");
      props.put(PostgresConnectionConfig.SSLMODE, "disable");
      ConfigDef def = new ConfigDef();
      PostgresConnectionConfig.define(def, "Connection", "");
      props.put(PostgresConnectionConfig.URL, "jdbc:postgresql://127.0.0.1:5432/postgres");
      AbstractConfig writable = new AbstractConfig(def, props);
      try (Connection c =
          DriverManager.getConnection(
              PostgresConnectionConfig.url(writable),
              PostgresConnectionConfig.properties(writable, "t"))) {
        assertTrue(c.isValid(5));
      }
      props.put(PostgresConnectionConfig.URL, "jdbc:postgresql://127.0.0.1:5432/" + readOnly);
      AbstractConfig standby = new AbstractConfig(def, props);
      SQLException e =
          assertThrows(
              SQLException.class,
              () ->
                  DriverManager.getConnection(
                      PostgresConnectionConfig.url(standby),
                      PostgresConnectionConfig.properties(standby, "t")));
      assertTrue(e.getMessage().contains("targetServerType"), e.getMessage());
      props.put(
          PostgresConnectionConfig.URL,
          "jdbc:postgresql://127.0.0.1:5432/" + readOnly + "?targetServerType=any");
      AbstractConfig any = new AbstractConfig(def, props);
      try (Connection c =
          DriverManager.getConnection(
              PostgresConnectionConfig.url(any), PostgresConnectionConfig.properties(any, "t"))) {
        assertTrue(c.isValid(5));
      }
    } finally {
      try (Connection c =
          DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres", admin)) {
        c.createStatement().execute("DROP DATABASE IF EXISTS " + readOnly + " WITH (FORCE)");
      }
    }
  }

  /**
   * pgjdbc hands TLS to an sslfactory in the URL instead of its own, certificate-checking one:
   * NonValidatingFactory with connection.sslmode=verify-full would trust any server. Refused on
   * connection.url in verify-ca and verify-full (however the mode is given); kept otherwise, and
   * pgjdbc's factories that verify are kept in every mode.
   */
  @Test
  void anSslFactoryInTheUrlIsRefusedWhenTheCertificateMustBeVerified() {
    String factory = "sslfactory=org.postgresql.ssl.NonValidatingFactory";
    for (AbstractConfig verifying :
        List.of(
            config("jdbc:postgresql://db/soma?" + factory, "verify-full"),
            config("jdbc:postgresql://db/soma?" + factory, "verify-ca"),
            config("jdbc:postgresql://db/soma?sslmode=VERIFY-CA&" + factory, null),
            config("jdbc:postgresql://db/soma?ssl=true&" + factory, null))) {
      OptionConflict e =
          assertThrows(OptionConflict.class, () -> PostgresConnectionConfig.check(verifying));
      assertEquals(PostgresConnectionConfig.URL, e.option());
      assertTrue(e.getMessage().contains("sslfactory"), e.getMessage());
      assertFalse(e.getMessage().contains("jdbc:postgresql://db"), e.getMessage());
    }
    PostgresConnectionConfig.check(config("jdbc:postgresql://db/soma?" + factory, "require"));
    PostgresConnectionConfig.check(config("jdbc:postgresql://db/soma", "verify-full"));
    // ssl=false alone is pgjdbc's prefer, which verifies nothing anyway
    PostgresConnectionConfig.check(config("jdbc:postgresql://db/soma?ssl=false&" + factory, null));
    // pgjdbc's factories that verify as the mode asks (LibPQFactory is its default)
    for (String verifies :
        List.of(
            "org.postgresql.ssl.LibPQFactory",
            "org.postgresql.ssl.jdbc4.LibPQFactory",
            "org.postgresql.ssl.DefaultJavaSSLFactory")) {
      PostgresConnectionConfig.check(
          config("jdbc:postgresql://db/soma?sslfactory=" + verifies, "verify-full"));
    }
  }

  /**
   * A PKCS-12 client key without connection.sslpassword fails every connection on a worker
   * ("Console is not available"): refused on connection.sslpassword.
   */
  @Test
  void aPkcs12KeyWithoutItsPasswordIsRefusedOnTheSslPassword() {
    for (String key : List.of("/certs/client.p12", "/certs/client.pfx", "/certs/client.P12")) {
      AbstractConfig noPassword = config("jdbc:postgresql://db/soma?sslkey=" + key, "verify-full");
      OptionConflict e =
          assertThrows(OptionConflict.class, () -> PostgresConnectionConfig.check(noPassword));
      assertEquals(PostgresConnectionConfig.SSLPASSWORD, e.option());
      assertTrue(e.getMessage().contains("PKCS-12"), e.getMessage());
    }
    PostgresConnectionConfig.check(
        config("jdbc:postgresql://db/soma?sslkey=/certs/client.pk8", "verify-full"));
    ConfigDef def = new ConfigDef();
    PostgresConnectionConfig.define(def, "Connection", "");
    PostgresConnectionConfig.check(
        new AbstractConfig(
            def,
            Map.of(
                PostgresConnectionConfig.URL,
                "jdbc:postgresql://db/soma?sslkey=/certs/client.p12",
                PostgresConnectionConfig.SSLPASSWORD,
                "pw")));
  }
}
