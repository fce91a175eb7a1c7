package io.somastack.connect.outbox;

import io.somastack.connect.testing.connect.MetricsReadme;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's metrics section documents exactly the metrics a task registers. */
class MetricsReadmeTest {

  @Test
  void readmeTableMatchesTheRegisteredMetrics() throws Exception {
    MetricsReadme.assertDocuments(Path.of("README.md"), OutboxMetrics::new);
  }
}
