package io.somastack.connect.testing.qdrant;

import io.qdrant.client.QdrantClient;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.qdrant.QdrantContainer;

/**
 * Qdrant in a container. Going away is a pause of the container: connections stay up but nothing
 * answers, so calls hit their deadline, which is what a hung or overloaded server looks like.
 */
final class ContainerEndpoint implements QdrantEndpoint {

  private final QdrantContainer container;
  private QdrantClient client;

  private ContainerEndpoint(QdrantContainer container) {
    this.container = container;
  }

  static ContainerEndpoint launch() {
    QdrantContainer container = new QdrantContainer(IMAGE);
    container.start();
    return new ContainerEndpoint(container);
  }

  @Override
  public String host() {
    return container.getHost();
  }

  @Override
  public int grpcPort() {
    return container.getGrpcPort();
  }

  @Override
  public synchronized QdrantClient client() {
    if (client == null) {
      client = QdrantEndpoint.clientFor(host(), grpcPort());
    }
    return client;
  }

  @Override
  public boolean canGoAway() {
    return true;
  }

  @Override
  public void goAway() {
    DockerClientFactory.instance().client().pauseContainerCmd(container.getContainerId()).exec();
  }

  @Override
  public void comeBack() {
    DockerClientFactory.instance().client().unpauseContainerCmd(container.getContainerId()).exec();
  }

  @Override
  public synchronized void close() {
    if (client != null) {
      client.close();
    }
    container.stop();
  }
}
