package io.somastack.connect.testing.postgres;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.StringJoiner;

/** A server someone else runs, named by a JDBC URL: usable, but never restarted or stopped. */
final class ExternalPostgres implements PostgresServer {

  private final String hostPort;
  private final String user;
  private final String password;
  // the URL's other parameters (sslmode, sslrootcert, ...) as given, still encoded; "" for none
  private final String parameters;

  private ExternalPostgres(String hostPort, String user, String password, String parameters) {
    this.hostPort = hostPort;
    this.user = user;
    this.password = password;
    this.parameters = parameters;
  }

  /**
   * Accepts jdbc:postgresql://host:port/db?user=u&password=p&... (database is ignored). The
   * parameters other than user and password are kept for {@link #jdbcUrl}: dropping them made
   * connections without the URL's TLS settings.
   */
  static ExternalPostgres fromUrl(String jdbcUrl) {
    URI uri = URI.create(jdbcUrl.replaceFirst("^jdbc:", ""));
    String user = "postgres";
    String password = null;
    StringJoiner parameters = new StringJoiner("&");
    if (uri.getRawQuery() != null) {
      for (String pair : uri.getRawQuery().split("&")) {
        String[] kv = pair.split("=", 2);
        String name = URLDecoder.decode(kv[0], StandardCharsets.UTF_8);
        if (name.equals("user")) {
          user = URLDecoder.decode(kv[1], StandardCharsets.UTF_8);
        } else if (name.equals("password")) {
          password = URLDecoder.decode(kv[1], StandardCharsets.UTF_8);
        } else if (!pair.isEmpty()) {
          // user and password stay out: connect() passes them as properties, given ones winning
          parameters.add(pair);
        }
      }
    }
    int port = uri.getPort() < 0 ? 5432 : uri.getPort();
    return new ExternalPostgres(uri.getHost() + ":" + port, user, password, parameters.toString());
  }

  static ExternalPostgres of(String jdbcUrl, String user, String password) {
    ExternalPostgres parsed = fromUrl(jdbcUrl);
    // each given value wins over the URL's; an unset one leaves the URL's (a password= in
    // SOMA_PG_URL was dropped when SOMA_PG_PASSWORD was unset)
    return new ExternalPostgres(
        parsed.hostPort,
        user == null || user.isBlank() ? parsed.user : user,
        password == null ? parsed.password : password,
        parsed.parameters);
  }

  @Override
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://"
        + hostPort
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
  public boolean canRestart() {
    return false;
  }

  @Override
  public void restart() {
    throw new IllegalStateException("the server at " + hostPort + " is not ours to restart");
  }

  @Override
  public void stop() {
    throw new IllegalStateException("the server at " + hostPort + " is not ours to stop");
  }

  @Override
  public void start() {}

  @Override
  public void close() {}
}
