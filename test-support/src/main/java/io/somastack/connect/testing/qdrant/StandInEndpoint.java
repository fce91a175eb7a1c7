package io.somastack.connect.testing.qdrant;

import io.qdrant.client.QdrantClient;

/** The stand-in as an endpoint: it can go away and come back on the same port. */
final class StandInEndpoint implements QdrantEndpoint {

  private final QdrantGrpcStandIn standIn;
  private QdrantClient client;

  StandInEndpoint(QdrantGrpcStandIn standIn) {
    this.standIn = standIn;
  }

  @Override
  public String host() {
    return standIn.host();
  }

  @Override
  public int grpcPort() {
    return standIn.port();
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
    standIn.stop();
  }

  @Override
  public void comeBack() {
    standIn.start();
  }

  @Override
  public synchronized void close() {
    if (client != null) {
      client.close();
    }
    standIn.close();
  }
}
