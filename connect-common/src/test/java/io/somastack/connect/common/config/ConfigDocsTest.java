package io.somastack.connect.common.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;

class ConfigDocsTest {

  @Test
  void rendersOneTablePerGroupWithoutInternalOptionsOrSecrets() {
    ConfigDef def = new ConfigDef();
    def.define(
        "a.url",
        ConfigDef.Type.STRING,
        ConfigDef.NO_DEFAULT_VALUE,
        ConfigDef.Importance.HIGH,
        "Where | to go",
        "Connection",
        1,
        ConfigDef.Width.LONG,
        "URL");
    def.define(
        "a.password",
        ConfigDef.Type.PASSWORD,
        "secret",
        ConfigDef.Importance.HIGH,
        "The password",
        "Connection",
        2,
        ConfigDef.Width.LONG,
        "Password");
    def.define(
        "a.mode",
        ConfigDef.Type.STRING,
        "fast",
        Validators.oneOf(Mode.class),
        ConfigDef.Importance.LOW,
        "How",
        "Behaviour",
        1,
        ConfigDef.Width.SHORT,
        "Mode");
    def.defineInternal("a.internal", ConfigDef.Type.STRING, "", ConfigDef.Importance.LOW);
    String docs = ConfigDocs.tables(def);
    assertTrue(docs.contains("### Connection"));
    assertTrue(docs.contains("### Behaviour"));
    assertTrue(docs.contains("| `a.url` | string | (required) |"));
    assertTrue(docs.contains("Where \\| to go"));
    assertTrue(docs.contains("[hidden]"));
    assertFalse(docs.contains("secret"));
    assertTrue(docs.contains("one of fast, careful"));
    assertFalse(docs.contains("a.internal"));
  }

  enum Mode {
    FAST,
    CAREFUL
  }
}
