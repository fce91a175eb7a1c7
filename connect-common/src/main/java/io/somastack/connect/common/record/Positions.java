package io.somastack.connect.common.record;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * A sink record's true Kafka position: the topic, partition and offset Connect consumed it at. A
 * transform in the connector's {@code transforms} that renames the topic (Kafka's RegexRouter,
 * RouteByField) changes {@link SinkRecord#topic()}, but Connect assigns, seeks and commits the
 * partitions it consumed, and two topics merged into one may hold the same offsets: every offset a
 * sink stores, compares or reports, and every name of a record in logs, is this position.
 */
public final class Positions {
  private Positions() {}

  /** The partition Connect consumed the record from. */
  public static TopicPartition partition(SinkRecord record) {
    return new TopicPartition(record.originalTopic(), record.originalKafkaPartition());
  }

  /**
   * "topic-partition@offset": how a record is named in logs and errors (never its contents), and a
   * unique identity where the renamed topic's need not be.
   */
  public static String of(SinkRecord record) {
    return record.originalTopic()
        + "-"
        + record.originalKafkaPartition()
        + "@"
        + record.originalKafkaOffset();
  }
}
