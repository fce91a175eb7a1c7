package io.somastack.connect.qdrant;

import io.somastack.connect.testing.qdrant.QdrantGrpcStandIn;

/** The stand-in's answers against those written down from Qdrant's source; every build. */
class QdrantStandInFidelityTest extends QdrantFidelityBehaviour {

  @Override
  protected Backend start(String apiKey) {
    QdrantGrpcStandIn standIn = QdrantGrpcStandIn.startOnFreePort();
    standIn.requireApiKey(apiKey);
    return new Backend(standIn.host(), standIn.port(), standIn::close);
  }
}
