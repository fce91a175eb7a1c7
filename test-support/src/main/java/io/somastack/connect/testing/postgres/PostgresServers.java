package io.somastack.connect.testing.postgres;

import java.nio.file.Path;
import java.util.Optional;

/** Finds a PostgreSQL server for this JVM; see {@link PostgresServer#shared()}. */
final class PostgresServers {

  static final String URL_ENV = "SOMA_TEST_PG_URL";

  private static PostgresServer shared;

  private PostgresServers() {}

  static synchronized PostgresServer shared() {
    if (shared == null) {
      shared = obtain();
      PostgresServer server = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(server::close, "postgres-shutdown"));
    }
    return shared;
  }

  private static PostgresServer obtain() {
    String url = System.getenv(URL_ENV);
    if (url != null && !url.isBlank()) {
      return ExternalPostgres.fromUrl(url);
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
