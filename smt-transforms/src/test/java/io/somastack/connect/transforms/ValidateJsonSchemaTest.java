package io.somastack.connect.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ValidateJsonSchemaTest {

  private static final String MEMORY = "classpath:schemas/memory-event.schema.json";
  private static final String SECRET = "s3cr3t-user-content";

  private static ValidateJsonSchema<SinkRecord> value(Map<String, String> props) {
    ValidateJsonSchema<SinkRecord> transform = new ValidateJsonSchema.Value<>();
    transform.configure(props);
    return transform;
  }

  private static Map<String, String> props(String... pairs) {
    Map<String, String> props = new HashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      props.put(pairs[i], pairs[i + 1]);
    }
    return props;
  }

  private static Map<String, Object> invalidMemoryEvent() {
    Map<String, Object> event = TestRecords.example("memory-event");
    event.remove("id");
    event.put("event_id", SECRET);
    event.put("timestamp", SECRET);
    event.put("namespace", SECRET + " with spaces");
    return event;
  }

  @Test
  void passesAValidRecordUnchanged() {
    SinkRecord record = TestRecords.value(TestRecords.example("memory-event"));
    assertSame(record, value(props("schema", MEMORY)).apply(record));
  }

  @Test
  void failsAnInvalidRecordNamingPlaceAndRulesButNoValues() {
    SinkRecord record = TestRecords.value(invalidMemoryEvent());
    DataException e =
        assertThrows(DataException.class, () -> value(props("schema", MEMORY)).apply(record));
    String message = e.getMessage();
    assertTrue(message.contains("topic 'memory.events' partition 2 offset 42"), message);
    assertTrue(message.contains("$.event_id"), message);
    assertTrue(message.contains("uuid"), message);
    assertTrue(message.contains("'id'"), message);
    assertTrue(message.contains("$.timestamp"), message);
    assertFalse(message.contains(SECRET), message);
  }

  @Test
  void reroutesAnInvalidRecordWithTheViolationsInAHeader() {
    ValidateJsonSchema<SinkRecord> transform =
        value(props("schema", MEMORY, "on.invalid", "reroute"));
    SinkRecord out = transform.apply(TestRecords.value(invalidMemoryEvent()));
    assertEquals("memory.events.invalid", out.topic());
    String header = (String) out.headers().lastWithName("soma.validation.errors").value();
    assertTrue(header.contains("$.event_id"), header);
    assertFalse(header.contains(SECRET), header);
  }

  @Test
  void reroutesToAFixedTopicAndHeader() {
    ValidateJsonSchema<SinkRecord> transform =
        value(
            props(
                "schema", MEMORY,
                "on.invalid", "reroute",
                "reroute.topic", "quarantine",
                "errors.header", "why",
                "max.violations", "1"));
    SinkRecord out = transform.apply(TestRecords.value(invalidMemoryEvent()));
    assertEquals("quarantine", out.topic());
    String header = (String) out.headers().lastWithName("why").value();
    assertTrue(header.contains("more"), header);
  }

  @Test
  void choosesTheSchemaByTopic() {
    ValidateJsonSchema<SinkRecord> transform =
        value(
            props(
                "topic.schemas",
                "agent-actions=classpath:schemas/agent-action.schema.json,memory.events="
                    + MEMORY));
    SinkRecord action = TestRecords.at("agent-actions", 0, 1, TestRecords.example("agent-action"));
    assertSame(action, transform.apply(action));
    SinkRecord memoryAsAction =
        TestRecords.at("agent-actions", 0, 2, TestRecords.example("memory-event"));
    assertThrows(DataException.class, () -> transform.apply(memoryAsAction));
    SinkRecord unknown = TestRecords.at("other", 0, 3, TestRecords.example("memory-event"));
    DataException e = assertThrows(DataException.class, () -> transform.apply(unknown));
    assertTrue(e.getMessage().contains("no JSON Schema"), e.getMessage());
  }

  @Test
  void readsInlineAndFileSchemas(@TempDir Path dir) throws Exception {
    String schema =
        "{\"type\":\"object\",\"required\":[\"tenant_id\"],"
            + "\"properties\":{\"tenant_id\":{\"type\":\"string\"}}}";
    Path file = dir.resolve("tenant.schema.json");
    Files.writeString(file, schema);
    for (String source : new String[] {schema, file.toString()}) {
      ValidateJsonSchema<SinkRecord> transform = value(props("schema", source));
      SinkRecord good = TestRecords.value(TestRecords.map("tenant_id", "acme"));
      assertSame(good, transform.apply(good));
      SinkRecord bad = TestRecords.value(TestRecords.map("tenant_id", 7));
      assertThrows(DataException.class, () -> transform.apply(bad));
    }
  }

  @Test
  void readsAnEditedSchemaFileWhenReconfigured(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("edited.schema.json");
    Files.writeString(file, "{\"type\":\"object\",\"required\":[\"old\"]}");
    ValidateJsonSchema<SinkRecord> before = value(props("schema", file.toString()));
    Files.writeString(file, "{\"type\":\"object\",\"required\":[\"new\"]}");
    ValidateJsonSchema<SinkRecord> after = value(props("schema", file.toString()));
    SinkRecord oldShape = TestRecords.value(TestRecords.map("old", 1));
    SinkRecord newShape = TestRecords.value(TestRecords.map("new", 1));
    assertSame(newShape, after.apply(newShape));
    assertThrows(DataException.class, () -> after.apply(oldShape));
    assertSame(oldShape, before.apply(oldShape), "a running transform keeps its schema");
  }

  /** A schema file whose property refers to a sibling file, as schemas split across files do. */
  private static Path schemaWithSiblingRef(Path dir, int minLength) throws Exception {
    Files.writeString(
        dir.resolve("tenant.schema.json"), "{\"type\":\"string\",\"minLength\":" + minLength + "}");
    Path main = dir.resolve("main.schema.json");
    Files.writeString(
        main,
        "{\"type\":\"object\",\"properties\":{\"tenant_id\":{\"$ref\":\"tenant.schema.json\"}}}");
    return main;
  }

  @Test
  void resolvesRelativeRefsAgainstTheSchemaFile(@TempDir Path dir) throws Exception {
    ValidateJsonSchema<SinkRecord> transform =
        value(props("schema", schemaWithSiblingRef(dir, 3).toString()));
    SinkRecord good = TestRecords.value(TestRecords.map("tenant_id", "acme"));
    assertSame(good, transform.apply(good));
    SinkRecord bad = TestRecords.value(TestRecords.map("tenant_id", "ab"));
    DataException e = assertThrows(DataException.class, () -> transform.apply(bad));
    assertTrue(e.getMessage().contains("$.tenant_id"), e.getMessage());
  }

  @Test
  void readsAnEditedReferencedFileWhenReconfigured(@TempDir Path dir) throws Exception {
    ValidateJsonSchema<SinkRecord> before =
        value(props("schema", schemaWithSiblingRef(dir, 3).toString()));
    ValidateJsonSchema<SinkRecord> after =
        value(props("schema", schemaWithSiblingRef(dir, 5).toString()));
    SinkRecord four = TestRecords.value(TestRecords.map("tenant_id", "acme"));
    assertSame(four, before.apply(four), "a running transform keeps its schema");
    assertThrows(DataException.class, () -> after.apply(four));
  }

  @Test
  void validatesStructsAndJsonText() {
    ValidateJsonSchema<SinkRecord> transform =
        value(
            props(
                "schema",
                "{\"type\":\"object\",\"required\":[\"n\"],\"properties\":{\"n\":{\"minimum\":1}}}"));
    Schema schema = SchemaBuilder.struct().field("n", Schema.INT32_SCHEMA).build();
    SinkRecord struct = TestRecords.value(schema, new Struct(schema).put("n", 3));
    assertSame(struct, transform.apply(struct));
    SinkRecord zero = TestRecords.value(schema, new Struct(schema).put("n", 0));
    assertThrows(DataException.class, () -> transform.apply(zero));
    SinkRecord text = TestRecords.value("{\"n\":2}");
    assertSame(text, transform.apply(text));
    SinkRecord bytes = TestRecords.value("{\"n\":0}".getBytes(StandardCharsets.UTF_8));
    assertThrows(DataException.class, () -> transform.apply(bytes));
  }

  @Test
  void rejectsAnythingThatIsNotJsonWithoutQuotingIt() {
    ValidateJsonSchema<SinkRecord> transform = value(props("schema", "{\"type\":\"object\"}"));
    SinkRecord text = TestRecords.value("name=" + SECRET);
    DataException e = assertThrows(DataException.class, () -> transform.apply(text));
    assertFalse(e.getMessage().contains(SECRET), e.getMessage());
    assertNull(e.getCause());
    SinkRecord number = TestRecords.value(Schema.INT64_SCHEMA, 5L);
    assertThrows(DataException.class, () -> transform.apply(number));
  }

  @Test
  void validatesTheKeyWithTheKeyVariant() {
    ValidateJsonSchema<SinkRecord> transform = new ValidateJsonSchema.Key<>();
    transform.configure(props("schema", "{\"type\":\"object\",\"required\":[\"tenant_id\"]}"));
    SinkRecord good = TestRecords.record(null, TestRecords.map("tenant_id", "a"), null, "x");
    assertSame(good, transform.apply(good));
    SinkRecord bad = TestRecords.record(null, TestRecords.map("id", "a"), null, "x");
    assertThrows(DataException.class, () -> transform.apply(bad));
  }

  @Test
  void letsTombstonesPass() {
    SinkRecord tombstone = TestRecords.value(null);
    assertSame(tombstone, value(props("schema", MEMORY)).apply(tombstone));
  }

  @Test
  void reportsConfigMistakesAtConfigureTime() {
    assertThrows(ConfigException.class, () -> value(props()));
    assertThrows(ConfigException.class, () -> value(props("schema", "classpath:nope.json")));
    assertThrows(ConfigException.class, () -> value(props("schema", "{not json")));
    assertThrows(ConfigException.class, () -> value(props("schema", "{\"type\":17}")));
    assertThrows(ConfigException.class, () -> value(props("topic.schemas", "no-equals-sign")));
    assertThrows(ConfigException.class, () -> value(props("schema", MEMORY, "on.invalid", "x")));
    assertThrows(
        ConfigException.class,
        () -> value(props("schema", MEMORY, "reroute.topic", "bad-${value.tenant_id}")));
  }
}
