package io.somastack.connect.qdrant;

import io.somastack.connect.common.config.OptionConflict;
import io.somastack.connect.common.config.Version;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka Connect sink into Qdrant: record values become points (id, vectors, payload), tombstones
 * delete them. See {@link QdrantSinkConfig} for the options.
 */
public class QdrantVectorSinkConnector extends SinkConnector {

  private static final Logger log = LoggerFactory.getLogger(QdrantVectorSinkConnector.class);

  private Map<String, String> props;

  @Override
  public String version() {
    return Version.of(QdrantVectorSinkConnector.class);
  }

  @Override
  public void start(Map<String, String> props) {
    QdrantSinkConfig config = new QdrantSinkConfig(props);
    this.props = Map.copyOf(props);
    for (String ignored : config.ignoredOptions()) {
      log.warn("{}", ignored);
    }
    checkFixedCollection(config);
  }

  /**
   * A fixed collection whose vectors do not fit is a configuration error, so the connector fails at
   * start with one clear message instead of its tasks failing on the first batch. Qdrant being down
   * is not: the tasks wait for it.
   */
  private static void checkFixedCollection(QdrantSinkConfig config) {
    if (config.collectionPerRecord()) {
      return;
    }
    String collection = config.collection().toString();
    try (QdrantWriter writer = QdrantWriter.open(config, (upsert, points, nanos) -> {})) {
      writer.ensureCollection(collection);
    } catch (RetriableException e) {
      log.warn(
          "Cannot check Qdrant collection '{}' now; the tasks will: {}",
          collection,
          e.getMessage());
    }
  }

  @Override
  public Class<? extends Task> taskClass() {
    return QdrantVectorSinkTask.class;
  }

  @Override
  public List<Map<String, String>> taskConfigs(int maxTasks) {
    List<Map<String, String>> configs = new ArrayList<>(maxTasks);
    for (int i = 0; i < maxTasks; i++) {
      configs.add(new HashMap<>(props));
    }
    return configs;
  }

  @Override
  public void stop() {}

  /**
   * KIP-875's alter and reset: the sink keeps no offsets of its own (what it commits is Connect's
   * consumer group), so the group's change is the whole change. Points already written stay;
   * records read again are upserted (and embedded) again, to the same ids.
   */
  @Override
  public boolean alterOffsets(
      Map<String, String> connectorConfig, Map<TopicPartition, Long> offsets) {
    return true;
  }

  @Override
  public ConfigDef config() {
    return QdrantSinkConfig.CONFIG_DEF;
  }

  /** Adds the checks that span several keys to the per-key ones. */
  @Override
  public Config validate(Map<String, String> connectorConfigs) {
    return OptionConflict.explain(
        super.validate(connectorConfigs), connectorConfigs, QdrantSinkConfig::new, null);
  }
}
