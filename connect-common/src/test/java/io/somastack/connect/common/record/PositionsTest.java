package io.somastack.connect.common.record;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class PositionsTest {

  @Test
  void aRecordIsNamedByTopicPartitionAndOffsetNotItsContents() {
    SinkRecord record = new SinkRecord("memory.events", 3, null, "key", null, "secret value", 42);
    assertEquals("memory.events-3@42", Positions.of(record));
  }
}
