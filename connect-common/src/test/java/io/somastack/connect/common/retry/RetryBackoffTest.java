package io.somastack.connect.common.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.common.config.OptionConflict;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class RetryBackoffTest {

  private static final String INITIAL = "retry.backoff.ms";

  private static ConfigDef def() {
    ConfigDef def = new ConfigDef();
    assertEquals(3, RetryBackoff.define(def, "Retries", 2, INITIAL, 250L, "a transient failure"));
    return def;
  }

  @Test
  void bothOptionsAreDefinedInOrderWithTheirDefaults() {
    ConfigDef def = def();
    assertEquals(250L, def.configKeys().get(INITIAL).defaultValue);
    assertEquals(2, def.configKeys().get(INITIAL).orderInGroup);
    assertEquals(
        RetryBackoff.DEFAULT_MAX_MS, def.configKeys().get("retry.backoff.max.ms").defaultValue);
    assertEquals(3, def.configKeys().get("retry.backoff.max.ms").orderInGroup);
    assertTrue(def.configKeys().get(INITIAL).documentation.contains("a transient failure"));
    assertTrue(def.configKeys().get("retry.backoff.max.ms").documentation.contains(INITIAL));
  }

  @Test
  void aWaitBelowOneMillisecondIsRefusedOnItsOption() {
    for (String option : new String[] {INITIAL, "retry.backoff.max.ms"}) {
      ConfigException e =
          assertThrows(ConfigException.class, () -> new AbstractConfig(def(), Map.of(option, "0")));
      assertTrue(e.getMessage().contains(option), e.getMessage());
    }
  }

  @Test
  void aMaximumBelowTheFirstWaitIsAConflictOnTheMaximumNamingBoth() {
    AbstractConfig below =
        new AbstractConfig(def(), Map.of(INITIAL, "5000", "retry.backoff.max.ms", "1000"));
    OptionConflict e = assertThrows(OptionConflict.class, () -> RetryBackoff.check(below, INITIAL));
    assertEquals("retry.backoff.max.ms", e.option());
    assertTrue(e.getMessage().contains(INITIAL + " (5000)"), e.getMessage());
    AbstractConfig equal =
        new AbstractConfig(def(), Map.of(INITIAL, "1000", "retry.backoff.max.ms", "1000"));
    RetryBackoff.check(equal, INITIAL);
  }
}
