package io.somastack.connect.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.transforms.Transformation;
import org.junit.jupiter.api.Test;

/**
 * Connect validates a transform's or predicate's options (PUT
 * /connector-plugins/{name}/config/validate, and before it creates a connector) with their
 * validators and recommenders only, never with configure(). Each config configure() refuses must
 * show an error on the option at fault there too, or it passes validation and fails every task.
 */
class ConfigValidationTest {

  private static final String KEYS = EncryptFieldsTest.KEYS;

  private static Map<String, String> props(String... pairs) {
    Map<String, String> props = new HashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      props.put(pairs[i], pairs[i + 1]);
    }
    return props;
  }

  /** Each option's error messages, as ConfigDef.validate reports them. */
  private static Map<String, List<String>> errors(ConfigDef def, Map<String, String> props) {
    return def.validate(props).stream()
        .filter(value -> !value.errorMessages().isEmpty())
        .collect(Collectors.toMap(ConfigValue::name, ConfigValue::errorMessages));
  }

  /** Validation shows errors on exactly these options, and configure() refuses the config. */
  private static void refused(
      Supplier<? extends Transformation<SinkRecord>> transform,
      Map<String, String> props,
      String... options) {
    Transformation<SinkRecord> t = transform.get();
    assertEquals(
        List.of(options),
        sorted(errors(t.config(), props)),
        () -> errors(t.config(), props).toString());
    assertThrows(ConfigException.class, () -> t.configure(props));
  }

  private static List<String> sorted(Map<String, ?> errors) {
    return errors.keySet().stream().sorted().toList();
  }

  @Test
  void anEmptyFieldListIsRefusedOnFields() {
    refused(RedactFields.Value::new, props("fields", "", "with", "mask"), "fields");
    refused(EncryptFields.Value::new, props("fields", "", "keys", KEYS, "key.id", "pii"), "fields");
    refused(DecryptFields.Value::new, props("fields", "", "keys", KEYS), "fields");
  }
}
