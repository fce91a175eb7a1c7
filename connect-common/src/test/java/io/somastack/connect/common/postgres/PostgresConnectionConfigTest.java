package io.somastack.connect.common.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class PostgresConnectionConfigTest {

  private static AbstractConfig config(String url, String sslmode) {
    ConfigDef def = new ConfigDef();
    PostgresConnectionConfig.define(def, "Connection", "");
    Map<String, String> props = new HashMap<>();
    props.put(PostgresConnectionConfig.URL, url);
    if (sslmode != null) {
      props.put(PostgresConnectionConfig.SSLMODE, sslmode);
    }
    return new AbstractConfig(def, props);
  }

  /**
   * pgjdbc lets a URL parameter beat the same connection property: connection.sslmode=verify-full
   * with sslmode=disable in the URL would connect without TLS, silently. Such a pair is refused.
   */
  @Test
  void anSslmodeInTheUrlThatContradictsTheConfigIsRefused() {
    AbstractConfig contradicting =
        config("jdbc:postgresql://db:5432/soma?ApplicationName=x&sslmode=disable", "verify-full");
    ConfigException e =
        assertThrows(
            ConfigException.class, () -> PostgresConnectionConfig.properties(contradicting, "t"));
    assertTrue(e.getMessage().contains("sslmode"), e.getMessage());
  }

  @Test
  void anSslmodeInTheUrlAloneIsTheOneUsed() {
    AbstractConfig urlOnly = config("jdbc:postgresql://db:5432/soma?sslmode=verify-full", null);
    assertEquals(
        "verify-full", PostgresConnectionConfig.properties(urlOnly, "t").getProperty("sslmode"));
    AbstractConfig agreeing = config("jdbc:postgresql://db:5432/soma?sslmode=require", "require");
    assertEquals(
        "require", PostgresConnectionConfig.properties(agreeing, "t").getProperty("sslmode"));
  }
}
