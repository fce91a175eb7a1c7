package io.somastack.connect.common.config;

import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigException;

/**
 * A mistake that spans options (write.mode=upsert without key.fields, say), found by a config
 * class's constructor and naming the option it is shown on. {@link #explain} lets a connector's
 * validate() show it there: the message alone cannot say which option, since it may name several.
 */
public class OptionConflict extends ConfigException {
  private static final long serialVersionUID = 1L;

  private final String option;

  public OptionConflict(String option, Object value, String message) {
    super(option, value, message);
    this.option = option;
  }

  /**
   * A conflict whose message never shows the option's value: for an option that may hold
   * credentials (connection.url), since the message reaches logs and the REST validate answer.
   */
  public OptionConflict(String option, String message) {
    super("Invalid value for configuration " + option + ": " + message);
    this.option = option;
  }

  public String option() {
    return option;
  }

  /**
   * Once every option passed its own checks and none is null, builds the config ({@code build}, the
   * config class's constructor) and shows a {@link ConfigException} it throws on the option an
   * {@link OptionConflict} names, else on {@code fallback} (or the first option when that is null),
   * so that {@code PUT /connector-plugins/{name}/config/validate} explains cross-option mistakes
   * too.
   */
  public static Config explain(
      Config result,
      Map<String, String> props,
      Consumer<Map<String, String>> build,
      String fallback) {
    boolean optionsValid =
        result.configValues().stream().allMatch(value -> value.errorMessages().isEmpty());
    // Connect passes a null value on to validate and refuses it afterwards itself ("Null value
    // can not be supplied"); the config class would fail on it with an exception, not an error
    boolean anyNull = props.values().stream().anyMatch(Objects::isNull);
    if (!optionsValid || anyNull) {
      return result;
    }
    try {
      build.accept(props);
    } catch (ConfigException e) {
      String option = e instanceof OptionConflict conflict ? conflict.option() : fallback;
      result.configValues().stream()
          .filter(value -> value.name().equals(option))
          .findFirst()
          .orElse(result.configValues().get(0))
          .addErrorMessage(e.getMessage());
    }
    return result;
  }
}
