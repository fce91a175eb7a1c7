package io.somastack.connect.common.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
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
  void namesOfATablesObjectsKeepTheirSuffixWithinTheLimit() {
    assertEquals("audit_events_default", SqlIdentifier.withSuffix("audit_events", "_default"));
    String long63 = "a".repeat(63);
    String partition = SqlIdentifier.withSuffix(long63, "_2026_12");
    String other = SqlIdentifier.withSuffix(long63, "_2027_01");
    String otherBase = SqlIdentifier.withSuffix("a".repeat(62) + "b", "_2026_12");
    for (String name : List.of(partition, other, otherBase)) {
      assertTrue(name.getBytes(StandardCharsets.UTF_8).length <= 63, name);
    }
    assertTrue(partition.endsWith("_2026_12"), partition);
    assertNotEquals(long63, partition);
    assertNotEquals(partition, other);
    assertNotEquals(partition, otherBase);
    assertEquals(partition, SqlIdentifier.withSuffix(long63, "_2026_12"));
    // cut on whole characters: 'é' is two bytes
    String accented = SqlIdentifier.withSuffix("é".repeat(40), "_default");
    assertTrue(accented.getBytes(StandardCharsets.UTF_8).length <= 63, accented);
    assertTrue(accented.startsWith("é".repeat(22)), accented);
  }

  @Test
  void sanitisesTopicsIntoPredictableNamesWithinTheLimit() {
    assertEquals("memory_events", SqlIdentifier.sanitize("memory.events"));
    assertEquals("agent_actions", SqlIdentifier.sanitize("Agent-Actions"));
    assertEquals("_2fa_events", SqlIdentifier.sanitize("2fa.events"));
    assertEquals(63, SqlIdentifier.sanitize("t".repeat(100)).length());
  }

  /**
   * A suffix that leaves no room for the hash cannot make a name within 63 bytes: refused, not
   * returned too long for PostgreSQL to cut silently into a name its siblings share.
   */
  @Test
  void aSuffixTooLongForTheLimitIsRefused() {
    String suffix = "_" + "s".repeat(60);
    assertEquals("t" + suffix, SqlIdentifier.withSuffix("t", suffix));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> SqlIdentifier.withSuffix("t".repeat(10), suffix));
    assertTrue(e.getMessage().contains("63"), e.getMessage());
  }
}
