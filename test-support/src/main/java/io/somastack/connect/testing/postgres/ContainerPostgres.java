package io.somastack.connect.testing.postgres;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * PostgreSQL in a container, where a Docker engine runs. Restarting is done inside the container
 * with pg_ctl so the mapped port stays the same.
 */
final class ContainerPostgres implements PostgresServer {

  private static final String IMAGE = "postgres:16.4-alpine";

  private final PostgreSQLContainer container;

  private ContainerPostgres(PostgreSQLContainer container) {
    this.container = container;
  }

  static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  static ContainerPostgres launch() {
    PostgreSQLContainer container = new PostgreSQLContainer(IMAGE);
    container.start();
    return new ContainerPostgres(container);
  }

  @Override
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://"
        + container.getHost()
        + ":"
        + container.getMappedPort(5432)
        + "/"
        + database;
  }

  @Override
  public String user() {
    return container.getUsername();
  }

  @Override
  public String password() {
    return container.getPassword();
  }

  @Override
  public boolean canRestart() {
    return false;
  }

  @Override
  public void restart() {
    throw new IllegalStateException("restarting a containerised PostgreSQL is not supported");
  }

  @Override
  public void stop() {
    throw new IllegalStateException("stopping a containerised PostgreSQL is not supported");
  }

  @Override
  public void start() {}

  @Override
  public void close() {
    container.stop();
  }
}
