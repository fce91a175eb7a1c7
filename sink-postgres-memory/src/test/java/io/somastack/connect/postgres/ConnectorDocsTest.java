package io.somastack.connect.postgres;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.common.config.ConfigDocs;
import io.somastack.connect.postgres.config.PostgresSinkConfig;
import java.nio.file.Path;
import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;

/** docs/sink-postgres-memory.md is generated from the ConfigDef and must stay current. */
class ConnectorDocsTest {

  static String render() {
    return "# PostgreSQL memory sink: configuration\n\n"
        + "<!-- Generated from PostgresSinkConfig.CONFIG_DEF by ConnectorDocsTest; regenerate with"
        + " mvn -pl sink-postgres-memory -am test -Dsoma.docs.update=true -->\n\n"
        + "Connector class: `io.somastack.connect.postgres.PostgresMemorySinkConnector`. Besides"
        + " these, every sink connector takes Connect's own options (`topics`, `tasks.max`,"
        + " converters, `errors.*`, `consumer.override.*`).\n"
        + ConfigDocs.tables(PostgresSinkConfig.CONFIG_DEF);
  }

  @Test
  void committedReferenceIsCurrent() throws Exception {
    assertNull(ConfigDocs.check(Path.of("..", "docs", "sink-postgres-memory.md"), render()));
  }

  @Test
  void everyOptionIsDocumentedAndGrouped() {
    for (ConfigDef.ConfigKey key : PostgresSinkConfig.CONFIG_DEF.configKeys().values()) {
      assertTrue(key.documentation != null && key.documentation.length() > 20, key.name);
      assertTrue(key.group != null, key.name + " has no group");
    }
  }
}
