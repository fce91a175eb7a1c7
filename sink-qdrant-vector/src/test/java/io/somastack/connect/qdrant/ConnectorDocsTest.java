package io.somastack.connect.qdrant;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.common.config.ConfigDocs;
import java.nio.file.Path;
import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;

/** docs/sink-qdrant-vector.md is generated from the ConfigDef and must stay current. */
class ConnectorDocsTest {

  static String render() {
    return "# Qdrant vector sink: configuration\n\n"
        + "<!-- Generated from QdrantSinkConfig.CONFIG_DEF by ConnectorDocsTest; regenerate with"
        + " mvn -pl sink-qdrant-vector -am test -Dsoma.docs.update=true -->\n\n"
        + "Connector class: `io.somastack.connect.qdrant.QdrantVectorSinkConnector`. Besides these, every connector takes"
        + " Connect's own options (`tasks.max`, converters, `transforms`, `errors.*`).\n"
        + ConfigDocs.tables(QdrantSinkConfig.CONFIG_DEF);
  }

  @Test
  void committedReferenceIsCurrent() throws Exception {
    assertNull(ConfigDocs.check(Path.of("..", "docs", "sink-qdrant-vector.md"), render()));
  }

  @Test
  void everyOptionIsDocumented() {
    for (ConfigDef.ConfigKey key : QdrantSinkConfig.CONFIG_DEF.configKeys().values()) {
      assertTrue(
          key.internalConfig || key.documentation != null && key.documentation.length() > 20,
          key.name);
    }
  }
}
