package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OffsetsTest {

  @Test
  void cursorRoundTripsThroughAnOffsetAndOrdersByTxidThenId() {
    OutboxCursor cursor = new OutboxCursor(5_000_000_000L, 7);
    assertEquals(cursor, OutboxCursor.fromOffset(cursor.toOffset()));
    // offsets read back from JSON may hold Integers
    assertEquals(new OutboxCursor(3, 4), OutboxCursor.fromOffset(Map.of("txid", 3, "id", 4)));
    assertEquals(OutboxCursor.START, OutboxCursor.fromOffset(null));
    assertThrows(IllegalArgumentException.class, () -> OutboxCursor.fromOffset(Map.of("id", 1)));
    // a later transaction sorts after, whatever its ids: the late-commit case
    assertTrue(new OutboxCursor(11, 1).isAfter(new OutboxCursor(10, 99)));
    assertTrue(new OutboxCursor(10, 100).isAfter(new OutboxCursor(10, 99)));
    assertEquals("5000000000", cursor.txidText());
  }

  @Test
  void onlyTheContiguousAcknowledgedPrefixIsReleased() {
    AckTracker acks = new AckTracker();
    OutboxCursor a = new OutboxCursor(1, 1);
    OutboxCursor b = new OutboxCursor(1, 2);
    OutboxCursor c = new OutboxCursor(2, 3);
    acks.sent("t", a);
    acks.sent("t", b);
    acks.sent("t", c);
    acks.acked("t", c); // out of order (another partition)
    assertTrue(acks.drain().isEmpty());
    acks.acked("t", a);
    assertEquals(Map.of("t", a), acks.drain());
    acks.acked("t", b);
    assertEquals(Map.of("t", c), acks.drain());
    assertEquals(0, acks.inFlight());
    acks.acked("t", new OutboxCursor(9, 9)); // unknown (already drained): ignored
    assertTrue(acks.drain().isEmpty());
  }

  @Test
  void shippedSqlFileIsTheGeneratedDdl() throws Exception {
    String shipped = Files.readString(Path.of("sql/outbox.sql"));
    String generated = DefaultOutbox.script();
    assertTrue(shipped.endsWith(generated), "sql/outbox.sql is out of date with OutboxDdl");
  }
}
