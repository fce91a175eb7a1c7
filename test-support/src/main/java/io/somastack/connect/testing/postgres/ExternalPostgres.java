package io.somastack.connect.testing.postgres;

import io.somastack.connect.common.postgres.JdbcUrl;
import java.util.StringJoiner;

/** A server someone else runs, named by a JDBC URL: usable, but never restarted or stopped. */
final class ExternalPostgres implements PostgresServer {

  private static final String FORM = "jdbc:postgresql://HOST:PORT/DATABASE";

  // the host list as pgjdbc reads it, each host with its port: h1:5432,h2:5433
  private final String hosts;
  private final String user;
  private final String password;
  private final String sslPassword;
  // the URL's other parameters (sslmode, sslrootcert, ...) as given, still encoded; "" for none
  private final String parameters;

  private ExternalPostgres(
      String hosts, String user, String password, String sslPassword, String parameters) {
    this.hosts = hosts;
    this.user = user;
    this.password = password;
    this.sslPassword = sslPassword;
    this.parameters = parameters;
  }

  /**
   * Accepts jdbc:postgresql://host:port/db?user=u&password=p&sslpassword=k&... (database is
   * ignored; "jdbc:" may be left out), read as pgjdbc reads it ({@link JdbcUrl}, as the plugins
   * read their connection.url). The parameters other than user, password and sslpassword (in any
   * case) are kept for {@link #jdbcUrl}: dropping them made connections without the URL's TLS
   * settings.
   *
   * @throws IllegalArgumentException when pgjdbc could not read the URL either; its message says
   *     why without the URL's text, which may hold passwords (java.net.URI's quoted it whole)
   */
  static ExternalPostgres fromUrl(String jdbcUrl) {
    String url = jdbcUrl.strip();
    if (url.startsWith("postgresql:")) {
      url = "jdbc:" + url;
    }
    if (!url.startsWith("jdbc:postgresql:")) {
      throw new IllegalArgumentException("is not a PostgreSQL URL: give " + FORM);
    }
    JdbcUrl parsed = JdbcUrl.parse(url);
    if (parsed.hasUserInfo()) {
      throw new IllegalArgumentException(
          "holds a user name or password before the host (user:password@host), which pgjdbc"
              + " cannot read: give them as the user= and password= parameters");
    }
    String problem = parsed.unparsable();
    if (problem != null) {
      throw new IllegalArgumentException(problem + ": give " + FORM);
    }
    String user = parsed.parameter("user");
    return new ExternalPostgres(
        hostsWithPorts(parsed.hostList()),
        user == null ? "postgres" : user,
        parsed.parameter("password"),
        parsed.parameter("sslpassword"),
        // user and the passwords stay out: connect() passes them as properties, given ones
        // winning; a Password= pgjdbc ignores is left out too, as a password all the same
        parsed.queryWithout("user", "password", "sslpassword"));
  }

  /**
   * Each host of a host list with its port, 5432 where it has none (an IPv6 address in [ ]);
   * localhost:5432 for none (jdbc:postgresql:db, as pgjdbc reads it). java.net.URI misread what it
   * could not take for one host name (h1,h2; pg_primary).
   */
  private static String hostsWithPorts(String hostList) {
    if (hostList == null || hostList.isEmpty()) {
      return "localhost:5432";
    }
    StringJoiner hosts = new StringJoiner(",");
    for (String host : hostList.split(",", -1)) {
      int colon = host.lastIndexOf(':');
      hosts.add(colon < 0 || colon < host.lastIndexOf(']') ? host + ":5432" : host);
    }
    return hosts.toString();
  }

  static ExternalPostgres of(String jdbcUrl, String user, String password) {
    return of(jdbcUrl, user, password, null);
  }

  static ExternalPostgres of(String jdbcUrl, String user, String password, String sslPassword) {
    ExternalPostgres parsed = fromUrl(jdbcUrl);
    // each given value wins over the URL's; an unset one leaves the URL's (a password= in
    // SOMA_PG_URL was dropped when SOMA_PG_PASSWORD was unset)
    return new ExternalPostgres(
        parsed.hosts,
        user == null || user.isBlank() ? parsed.user : user,
        password == null ? parsed.password : password,
        sslPassword == null ? parsed.sslPassword : sslPassword,
        parsed.parameters);
  }

  @Override
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://"
        + hosts
        + "/"
        + database
        + (parameters.isEmpty() ? "" : "?" + parameters);
  }

  @Override
  public String user() {
    return user;
  }

  @Override
  public String password() {
    return password;
  }

  @Override
  public String sslPassword() {
    return sslPassword;
  }

  @Override
  public boolean canRestart() {
    return false;
  }

  @Override
  public void restart() {
    throw new IllegalStateException("the server at " + hosts + " is not ours to restart");
  }

  @Override
  public void stop() {
    throw new IllegalStateException("the server at " + hosts + " is not ours to stop");
  }

  @Override
  public void start() {}

  @Override
  public void close() {}
}
