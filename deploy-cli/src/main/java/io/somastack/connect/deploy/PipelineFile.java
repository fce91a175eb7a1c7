package io.somastack.connect.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One file of connector-configs/: a Connect REST body {@code {"name": ..., "config": {...}}}. */
public record PipelineFile(Path path, String name, Map<String, String> config) {

  public static PipelineFile read(Path path) throws IOException {
    JsonNode root = JsonFiles.read(path);
    if (root == null
        || !root.path("name").isTextual()
        || root.path("name").asText().isBlank()
        || !root.path("config").isObject()) {
      throw new IOException(
          path + " is not a Connect REST body {\"name\": ..., \"config\": {...}}");
    }
    String name = root.get("name").asText();
    Map<String, String> config = strings(path + ": config", root.get("config"));
    String connectorClass = config.get("connector.class");
    if (connectorClass == null || connectorClass.isBlank()) {
      throw new IOException(path + " has no connector.class");
    }
    String configName = config.putIfAbsent("name", name);
    if (configName != null && !configName.equals(name)) {
      // Connect refuses the PUT for it, but Strimzi would take the file's name without a word
      throw new IOException(
          path + ": config name " + configName + " is not the pipeline's name " + name);
    }
    return new PipelineFile(path, name, config);
  }

  /**
   * A JSON object of configs as the strings Kafka takes: a string as it is, a number or boolean as
   * its JSON text (what Connect's REST API itself does with one). A null, array or object is
   * refused, named by {@code where} and its key but never quoted: the first is almost certainly a
   * mistake (it was sent as the string "null"), and Connect's REST API refuses the others.
   */
  public static Map<String, String> strings(String where, JsonNode object) throws IOException {
    Map<String, String> strings = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode value = e.getValue();
      if (value.isNull()) {
        throw new IOException(
            where
                + " "
                + e.getKey()
                + " is null; configs are strings: quote the value, or leave the key out for its"
                + " default");
      }
      if (value.isContainerNode()) {
        throw new IOException(
            where
                + " "
                + e.getKey()
                + " is "
                + (value.isArray() ? "an array" : "an object")
                + "; configs are strings (a list is one string, comma-separated)");
      }
      strings.put(e.getKey(), value.isTextual() ? value.asText() : value.toString());
    }
    return strings;
  }

  /**
   * "connector NAME is declared by both A and B" for each connector two of the files declare:
   * deployed one after the other, the second would silently replace the first.
   */
  public static List<String> sameNames(Collection<PipelineFile> pipelines) {
    Map<String, PipelineFile> first = new HashMap<>();
    List<String> clashes = new ArrayList<>();
    for (PipelineFile pipeline : pipelines) {
      PipelineFile earlier = first.putIfAbsent(pipeline.name(), pipeline);
      if (earlier != null) {
        clashes.add(
            "connector "
                + pipeline.name()
                + " is declared by both "
                + earlier.path()
                + " and "
                + pipeline.path());
      }
    }
    return clashes;
  }

  public String connectorClass() {
    return config.get("connector.class");
  }

  public int tasksMax() {
    return Integer.parseInt(config.getOrDefault("tasks.max", "1"));
  }

  /** All *.json files of a folder, in name order, except topics.json. */
  public static List<Path> list(Path folder) throws IOException {
    try (var files = Files.list(folder)) {
      return files
          .filter(p -> p.getFileName().toString().endsWith(".json"))
          .filter(p -> !p.getFileName().toString().equals("topics.json"))
          .sorted()
          .toList();
    }
  }
}
