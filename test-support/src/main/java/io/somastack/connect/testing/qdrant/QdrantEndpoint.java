package io.somastack.connect.testing.qdrant;

import io.qdrant.client.QdrantClient;
import io.qdrant.client.QdrantGrpcClient;
import java.time.Duration;

/**
 * A Qdrant the tests write to and read back from: the in-memory gRPC stand-in, a container, or a
 * server named by {@code SOMA_TEST_QDRANT_URL}. Behaviour tests are written once against this and
 * run per backend, which is also how the stand-in is checked against the real thing.
 */
public interface QdrantEndpoint extends AutoCloseable {

  /** Env variable naming a real Qdrant's gRPC URL (http://host:6334), for runs without Docker. */
  String URL_ENV = "SOMA_TEST_QDRANT_URL";

  /** The image the container backend runs: the server version matching the client. */
  String IMAGE = "qdrant/qdrant:v1.16.2";

  String host();

  int grpcPort();

  /** The URL for the connector's qdrant.url (host as seen from this JVM). */
  default String url() {
    return "http://" + host() + ":" + grpcPort();
  }

  /** A real Qdrant client, to read back what the connector wrote. */
  QdrantClient client();

  /** Whether {@link #goAway()} and {@link #comeBack()} work on this backend. */
  boolean canGoAway();

  /** Makes Qdrant unreachable (stopped, or paused so calls time out), keeping its data. */
  void goAway();

  /** Undoes {@link #goAway()}. */
  void comeBack();

  @Override
  void close();

  /** A running stand-in as an endpoint; closing the endpoint closes the stand-in. */
  static QdrantEndpoint of(QdrantGrpcStandIn standIn) {
    return new StandInEndpoint(standIn);
  }

  /** The {@link #IMAGE} in a container; only where a Docker engine runs. */
  static QdrantEndpoint container() {
    return ContainerEndpoint.launch();
  }

  /** The server named by {@link #URL_ENV}. */
  static QdrantEndpoint fromEnv() {
    return ExternalEndpoint.fromUrl(System.getenv(URL_ENV));
  }

  /** A client with a deadline, as every Qdrant client should have. */
  static QdrantClient clientFor(String host, int port) {
    return new QdrantClient(
        QdrantGrpcClient.newBuilder(host, port, false, false)
            .withTimeout(Duration.ofSeconds(10))
            .build());
  }
}
