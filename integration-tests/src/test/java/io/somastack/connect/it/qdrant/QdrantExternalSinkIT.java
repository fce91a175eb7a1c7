package io.somastack.connect.it.qdrant;

import io.somastack.connect.testing.qdrant.QdrantEndpoint;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * The behaviour against a real Qdrant named by {@code SOMA_TEST_QDRANT_URL} (its gRPC URL, e.g.
 * http://localhost:6334), for machines without Docker. Tests that stop Qdrant are skipped.
 */
@EnabledIfEnvironmentVariable(named = QdrantEndpoint.URL_ENV, matches = ".+")
class QdrantExternalSinkIT extends QdrantSinkBehaviour {

  @Override
  protected QdrantEndpoint openEndpoint() {
    return QdrantEndpoint.fromEnv();
  }
}
