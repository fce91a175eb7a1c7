package io.somastack.connect.postgres;

import io.somastack.connect.common.config.Version;
import io.somastack.connect.postgres.config.PostgresSinkConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.sink.SinkConnector;

/**
 * Lands agent events in PostgreSQL as JSONB, exactly once: memory writes (append or upsert),
 * tamper-evident audit archives, and dead letters. See {@link PostgresSinkConfig} for options.
 */
public class PostgresMemorySinkConnector extends SinkConnector {

  private Map<String, String> props;

  @Override
  public String version() {
    return Version.of(getClass());
  }

  @Override
  public void start(Map<String, String> props) {
    new PostgresSinkConfig(props); // fail fast on a config that validate() would reject
    this.props = Map.copyOf(props);
  }

  @Override
  public Class<? extends Task> taskClass() {
    return PostgresMemorySinkTask.class;
  }

  @Override
  public List<Map<String, String>> taskConfigs(int maxTasks) {
    List<Map<String, String>> configs = new ArrayList<>(maxTasks);
    for (int i = 0; i < maxTasks; i++) {
      configs.add(props);
    }
    return configs;
  }

  @Override
  public void stop() {}

  @Override
  public ConfigDef config() {
    return PostgresSinkConfig.CONFIG_DEF;
  }

  /** Adds the checks that span options, so the REST validate call explains them too. */
  @Override
  public Config validate(Map<String, String> connectorConfigs) {
    Config config = super.validate(connectorConfigs);
    String mode = connectorConfigs.getOrDefault(PostgresSinkConfig.WRITE_MODE, "append");
    String keys = connectorConfigs.getOrDefault(PostgresSinkConfig.KEY_FIELDS, "");
    if ("upsert".equalsIgnoreCase(mode.trim()) && keys.isBlank()) {
      addError(
          config,
          PostgresSinkConfig.KEY_FIELDS,
          "write.mode=upsert needs key.fields, the field paths of the key (e.g. namespace,id)");
    }
    String columns = connectorConfigs.getOrDefault(PostgresSinkConfig.COLUMNS, "");
    if ("dead_letter".equalsIgnoreCase(mode.trim()) && !columns.isBlank()) {
      addError(config, PostgresSinkConfig.COLUMNS, PostgresSinkConfig.DEAD_LETTER_COLUMNS);
    }
    return config;
  }

  private static void addError(Config config, String option, String message) {
    for (ConfigValue value : config.configValues()) {
      if (value.name().equals(option)) {
        value.addErrorMessage(message);
      }
    }
  }
}
