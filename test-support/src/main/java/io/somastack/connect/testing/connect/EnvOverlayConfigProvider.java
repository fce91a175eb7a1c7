package io.somastack.connect.testing.connect;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.config.ConfigData;
import org.apache.kafka.common.config.provider.ConfigProvider;

/**
 * An {@code env} config provider for workers that run inside this JVM (the tests' embedded cluster,
 * the quickstart): the process environment, overlaid with values only known at run time (a
 * throwaway PostgreSQL's URL, a stand-in's port). So the files in connector-configs/ deploy
 * unchanged, ${env:SOMA_PG_URL} and all, exactly as on a worker configured with Kafka's
 * EnvVarConfigProvider.
 */
public final class EnvOverlayConfigProvider implements ConfigProvider {

  private static final Map<String, String> OVERLAY = new ConcurrentHashMap<>();

  /** Sets a variable for every worker of this JVM. */
  public static void set(String name, String value) {
    OVERLAY.put(name, value);
  }

  @Override
  public void configure(Map<String, ?> configs) {}

  @Override
  public ConfigData get(String path) {
    return new ConfigData(all());
  }

  @Override
  public ConfigData get(String path, Set<String> keys) {
    Map<String, String> all = all();
    Map<String, String> data = new HashMap<>();
    for (String key : keys) {
      if (all.containsKey(key)) {
        data.put(key, all.get(key));
      }
    }
    return new ConfigData(data);
  }

  private static Map<String, String> all() {
    Map<String, String> all = new HashMap<>(System.getenv());
    all.putAll(OVERLAY);
    return all;
  }

  @Override
  public void close() {}
}
