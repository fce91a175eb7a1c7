package io.somastack.connect.postgres;

import io.somastack.connect.common.config.OptionConflict;
import io.somastack.connect.common.config.Version;
import io.somastack.connect.postgres.config.PostgresSinkConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
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

  /**
   * Adds the checks that span options (the config class's own: key.fields for upsert, columns named
   * twice or in dead_letter mode), so the REST validate call explains them too.
   */
  @Override
  public Config validate(Map<String, String> connectorConfigs) {
    return OptionConflict.explain(
        super.validate(connectorConfigs),
        connectorConfigs,
        PostgresSinkConfig::new,
        PostgresSinkConfig.COLUMNS);
  }
}
