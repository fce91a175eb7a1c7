package io.somastack.connect.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The fields the pipelines of connector-configs/ name are there in the events they read: a typed
 * column whose path a topic's schema does not have is NULL in every row of that topic's table. And
 * a field one pipeline of a topic encrypts is not copied in clear by another pipeline of the same
 * topic.
 */
class PipelineFieldsTest {

  private static final Path CONFIGS = Path.of("..", "connector-configs");
  private static final Path SCHEMAS = Path.of("..", "schemas");
  private static final String TRANSFORMS = "io.somastack.connect.transforms.";
  private static final ObjectMapper JSON = new ObjectMapper();

  private static List<PipelineFile> pipelines() throws IOException {
    List<PipelineFile> pipelines = new ArrayList<>();
    for (Path file : PipelineFile.list(CONFIGS)) {
      pipelines.add(PipelineFile.read(file));
    }
    assertFalse(pipelines.isEmpty());
    return pipelines;
  }

  private static List<String> topics(Map<String, String> config) {
    List<String> topics = new ArrayList<>();
    for (String topic : config.getOrDefault("topics", "").split(",")) {
      if (!topic.isBlank()) {
        topics.add(topic.trim());
      }
    }
    return topics;
  }

  /** The aliases of the pipeline's transforms whose type starts with {@code type}. */
  private static List<String> transforms(Map<String, String> config, String type) {
    List<String> aliases = new ArrayList<>();
    for (String alias : config.getOrDefault("transforms", "").split(",")) {
      String t = config.getOrDefault("transforms." + alias.trim() + ".type", "");
      if (t.startsWith(TRANSFORMS + type)) {
        aliases.add(alias.trim());
      }
    }
    return aliases;
  }

  /** Topic to schema file, from the pipeline's ValidateJsonSchema transform; empty without one. */
  private static Map<String, Path> schemas(Map<String, String> config) {
    Map<String, Path> schemas = new LinkedHashMap<>();
    for (String alias : transforms(config, "ValidateJsonSchema$Value")) {
      String prefix = "transforms." + alias + ".";
      String single = config.get(prefix + "schema");
      for (String topic : topics(config)) {
        if (single != null) {
          schemas.put(topic, schemaFile(single));
        }
      }
      for (String entry : config.getOrDefault(prefix + "topic.schemas", "").split(",")) {
        if (!entry.isBlank()) {
          String[] parts = entry.trim().split("=", 2);
          schemas.put(parts[0], schemaFile(parts[1]));
        }
      }
    }
    return schemas;
  }

  private static Path schemaFile(String uri) {
    assertTrue(uri.startsWith("classpath:schemas/"), uri);
    return SCHEMAS.resolve(uri.substring("classpath:schemas/".length()));
  }

  /** The field paths a PostgreSQL sink reads from each event: typed columns, ids and keys. */
  private static Map<String, String> fieldPaths(Map<String, String> config) {
    Map<String, String> paths = new TreeMap<>();
    for (String column : config.getOrDefault("columns", "").split(",")) {
      if (!column.isBlank()) {
        String[] parts = column.trim().split(":", 3);
        paths.put("column " + parts[0], parts[2]);
      }
    }
    for (String key : config.getOrDefault("key.fields", "").split(",")) {
      if (!key.isBlank()) {
        paths.put("key.fields " + key.trim(), key.trim());
      }
    }
    for (String option : List.of("id.field", "audit.time.field")) {
      if (config.containsKey(option)) {
        paths.put(option, config.get(option));
      }
    }
    return paths;
  }

  private static boolean declares(JsonNode schema, String path) {
    JsonNode node = schema;
    for (String segment : path.split("\\.")) {
      node = node.path("properties").path(segment);
      if (node.isMissingNode()) {
        return false;
      }
    }
    return true;
  }

  /**
   * somastack_tool_results.tenant read tenant_id, which a ToolResult carries as metadata.tenant_id;
   * agent_name was NULL for six of the eight agent topics.
   */
  @Test
  void everyFieldAPostgresSinkReadsIsInTheSchemaOfEveryTopicItReads() throws IOException {
    List<String> missing = new ArrayList<>();
    for (PipelineFile pipeline : pipelines()) {
      Map<String, String> config = pipeline.config();
      if (!pipeline.connectorClass().endsWith("PostgresMemorySinkConnector")) {
        continue;
      }
      Map<String, Path> schemas = schemas(config);
      for (String topic : topics(config)) {
        Path file = schemas.get(topic);
        if (file == null) {
          continue; // not validated (memory.wal): no schema to hold the config against
        }
        JsonNode schema = JSON.readTree(file.toFile());
        fieldPaths(config)
            .forEach(
                (what, path) -> {
                  if (!declares(schema, path)) {
                    missing.add(pipeline.name() + " " + what + " (" + path + ") on " + topic);
                  }
                });
      }
    }
    assertEquals(List.of(), missing, "fields the events of these topics do not have");
  }

  /** The paths a pipeline leaves out of its store or writes only encrypted or redacted. */
  private static Set<String> protectedFields(Map<String, String> config) {
    Set<String> fields = new LinkedHashSet<>();
    List<String> aliases = new ArrayList<>(transforms(config, "EncryptFields$Value"));
    aliases.addAll(transforms(config, "RedactFields$Value"));
    for (String alias : aliases) {
      fields.addAll(list(config.get("transforms." + alias + ".fields")));
    }
    fields.addAll(list(config.get("payload.exclude")));
    return fields;
  }

  private static List<String> list(String value) {
    List<String> items = new ArrayList<>();
    for (String item : value == null ? new String[0] : value.split(",")) {
      if (!item.isBlank()) {
        items.add(item.trim());
      }
    }
    return items;
  }

  /**
   * memory-kv encrypted the PII of memory.events, while memory-vectors copied the same events whole
   * into the payload of Qdrant points, PII in clear.
   */
  @Test
  void fieldsOnePipelineEncryptsNoOtherPipelineOfTheTopicStoresInClear() throws IOException {
    List<PipelineFile> pipelines = pipelines();
    Map<String, Set<String>> encrypted = new TreeMap<>();
    for (PipelineFile pipeline : pipelines) {
      for (String alias : transforms(pipeline.config(), "EncryptFields$Value")) {
        for (String topic : topics(pipeline.config())) {
          encrypted
              .computeIfAbsent(topic, t -> new TreeSet<>())
              .addAll(list(pipeline.config().get("transforms." + alias + ".fields")));
        }
      }
    }
    assertFalse(encrypted.isEmpty(), "memory-kv encrypts PII");
    List<String> inClear = new ArrayList<>();
    for (PipelineFile pipeline : pipelines) {
      Set<String> safe = protectedFields(pipeline.config());
      for (String topic : topics(pipeline.config())) {
        for (String field : encrypted.getOrDefault(topic, Set.of())) {
          if (!safe.contains(field)) {
            inClear.add(pipeline.name() + " stores " + field + " of " + topic);
          }
        }
      }
    }
    assertEquals(List.of(), inClear, "PII another pipeline of the topic encrypts");
  }
}
