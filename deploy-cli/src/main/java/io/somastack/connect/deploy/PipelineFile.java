package io.somastack.connect.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** One file of connector-configs/: a Connect REST body {@code {"name": ..., "config": {...}}}. */
public record PipelineFile(Path path, String name, Map<String, String> config) {

  private static final ObjectMapper JSON = new ObjectMapper();

  public static PipelineFile read(Path path) throws IOException {
    JsonNode root = JSON.readTree(path.toFile());
    if (root == null || !root.path("name").isTextual() || !root.path("config").isObject()) {
      throw new IOException(
          path + " is not a Connect REST body {\"name\": ..., \"config\": {...}}");
    }
    Map<String, String> config = new LinkedHashMap<>();
    root.get("config")
        .fields()
        .forEachRemaining(
            e ->
                config.put(
                    e.getKey(),
                    e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString()));
    String connectorClass = config.get("connector.class");
    if (connectorClass == null || connectorClass.isBlank()) {
      throw new IOException(path + " has no connector.class");
    }
    config.putIfAbsent("name", root.get("name").asText());
    return new PipelineFile(path, root.get("name").asText(), config);
  }

  public String connectorClass() {
    return config.get("connector.class");
  }

  public int tasksMax() {
    return Integer.parseInt(config.getOrDefault("tasks.max", "1"));
  }

  /** All *.json files of a folder, in name order, except topics.json. */
  public static java.util.List<Path> list(Path folder) throws IOException {
    try (var files = Files.list(folder)) {
      return files
          .filter(p -> p.getFileName().toString().endsWith(".json"))
          .filter(p -> !p.getFileName().toString().equals("topics.json"))
          .sorted()
          .toList();
    }
  }
}
