package io.somastack.connect.postgres;

import io.somastack.connect.common.config.OptionConflict;
import io.somastack.connect.common.config.Version;
import io.somastack.connect.common.postgres.PostgresConnectionConfig;
import io.somastack.connect.postgres.config.PostgresSinkConfig;
import io.somastack.connect.postgres.config.WriteMode;
import io.somastack.connect.postgres.write.OffsetStore;
import io.somastack.connect.postgres.write.PostgresSession;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.errors.ConnectException;
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
   * KIP-875's alter and reset (PATCH and DELETE /connectors/{name}/offsets, the connector stopped).
   * The sink keeps its offsets in PostgreSQL, in the transaction of the rows, and a task seeks to
   * them when it opens its partitions: they, not the consumer group, say what is written. An alter
   * (an offset given) is stored there too, in one transaction, so the tasks start from it. A reset
   * (a DELETE, or a null in a PATCH) leaves them as they are: a rewound group never writes a row
   * twice, and Connect answers that offsets kept outside Kafka are the operator's to change (the
   * README has the DELETE FROM soma_connect_offsets that reads a topic again). An audit archive
   * refuses an alter: records read again or skipped would fork or break its hash chains.
   *
   * @return whether the stored offsets followed every change: false when any was a reset
   */
  @Override
  public boolean alterOffsets(
      Map<String, String> connectorConfig, Map<TopicPartition, Long> offsets) {
    Map<TopicPartition, Long> given = new HashMap<>();
    offsets.forEach(
        (partition, offset) -> {
          if (offset != null && offset < 0) {
            // Connect refuses it only after this, once stored it would fail every task start
            throw new ConnectException(
                "Invalid offset " + offset + " for " + partition + ": offsets are at least 0");
          }
          if (offset != null) {
            given.put(partition, offset);
          }
        });
    if (given.isEmpty()) {
      return false; // a reset: the stored offsets stand
    }
    PostgresSinkConfig config = new PostgresSinkConfig(connectorConfig);
    if (config.writeMode() == WriteMode.AUDIT) {
      throw new ConnectException(
          "An audit archive's offsets are not altered: its rows are hash-chained per Kafka"
              + " partition, and records read again or skipped would fork or break the chains."
              + " Archive into a new table (table.name.format) with a new connector");
    }
    OffsetStore store = OffsetStore.of(config);
    try (PostgresSession session = new PostgresSession(config)) {
      Connection c = session.connection();
      try {
        store.store(c, given);
        c.commit();
      } catch (SQLException | RuntimeException e) {
        session.rollbackQuietly();
        throw e;
      }
    } catch (SQLException e) {
      SQLException safe = PostgresConnectionConfig.withoutUrl(e, config.url());
      throw new ConnectException(
          "Could not store the altered offsets in PostgreSQL ("
              + config.offsetsTable()
              + "): "
              + safe.getMessage(),
          safe);
    }
    return given.size() == offsets.size();
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
