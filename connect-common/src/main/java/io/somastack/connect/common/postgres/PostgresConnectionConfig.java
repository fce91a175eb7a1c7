package io.somastack.connect.common.postgres;

import io.somastack.connect.common.config.OptionConflict;
import io.somastack.connect.common.config.Recommenders;
import io.somastack.connect.common.config.Validators;
import java.sql.SQLException;
import java.util.Properties;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.types.Password;

/**
 * The connection options every PostgreSQL plugin takes (URL, user, password, TLS), defined once so
 * they read the same in every connector's docs and validate the same way.
 */
public final class PostgresConnectionConfig {

  public static final String URL = "connection.url";
  public static final String USER = "connection.user";
  public static final String PASSWORD = "connection.password";
  public static final String SSLMODE = "connection.sslmode";
  public static final String SSLROOTCERT = "connection.sslrootcert";
  public static final String SSLPASSWORD = "connection.sslpassword";

  /** pgjdbc's property choosing which of the URL's hosts to connect to. */
  public static final String TARGET_SERVER_TYPE = "targetServerType";

  /** The server type set unless connection.url names another: a writable server. */
  public static final String DEFAULT_TARGET_SERVER_TYPE = "primary";

  private PostgresConnectionConfig() {}

  /**
   * Defines the options in {@code group}, in order from 1.
   *
   * @param userDoc what the user needs to be allowed to do, appended to the user option's docs
   * @return the last order used, for options the caller adds to the same group
   */
  public static int define(ConfigDef def, String group, String userDoc) {
    int order = 0;
    def.define(
        URL,
        Type.STRING,
        ConfigDef.NO_DEFAULT_VALUE,
        Validators.postgresUrl(),
        Importance.HIGH,
        "JDBC URL of the PostgreSQL database, e.g. jdbc:postgresql://db:5432/soma. Use a config"
            + " provider in deployed configs: ${env:SOMA_PG_URL}. It is logged with the"
            + " connector's settings, so user:password@ and password= and sslpassword="
            + " parameters are refused: the password goes in connection.password, and the"
            + " password of a client certificate's key (sslkey=) in connection.sslpassword. With"
            + " standbys, list every host (jdbc:postgresql://pg-a:5432,pg-b:5432/soma): only a"
            + " primary is connected to (pgjdbc's targetServerType=primary, unless the URL sets"
            + " another), so a standby, the old primary after a failover, is passed over.",
        group,
        ++order,
        Width.LONG,
        "JDBC URL");
    def.define(
        USER,
        Type.STRING,
        null,
        Importance.HIGH,
        "Database user, e.g. ${env:SOMA_PG_USER}. " + userDoc,
        group,
        ++order,
        Width.MEDIUM,
        "User");
    def.define(
        PASSWORD,
        Type.PASSWORD,
        null,
        Importance.HIGH,
        "Database password; supply it through a config provider (${env:SOMA_PG_PASSWORD} or"
            + " ${file:/secrets/pg.properties:password}) so it never sits in the connector config."
            + " The worker must declare the provider (config.providers): the Docker image's and the"
            + " Strimzi worker configs declare env only, so add"
            + " org.apache.kafka.common.config.provider.FileConfigProvider as file there for the"
            + " second form; the quickstart's worker declares both.",
        group,
        ++order,
        Width.MEDIUM,
        "Password");
    def.define(
        SSLMODE,
        Type.STRING,
        "prefer",
        ConfigDef.ValidString.in(SslModes.ALL),
        Importance.MEDIUM,
        "TLS to PostgreSQL, as pgjdbc's sslmode. Use verify-full in production: it checks the"
            + " server's certificate against connection.sslrootcert and its host name. A TLS mode"
            + " in connection.url must agree with this one (case aside) when this is set: its"
            + " sslmode, or else its ssl=true, which pgjdbc reads as verify-full (and uses as such"
            + " when this option is unset). In verify-ca and verify-full an sslfactory in"
            + " connection.url, which would make the certificate checks its own, is refused.",
        group,
        ++order,
        Width.SHORT,
        "TLS mode",
        Recommenders.values(SslModes.ALL));
    def.define(
        SSLROOTCERT,
        Type.STRING,
        null,
        Importance.LOW,
        "Path of the CA certificate (PEM) that signed the server's certificate, for verify-ca and"
            + " verify-full. An sslrootcert in connection.url, which pgjdbc would use instead, must"
            + " be the same path when this is set: set it here, in one place.",
        group,
        ++order,
        Width.LONG,
        "TLS root certificate");
    def.define(
        SSLPASSWORD,
        Type.PASSWORD,
        null,
        Importance.LOW,
        "Password of the client certificate's key (sslkey= in connection.url): needed for a"
            + " PKCS-12 key (.p12, .pfx), which pgjdbc always opens with a password and, without"
            + " one, fails to open on a worker (\"Console is not available\"), and for an"
            + " encrypted PKCS-8 key (.pk8, DER; the JVM must know its cipher: `openssl pkcs8"
            + " -topk8 -outform DER -v1 PBE-SHA1-3DES` makes one that Java 17 opens, OpenSSL 3's"
            + " default PBES2 one it cannot); an unencrypted PKCS-8 key needs none. Supply it"
            + " through a config provider, as connection.password (${env:SOMA_PG_SSLPASSWORD} or"
            + " ${file:/secrets/pg.properties:sslpassword}); an sslpassword= in connection.url is"
            + " refused, as it would be logged with the connector's settings.",
        group,
        ++order,
        Width.MEDIUM,
        "TLS client key password");
    return order;
  }

  public static String url(AbstractConfig config) {
    return config.getString(URL);
  }

  /**
   * A database error fit to put in a task's failure or a log: {@code e} itself, or, when it or a
   * cause quotes connection.url, a copy with the URL replaced by the option's name and no causes.
   * pgjdbc quotes a URL it cannot parse whole ("Unable to parse URL ..."), a URL may carry a
   * password, and Connect shows a failure with its causes in the REST status.
   */
  public static SQLException withoutUrl(SQLException e, String url) {
    if (url == null || url.isEmpty()) {
      return e;
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      String message = t.getMessage();
      if (message != null && message.contains(url)) {
        String own = e.getMessage() == null ? "" : e.getMessage().replace(url, "<" + URL + ">");
        SQLException safe = new SQLException(own, e.getSQLState(), e.getErrorCode());
        safe.setStackTrace(e.getStackTrace());
        return safe;
      }
    }
    return e;
  }

  /**
   * Refuses, on the option at fault, what would weaken the first connection and no single option's
   * validator can see: a TLS mode or root certificate in connection.url that contradicts
   * connection.sslmode or connection.sslrootcert (a URL pgjdbc cannot parse, or whose sslmode it
   * does not know, is refused by the URL's own validator, {@code Validators.postgresUrl}). The
   * config classes call it from their constructors, so that validate explains it and no task starts
   * with it.
   */
  public static void check(AbstractConfig config) {
    String mode = sslmode(config);
    sslrootcert(config);
    sslfactory(config, mode == null ? modeOfSslParameter(config) : SslModes.named(mode));
    sslkeyPassword(config);
  }

  /**
   * The mode pgjdbc reads from the URL's ssl parameter alone (no sslmode anywhere): verify-full for
   * ssl=true, prefer for ssl=false.
   */
  private static String modeOfSslParameter(AbstractConfig config) {
    return readsAsSslTrue(urlParameter(JdbcUrl.parse(url(config)), "ssl"))
        ? SslModes.SSL_TRUE
        : "prefer";
  }

  /**
   * pgjdbc's factory that trusts any certificate: with it, verify-ca checks nothing and verify-full
   * only the host name. Its other factories (LibPQFactory, its default, and DefaultJavaSSLFactory,
   * which checks against the JVM's trust store) verify as the mode asks.
   */
  private static final String NON_VALIDATING_FACTORY = "org.postgresql.ssl.NonValidatingFactory";

  /**
   * An sslfactory in connection.url replaces pgjdbc's TLS socket factory: NonValidatingFactory, in
   * verify-ca or verify-full, would let any certificate through while the mode says it is checked.
   * Refused in those modes; the factory's name is not quoted, as nothing of the URL is.
   */
  private static void sslfactory(AbstractConfig config, String mode) {
    if (!"verify-ca".equals(mode) && !"verify-full".equals(mode)) {
      return;
    }
    String factory = urlParameter(JdbcUrl.parse(url(config)), "sslfactory");
    if (factory != null && factory.trim().equals(NON_VALIDATING_FACTORY)) {
      throw new OptionConflict(
          URL,
          "its sslfactory parameter names pgjdbc's NonValidatingFactory, which trusts any"
              + " certificate, so sslmode="
              + mode
              + " would check nothing it promises; remove sslfactory from "
              + URL
              + ", or choose a mode that does not verify (require) if that is what is meant");
    }
  }

  /**
   * pgjdbc opens a PKCS-12 client key (an sslkey ending .p12 or .pfx, as it tells them apart) with
   * a password always, and without one asks the console, which a worker has not: every connection
   * would fail ("Console is not available"). Refused on connection.sslpassword unless it is set (or
   * the URL names an sslpasswordcallback, which supplies it).
   */
  private static void sslkeyPassword(AbstractConfig config) {
    JdbcUrl url = JdbcUrl.parse(url(config));
    String key = urlParameter(url, "sslkey");
    String lowerCase = key == null ? null : key.toLowerCase(java.util.Locale.ROOT);
    // pgjdbc tells them apart ignoring case (client.P12 too)
    if (lowerCase == null || !(lowerCase.endsWith(".p12") || lowerCase.endsWith(".pfx"))) {
      return;
    }
    Password password = config.getPassword(SSLPASSWORD);
    if ((password == null || password.value() == null)
        && urlParameter(url, "sslpasswordcallback") == null) {
      throw new OptionConflict(
          SSLPASSWORD,
          "is required: the sslkey in "
              + URL
              + " is a PKCS-12 key (.p12, .pfx), which pgjdbc cannot open without a password on"
              + " a worker (\"Console is not available\"); set this option to the key's password,"
              + " through a config provider (${env:SOMA_PG_SSLPASSWORD})");
    }
  }

  /**
   * The TLS mode pgjdbc will use. It lets a URL parameter beat the connection property, so an
   * sslmode in connection.url that contradicts an explicit connection.sslmode (verify-full in the
   * config, disable in the URL) would silently connect without the checks the config asks for: a
   * configuration error. An sslmode in the URL alone is the one used. Null when pgjdbc must decide
   * from the URL's ssl parameter: it reads ssl=true without an sslmode as verify-full, which the
   * default connection.sslmode=prefer passed as a property would quietly weaken. An explicit
   * connection.sslmode, passed as a property, beats that ssl=true: one other than verify-full
   * contradicts it like a URL's sslmode.
   */
  private static String sslmode(AbstractConfig config) {
    String configured = config.getString(SSLMODE);
    boolean explicit = config.originals().containsKey(SSLMODE);
    JdbcUrl url = JdbcUrl.parse(url(config));
    String inUrl = urlParameter(url, "sslmode");
    if (inUrl == null) {
      boolean sslTrue = readsAsSslTrue(urlParameter(url, "ssl"));
      if (explicit && sslTrue && !SslModes.SSL_TRUE.equals(configured)) {
        throw contradiction(
            configured,
            "ssl=true in " + URL + ", which pgjdbc reads as sslmode=" + SslModes.SSL_TRUE);
      }
      return !explicit && urlParameter(url, "ssl") != null ? null : configured;
    }
    // pgjdbc takes the mode in any case; an unknown one the URL's validator refused already
    String mode = SslModes.named(inUrl);
    if (explicit && !configured.equals(mode)) {
      throw contradiction(
          configured, "sslmode=" + mode + " in " + URL + ", which pgjdbc would use instead");
    }
    return inUrl;
  }

  /** pgjdbc's reading of the URL's ssl: true in any case, or the parameter without a value. */
  private static boolean readsAsSslTrue(String ssl) {
    return ssl != null && (ssl.isEmpty() || Boolean.parseBoolean(ssl));
  }

  /** connection.sslmode contradicting {@code inUrl}, what connection.url says of the TLS mode. */
  private static OptionConflict contradiction(String configured, String inUrl) {
    return new OptionConflict(
        SSLMODE, configured, "contradicts " + inUrl + "; set the TLS mode in one place");
  }

  /**
   * pgjdbc lets an sslrootcert in the URL beat connection.sslrootcert too, so a different one in
   * each would verify the server against a CA the config does not name: refused, as for sslmode.
   */
  private static void sslrootcert(AbstractConfig config) {
    String configured = config.getString(SSLROOTCERT);
    if (configured == null || configured.isBlank()) {
      return;
    }
    String inUrl = urlParameter(JdbcUrl.parse(url(config)), "sslrootcert");
    if (inUrl != null && !inUrl.equals(configured)) {
      throw new OptionConflict(
          SSLROOTCERT,
          configured,
          "differs from the sslrootcert in "
              + URL
              + ", which pgjdbc would use instead; set the root certificate in one place, this"
              + " option");
    }
  }

  /** {@link JdbcUrl#parameter}, its error a config error naming the option, never its text. */
  private static String urlParameter(JdbcUrl url, String name) {
    try {
      return url.parameter(name);
    } catch (IllegalArgumentException e) {
      throw new OptionConflict(URL, e.getMessage());
    }
  }

  /**
   * pgjdbc connection properties: user, password, TLS (the client key's password among them), the
   * application name the server shows. They hold secrets: never log them.
   */
  public static Properties properties(AbstractConfig config, String applicationName) {
    Properties props = new Properties();
    String user = config.getString(USER);
    if (user != null && !user.isBlank()) {
      props.setProperty("user", user);
    }
    Password password = config.getPassword(PASSWORD);
    if (password != null && password.value() != null) {
      props.setProperty("password", password.value());
    }
    Password keyPassword = config.getPassword(SSLPASSWORD);
    if (keyPassword != null && keyPassword.value() != null) {
      props.setProperty("sslpassword", keyPassword.value());
    }
    String sslmode = sslmode(config);
    if (sslmode != null) {
      props.setProperty("sslmode", sslmode);
    }
    String rootCert = config.getString(SSLROOTCERT);
    if (rootCert != null && !rootCert.isBlank()) {
      props.setProperty("sslrootcert", rootCert);
    }
    props.setProperty("ApplicationName", applicationName);
    props.setProperty("tcpKeepAlive", "true");
    // Deadlines on connecting and on every read: a server that restarts or a connection that
    // dies half-way must become an error the task retries, never a task blocked for ever.
    props.setProperty("connectTimeout", "10");
    props.setProperty("socketTimeout", "60");
    // The server's detail and context of an error quote the data ("Failing row contains (...)",
    // "COPY t, line 3, column c: ..."): kept out of exception messages, which reach logs and
    // dead-letter headers (a URL's logServerErrorDetail=true still wins, for debugging)
    props.setProperty("logServerErrorDetail", "false");
    // pgjdbc connects to the first host of connection.url that answers, standby or not: after a
    // failover the old primary, back as a standby, would answer every write with 25006
    // (read_only_sql_transaction) on every retry. Only a primary will do for a write or a LISTEN
    // (a URL's targetServerType still wins, as above)
    props.setProperty(TARGET_SERVER_TYPE, DEFAULT_TARGET_SERVER_TYPE);
    return props;
  }
}
