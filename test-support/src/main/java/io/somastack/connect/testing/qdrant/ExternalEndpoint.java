package io.somastack.connect.testing.qdrant;

import io.qdrant.client.QdrantClient;
import java.net.URI;

/** A Qdrant someone else runs; the tests cannot make it go away. */
final class ExternalEndpoint implements QdrantEndpoint {

  private final String host;
  private final int port;
  private QdrantClient client;

  private ExternalEndpoint(String host, int port) {
    this.host = host;
    this.port = port;
  }

  static ExternalEndpoint fromUrl(String url) {
    if (url == null || url.isBlank()) {
      throw new IllegalStateException(URL_ENV + " is not set");
    }
    URI uri = URI.create(url.trim());
    return new ExternalEndpoint(uri.getHost(), uri.getPort() > 0 ? uri.getPort() : 6334);
  }

  @Override
  public String host() {
    return host;
  }

  @Override
  public int grpcPort() {
    return port;
  }

  @Override
  public synchronized QdrantClient client() {
    if (client == null) {
      client = QdrantEndpoint.clientFor(host, port);
    }
    return client;
  }

  @Override
  public boolean canGoAway() {
    return false;
  }

  @Override
  public void goAway() {
    throw new UnsupportedOperationException("an external Qdrant cannot be stopped by the tests");
  }

  @Override
  public void comeBack() {
    throw new UnsupportedOperationException("an external Qdrant cannot be stopped by the tests");
  }

  @Override
  public synchronized void close() {
    if (client != null) {
      client.close();
    }
  }
}
