package io.somastack.connect.testing.postgres;

import java.net.URI;

/** A server someone else runs, named by a JDBC URL: usable, but never restarted or stopped. */
final class ExternalPostgres implements PostgresServer {

  private final String hostPort;
  private final String user;
  private final String password;

  private ExternalPostgres(String hostPort, String user, String password) {
    this.hostPort = hostPort;
    this.user = user;
    this.password = password;
  }

  /** Accepts jdbc:postgresql://host:port/db?user=u&password=p (database is ignored). */
  static ExternalPostgres fromUrl(String jdbcUrl) {
    URI uri = URI.create(jdbcUrl.replaceFirst("^jdbc:", ""));
    String user = "postgres";
    String password = null;
    if (uri.getQuery() != null) {
      for (String pair : uri.getQuery().split("&")) {
        String[] kv = pair.split("=", 2);
        if (kv[0].equals("user")) {
          user = kv[1];
        } else if (kv[0].equals("password")) {
          password = kv[1];
        }
      }
    }
    int port = uri.getPort() < 0 ? 5432 : uri.getPort();
    return new ExternalPostgres(uri.getHost() + ":" + port, user, password);
  }

  static ExternalPostgres of(String jdbcUrl, String user, String password) {
    ExternalPostgres parsed = fromUrl(jdbcUrl);
    // each given value wins over the URL's; an unset one leaves the URL's (a password= in
    // SOMA_PG_URL was dropped when SOMA_PG_PASSWORD was unset)
    return new ExternalPostgres(
        parsed.hostPort,
        user == null || user.isBlank() ? parsed.user : user,
        password == null ? parsed.password : password);
  }

  @Override
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://" + hostPort + "/" + database;
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
