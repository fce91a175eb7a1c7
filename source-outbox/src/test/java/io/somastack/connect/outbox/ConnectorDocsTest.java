package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.common.config.ConfigDocs;
import java.nio.file.Path;
import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;

/** docs/source-outbox.md is generated from the ConfigDef and must stay current. */
class ConnectorDocsTest {

  static String render() {
    return "# Transactional-outbox source: configuration\n\n"
        + "<!-- Generated from OutboxSourceConfig.CONFIG_DEF by ConnectorDocsTest; regenerate with"
        + " mvn -pl source-outbox -am test -Dsoma.docs.update=true -->\n\n"
        + "Connector class: `io.somastack.connect.outbox.PostgresOutboxSourceConnector`. Besides these, every connector takes"
        + " Connect's own options (`tasks.max`, converters, `transforms`, `errors.*`).\n\n"
        + "Needs PostgreSQL 14 or later (xid8 and pg_current_xact_id() came with 13, CREATE OR"
        + " REPLACE TRIGGER with 14): a task connected to an older server stops, saying so.\n"
        + ConfigDocs.tables(OutboxSourceConfig.CONFIG_DEF);
  }

  @Test
  void committedReferenceIsCurrent() throws Exception {
    assertNull(ConfigDocs.check(Path.of("..", "docs", "source-outbox.md"), render()));
  }

  @Test
  void everyOptionIsDocumented() {
    for (ConfigDef.ConfigKey key : OutboxSourceConfig.CONFIG_DEF.configKeys().values()) {
      assertTrue(
          key.internalConfig || key.documentation != null && key.documentation.length() > 20,
          key.name);
    }
  }
}
