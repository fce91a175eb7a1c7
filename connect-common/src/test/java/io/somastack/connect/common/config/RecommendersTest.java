package io.somastack.connect.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigValue;
import org.junit.jupiter.api.Test;

class RecommendersTest {

  enum Mode {
    APPEND,
    UPSERT,
    AUDIT
  }

  private static final ConfigDef DEF =
      new ConfigDef()
          .define(
              "mode",
              ConfigDef.Type.STRING,
              "append",
              Validators.oneOf(Mode.class),
              ConfigDef.Importance.HIGH,
              "mode",
              "g",
              1,
              ConfigDef.Width.SHORT,
              "Mode",
              List.of("key.fields"),
              Recommenders.enumValues(Mode.class))
          .define(
              "key.fields",
              ConfigDef.Type.STRING,
              "",
              ConfigDef.Importance.HIGH,
              "keys",
              "g",
              2,
              ConfigDef.Width.SHORT,
              "Keys",
              Recommenders.visibleWhen("mode", Mode.UPSERT))
          .define("delete", ConfigDef.Type.BOOLEAN, true, ConfigDef.Importance.LOW, "delete")
          .define(
              "delete.field",
              ConfigDef.Type.STRING,
              "id",
              ConfigDef.Importance.LOW,
              "field",
              "g",
              3,
              ConfigDef.Width.SHORT,
              "Field",
              Recommenders.visibleUnlessFalse("delete"))
          .define(
              "order",
              ConfigDef.Type.STRING,
              "append",
              Validators.oneOf(Mode.class),
              ConfigDef.Importance.LOW,
              "order",
              "g",
              4,
              ConfigDef.Width.SHORT,
              "Order",
              Recommenders.enumValues(Mode.class, Recommenders.visibleWhen("mode", Mode.UPSERT)))
          .define(
              "tls",
              ConfigDef.Type.STRING,
              "prefer",
              ConfigDef.Importance.LOW,
              "tls",
              "g",
              5,
              ConfigDef.Width.SHORT,
              "TLS",
              Recommenders.values("disable", "prefer", "verify-full"));

  private static Map<String, ConfigValue> validate(Map<String, String> props) {
    Map<String, ConfigValue> byName = new HashMap<>();
    for (ConfigValue value : new Config(DEF.validate(props)).configValues()) {
      byName.put(value.name(), value);
    }
    return byName;
  }

  @Test
  void listsAnEnumsValuesAsConfigsWriteThem() {
    assertEquals(
        List.of("append", "upsert", "audit"), validate(Map.of()).get("mode").recommendedValues());
  }

  /** An enum option that applies to some modes only lists its values and hides in the others. */
  @Test
  void listsAnEnumsValuesWhileShowingItAsAnotherRecommenderSays() {
    assertEquals(
        List.of("append", "upsert", "audit"), validate(Map.of()).get("order").recommendedValues());
    assertFalse(validate(Map.of("mode", "append")).get("order").visible());
    assertTrue(validate(Map.of("mode", "upsert")).get("order").visible());
  }

  @Test
  void listsGivenValues() {
    Map<String, ConfigValue> values = validate(Map.of());
    assertEquals(
        List.of("disable", "prefer", "verify-full"), values.get("tls").recommendedValues());
    assertTrue(values.get("tls").visible());
  }

  @Test
  void showsAnOptionOnlyWhileTheDecidingOptionHasOneOfItsValues() {
    assertFalse(validate(Map.of("mode", "append")).get("key.fields").visible());
    assertTrue(validate(Map.of("mode", "UPSERT")).get("key.fields").visible());
  }

  /** A mistake in the deciding option hides nothing: its own error says what is wrong. */
  @Test
  void showsTheOptionWhenTheDecidingValueIsNotOneOfTheEnums() {
    Map<String, ConfigValue> values = validate(Map.of("mode", "sideways"));
    assertTrue(values.get("key.fields").visible());
    assertFalse(values.get("mode").errorMessages().isEmpty());
  }

  @Test
  void showsAnOptionUnlessItsBooleanIsFalse() {
    assertTrue(validate(Map.of()).get("delete.field").visible());
    assertFalse(validate(Map.of("delete", "false")).get("delete.field").visible());
  }
}
