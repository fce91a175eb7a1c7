package io.somastack.connect.qdrant;

import io.somastack.connect.testing.qdrant.QdrantEndpoint;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.qdrant.QdrantContainer;

/**
 * Qdrant's own answers ({@link QdrantEndpoint#IMAGE} in a container) against those the stand-in is
 * held to: where they differ, the stand-in, and the tests that run on it, no longer speak for
 * Qdrant. Only where a Docker engine runs; skipped elsewhere.
 */
@Testcontainers(disabledWithoutDocker = true)
class QdrantContainerFidelityTest extends QdrantFidelityBehaviour {

  @Override
  protected Backend start(String apiKey) {
    QdrantContainer qdrant = new QdrantContainer(QdrantEndpoint.IMAGE).withApiKey(apiKey);
    qdrant.start();
    return new Backend(qdrant.getHost(), qdrant.getGrpcPort(), qdrant::stop);
  }
}
