package io.somastack.connect.postgres.record;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * A record's true Kafka position: the topic, partition and offset Connect consumed it at. A
 * transform in the connector's {@code transforms} that renames the topic (Kafka's RegexRouter,
 * RouteByField) changes {@link SinkRecord#topic()}, but Connect assigns, seeks and commits the
 * partitions it consumed, and two source topics merged into one may hold the same offsets: so every
 * offset the sink stores, compares or reports, and every row's kafka_* columns, are this position.
 * Only the table a record goes to follows the renamed topic.
 */
public final class KafkaPosition {

  private KafkaPosition() {}

  /** The partition Connect consumed the record from (the key of its stored offset). */
  public static TopicPartition partition(SinkRecord record) {
    return new TopicPartition(record.originalTopic(), record.originalKafkaPartition());
  }

  public static String topic(SinkRecord record) {
    return record.originalTopic();
  }

  public static int kafkaPartition(SinkRecord record) {
    return record.originalKafkaPartition();
  }

  public static long offset(SinkRecord record) {
    return record.originalKafkaOffset();
  }

  /**
   * "topic-partition@offset", to name the record in logs and errors (never its contents), and as
   * the identity of an audit or dead-letter row: unique, where the renamed topic's need not be.
   */
  public static String of(SinkRecord record) {
    return topic(record) + "-" + kafkaPartition(record) + "@" + offset(record);
  }
}
