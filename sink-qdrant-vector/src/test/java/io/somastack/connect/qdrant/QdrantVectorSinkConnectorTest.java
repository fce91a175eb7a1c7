package io.somastack.connect.qdrant;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class QdrantVectorSinkConnectorTest {

  /**
   * Connect's offset API (KIP-875) is told the sink keeps no offsets of its own, so a reset or an
   * alter answers that it is done, not that offsets kept elsewhere may need altering by hand.
   */
  @Test
  void connectsOffsetApiIsTheWholeStory() {
    Map<TopicPartition, Long> reset = new HashMap<>();
    reset.put(new TopicPartition("memory.events", 0), null);
    QdrantVectorSinkConnector connector = new QdrantVectorSinkConnector();
    assertTrue(connector.alterOffsets(Map.of("qdrant.url", "http://localhost:6334"), reset));
    assertTrue(
        connector.alterOffsets(
            Map.of("qdrant.url", "http://localhost:6334"),
            Map.of(new TopicPartition("memory.events", 0), 42L)));
  }
}
