package io.somastack.connect.common.template;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.common.json.RecordJson;
import java.util.HashMap;
import java.util.List;
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

  /** An object, a list or a null is no name part: rendered as missing, not as "" or "{a=1}". */
  @Test
  void aFieldWithoutASingleValueRendersNull() {
    Map<String, Object> value = new HashMap<>();
    value.put("tenant", Map.of("id", "t1"));
    value.put("tags", List.of("a"));
    value.put("none", null);
    SinkRecord record = new SinkRecord("t", 0, null, null, null, value, 0);
    for (String field : List.of("tenant", "tags", "none")) {
      assertNull(RecordTemplate.parse("m_${value." + field + "}").render(record), field);
    }
    SinkRecord json =
        new SinkRecord(
            "t", 0, null, null, null, RecordJson.parse("{\"tenant\":{\"id\":1},\"n\":null}"), 0);
    assertNull(RecordTemplate.parse("m_${value.tenant}").render(json));
    assertNull(RecordTemplate.parse("m_${value.n}").render(json));
    assertEquals("m_1", RecordTemplate.parse("m_${value.tenant.id}").render(json));
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
