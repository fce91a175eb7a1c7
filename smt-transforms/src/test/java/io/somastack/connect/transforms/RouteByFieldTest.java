package io.somastack.connect.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.CapturedStderr;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class RouteByFieldTest {

  private static RouteByField<SinkRecord> route(String template, String fallback) {
    Map<String, String> props = new HashMap<>();
    props.put("topic.template", template);
    if (fallback != null) {
      props.put("fallback.topic", fallback);
    }
    RouteByField<SinkRecord> transform = new RouteByField<>();
    transform.configure(props);
    return transform;
  }

  @Test
  void namesTheTopicFromAField() {
    SinkRecord record = TestRecords.value(TestRecords.example("agent-action"));
    SinkRecord out = route("agent-${value.action_type}", null).apply(record);
    assertEquals("agent-tool_call", out.topic());
    assertSame(record.value(), out.value());
    assertEquals(record.kafkaPartition(), out.kafkaPartition());
  }

  @Test
  void readsNestedStructFieldsAndTheKey() {
    Schema metadata = SchemaBuilder.struct().field("tenant_id", Schema.STRING_SCHEMA).build();
    Schema schema = SchemaBuilder.struct().field("metadata", metadata).build();
    Struct value =
        new Struct(schema).put("metadata", new Struct(metadata).put("tenant_id", "acme"));
    SinkRecord record = TestRecords.record(Schema.STRING_SCHEMA, "k1", schema, value);
    assertEquals(
        "memory.events.acme.k1",
        route("${topic}.${value.metadata.tenant_id}.${key}", null).apply(record).topic());
  }

  @Test
  void readsFieldsOfJsonTextKeysAndValues() {
    SinkRecord text =
        TestRecords.record(
            Schema.STRING_SCHEMA,
            "{\"tenant_id\":\"acme\"}",
            Schema.STRING_SCHEMA,
            " {\"action_type\":\"tool_call\"}");
    SinkRecord out = route("agent-${value.action_type}.${key.tenant_id}", null).apply(text);
    assertEquals("agent-tool_call.acme", out.topic());
    assertSame(text.key(), out.key());
    assertSame(text.value(), out.value());
    assertEquals(Schema.STRING_SCHEMA, out.valueSchema());

    byte[] json = "{\"action_type\":\"tool_call\"}".getBytes(StandardCharsets.UTF_8);
    SinkRecord bytes = TestRecords.record(Schema.STRING_SCHEMA, "{k", Schema.BYTES_SCHEMA, json);
    out = route("agent-${value.action_type}-${key}", "agent-unrouted").apply(bytes);
    assertEquals("agent-unrouted", out.topic(), "'{k' is neither JSON nor a legal name");
    assertEquals(
        "agent-tool_call-k1",
        route("agent-${value.action_type}-${key}", null)
            .apply(TestRecords.record(Schema.STRING_SCHEMA, "k1", Schema.BYTES_SCHEMA, json))
            .topic());
  }

  @Test
  void fallsBackWhenAFieldIsMissingOrMakesAnIllegalName() {
    RouteByField<SinkRecord> transform = route("agent-${value.action_type}", "agent-unrouted");
    assertEquals(
        "agent-unrouted", transform.apply(TestRecords.value(TestRecords.map("x", 1))).topic());
    assertEquals(
        "agent-unrouted",
        transform
            .apply(TestRecords.value(TestRecords.map("action_type", "tool call/../x")))
            .topic());
    assertEquals("agent-unrouted", transform.apply(TestRecords.value(null)).topic());
  }

  @Test
  void neverRewritesAValueSoTwoValuesNeverShareATopic() {
    RouteByField<SinkRecord> transform = route("tenant-${value.tenant}", "tenant-unrouted");
    String[][] cases = {
      {"a.b", "tenant-a.b"},
      {"a_b", "tenant-a_b"},
      {"x_y", "tenant-x_y"},
      {"x/y", "tenant-unrouted"},
      {"x y", "tenant-unrouted"},
      {"\u00e9t\u00e9", "tenant-unrouted"}
    };
    for (String[] c : cases) {
      SinkRecord record = TestRecords.value(TestRecords.map("tenant", c[0]));
      assertEquals(c[1], transform.apply(record).topic(), c[0]);
    }
  }

  @Test
  void failsWithoutAFallback() {
    RouteByField<SinkRecord> transform = route("agent-${value.action_type}", "");
    DataException e =
        assertThrows(
            DataException.class, () -> transform.apply(TestRecords.value(TestRecords.map())));
    assertEquals(
        "record at topic 'memory.events' partition 2 offset 42: template"
            + " 'agent-${value.action_type}' names no legal topic and no fallback.topic is set",
        e.getMessage());
  }

  @Test
  void reportsConfigMistakes() {
    assertThrows(ConfigException.class, () -> route("agent-${nope}", null));
    assertThrows(ConfigException.class, () -> route("agent-${value.a", null));
    assertThrows(ConfigException.class, () -> route("", null));
    assertThrows(ConfigException.class, () -> route("x", "bad topic"));
  }

  /**
   * Text outside the placeholders that no topic name may hold would send every record to the
   * fallback (or fail it): the template is refused instead, also by the REST validate call, which
   * checks the ConfigDef without calling configure.
   */
  @Test
  void refusesATemplateNoRecordCouldMakeALegalTopicOf() {
    ConfigException e =
        assertThrows(ConfigException.class, () -> route("agent/${value.action_type}", "x"));
    assertEquals(
        "Invalid value agent/${value.action_type} for configuration topic.template: its text"
            + " outside the placeholders holds '/', but topic names hold only [a-zA-Z0-9._-]",
        e.getMessage());
    assertThrows(ConfigException.class, () -> route("a".repeat(250) + "${value.x}", null));
    assertThrows(ConfigException.class, () -> route("..", null));
    assertEquals(
        "a".repeat(249), route("a".repeat(249), null).apply(TestRecords.value(Map.of())).topic());
    for (String template : new String[] {"agent-${nope}", "agent/${value.a}"}) {
      ConfigValue checked =
          RouteByField.CONFIG_DEF.validate(Map.of("topic.template", template)).stream()
              .filter(v -> v.name().equals("topic.template"))
              .findFirst()
              .orElseThrow();
      assertEquals(1, checked.errorMessages().size(), template);
    }
  }

  /**
   * A record sent to fallback.topic is logged at WARN the first time per source topic, naming the
   * placeholder that found no value and the record's coordinates but none of its contents; later
   * ones are counted and logged at most every five minutes, so a typo in a template that routes all
   * traffic to the fallback is seen without flooding the log.
   */
  @Test
  void logsFallbacksOncePerTopicThenAtMostEveryFiveMinutesWithoutContents() {
    RouteByField<SinkRecord> transform = route("agent-${value.action_type}", "agent-unrouted");
    Instant[] now = {Instant.parse("2026-01-02T03:04:05Z")};
    transform.clock(
        new Clock() {
          @Override
          public ZoneId getZone() {
            return ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(ZoneId zone) {
            return this;
          }

          @Override
          public Instant instant() {
            return now[0];
          }
        });
    Map<String, Object> value = TestRecords.map("action_typo", "Sup3rS3cret");
    String first =
        CapturedStderr.of(
            () -> {
              for (int i = 0; i < 3; i++) {
                assertEquals("agent-unrouted", transform.apply(TestRecords.value(value)).topic());
              }
              transform.apply(TestRecords.at("other.events", 0, 7, value));
            });
    assertEquals(2, first.lines().filter(l -> l.contains("WARN")).count(), first);
    assertTrue(
        first.contains(
            "record at topic 'memory.events' partition 2 offset 42: template"
                + " 'agent-${value.action_type}' found no value for ${value.action_type}, so the"
                + " record goes to fallback.topic 'agent-unrouted'"),
        first);
    assertTrue(first.contains("topic 'other.events' partition 0 offset 7"), first);
    assertFalse(first.contains("Sup3rS3cret"), first);

    now[0] = now[0].plus(Duration.ofMinutes(4));
    assertEquals("", CapturedStderr.of(() -> transform.apply(TestRecords.value(value))));
    now[0] = now[0].plus(Duration.ofMinutes(1));
    String later = CapturedStderr.of(() -> transform.apply(TestRecords.value(value)));
    assertEquals(1, later.lines().filter(l -> l.contains("WARN")).count(), later);
    assertTrue(later.contains("4 records of topic 'memory.events' went to fallback.topic"), later);

    String illegal =
        CapturedStderr.of(
            () ->
                transform.apply(
                    TestRecords.at(
                        "third", 1, 9, TestRecords.map("action_type", "a/Sup3rS3cret"))));
    assertTrue(illegal.contains("made no legal topic name"), illegal);
    assertFalse(illegal.contains("Sup3rS3cret"), illegal);
  }
}
