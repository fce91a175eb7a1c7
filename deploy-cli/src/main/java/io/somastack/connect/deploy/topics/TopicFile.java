package io.somastack.connect.deploy.topics;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.deploy.JsonFiles;
import io.somastack.connect.deploy.PipelineFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * connector-configs/topics.json: the one declarative list of the pipelines' topics, read by the
 * quickstart and by {@code deploy-cli topics} (the docker-compose stack) alike.
 *
 * <pre>{@code
 * {"defaults": {"replication_factor": 1},
 *  "topics": [{"name": "somastack.tools", "partitions": 3,
 *              "config": {"retention.ms": "604800000", "cleanup.policy": "delete"},
 *              "description": "..."}]}
 * }</pre>
 *
 * A topic may carry its own {@code replication_factor}; otherwise the default applies.
 */
public record TopicFile(Path path, List<Topic> topics) {

  /** One topic to provision. */
  public record Topic(
      String name,
      int partitions,
      short replicationFactor,
      Map<String, String> config,
      String description) {}

  public static TopicFile read(Path path) throws IOException {
    JsonNode root = JsonFiles.read(path);
    if (root == null || !root.path("topics").isArray()) {
      throw new IOException(path + " has no \"topics\" array");
    }
    int defaultReplication = root.path("defaults").path("replication_factor").asInt(1);
    List<Topic> topics = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (JsonNode node : root.path("topics")) {
      String name = node.path("name").asText("");
      if (name.isBlank()) {
        throw new IOException(path + ": a topic without a name: " + node);
      }
      if (!names.add(name)) {
        throw new IOException(path + ": topic " + name + " is listed twice");
      }
      int partitions = node.path("partitions").asInt(1);
      int replication = node.path("replication_factor").asInt(defaultReplication);
      if (partitions < 1 || replication < 1 || replication > Short.MAX_VALUE) {
        throw new IOException(
            path + ": topic " + name + " needs partitions >= 1 and replication_factor >= 1");
      }
      Map<String, String> config =
          PipelineFile.strings(path + ": topic " + name + " config", node.path("config"));
      topics.add(
          new Topic(
              name,
              partitions,
              (short) replication,
              Map.copyOf(config),
              node.path("description").asText("")));
    }
    return new TopicFile(path, List.copyOf(topics));
  }

  /** The same topics with another replication factor, e.g. 3 on a production cluster. */
  public TopicFile withReplicationFactor(short replicationFactor) {
    return new TopicFile(
        path,
        topics.stream()
            .map(
                t ->
                    new Topic(
                        t.name(), t.partitions(), replicationFactor, t.config(), t.description()))
            .toList());
  }
}
