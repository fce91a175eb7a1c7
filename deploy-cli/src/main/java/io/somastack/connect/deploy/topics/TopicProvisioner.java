package io.somastack.connect.deploy.topics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates the topics of a {@link TopicFile} that do not exist yet, and reports the existing ones
 * whose partition count or declared configs (cleanup.policy, retention.ms, ...) differ from the
 * file (it never changes an existing topic: adding partitions moves keys to other partitions, and a
 * retention change deletes or keeps data, which is the operator's call).
 */
public final class TopicProvisioner {

  /** What provisioning found and did. */
  public record Result(List<String> created, List<String> existing, List<String> mismatches) {
    public boolean consistent() {
      return mismatches.isEmpty();
    }
  }

  private TopicProvisioner() {}

  public static Result provision(Admin admin, TopicFile file)
      throws ExecutionException, InterruptedException {
    Set<String> present = admin.listTopics().names().get();
    List<NewTopic> missing = new ArrayList<>();
    List<TopicFile.Topic> existing = new ArrayList<>();
    for (TopicFile.Topic topic : file.topics()) {
      if (present.contains(topic.name())) {
        existing.add(topic);
      } else {
        missing.add(
            new NewTopic(topic.name(), topic.partitions(), topic.replicationFactor())
                .configs(new HashMap<>(topic.config())));
      }
    }
    List<String> created = new ArrayList<>();
    Map<String, KafkaFuture<Void>> futures = admin.createTopics(missing).values();
    for (NewTopic topic : missing) {
      try {
        futures.get(topic.name()).get();
        created.add(topic.name());
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw e;
        }
        // created by someone else in the meantime: compare it like any existing topic
        file.topics().stream()
            .filter(t -> t.name().equals(topic.name()))
            .findFirst()
            .ifPresent(existing::add);
      }
    }
    List<String> mismatches = existing.isEmpty() ? List.of() : differences(admin, file, existing);
    return new Result(
        List.copyOf(created),
        existing.stream().map(TopicFile.Topic::name).toList(),
        List.copyOf(mismatches));
  }

  /**
   * How the existing topics differ from the file: partition count and every config the file
   * declares (cleanup.policy, retention.ms, ...). A compacted topic where the file says delete, or
   * a shorter retention, loses or keeps data the pipelines do not expect: reported, never changed.
   */
  private static List<String> differences(
      Admin admin, TopicFile file, List<TopicFile.Topic> existing)
      throws ExecutionException, InterruptedException {
    List<String> names = existing.stream().map(TopicFile.Topic::name).toList();
    Map<String, TopicDescription> described = admin.describeTopics(names).allTopicNames().get();
    Map<ConfigResource, Config> configs =
        admin
            .describeConfigs(
                names.stream().map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList())
            .all()
            .get();
    String source = file.path().getFileName().toString();
    List<String> differences = new ArrayList<>();
    for (TopicFile.Topic topic : existing) {
      int actual = described.get(topic.name()).partitions().size();
      if (actual != topic.partitions()) {
        differences.add(
            topic.name()
                + " has "
                + actual
                + " partitions, "
                + source
                + " says "
                + topic.partitions());
      }
      Config config = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, topic.name()));
      for (Map.Entry<String, String> wanted : new TreeMap<>(topic.config()).entrySet()) {
        ConfigEntry entry = config == null ? null : config.get(wanted.getKey());
        String value = entry == null ? null : entry.value();
        if (!wanted.getValue().equals(value)) {
          differences.add(
              String.format(
                  "%s has %s=%s, %s says %s",
                  topic.name(), wanted.getKey(), value, source, wanted.getValue()));
        }
      }
    }
    return differences;
  }
}
