package io.somastack.connect.it.qdrant;

import io.somastack.connect.testing.qdrant.QdrantEndpoint;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * The behaviour against a real Qdrant (qdrant/qdrant:v1.16.2) in a container, where Docker runs.
 */
@Testcontainers(disabledWithoutDocker = true)
class QdrantContainerSinkIT extends QdrantSinkBehaviour {

  @Override
  protected QdrantEndpoint openEndpoint() {
    return QdrantEndpoint.container();
  }
}
