package io.somastack.connect.common.template;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.common.json.RecordJson;
import java.math.BigDecimal;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class RecordTemplateTest {

  private static final SinkRecord RECORD =
      new SinkRecord("agent-actions", 3, null, "k1", null, Map.of("action_type", "tool_call"), 7);

  @Test
  void valuePathsAreTheValueFieldsItNames() {
    RecordTemplate template =
        RecordTemplate.parse("${topic}_${value.meta.tenant}_${key.id}_${value.kind}");
    assertEquals(
        List.of("meta.tenant", "kind"),
        template.valuePaths().stream().map(Object::toString).toList());
    assertEquals(List.of(), RecordTemplate.parse("memory_${topic}").valuePaths());
  }

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

  /**
   * A Struct's logical types, floats and bytes render as the JSON text of the same value would
   * render: never as Java's text of a Date (which depends on the worker's time zone) or of an array
   * ("[B@1b6d3586", a new name for every record).
   */
  @Test
  void structFieldsAndBytesRenderAsTheirJson() {
    Schema schema =
        SchemaBuilder.struct()
            .field("day", org.apache.kafka.connect.data.Date.SCHEMA)
            .field("at", Timestamp.SCHEMA)
            .field("score", Schema.FLOAT32_SCHEMA)
            .field("amount", Decimal.schema(2))
            .build();
    Struct struct =
        new Struct(schema)
            .put("day", new Date(-86_400_000L))
            .put("at", new Date(-1_000L))
            .put("score", 0.1f)
            .put("amount", new BigDecimal("12.50"));
    SinkRecord record =
        new SinkRecord("t", 0, Schema.BYTES_SCHEMA, new byte[] {1, 2, 3}, schema, struct, 0);
    RecordTemplate template =
        RecordTemplate.parse("${value.day}/${value.at}/${value.score}/${value.amount}");
    assertEquals("1969-12-31/1969-12-31T23:59:59Z/0.1/12.50", template.render(record));
    SinkRecord asJsonText =
        new SinkRecord(
            "t",
            0,
            null,
            null,
            null,
            RecordJson.parse(RecordJson.write(RecordJson.convert(struct, schema))),
            0);
    assertEquals(template.render(asJsonText), template.render(record));
  }

  private static SinkRecord keyed(Schema keySchema, Object key) {
    return new SinkRecord("t", 0, keySchema, key, null, Map.of("v", 1), 0);
  }

  /**
   * A key of JSON object text (StringConverter) or JSON bytes (ByteArrayConverter), as the shipped
   * connector configs deliver it, is read as that object, as the sinks read its id fields: every
   * record had been dead-lettered for a field "the record does not have".
   */
  @Test
  void keyFieldsAreReadFromJsonObjectKeyTextAndBytes() {
    RecordTemplate template = RecordTemplate.parse("mem_${key.tenant_id}_${key.id}");
    String json = "{\"tenant_id\":\"t1\",\"id\":1}";
    assertEquals("mem_t1_1", template.render(keyed(null, json)));
    assertEquals("mem_t1_1", template.render(keyed(Schema.STRING_SCHEMA, " " + json)));
    assertEquals("mem_t1_1", template.render(keyed(null, json.getBytes(UTF_8))));
    assertEquals("mem_t1_1", template.render(keyed(Schema.BYTES_SCHEMA, json.getBytes(UTF_8))));
    assertEquals("mem_t1_1", template.render(keyed(null, RecordJson.parse(json))));
    // text that is no JSON object has no fields: missing, as before
    for (Object key : List.of("t1", "[1]", "{not json", "\"t1\"", "t1".getBytes(UTF_8))) {
      assertNull(RecordTemplate.parse("mem_${key.tenant_id}").render(keyed(null, key)));
    }
  }

  /**
   * ${key} reads a key as the sinks' id readers do: bytes as their UTF-8 text (not base64), and the
   * text a JSON serializer wrote for a string ("acme" with its quotes) as that string. Any other
   * text is the key as it is.
   */
  @Test
  void theWholeKeyIsTheTextTheIdReadersSee() {
    RecordTemplate template = RecordTemplate.parse("kv_${key}");
    assertEquals("kv_acme", template.render(keyed(null, "\"acme\"")));
    assertEquals("kv_acme", template.render(keyed(Schema.STRING_SCHEMA, "\"acme\"")));
    assertEquals("kv_acme", template.render(keyed(null, " \"acme\"\n")), "JSON white space");
    assertEquals("kv_acme", template.render(keyed(null, "acme".getBytes(UTF_8))));
    assertEquals(
        "kv_acme", template.render(keyed(Schema.BYTES_SCHEMA, "\"acme\"".getBytes(UTF_8))));
    assertEquals("kv_\u00e9t\u00e9", template.render(keyed(null, "\u00e9t\u00e9".getBytes(UTF_8))));
    for (String text : List.of("acme", "\"acme", "\"a\" \"b\"", "12e4", "{\"a\":1}", "")) {
      assertEquals("kv_" + text, template.render(keyed(null, text)), text);
    }
    assertEquals("kv_12", template.render(keyed(Schema.INT64_SCHEMA, 12L)));
    // bytes that are no UTF-8 name nothing: their text would be U+FFFD for any such key
    assertNull(template.render(keyed(null, new byte[] {(byte) 0xff, 'a'})));
  }

  /** Struct and Map keys are read as they were: their fields, never their text. */
  @Test
  void structAndMapKeysAreReadAsBefore() {
    Schema schema = SchemaBuilder.struct().field("tenant_id", Schema.STRING_SCHEMA).build();
    Struct struct = new Struct(schema).put("tenant_id", "t1");
    RecordTemplate field = RecordTemplate.parse("mem_${key.tenant_id}");
    assertEquals("mem_t1", field.render(keyed(schema, struct)));
    assertEquals("mem_t1", field.render(keyed(null, Map.of("tenant_id", "t1"))));
    RecordTemplate whole = RecordTemplate.parse("mem_${key}");
    assertNull(whole.render(keyed(schema, struct)));
    assertNull(whole.render(keyed(null, Map.of("tenant_id", "t1"))));
  }

  @Test
  void knowsWhenOnlyTheTopicMatters() {
    assertTrue(RecordTemplate.parse("memory_${topic}").dependsOnTopicOnly());
    assertFalse(RecordTemplate.parse("${value.tenant_id}").dependsOnTopicOnly());
    assertFalse(RecordTemplate.parse("memory_${partition}").dependsOnTopicOnly());
  }

  @Test
  void knowsWhenTheRecordsKeyOrValueMatters() {
    assertFalse(RecordTemplate.parse("memory_${topic}_${partition}").readsKeyOrValue());
    assertTrue(RecordTemplate.parse("${topic}_${value.tenant_id}").readsKeyOrValue());
    assertTrue(RecordTemplate.parse("${key.tenant}").readsKeyOrValue());
    assertTrue(RecordTemplate.parse("t_${key}").readsKeyOrValue());
  }

  @Test
  void unknownPlaceholdersAndUnclosedBracesAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> RecordTemplate.parse("${offset}"));
    assertThrows(IllegalArgumentException.class, () -> RecordTemplate.parse("${topic"));
  }

  /**
   * A placeholder left open before the next one ("${value.tenant-${topic}") would otherwise read a
   * field named "tenant-${topic" that no record has, and every record would fail to render.
   */
  @Test
  void aPlaceholderLeftOpenBeforeTheNextIsRejected() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> RecordTemplate.parse("memory_${value.tenant-${topic}"));
    assertTrue(e.getMessage().contains("unclosed ${"), e.getMessage());
  }
}
