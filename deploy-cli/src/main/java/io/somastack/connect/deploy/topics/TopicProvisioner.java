package io.somastack.connect.deploy.topics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates the topics of a {@link TopicFile} that do not exist yet, and reports the existing ones
 * whose partition count differs from the file (it never changes an existing topic: adding
 * partitions moves keys to other partitions, which is the operator's call).
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
    List<String> mismatches = new ArrayList<>();
    if (!existing.isEmpty()) {
      Map<String, TopicDescription> described =
          admin
              .describeTopics(existing.stream().map(TopicFile.Topic::name).toList())
              .allTopicNames()
              .get();
      for (TopicFile.Topic topic : existing) {
        int actual = described.get(topic.name()).partitions().size();
        if (actual != topic.partitions()) {
          mismatches.add(
              topic.name()
                  + " has "
                  + actual
                  + " partitions, "
                  + file.path().getFileName()
                  + " says "
                  + topic.partitions());
        }
      }
    }
    return new Result(
        List.copyOf(created),
        existing.stream().map(TopicFile.Topic::name).toList(),
        List.copyOf(mismatches));
  }
}
