package io.somastack.connect.testing.postgres;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.StringJoiner;
import org.postgresql.PGProperty;

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
   * ignored), read as pgjdbc reads it. The parameters other than user, password and sslpassword are
   * kept for {@link #jdbcUrl}: dropping them made connections without the URL's TLS settings.
   *
   * @throws IllegalArgumentException when pgjdbc could not read the URL either; its message says
   *     why without the URL's text, which may hold passwords (java.net.URI's quoted it whole)
   */
  static ExternalPostgres fromUrl(String jdbcUrl) {
    String url = jdbcUrl.strip();
    int query = url.indexOf('?');
    String beforeQuery = query < 0 ? url : url.substring(0, query);
    String rest = beforeQuery.replaceFirst("^(jdbc:)?postgresql:", "");
    if (rest.equals(beforeQuery)) {
      throw new IllegalArgumentException("is not a PostgreSQL URL: give " + FORM);
    }
    String hosts = "localhost:5432"; // jdbc:postgresql:db, as pgjdbc reads it
    if (rest.startsWith("//")) {
      int slash = rest.indexOf('/', 2);
      if (slash < 0) {
        throw new IllegalArgumentException("has no / after its hosts: give " + FORM);
      }
      hosts = hostsWithPorts(rest.substring(2, slash));
    }
    String user = "postgres";
    String password = null;
    String sslPassword = null;
    StringJoiner parameters = new StringJoiner("&");
    if (query >= 0) {
      for (String pair : url.substring(query + 1).split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        String[] kv = pair.split("=", 2);
        String name = decodedName(kv[0]);
        String value = kv.length < 2 ? "" : decoded(kv[1], kv[0]);
        if (name.equals("user")) {
          user = value;
        } else if (name.equals("password")) {
          password = value;
        } else if (name.equals("sslpassword")) {
          sslPassword = value;
        } else if (!name.equalsIgnoreCase("password") && !name.equalsIgnoreCase("sslpassword")) {
          // user and the passwords stay out: connect() passes them as properties, given ones
          // winning; a Password= pgjdbc ignores is left out too, as a password all the same
          parameters.add(pair);
        }
      }
    }
    return new ExternalPostgres(hosts, user, password, sslPassword, parameters.toString());
  }

  /**
   * Each host of a host list with its port, 5432 where it has none (an IPv6 address in [ ]).
   * java.net.URI misread what it could not take for one host name (h1,h2; pg_primary).
   */
  private static String hostsWithPorts(String hostList) {
    if (hostList.contains("@")) {
      throw new IllegalArgumentException(
          "holds a user name or password before the host (user:password@host), which pgjdbc"
              + " cannot read: give them as the user= and password= parameters");
    }
    if (hostList.isEmpty()) {
      return "localhost:5432";
    }
    StringJoiner hosts = new StringJoiner(",");
    for (String host : hostList.split(",", -1)) {
      int colon = host.lastIndexOf(':');
      if (colon < 0 || colon < host.lastIndexOf(']')) {
        hosts.add(host + ":5432");
      } else if (isPort(host.substring(colon + 1))) {
        hosts.add(host);
      } else {
        throw new IllegalArgumentException("has a port that is not a number from 1 to 65535");
      }
    }
    return hosts.toString();
  }

  private static boolean isPort(String text) {
    try {
      int port = Integer.parseInt(text);
      return port >= 1 && port <= 65535;
    } catch (NumberFormatException notANumber) {
      return false;
    }
  }

  private static String decodedName(String name) {
    try {
      return URLDecoder.decode(name, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException badlyEncoded) {
      return name; // pgjdbc reads names as written
    }
  }

  /**
   * A parameter's value decoded as pgjdbc decodes it. URLDecoder's message quotes the value; this
   * one names the parameter only when pgjdbc knows its name: in a password holding an unencoded &,
   * what follows would read as a name.
   */
  private static String decoded(String value, String name) {
    try {
      return URLDecoder.decode(value, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException badlyEncoded) {
      throw new IllegalArgumentException(
          "has "
              + (PGProperty.forName(name) != null
                  ? "a value of its " + name + " parameter"
                  : "a parameter value")
              + " that is not correctly percent-encoded (a % must start two hex digits; %25 is a"
              + " % itself)");
    }
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
