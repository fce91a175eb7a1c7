package io.somastack.connect.common.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class RecordTemplateTest {

  private static final SinkRecord RECORD =
      new SinkRecord("agent-actions", 3, null, "k1", null, Map.of("action_type", "tool_call"), 7);

  @Test
  void rendersTopicPartitionKeyAndValueFields() {
    assertEquals(
        "agent-actions-3-k1-tool_call",
        RecordTemplate.parse("${topic}-${partition}-${key}-${value.action_type}").render(RECORD));
    assertEquals("fixed", RecordTemplate.parse("fixed").render(RECORD));
  }

  @Test
  void aMissingFieldRendersNullSoTheCallerCanFallBack() {
    assertNull(RecordTemplate.parse("agent-${value.missing}").render(RECORD));
  }

  @Test
  void knowsWhenOnlyTheTopicMatters() {
    assertTrue(RecordTemplate.parse("memory_${topic}").dependsOnTopicOnly());
    assertFalse(RecordTemplate.parse("${value.tenant_id}").dependsOnTopicOnly());
  }

  @Test
  void unknownPlaceholdersAndUnclosedBracesAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> RecordTemplate.parse("${offset}"));
    assertThrows(IllegalArgumentException.class, () -> RecordTemplate.parse("${topic"));
  }
}
