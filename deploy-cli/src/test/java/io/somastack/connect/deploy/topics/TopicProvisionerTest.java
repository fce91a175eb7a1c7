package io.somastack.connect.deploy.topics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.MockAdminClient;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;

class TopicProvisionerTest {

  private static final TopicFile FILE =
      new TopicFile(
          Path.of("topics.json"),
          List.of(
              new TopicFile.Topic(
                  "somastack.tools",
                  3,
                  (short) 1,
                  Map.of("retention.ms", "604800000", "cleanup.policy", "delete"),
                  ""),
              new TopicFile.Topic(
                  "memory.kv", 3, (short) 1, Map.of("cleanup.policy", "compact"), ""),
              new TopicFile.Topic("agent-actions", 12, (short) 1, Map.of(), "")));

  @Test
  void createsTheMissingTopicsAndReportsPartitionDifferences() throws Exception {
    try (MockAdminClient admin = MockAdminClient.create().numBrokers(1).build()) {
      admin.createTopics(List.of(new NewTopic("agent-actions", 6, (short) 1))).all().get();

      TopicProvisioner.Result result = TopicProvisioner.provision(admin, FILE);

      assertEquals(List.of("somastack.tools", "memory.kv"), result.created());
      assertEquals(List.of("agent-actions"), result.existing());
      assertEquals(
          List.of("agent-actions has 6 partitions, topics.json says 12"), result.mismatches());
      assertFalse(result.consistent());
      Map<String, TopicDescription> topics =
          admin.describeTopics(List.of("somastack.tools")).allTopicNames().get();
      assertEquals(3, topics.get("somastack.tools").partitions().size());
      ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, "memory.kv");
      assertEquals(
          "compact",
          admin
              .describeConfigs(List.of(resource))
              .all()
              .get()
              .get(resource)
              .get("cleanup.policy")
              .value());
    }
  }

  @Test
  void reportsAnExistingTopicWithAnotherCleanupPolicyOrRetention() throws Exception {
    try (MockAdminClient admin = MockAdminClient.create().numBrokers(1).build()) {
      admin
          .createTopics(
              List.of(
                  new NewTopic("memory.kv", 3, (short) 1)
                      .configs(Map.of("cleanup.policy", "delete")),
                  new NewTopic("somastack.tools", 3, (short) 1)
                      .configs(Map.of("retention.ms", "86400000", "cleanup.policy", "delete"))))
          .all()
          .get();

      TopicProvisioner.Result result = TopicProvisioner.provision(admin, FILE);

      assertEquals(List.of("agent-actions"), result.created());
      assertEquals(
          List.of(
              "somastack.tools has retention.ms=86400000, topics.json says 604800000",
              "memory.kv has cleanup.policy=delete, topics.json says compact"),
          result.mismatches());
      assertFalse(result.consistent());
    }
  }

  @Test
  void aSecondRunCreatesNothing() throws Exception {
    try (MockAdminClient admin = MockAdminClient.create().numBrokers(1).build()) {
      TopicProvisioner.provision(admin, FILE);
      TopicProvisioner.Result again = TopicProvisioner.provision(admin, FILE);
      assertTrue(again.created().isEmpty());
      assertEquals(3, again.existing().size());
      assertTrue(again.consistent());
    }
  }
}
