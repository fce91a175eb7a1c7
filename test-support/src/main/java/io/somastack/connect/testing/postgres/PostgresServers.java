package io.somastack.connect.testing.postgres;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * Finds a PostgreSQL server for this JVM; see {@link PostgresServer#shared()} and {@link
 * PostgresServer#owned()}.
 */
final class PostgresServers {

  static final String URL_ENV = "SOMA_TEST_PG_URL";

  private static PostgresServer shared;
  private static LocalPostgresCluster owned;

  private PostgresServers() {}

  static synchronized PostgresServer shared() {
    if (shared == null) {
      shared = obtain();
      if (shared != owned) {
        closeOnExit(shared);
      }
    }
    return shared;
  }

  /**
   * The shared server when it is a local cluster, else a local cluster of its own: never a
   * container, whose server cannot be stopped or reconfigured, nor a server named by {@link
   * #URL_ENV}. A test run pointed at such a server by the user skips the tests that need this one;
   * any other run without PostgreSQL's binaries fails them, since a skip there would hide that they
   * never ran.
   */
  static synchronized LocalPostgresCluster owned() {
    Assumptions.assumeTrue(
        externalUrl() == null,
        URL_ENV
            + " names the server to test against, which is not the tests' to stop or configure");
    if (shared instanceof LocalPostgresCluster local) {
      return local;
    }
    if (owned == null) {
      Path binaries =
          LocalPostgresCluster.findBinaries()
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "This test stops, restarts or configures its PostgreSQL server, so it"
                              + " needs a cluster of its own: install PostgreSQL's server binaries"
                              + " (Debian: apt-get install -y postgresql) so initdb and pg_ctl are"
                              + " found, or set SOMA_PG_BINDIR to their folder"));
      owned = LocalPostgresCluster.create(binaries);
      closeOnExit(owned);
    }
    return owned;
  }

  private static void closeOnExit(PostgresServer server) {
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "postgres-shutdown"));
  }

  private static String externalUrl() {
    String url = System.getenv(URL_ENV);
    return url == null || url.isBlank() ? null : url;
  }

  /**
   * The server {@link #URL_ENV} names. A URL that cannot be read is refused naming the variable,
   * never quoting it: it may hold passwords, and test logs are published.
   */
  static PostgresServer external(String url) {
    try {
      return ExternalPostgres.fromUrl(url);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(URL_ENV + " " + e.getMessage(), e);
    }
  }

  private static PostgresServer obtain() {
    String url = externalUrl();
    if (url != null) {
      return external(url);
    }
    if (owned != null) {
      return owned; // a cluster this JVM already runs serves every test: no second server
    }
    if (ContainerPostgres.dockerAvailable()) {
      return ContainerPostgres.launch();
    }
    Optional<Path> binaries = LocalPostgresCluster.findBinaries();
    if (binaries.isPresent()) {
      return LocalPostgresCluster.create(binaries.get());
    }
    throw new IllegalStateException(
        "No PostgreSQL server for the tests. Either set "
            + URL_ENV
            + " to a jdbc:postgresql:// URL of a server the tests may create databases on, run a"
            + " Docker engine (Testcontainers), or install PostgreSQL's server binaries"
            + " (Debian: apt-get install -y postgresql) so initdb and pg_ctl are found.");
  }
}
