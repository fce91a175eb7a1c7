package io.somastack.connect.common.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SqlIdentifierTest {

  @Test
  void quotesAlwaysAndDoublesEmbeddedQuotes() {
    assertEquals("\"user\"", SqlIdentifier.quote("user"));
    assertEquals("\"a\"\"b\"", SqlIdentifier.quote("a\"b"));
    assertEquals("\"public\".\"memory_kv\"", SqlIdentifier.qualified("public", "memory_kv"));
    assertThrows(IllegalArgumentException.class, () -> SqlIdentifier.quote(""));
    assertThrows(IllegalArgumentException.class, () -> SqlIdentifier.quote("a\0b"));
  }

  @Test
  void sanitisesTopicsIntoPredictableNamesWithinTheLimit() {
    assertEquals("memory_events", SqlIdentifier.sanitize("memory.events"));
    assertEquals("agent_actions", SqlIdentifier.sanitize("Agent-Actions"));
    assertEquals("_2fa_events", SqlIdentifier.sanitize("2fa.events"));
    assertEquals(63, SqlIdentifier.sanitize("t".repeat(100)).length());
  }
}
