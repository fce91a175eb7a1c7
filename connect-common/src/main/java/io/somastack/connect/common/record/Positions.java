package io.somastack.connect.common.record;

import org.apache.kafka.connect.sink.SinkRecord;

/** How a record is named in logs and errors: topic, partition and offset, never its contents. */
public final class Positions {
  private Positions() {}

  public static String of(SinkRecord record) {
    return record.topic() + "-" + record.kafkaPartition() + "@" + record.kafkaOffset();
  }
}
