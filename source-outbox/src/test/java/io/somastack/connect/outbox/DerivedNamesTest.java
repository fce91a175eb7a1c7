package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.common.sql.SqlIdentifier;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The names of the objects made for an outbox table. Existing deployments have objects of the names
 * the relay always gave them; only names that collided change.
 */
class DerivedNamesTest {

  private static final List<String> SUFFIXES =
      List.of("_relay_idx", "_notify", "_txid", "_requeue");

  @Test
  void namesAreAsTheyAlwaysWereWhileTheyStayDistinct() {
    for (int length : new int[] {6, 40, 53, 58, 61}) {
      OutboxTable table = OutboxTable.parse("public." + "o".repeat(length));
      for (String suffix : SUFFIXES) {
        // what the relay named them before: the sanitised concatenation, cut to 63 bytes
        assertEquals(
            SqlIdentifier.sanitize(table.table() + suffix),
            OutboxDdl.derivedName(table, suffix),
            length + " + " + suffix);
      }
    }
  }

  @Test
  void aTableNameTooLongForDistinctCutsGetsHashedNames() {
    for (int length : new int[] {62, 63, 80}) {
      OutboxTable table = OutboxTable.parse("public." + "o".repeat(length));
      Set<String> triggers =
          Set.of(
              OutboxDdl.derivedName(table, "_notify"),
              OutboxDdl.derivedName(table, "_txid"),
              OutboxDdl.derivedName(table, "_requeue"));
      assertEquals(3, triggers.size(), "three triggers for a name of " + length);
      String index = OutboxDdl.derivedName(table, "_relay_idx");
      assertNotEquals(SqlIdentifier.sanitize(table.table()), index);
      for (String name : triggers) {
        assertTrue(name.length() <= SqlIdentifier.MAX_BYTES, name);
      }
      assertTrue(index.length() <= SqlIdentifier.MAX_BYTES, index);
    }
  }

  @Test
  void tablesNamedAlikeGetDistinctHashedNames() {
    for (String[] pair :
        new String[][] {
          {"Orders", "orders"}, {"order-events", "order_events"}, {"o".repeat(60), "O".repeat(60)}
        }) {
      OutboxTable one = OutboxTable.parse("public." + pair[0]);
      OutboxTable other = OutboxTable.parse("public." + pair[1]);
      assertEquals(
          OutboxDdl.derivedName(one, "_relay_idx"), OutboxDdl.derivedName(other, "_relay_idx"));
      String hashed = OutboxDdl.hashedName(one, "_relay_idx");
      assertNotEquals(OutboxDdl.hashedName(other, "_relay_idx"), hashed);
      assertTrue(
          hashed.length() <= SqlIdentifier.MAX_BYTES && hashed.endsWith("_relay_idx"), hashed);
    }
  }
}
