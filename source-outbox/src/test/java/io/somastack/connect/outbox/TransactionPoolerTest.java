package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.HandRunSourceContext.ids;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Behind a transaction-mode pooler (PgBouncer pool_mode=transaction, Neon's -pooler endpoint,
 * Supabase's port 6543) a relay's connection is no server session of its own. With one server
 * connection two relays shared one session, where advisory locks are re-entrant: both took the
 * table's lock and both relayed every row. With more, a relay's later statements ran in sessions
 * holding none of its locks. Both went unseen. The relay now marks its session when it takes its
 * locks and checks the mark in every statement that reads or marks rows, and fails, naming the
 * pooler, when the session is not its own. Without PgBouncer: one JDBC connection handed to two
 * relays is one shared server session; a mark cleared from the relay's session (RESET) is a later
 * statement run in another one.
 */
class TransactionPoolerTest {

  private static final OutboxTable TABLE = OutboxTable.parse("public.outbox");

  @RegisterExtension final RelayTask relay = new RelayTask("outbox_pooler_");

  @BeforeEach
  void createDatabase() {
    relay.createDatabase();
  }

  @Test
  void aSecondRelayOnTheSameServerSessionIsRefused() throws Exception {
    createOutbox();
    try (Connection shared = relay.connect()) {
      OutboxLocks first = new OutboxLocks(List.of(TABLE));
      assertEquals(List.of(TABLE), first.take(shared));
      OutboxLocks second = new OutboxLocks(List.of(TABLE));
      assertPoolerRefusal(assertThrows(ConnectException.class, () -> second.take(shared)));
      assertTrue(first.holds(TABLE));
      assertEquals(List.of(), first.take(shared), "the first relays on, holding the table");
    }
  }

  /**
   * Another client of the pooler may RESET ALL on the server session, which clears the first
   * relay's mark but not its locks: the session is still no free one.
   */
  @Test
  void aSessionHoldingRelayLocksIsRefusedThoughItsMarkWasReset() throws Exception {
    createOutbox();
    try (Connection shared = relay.connect();
        Statement s = shared.createStatement()) {
      OutboxLocks first = new OutboxLocks(List.of(TABLE));
      assertEquals(List.of(TABLE), first.take(shared));
      s.execute("RESET ALL");
      OutboxLocks second = new OutboxLocks(List.of(TABLE));
      assertPoolerRefusal(assertThrows(ConnectException.class, () -> second.take(shared)));
    }
  }

  @Test
  void aSecondRelayOnARunningRelaysSessionIsRefusedAndNoRowIsRelayedTwice() throws Exception {
    PostgresOutboxSourceTask task = relay.start(relay.props());
    assertNull(task.poll(), "creates the table and takes its lock");
    insert(5);
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L), ids(HandRunSourceContext.pollUntil(task, 5)));

    // a second task whose connection the pooler gives the first one's server session
    OutboxLocks second = new OutboxLocks(List.of(TABLE));
    assertPoolerRefusal(assertThrows(ConnectException.class, () -> second.take(task.connection())));

    insert(2);
    assertEquals(List.of(6L, 7L), ids(HandRunSourceContext.pollUntil(task, 2)), "none twice");
  }

  @Test
  void aReadInASessionWithoutTheRelaysMarkFailsTheTask() throws Exception {
    PostgresOutboxSourceTask task = relay.start(relay.props());
    assertNull(task.poll(), "creates the table and takes its lock");
    insert(2);
    assertEquals(List.of(1L, 2L), ids(HandRunSourceContext.pollUntil(task, 2)));

    // the pooler runs the relay's next transactions in another server session
    resetMark(task.connection());
    insert(3);

    List<SourceRecord> relayed = new ArrayList<>();
    assertPoolerRefusal(pollUntilFailed(task, relayed));
    assertEquals(List.of(), ids(relayed), "nothing read outside the relay's session");
  }

  @Test
  void aMarkInASessionWithoutTheRelaysMarkFailsTheTask() throws Exception {
    PostgresOutboxSourceTask task = relay.start(relay.props());
    assertNull(task.poll(), "creates the table and takes its lock");
    insert(3);
    List<SourceRecord> batch = HandRunSourceContext.pollUntil(task, 3);
    batch.forEach(record -> task.commitRecord(record, null));

    resetMark(task.connection());

    assertPoolerRefusal(pollUntilFailed(task, new ArrayList<>()));
    assertEquals(3, unmarked(), "no row marked outside the relay's session");
  }

  @Test
  void aDeadLetterMoveOrFlagInASessionWithoutTheRelaysMarkIsRefused() throws Exception {
    createOutbox();
    try (Connection c = relay.connect()) {
      try (Statement s = c.createStatement()) {
        s.execute("INSERT INTO outbox(topic, payload) VALUES (NULL, '{}')");
      }
      for (String action : List.of("dlq", "flag")) {
        Map<String, String> props = new HashMap<>(relay.props());
        props.put("bad.row.action", action);
        OutboxSourceConfig config = new OutboxSourceConfig(props);
        RelaySession session = new RelaySession();
        session.mark("this relay's");
        OutboxRow row = onlyRow(config);
        List<RowMapper.Bad> bad = List.of((RowMapper.Bad) new RowMapper(config).map(row));
        assertPoolerRefusal(
            assertThrows(
                ConnectException.class,
                () -> new DeadLetterWriter(config, session).write(c, TABLE, bad)),
            action);
        assertEquals(1, queryLong(c, "SELECT count(*) FROM outbox WHERE error IS NULL"), action);
        assertEquals(0, queryLong(c, "SELECT count(*) FROM dlq"), action);
      }
    }
  }

  /**
   * Behind a pooler the server session outlives the task's connection, and with it the locks: a
   * later relay was refused until the pooler recycled the connection. A stop lets go of them and
   * clears the mark.
   */
  @Test
  void aStopLetsGoOfTheLocksAndTheMarkOfASessionThatOutlivesTheConnection() throws Exception {
    createOutbox();
    try (Connection shared = relay.connect()) {
      OutboxLocks stopped = new OutboxLocks(List.of(TABLE));
      assertEquals(List.of(TABLE), stopped.take(shared));
      stopped.releaseOnStop(shared, 2000);
      assertEquals(0, queryLong(shared, relayLocksOfThisSession()));
      assertEquals(List.of(TABLE), new OutboxLocks(List.of(TABLE)).take(shared), "next relay");
    }
  }

  private static void assertPoolerRefusal(ConnectException e) {
    assertPoolerRefusal(e, "");
  }

  private static void assertPoolerRefusal(ConnectException e, String what) {
    String message = e.getMessage();
    assertTrue(message.contains("not a transaction-mode pooler"), () -> what + ": " + message);
    assertTrue(message.contains("PgBouncer pool_mode=transaction"), message);
    assertTrue(message.contains("Neon's -pooler endpoint"), message);
    assertTrue(message.contains("Supabase's port 6543"), message);
  }

  /** Polls until the task fails (10 s at most), collecting what it relays meanwhile. */
  private static ConnectException pollUntilFailed(
      PostgresOutboxSourceTask task, List<SourceRecord> relayed) {
    AtomicReference<ConnectException> failed = new AtomicReference<>();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              try {
                List<SourceRecord> records = task.poll();
                if (records != null) {
                  relayed.addAll(records);
                }
              } catch (ConnectException e) {
                failed.set(e);
              }
              return failed.get() != null;
            });
    return failed.get();
  }

  private OutboxRow onlyRow(OutboxSourceConfig config) throws SQLException {
    try (OutboxReader reader =
        new OutboxReader(config, new NotifyListener(config.notifyChannel()))) {
      reader.connection(List.of(TABLE));
      List<OutboxRow> rows = reader.fetch(TABLE, OutboxCursor.START, 10);
      assertEquals(1, rows.size());
      return rows.get(0);
    }
  }

  private static void resetMark(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("RESET " + RelaySession.SETTING);
    }
  }

  private static String relayLocksOfThisSession() {
    return "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2"
        + " AND classid = "
        + OutboxLocks.NAMESPACE
        + "::int4::oid AND pid = pg_backend_pid()";
  }

  private void createOutbox() throws SQLException {
    try (Connection c = relay.connect();
        Statement s = c.createStatement()) {
      s.execute(DefaultOutbox.script());
    }
  }

  private void insert(int rows) throws SQLException {
    try (Connection c = relay.connect();
        Statement s = c.createStatement()) {
      for (int i = 0; i < rows; i++) {
        s.execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{}')");
      }
    }
  }

  private long unmarked() throws SQLException {
    try (Connection c = relay.connect()) {
      return queryLong(c, "SELECT count(*) FROM outbox WHERE published_at IS NULL");
    }
  }

  private static long queryLong(Connection c, String sql) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(sql);
        ResultSet rs = s.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
