package io.somastack.connect.testing.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * A real PostgreSQL server for tests and the quickstart. {@link #shared()} finds one, in this
 * order: a URL in {@code SOMA_TEST_PG_URL}; a container where a Docker engine runs; a throwaway
 * cluster made with the PostgreSQL binaries installed on this machine. Failing all three it says
 * what to install.
 */
public interface PostgresServer extends AutoCloseable {

  /** A JDBC URL of the given database on this server. */
  String jdbcUrl(String database);

  String user();

  String password();

  /**
   * The password of the client certificate's key (the URL's sslkey=), passed to pgjdbc as the
   * sslpassword property; null for none, and pgjdbc then asks the console for one if the key is
   * encrypted.
   */
  default String sslPassword() {
    return null;
  }

  /** Whether {@link #restart()} is possible (a server this JVM does not own cannot be). */
  boolean canRestart();

  /** Stops the server (fast shutdown: open sessions are cut) and starts it again. */
  void restart();

  /** Stops the server; {@link #start()} brings it back on the same port with the same data. */
  void stop();

  void start();

  @Override
  void close();

  /** Connects to a database of this server. */
  default Connection connect(String database) throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", user());
    if (password() != null) {
      props.setProperty("password", password());
    }
    if (sslPassword() != null) {
      props.setProperty("sslpassword", sslPassword());
    }
    return DriverManager.getConnection(jdbcUrl(database), props);
  }

  /** Creates a fresh, empty database (dropping one of the same name) and returns its JDBC URL. */
  default String createDatabase(String name) {
    try (Connection c = connect("postgres");
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
      s.execute("CREATE DATABASE \"" + name + "\"");
      return jdbcUrl(name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database " + name, e);
    }
  }

  /**
   * A server someone else runs (never restarted or stopped from here), named by a
   * jdbc:postgresql:// URL. The given user and password, when not null, win over the URL's user=
   * and password=.
   *
   * @throws IllegalArgumentException when pgjdbc could not read the URL; the message, to follow a
   *     name for the URL ("has no / after its hosts ..."), never quotes it: it may hold passwords
   */
  static PostgresServer external(String jdbcUrl, String user, String password) {
    return external(jdbcUrl, user, password, null);
  }

  /**
   * {@link #external(String, String, String)} with the client key's password, which wins over the
   * URL's sslpassword= when not null. It is never in {@link #jdbcUrl}: {@link #connect} passes it
   * as a property, so whoever else connects with that URL gives the same password the same way.
   */
  static PostgresServer external(String jdbcUrl, String user, String password, String sslPassword) {
    return ExternalPostgres.of(jdbcUrl, user, password, sslPassword);
  }

  /** One server per JVM, started on first use and stopped when the JVM exits. */
  static PostgresServer shared() {
    return PostgresServers.shared();
  }

  /**
   * A server this JVM started from the local PostgreSQL binaries, for tests that stop, restart or
   * configure it (TLS): {@link #shared()} when that is one, else a cluster of its own. Aborts the
   * test (a skip) only when {@code SOMA_TEST_PG_URL} points the tests at a server of the user's;
   * otherwise fails when no binaries are installed, rather than skipping unnoticed where a Docker
   * engine made the shared server a container.
   */
  static LocalPostgresCluster owned() {
    return PostgresServers.owned();
  }
}
