package io.somastack.connect.transforms.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.ValidationMessage;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.transforms.TestRecords;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every schema in schemas/ compiles, accepts its seed example and rejects broken variants. */
class SchemasTest {

  private static final Path SCHEMAS = Path.of("..", "schemas");

  static Stream<String> names() throws IOException {
    try (Stream<Path> files = Files.list(SCHEMAS)) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".schema.json"))
          .map(n -> n.substring(0, n.length() - ".schema.json".length()))
          .sorted()
          .toList()
          .stream();
    }
  }

  private static JsonSchema schema(String name) {
    return CompiledSchemas.get(new SchemaSource("classpath:schemas/" + name + ".schema.json"));
  }

  private static ObjectNode example(String name) {
    return (ObjectNode) RecordJson.MAPPER.valueToTree(TestRecords.example(name));
  }

  @Test
  void coversEveryPayloadOfTheSeeds() throws IOException {
    assertEquals(
        List.of(
            "agent-action",
            "agent-routing-decision",
            "agent-transformation-event",
            "audit-event",
            "code-quality-metric",
            "delegated-task",
            "failure-pattern",
            "memory-event",
            "router-performance-metric",
            "success-pattern",
            "task-execution",
            "tool-invocation",
            "tool-result"),
        names().toList());
  }

  @ParameterizedTest
  @MethodSource("names")
  void isDraft202012WithAnId(String name) throws IOException {
    JsonNode tree = RecordJson.MAPPER.readTree(SCHEMAS.resolve(name + ".schema.json").toFile());
    assertEquals("https://json-schema.org/draft/2020-12/schema", tree.get("$schema").asText());
    assertTrue(tree.get("$id").asText().endsWith("/" + name + ".schema.json"));
  }

  @ParameterizedTest
  @MethodSource("names")
  void acceptsTheSeedExample(String name) {
    Set<ValidationMessage> errors = schema(name).validate(example(name));
    assertTrue(errors.isEmpty(), () -> name + ": " + errors);
  }

  @ParameterizedTest
  @MethodSource("names")
  void requiresAnEventIdThatIsAUuid(String name) {
    ObjectNode missing = example(name);
    missing.remove("event_id");
    assertFalse(schema(name).validate(missing).isEmpty());

    ObjectNode malformed = example(name);
    malformed.put("event_id", "not-a-uuid");
    assertFalse(schema(name).validate(malformed).isEmpty());
  }

  @ParameterizedTest
  @MethodSource("names")
  void requiresMetadataSchemaVersion(String name) {
    ObjectNode event = example(name);
    ((ObjectNode) event.get("metadata")).remove("schema_version");
    assertFalse(schema(name).validate(event).isEmpty());
  }

  @ParameterizedTest
  @MethodSource("names")
  void rejectsUnknownTopLevelFieldsAndBadTimestamps(String name) {
    ObjectNode extra = example(name);
    extra.put("unexpected_field", 1);
    assertFalse(schema(name).validate(extra).isEmpty());

    ObjectNode event = example(name);
    if (event.has("timestamp")) {
      event.put("timestamp", "yesterday");
      assertFalse(schema(name).validate(event).isEmpty());
    }
  }

  @Test
  void memoryEventsRequireIdAndNamespace() {
    for (String field : List.of("id", "namespace")) {
      ObjectNode event = example("memory-event");
      event.remove(field);
      assertFalse(schema("memory-event").validate(event).isEmpty(), field);
    }
  }

  @Test
  void enumsComeFromTheSeeds() {
    ObjectNode action = example("agent-action");
    action.put("action_type", "teleport");
    assertFalse(schema("agent-action").validate(action).isEmpty());

    ObjectNode result = example("tool-result");
    result.put("status", "maybe");
    assertFalse(schema("tool-result").validate(result).isEmpty());
  }
}
