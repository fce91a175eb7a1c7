package io.somastack.connect.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigValue;
import org.junit.jupiter.api.Test;

class OptionConflictTest {

  private static final ConfigDef DEF =
      new ConfigDef()
          .define("mode", ConfigDef.Type.STRING, "a", ConfigDef.Importance.HIGH, "mode")
          .define("secret.url", ConfigDef.Type.STRING, "u", ConfigDef.Importance.HIGH, "url");

  /** Like a config class: reads its options, so a null one fails with an exception. */
  private static final Consumer<Map<String, String>> BUILD =
      props -> {
        AbstractConfig config = new AbstractConfig(DEF, props);
        if (config.getString("mode").trim().equals("b")) {
          throw new OptionConflict("secret.url", "does not go with mode=b");
        }
      };

  private static Map<String, List<String>> explained(Map<String, String> props) {
    Config result = OptionConflict.explain(new Config(DEF.validate(props)), props, BUILD, "mode");
    Map<String, List<String>> errors = new HashMap<>();
    for (ConfigValue value : result.configValues()) {
      errors.put(value.name(), value.errorMessages());
    }
    return errors;
  }

  @Test
  void aConflictIsShownOnItsOptionWithoutTheValue() {
    Map<String, List<String>> errors =
        explained(Map.of("mode", "b", "secret.url", "postgres://u:s3cret@h"));
    assertTrue(errors.get("mode").isEmpty(), errors.toString());
    assertEquals(
        List.of("Invalid value for configuration secret.url: does not go with mode=b"),
        errors.get("secret.url"));
  }

  /**
   * Connect passes null values on to validate and refuses them afterwards itself: explain leaves
   * them to it rather than build a config that fails on one with an exception (an HTTP 500).
   */
  @Test
  void aNullValueIsLeftToConnect() {
    Map<String, String> props = new HashMap<>();
    props.put("mode", null);
    Map<String, List<String>> errors = explained(props);
    assertFalse(errors.isEmpty());
    assertTrue(errors.values().stream().allMatch(List::isEmpty), errors.toString());
  }
}
