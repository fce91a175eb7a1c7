package io.somastack.connect.deploy.topics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TopicFileTest {

  @TempDir Path dir;

  @Test
  void readsTheProjectsTopicList() throws IOException {
    TopicFile file = TopicFile.read(Path.of("..", "connector-configs", "topics.json"));
    assertFalse(file.topics().isEmpty());
    for (TopicFile.Topic topic : file.topics()) {
      assertTrue(topic.partitions() >= 1, topic.name());
      assertEquals(1, topic.replicationFactor(), topic.name());
      assertTrue(topic.config().containsKey("retention.ms"), topic.name());
      if (topic.name().startsWith("somastack.")) {
        assertEquals(3, topic.partitions(), topic.name() + ": keyed by tenant_id, 3 partitions");
      }
    }
  }

  @Test
  void aTopicMayOverrideTheDefaultReplicationFactor() throws IOException {
    Path json =
        write(
            """
            {"defaults": {"replication_factor": 3},
             "topics": [{"name": "a", "partitions": 2, "config": {"cleanup.policy": "compact",
                         "retention.ms": 1000}},
                        {"name": "b", "replication_factor": 1}]}
            """);
    TopicFile file = TopicFile.read(json);
    assertEquals(3, file.topics().get(0).replicationFactor());
    assertEquals("compact", file.topics().get(0).config().get("cleanup.policy"));
    assertEquals("1000", file.topics().get(0).config().get("retention.ms"));
    assertEquals(1, file.topics().get(1).replicationFactor());
    assertEquals(1, file.topics().get(1).partitions());
    assertEquals(5, file.withReplicationFactor((short) 5).topics().get(1).replicationFactor());
  }

  @Test
  void rejectsDuplicatesAndNonsense() throws IOException {
    assertThrows(
        IOException.class,
        () -> TopicFile.read(write("{\"topics\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}")));
    assertThrows(
        IOException.class,
        () -> TopicFile.read(write("{\"topics\": [{\"name\": \"a\", \"partitions\": 0}]}")));
    assertThrows(IOException.class, () -> TopicFile.read(write("{\"topics\": [{}]}")));
    assertThrows(IOException.class, () -> TopicFile.read(write("{}")));
  }

  /** A null topic config was created as the string "null" (or refused by Kafka, unnamed). */
  @Test
  void aNullTopicConfigIsRefusedNamingTopicAndKey() throws IOException {
    Path json = write("{\"topics\": [{\"name\": \"a\", \"config\": {\"retention.ms\": null}}]}");
    IOException e = assertThrows(IOException.class, () -> TopicFile.read(json));
    assertTrue(
        e.getMessage().startsWith(json + ": topic a config retention.ms is null"), e.getMessage());
  }

  private Path write(String json) throws IOException {
    Path file = Files.createTempFile(dir, "topics", ".json");
    Files.writeString(file, json);
    return file;
  }
}
