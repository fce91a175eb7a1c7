package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.common.config.ConfigValue;
import org.junit.jupiter.api.Test;

/**
 * Every shipped example in connector-configs/ of this connector validates clean and is warned of
 * nothing at start (validate's cross-option checks grow; an example they refuse would fail its
 * deploy). The workers' environment is stood in for by plausible values.
 */
class ShippedConfigsValidateTest {

  private static final Map<String, String> ENV =
      Map.of(
          "SOMA_PG_URL", "jdbc:postgresql://db:5432/soma",
          "SOMA_QDRANT_URL", "http://qdrant:6334");

  @Test
  void everyShippedExampleValidatesCleanAndIsWarnedOfNothing() throws IOException {
    List<Path> files;
    try (Stream<Path> listed = Files.list(Path.of("..", "connector-configs"))) {
      files = listed.filter(f -> f.toString().endsWith(".json")).sorted().toList();
    }
    int checked = 0;
    for (Path file : files) {
      JsonNode config = new ObjectMapper().readTree(file.toFile()).path("config");
      if (!PostgresOutboxSourceConnector.class
          .getName()
          .equals(config.path("connector.class").asText())) {
        continue;
      }
      Map<String, String> props = new HashMap<>();
      config
          .fields()
          .forEachRemaining(
              e -> {
                String value = e.getValue().asText();
                if (value.startsWith("${env:") && value.endsWith("}")) {
                  value = ENV.getOrDefault(value.substring(6, value.length() - 1), "x");
                }
                props.put(e.getKey(), value);
              });
      List<String> errors = new ArrayList<>();
      for (ConfigValue value : new PostgresOutboxSourceConnector().validate(props).configValues()) {
        value.errorMessages().forEach(m -> errors.add(value.name() + ": " + m));
      }
      assertEquals(List.of(), errors, file.toString());
      assertEquals(List.of(), new OutboxSourceConfig(props).ignoredOptions(), file.toString());
      checked++;
    }
    assertFalse(
        checked == 0, "no example of " + PostgresOutboxSourceConnector.class.getSimpleName());
  }
}
