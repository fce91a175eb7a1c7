package io.somastack.connect.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What --exit decides on: each table must land the rows this run sent it. It was 0 once nothing
 * moved for three readings, however few rows had landed.
 */
class ExpectedTest {

  @Test
  void everyTableThatLandedFewerRowsThanThisRunSentItIsShort() {
    Map<String, Long> expected = Map.of("memory_kv", 20L, "memory_replica", 20L, "dlq", 5L);

    assertEquals(
        List.of("dlq: landed 1 of 5", "memory_kv: landed 0 of 20"),
        Expected.shortfalls(
            new java.util.TreeMap<>(expected),
            Map.of("memory_kv", 0L, "memory_replica", 20L, "dlq", 1L)));
    assertEquals(
        List.of("memory_replica: landed 0 of 20"),
        Expected.shortfalls(expected, Map.of("memory_kv", 20L, "dlq", 5L)),
        "a table the sink never created landed nothing");
    assertEquals(
        List.of(),
        Expected.shortfalls(expected, Map.of("memory_kv", 21L, "memory_replica", 20L, "dlq", 5L)));
  }

  @Test
  void anUpsertTableGainsARowPerDistinctKeyAndAnAppendTableOnePerEvent() {
    Expected expected = new Expected();
    expected.upsert("memory_kv", "acme.agent0/mem-1");
    expected.upsert("memory_kv", "acme.agent0/mem-1");
    expected.upsert("memory_kv", "globex.agent0/mem-1");
    expected.row("memory_replica");
    expected.row("memory_replica");
    expected.rows("somastack_delegation", 10);

    assertEquals(
        Map.of("memory_kv", 2L, "memory_replica", 2L, "somastack_delegation", 10L),
        expected.rows());
  }

  /**
   * The note that lag counts the transactions' commit markers came with any lag, 259 records held
   * up behind a locked table too.
   */
  @Test
  void theCommitMarkerNoteExplainsOnlyALagNoLargerThanTheTransactionalPartitions() {
    assertEquals(false, Quickstart.lagIsCommitMarkers(0, 3));
    assertEquals(true, Quickstart.lagIsCommitMarkers(2, 3));
    assertEquals(true, Quickstart.lagIsCommitMarkers(3, 3));
    assertEquals(false, Quickstart.lagIsCommitMarkers(259, 3));
  }

  /**
   * A run that fell short stops waiting before --timeout only once the sinks consumed everything:
   * with records left, a sink may be waiting out a retry backoff that outlasts the stall readings.
   */
  @Test
  void aStalledRunStopsEarlyOnlyWithNothingLeftToConsume() {
    assertEquals(true, Quickstart.nothingLeft(0, 3));
    assertEquals(true, Quickstart.nothingLeft(3, 3));
    assertEquals(false, Quickstart.nothingLeft(4, 3));
    assertEquals(false, Quickstart.nothingLeft(259, 3));
  }
}
