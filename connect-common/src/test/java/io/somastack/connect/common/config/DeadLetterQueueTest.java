package io.somastack.connect.common.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class DeadLetterQueueTest {

  @Test
  void aQueueNeedsItsTopicAndToleranceAll() {
    assertTrue(
        DeadLetterQueue.configured(
            Map.of("errors.deadletterqueue.topic.name", "dlq", "errors.tolerance", " ALL ")));
    assertFalse(DeadLetterQueue.configured(Map.of()));
    // Connect makes an errant record reporter for the log alone; its report then fails the task
    assertFalse(
        DeadLetterQueue.configured(
            Map.of("errors.log.enable", "true", "errors.tolerance", "none")));
    assertFalse(
        DeadLetterQueue.configured(
            Map.of("errors.deadletterqueue.topic.name", "dlq", "errors.tolerance", "none")));
    assertFalse(
        DeadLetterQueue.configured(
            Map.of("errors.deadletterqueue.topic.name", " ", "errors.tolerance", "all")));
  }
}
