package io.somastack.connect.quickstart;

import io.somastack.connect.testing.connect.EnvOverlayConfigProvider;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.connect.cli.ConnectDistributed;
import org.apache.kafka.connect.runtime.Connect;

/** A Connect worker in distributed mode, in this JVM, started as connect-distributed.sh would. */
final class EmbeddedConnectWorker implements AutoCloseable {

  private final Connect<?> connect;

  private EmbeddedConnectWorker(Connect<?> connect) {
    this.connect = connect;
  }

  static EmbeddedConnectWorker start(String bootstrapServers, int restPort, Path pluginPath) {
    Map<String, String> props = new HashMap<>();
    props.put("bootstrap.servers", bootstrapServers);
    props.put("group.id", "soma-quickstart");
    props.put("listeners", "http://localhost:" + restPort);
    props.put("plugin.path", pluginPath.toString());
    props.put("plugin.discovery", "service_load");
    props.put("key.converter", "org.apache.kafka.connect.storage.StringConverter");
    props.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
    props.put("value.converter.schemas.enable", "false");
    props.put("config.storage.topic", "_soma_connect_configs");
    props.put("offset.storage.topic", "_soma_connect_offsets");
    props.put("status.storage.topic", "_soma_connect_status");
    props.put("config.storage.replication.factor", "1");
    props.put("offset.storage.replication.factor", "1");
    props.put("status.storage.replication.factor", "1");
    props.put("offset.flush.interval.ms", "1000");
    props.put("exactly.once.source.support", "enabled");
    // sinks read the outbox relay's transactional topics: never an aborted transaction's records
    props.put("consumer.isolation.level", "read_committed");
    props.put("topic.creation.enable", "true");
    props.put("config.providers", "env,file");
    props.put("config.providers.env.class", EnvOverlayConfigProvider.class.getName());
    props.put(
        "config.providers.file.class",
        "org.apache.kafka.common.config.provider.FileConfigProvider");
    return new EmbeddedConnectWorker(new ConnectDistributed().startConnect(props));
  }

  @Override
  public void close() {
    connect.stop();
    connect.awaitStop();
  }
}
