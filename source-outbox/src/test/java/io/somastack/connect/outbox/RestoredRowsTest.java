package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.CapturedStderr;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * pg_dump writes a table's rows before its triggers, so restored rows keep the txid of the old
 * cluster, whose ids had gone further: on the new one they sit above the horizon, and newer rows
 * are relayed before them, for as long as the new cluster takes to catch up. The task only found
 * them "held back", and logged nothing. It must warn, naming the table and the repair, and the rows
 * must be relayed once the repair ran.
 */
class RestoredRowsTest {

  @RegisterExtension final RelayTask relay = new RelayTask("outbox_restored_");

  @Test
  void rowsRestoredWithTheOldClustersTxidAreWarnedOfAndRelayedAfterTheRepair() throws Exception {
    relay.createDatabase();
    try (Connection c = relay.connect();
        Statement s = c.createStatement()) {
      s.execute(DefaultOutbox.script());
      // as a restore leaves it: the row copied in before the trigger that would fix its txid
      s.execute("ALTER TABLE outbox DISABLE TRIGGER outbox_txid");
      s.execute("INSERT INTO outbox(topic, payload, txid) VALUES ('t', '{}', '1099511627776')");
      s.execute("ALTER TABLE outbox ENABLE TRIGGER outbox_txid");
      s.execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{}')");
    }
    PostgresOutboxSourceTask task = relay.start(relay.props());

    List<SourceRecord> relayed = new ArrayList<>();
    String logged =
        CapturedStderr.ofWork(() -> relayed.addAll(HandRunSourceContext.relayUntil(task, 1)));
    assertEquals(List.of(2L), HandRunSourceContext.ids(relayed), "the newer row only");
    assertTrue(logged.contains("outbox public.outbox: 1 unpublished row(s)"), logged);
    assertTrue(
        logged.contains(
            "UPDATE \"public\".\"outbox\" SET \"txid\" = pg_current_xact_id() WHERE"
                + " \"published_at\" IS NULL AND \"txid\" >= pg_snapshot_xmax(pg_current_snapshot())"),
        logged);

    repair();
    assertEquals(List.of(1L), HandRunSourceContext.ids(HandRunSourceContext.relayUntil(task, 1)));
  }

  private void repair() throws SQLException {
    try (Connection c = relay.connect();
        Statement s = c.createStatement()) {
      s.execute(
          "UPDATE outbox SET txid = pg_current_xact_id() WHERE published_at IS NULL"
              + " AND txid >= pg_snapshot_xmax(pg_current_snapshot())");
    }
  }
}
