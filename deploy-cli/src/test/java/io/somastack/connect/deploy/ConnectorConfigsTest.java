package io.somastack.connect.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.deploy.topics.TopicFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * connector-configs/ and topics.json describe the same topics: every topic a pipeline reads or
 * dead-letters to is declared, and a topic the outbox relay may create (Connect's topic.creation.*,
 * when the relay writes to it before anyone ran the topics command, as on Strimzi) gets what
 * topics.json declares.
 */
class ConnectorConfigsTest {

  private static final Path CONFIGS = Path.of("..", "connector-configs");

  /** Keys of a topic.creation group that are not topic configs. */
  private static final Set<String> GROUP_KEYS =
      Set.of("include", "exclude", "replication.factor", "partitions");

  private static List<PipelineFile> pipelines() throws IOException {
    List<PipelineFile> pipelines = new ArrayList<>();
    for (Path file : PipelineFile.list(CONFIGS)) {
      pipelines.add(PipelineFile.read(file));
    }
    assertFalse(pipelines.isEmpty());
    return pipelines;
  }

  private static Map<String, TopicFile.Topic> declared() throws IOException {
    return TopicFile.read(CONFIGS.resolve("topics.json")).topics().stream()
        .collect(Collectors.toMap(TopicFile.Topic::name, t -> t));
  }

  @Test
  void everyTopicReadOrDeadLetteredToIsDeclared() throws IOException {
    Map<String, TopicFile.Topic> declared = declared();
    for (PipelineFile pipeline : pipelines()) {
      Map<String, String> config = pipeline.config();
      for (String topic : config.getOrDefault("topics", "").split(",")) {
        assertTrue(
            topic.isBlank() || declared.containsKey(topic.trim()), pipeline.name() + ": " + topic);
      }
      String dlq = config.get("errors.deadletterqueue.topic.name");
      if (dlq != null) {
        assertTrue(declared.containsKey(dlq), pipeline.name() + ": " + dlq);
        assertEquals("all", config.get("errors.tolerance"), pipeline.name() + " names a DLQ");
      }
    }
  }

  /**
   * The outbox relay writes its topics in Kafka transactions, and a sink's consumer reads
   * uncommitted records unless told otherwise (Connect forces read_committed only on its own offset
   * consumers): the records of an aborted relay transaction were written, then their committed
   * re-send too. Every sink reads committed records only, so no new pipeline forgets it.
   */
  @Test
  void everySinkReadsCommittedRecordsOnly() throws IOException {
    List<String> uncommitted = new ArrayList<>();
    for (PipelineFile pipeline : pipelines()) {
      Map<String, String> config = pipeline.config();
      boolean sink = config.containsKey("topics") || config.containsKey("topics.regex");
      if (sink && !"read_committed".equals(config.get("consumer.override.isolation.level"))) {
        uncommitted.add(pipeline.name());
      }
    }
    assertEquals(
        List.of(), uncommitted, "sinks without consumer.override.isolation.level=read_committed");
  }

  /**
   * The PostgreSQL pipelines had no way to a CA certificate or a client key's password but editing
   * every file (or the generated Strimzi resources): with sslmode=verify-full in SOMA_PG_URL each
   * failed on the missing ~/.postgresql/root.crt, and an sslpassword= in the URL is refused. They
   * take both from the workers' environment, like every other connection setting.
   */
  @Test
  void everyPostgresPipelineTakesItsTlsRootCertificateAndKeyPasswordFromTheEnvironment()
      throws IOException {
    List<String> without = new ArrayList<>();
    for (PipelineFile pipeline : pipelines()) {
      Map<String, String> config = pipeline.config();
      if (!config.containsKey("connection.url")) {
        continue;
      }
      if (!"${env:SOMA_PG_SSLROOTCERT}".equals(config.get("connection.sslrootcert"))
          || !"${env:SOMA_PG_SSLPASSWORD}".equals(config.get("connection.sslpassword"))) {
        without.add(pipeline.name());
      }
    }
    assertEquals(
        List.of(),
        without,
        "PostgreSQL pipelines without connection.sslrootcert=${env:SOMA_PG_SSLROOTCERT} and"
            + " connection.sslpassword=${env:SOMA_PG_SSLPASSWORD}");
  }

  @Test
  void topicsTheOutboxRelayCreatesGetWhatTopicsJsonDeclares() throws IOException {
    PipelineFile relay =
        pipelines().stream().filter(p -> p.name().equals("outbox-relay")).findFirst().orElseThrow();
    Map<String, String> config = relay.config();
    Pattern allowed = Pattern.compile(config.get("topic.allow.regex"));
    List<String> problems = new ArrayList<>();
    for (TopicFile.Topic topic : declared().values()) {
      if (!allowed.matcher(topic.name()).matches()) {
        continue;
      }
      String group = creationGroup(config, topic.name());
      String partitions =
          config.getOrDefault(
              "topic.creation." + group + ".partitions",
              config.get("topic.creation.default.partitions"));
      if (!String.valueOf(topic.partitions()).equals(partitions)) {
        problems.add(topic.name() + " partitions " + partitions + " (group " + group + ")");
      }
      Map<String, String> created = topicConfigs(config, group);
      if (!created.equals(new LinkedHashMap<>(topic.config()))) {
        problems.add(topic.name() + " " + created + " (group " + group + ")");
      }
    }
    assertEquals(List.of(), problems, "topics outbox-relay.json would create unlike topics.json");
  }

  /** Connect's rule: the first group of topic.creation.groups that includes it, else default. */
  private static String creationGroup(Map<String, String> config, String topic) {
    for (String group : config.getOrDefault("topic.creation.groups", "").split(",")) {
      String prefix = "topic.creation." + group.trim() + ".";
      String include = String.join("|", config.getOrDefault(prefix + "include", "").split(","));
      String exclude = String.join("|", config.getOrDefault(prefix + "exclude", "").split(","));
      if (!group.isBlank()
          && Pattern.compile(include).matcher(topic).matches()
          && !(!exclude.isEmpty() && Pattern.compile(exclude).matcher(topic).matches())) {
        return group.trim();
      }
    }
    return "default";
  }

  private static Map<String, String> topicConfigs(Map<String, String> config, String group) {
    String prefix = "topic.creation." + group + ".";
    Map<String, String> configs = new LinkedHashMap<>();
    config.forEach(
        (key, value) -> {
          if (key.startsWith(prefix) && !GROUP_KEYS.contains(key.substring(prefix.length()))) {
            configs.put(key.substring(prefix.length()), value);
          }
        });
    return configs;
  }
}
