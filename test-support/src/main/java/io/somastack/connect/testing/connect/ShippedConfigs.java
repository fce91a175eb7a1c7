package io.somastack.connect.testing.connect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.connector.Connector;

/**
 * The shipped examples in connector-configs/ of one connector class, as a worker would hand them
 * over: each config with its ${env:...} placeholders stood in for by plausible values (a JDBC URL,
 * a Qdrant URL, "x" for the rest), so that a plugin's tests can validate every example it ships.
 */
public final class ShippedConfigs {

  private static final Map<String, String> ENV =
      Map.of(
          "SOMA_PG_URL", "jdbc:postgresql://db:5432/soma",
          "SOMA_QDRANT_URL", "http://qdrant:6334");

  private ShippedConfigs() {}

  /** Each example's file and its config, for the examples whose connector.class is this one. */
  public static Map<Path, Map<String, String>> of(Class<? extends Connector> connector) {
    Map<Path, Map<String, String>> examples = new LinkedHashMap<>();
    try (Stream<Path> listed = Files.list(folder())) {
      for (Path file : listed.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
        JsonNode config = new ObjectMapper().readTree(file.toFile()).path("config");
        if (connector.getName().equals(config.path("connector.class").asText())) {
          examples.put(file, props(config));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return examples;
  }

  /**
   * connector-configs/ of the project the tests run in: a module's tests run in the module's
   * folder, beside it; no packaged plugins needed (unit tests run before they are packaged).
   */
  private static Path folder() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isDirectory(dir.resolve("connector-configs"))) {
        return dir.resolve("connector-configs");
      }
    }
    throw new IllegalStateException(
        "no connector-configs folder above " + Path.of("").toAbsolutePath());
  }

  /** What validate says is wrong with the config, as "option: message", none when it is clean. */
  public static List<String> validationErrors(Connector connector, Map<String, String> props) {
    List<String> errors = new ArrayList<>();
    for (ConfigValue value : connector.validate(props).configValues()) {
      value.errorMessages().forEach(message -> errors.add(value.name() + ": " + message));
    }
    return errors;
  }

  private static Map<String, String> props(JsonNode config) {
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
    return props;
  }
}
