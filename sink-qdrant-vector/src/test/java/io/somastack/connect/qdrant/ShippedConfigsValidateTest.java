package io.somastack.connect.qdrant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.somastack.connect.testing.connect.ShippedConfigs;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every shipped example in connector-configs/ of this connector validates clean and is warned of
 * nothing at start (validate's cross-option checks grow; an example they refuse would fail its
 * deploy). The workers' environment is stood in for by plausible values.
 */
class ShippedConfigsValidateTest {

  @Test
  void everyShippedExampleValidatesCleanAndIsWarnedOfNothing() {
    Map<Path, Map<String, String>> examples = ShippedConfigs.of(QdrantVectorSinkConnector.class);
    assertFalse(
        examples.isEmpty(), "no example of " + QdrantVectorSinkConnector.class.getSimpleName());
    examples.forEach(
        (file, props) -> {
          assertEquals(
              List.of(),
              ShippedConfigs.validationErrors(new QdrantVectorSinkConnector(), props),
              file.toString());
          assertEquals(List.of(), new QdrantSinkConfig(props).ignoredOptions(), file.toString());
        });
  }
}
