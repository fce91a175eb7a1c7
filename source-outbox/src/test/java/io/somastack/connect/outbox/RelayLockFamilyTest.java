package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.HandRunSourceContext.ids;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.postgres.PostgresServer;
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
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two connectors, one on a partitioned (or inheritance) parent and one on a partition (child) of
 * it, took two locks, one per table: both relayed, and every row of the partition reached Kafka
 * twice (a read of the parent reads the partition's rows). A table's relay now takes the exclusive
 * lock of the table and of every table below it and the shared lock of every table above it, whole
 * or not at all.
 *
 * <p>The family: pt, partitioned; pt_1 a partition of it, itself partitioned; pt_1_a a partition of
 * pt_1; pt_2 a second partition of pt (made last: its OID is the highest, its lock taken last).
 */
class RelayLockFamilyTest {

  private final PostgresServer pg = PostgresServer.shared();
  private final String db = "outbox_lock_family_" + System.nanoTime();
  private final List<PostgresOutboxSourceTask> tasks = new ArrayList<>();
  private final List<Connection> connections = new ArrayList<>();

  @BeforeEach
  void createFamily() throws SQLException {
    pg.createDatabase(db);
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      s.execute(DefaultOutbox.script()); // its dead-letter table
      s.execute(
          "CREATE TABLE pt (id bigint NOT NULL, topic text, payload jsonb, dedupe_key text,"
              + " headers jsonb, created_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
              + " published_at timestamptz, error text,"
              + " txid xid8 NOT NULL DEFAULT pg_current_xact_id()) PARTITION BY RANGE (id)");
      s.execute("CREATE INDEX ON pt (txid, id) WHERE published_at IS NULL");
      s.execute(
          "CREATE TABLE pt_1 PARTITION OF pt FOR VALUES FROM (0) TO (1000) PARTITION BY RANGE (id)");
      s.execute("CREATE TABLE pt_1_a PARTITION OF pt_1 FOR VALUES FROM (0) TO (100)");
      s.execute("CREATE TABLE pt_2 PARTITION OF pt FOR VALUES FROM (1000) TO (2000)");
    }
  }

  @AfterEach
  void stop() throws SQLException {
    tasks.forEach(PostgresOutboxSourceTask::stop);
    for (Connection c : connections) {
      c.close();
    }
  }

  /**
   * Two connectors, one on the parent, one on a partition: the second relays nothing (its wait
   * shows in tables-locked-elsewhere) until the first stops, then relays what is left.
   */
  @Test
  void aParentAndItsPartitionInTwoConnectorsAreRelayedOneAtATime() throws Exception {
    insert(0, 3);
    PostgresOutboxSourceTask parent =
        started("public.pt", new HandRunSourceContext(props(), map()));
    assertEquals(List.of(0L, 1L, 2L), ids(HandRunSourceContext.relayUntil(parent, 3)));

    HandRunSourceContext partitionContext = new HandRunSourceContext(props(), map());
    PostgresOutboxSourceTask partition = started("public.pt_1", partitionContext);
    insert(3, 2); // into pt_1_a, under pt_1
    assertNothingRelayed(partition);
    assertEquals(1.0, partitionContext.metric("tables-locked-elsewhere"), "the wait is visible");

    parent.stop(); // before it reads the two rows
    assertEquals(List.of(3L, 4L), ids(HandRunSourceContext.pollUntil(partition, 2)));
    assertEquals(0.0, partitionContext.metric("tables-locked-elsewhere"));
  }

  /** The other way round, and a relay of the parent holds every partition's lock exclusively. */
  @Test
  void aPartitionHeldKeepsItsParentWaitingAndTheParentThenKeepsThePartitionWaiting()
      throws Exception {
    Connection partitionSession = connect();
    OutboxLocks partition = locks("public.pt_1");
    assertEquals(List.of(table("public.pt_1")), partition.take(partitionSession));
    assertEquals(
        Set.of("pt:ShareLock", "pt_1:ExclusiveLock", "pt_1_a:ExclusiveLock"),
        relayLocks(partitionSession));

    Connection parentSession = connect();
    OutboxLocks parent = locks("public.pt");
    assertEquals(List.of(), parent.take(parentSession));
    assertEquals(1, parent.heldElsewhere());
    assertEquals(Set.of(), relayLocks(parentSession), "took nothing, or let go of it");

    end(partitionSession); // the partition's relay stops
    assertEquals(List.of(table("public.pt")), parent.take(parentSession));
    assertEquals(
        Set.of(
            "pt:ExclusiveLock", "pt_1:ExclusiveLock", "pt_1_a:ExclusiveLock", "pt_2:ExclusiveLock"),
        relayLocks(parentSession));

    Connection againSession = connect();
    OutboxLocks again = locks("public.pt_1");
    assertEquals(List.of(), again.take(againSession));
    assertEquals(Set.of(), relayLocks(againSession));
  }

  /** Two partitions of one parent share its lock: two connectors relay them side by side. */
  @Test
  void siblingPartitionsAreRelayedSideBySide() throws Exception {
    Connection first = connect();
    Connection second = connect();
    assertEquals(List.of(table("public.pt_1")), locks("public.pt_1").take(first));
    assertEquals(List.of(table("public.pt_2")), locks("public.pt_2").take(second));
    assertEquals(Set.of("pt:ShareLock", "pt_2:ExclusiveLock"), relayLocks(second));

    assertEquals(List.of(), locks("public.pt").take(connect()), "the parent waits for both");
  }

  /** Listed together in one connector, sibling partitions are taken side by side too. */
  @Test
  void siblingPartitionsListedTogetherAreTakenOnOneSession() throws Exception {
    OutboxLocks both = new OutboxLocks(List.of(table("public.pt_1"), table("public.pt_2")));
    Connection session = connect();
    assertEquals(2, both.take(session).size());
    assertEquals(
        Set.of("pt:ShareLock", "pt_1:ExclusiveLock", "pt_1_a:ExclusiveLock", "pt_2:ExclusiveLock"),
        relayLocks(session));
  }

  /**
   * A table inheriting from two listed tables (multiple inheritance) is in both their sets, yet
   * neither set holds the other listed table: in one task both were taken on one session and each
   * of its rows relayed twice; over two tasks one waited for ever. Each task now fails, naming the
   * two and the table below both, when it connects and at each check.
   */
  @Test
  void twoListedTablesSharingAChildAreRefused() throws Exception {
    createTable("a_t");
    createTable("b_t");
    execute("CREATE TABLE c_t () INHERITS (a_t, b_t)");
    OutboxLocks one = new OutboxLocks(List.of(table("public.a_t"), table("public.b_t")));
    Connection session = connect();
    assertRefusedAsSharing(assertThrows(ConnectException.class, () -> one.take(session)));
    assertEquals(Set.of(), relayLocks(session), "took neither");

    List<OutboxTable> connector = List.of(table("public.a_t"), table("public.b_t"));
    OutboxLocks a = new OutboxLocks(List.of(table("public.a_t")), connector);
    OutboxLocks b = new OutboxLocks(List.of(table("public.b_t")), connector);
    assertRefusedAsSharing(assertThrows(ConnectException.class, () -> a.take(connect())));
    assertRefusedAsSharing(assertThrows(ConnectException.class, () -> b.take(connect())));
  }

  /**
   * Made to inherit from the second table while the first is relayed: refused at the next check.
   */
  @Test
  void aChildMadeToInheritFromASecondListedTableIsRefusedAtTheNextCheck() throws Exception {
    createTable("a_t");
    createTable("b_t");
    execute("CREATE TABLE c_t () INHERITS (a_t)");
    OutboxLocks one = new OutboxLocks(List.of(table("public.a_t"), table("public.b_t")));
    one.checkEveryMs(0);
    Connection session = connect();
    assertEquals(2, one.take(session).size());

    execute("ALTER TABLE c_t INHERIT b_t");

    assertRefusedAsSharing(assertThrows(ConnectException.class, () -> one.take(session)));
  }

  private static void assertRefusedAsSharing(ConnectException refused) {
    assertTrue(
        refused.getMessage().contains("'public.a_t' and 'public.b_t' both hold the table 'c_t'"),
        refused::getMessage);
  }

  @Test
  void aGrandparentAndAGrandchildAreRelayedOneAtATime() throws Exception {
    Connection grandchildSession = connect();
    assertEquals(List.of(table("public.pt_1_a")), locks("public.pt_1_a").take(grandchildSession));
    assertEquals(
        Set.of("pt:ShareLock", "pt_1:ShareLock", "pt_1_a:ExclusiveLock"),
        relayLocks(grandchildSession));

    Connection grandparentSession = connect();
    OutboxLocks grandparent = locks("public.pt");
    assertEquals(List.of(), grandparent.take(grandparentSession));

    end(grandchildSession);
    assertEquals(List.of(table("public.pt")), grandparent.take(grandparentSession));
    assertEquals(List.of(), locks("public.pt_1_a").take(connect()));
  }

  /**
   * The parent's set is taken in OID order: pt, pt_1 and pt_1_a are taken before pt_2 is refused,
   * and must be let go of, or the parent's relay would keep pt_1's relay waiting while it waits
   * itself.
   */
  @Test
  void aLockSetTakenInPartIsLetGoOfWhole() throws Exception {
    Connection other = connect();
    lockExclusively(other, "public.pt_2");

    Connection parentSession = connect();
    OutboxLocks parent = locks("public.pt");
    assertEquals(List.of(), parent.take(parentSession));
    assertEquals(Set.of(), relayLocks(parentSession), "no lock left behind");
    assertEquals(List.of(table("public.pt_1")), locks("public.pt_1").take(connect()));
  }

  /**
   * One task with two sibling partitions takes the parent's shared lock twice (advisory locks are
   * re-entrant); the second set refused lets go of its own count only, and the first keeps it.
   */
  @Test
  void aSetRefusedLetsGoOfItsOwnCountOfASharedLockOnly() throws Exception {
    Connection other = connect();
    lockExclusively(other, "public.pt_2");

    Connection session = connect();
    OutboxLocks both = new OutboxLocks(List.of(table("public.pt_1"), table("public.pt_2")));
    assertEquals(List.of(table("public.pt_1")), both.take(session));
    assertEquals(
        Set.of("pt:ShareLock", "pt_1:ExclusiveLock", "pt_1_a:ExclusiveLock"), relayLocks(session));
    assertEquals(1, both.heldElsewhere());
    assertEquals(List.of(), locks("public.pt").take(connect()), "pt_1's relay still holds pt");
  }

  /**
   * A table attached under a relayed parent while another connector relays it: at the next check
   * the parent's relay finds the new partition's lock held and reconnects; on the new session it
   * waits for the table it can no longer take whole.
   */
  @Test
  void aTableAttachedUnderARelayedParentIsCoveredFromTheNextCheck() throws Exception {
    createTable("pt_3");
    Connection parentSession = connect();
    OutboxLocks parent = locks("public.pt");
    parent.checkEveryMs(0);
    assertEquals(List.of(table("public.pt")), parent.take(parentSession));
    Connection attachedSession = connect();
    OutboxLocks attached = locks("public.pt_3");
    attached.checkEveryMs(0);
    assertEquals(List.of(table("public.pt_3")), attached.take(attachedSession));

    execute("ALTER TABLE pt ATTACH PARTITION pt_3 FOR VALUES FROM (2000) TO (3000)");

    Exception reconnect = assertThrows(Exception.class, () -> parent.take(parentSession));
    assertTrue(reconnect.getMessage().contains("'pt_3'"), reconnect::getMessage);
    end(parentSession); // as the task does
    parent.released();
    Connection parentAgain = connect();
    assertEquals(List.of(), parent.take(parentAgain), "waits for pt_3's relay");
    assertEquals(Set.of(), relayLocks(parentAgain));

    assertEquals(List.of(), attached.take(attachedSession), "still held: takes its parent's too");
    assertEquals(Set.of("pt:ShareLock", "pt_3:ExclusiveLock"), relayLocks(attachedSession));
  }

  /** A partition made under a relayed parent nobody else relays is taken on the same session. */
  @Test
  void aPartitionCreatedUnderARelayedParentIsLockedAtTheNextCheck() throws Exception {
    Connection parentSession = connect();
    OutboxLocks parent = locks("public.pt");
    parent.checkEveryMs(0);
    assertEquals(List.of(table("public.pt")), parent.take(parentSession));

    execute("CREATE TABLE pt_4 PARTITION OF pt FOR VALUES FROM (4000) TO (5000)");
    assertEquals(List.of(), parent.take(parentSession));
    assertTrue(relayLocks(parentSession).contains("pt_4:ExclusiveLock"));
    assertTrue(parent.holds(table("public.pt")));
    assertEquals(List.of(), locks("public.pt_4").take(connect()));
  }

  /** A partition detached from a relayed parent is let go of: a relay of it can take it. */
  @Test
  void aDetachedPartitionIsLetGoOf() throws Exception {
    Connection parentSession = connect();
    OutboxLocks parent = locks("public.pt");
    parent.checkEveryMs(0);
    assertEquals(List.of(table("public.pt")), parent.take(parentSession));

    execute("ALTER TABLE pt DETACH PARTITION pt_2");
    assertEquals(List.of(), parent.take(parentSession));
    assertEquals(
        Set.of("pt:ExclusiveLock", "pt_1:ExclusiveLock", "pt_1_a:ExclusiveLock"),
        relayLocks(parentSession));
    assertEquals(List.of(table("public.pt_2")), locks("public.pt_2").take(connect()));
  }

  /**
   * Two connectors with one list, a_t and b_t (a leftover second one waiting), then b_t made to
   * inherit from a_t. The waiting one held nothing, so its check compared no lock set with its
   * tables, and once the first had failed it took both on its one session (advisory locks are
   * re-entrant). Each lock set refreshed is now checked against the connector's tables: both fail
   * at their next check, naming the two, whether they hold the tables or not.
   */
  @Test
  void aListedTableMadeToInheritFromAnotherFailsEveryTaskOfTheListEvenOneHoldingNothing()
      throws Exception {
    createTable("a_t");
    createTable("b_t");
    OutboxLocks first = new OutboxLocks(List.of(table("public.a_t"), table("public.b_t")));
    first.checkEveryMs(0);
    Connection firstSession = connect();
    assertEquals(2, first.take(firstSession).size());
    OutboxLocks second = new OutboxLocks(List.of(table("public.a_t"), table("public.b_t")));
    second.checkEveryMs(0);
    Connection secondSession = connect();
    assertEquals(List.of(), second.take(secondSession), "the first holds both");

    execute("ALTER TABLE b_t INHERIT a_t");

    assertRefusedAsInheriting(
        assertThrows(ConnectException.class, () -> second.take(secondSession)));
    assertEquals(Set.of(), relayLocks(secondSession), "took neither");
    assertRefusedAsInheriting(assertThrows(ConnectException.class, () -> first.take(firstSession)));
  }

  /**
   * With tasks, the first gone (failed, or stopped): the waiting one took both tables on its
   * session and relayed each row of b_t twice, as b_t's and as a_t's, for as long as it ran. It now
   * fails at its next check instead.
   */
  @Test
  void aWaitingTaskFailsInsteadOfRelayingAListedTableAndItsNewChild() throws Exception {
    createTable("a_t");
    createTable("b_t");
    PostgresOutboxSourceTask relaying =
        started("public.a_t,public.b_t", new HandRunSourceContext(props(), map()));
    relaying.tableCheckEveryMs(0);
    assertNull(relaying.poll());
    PostgresOutboxSourceTask waiting =
        started("public.a_t,public.b_t", new HandRunSourceContext(props(), map()));
    waiting.tableCheckEveryMs(0);
    assertNothingRelayed(waiting);

    execute("ALTER TABLE b_t INHERIT a_t");
    execute("INSERT INTO b_t(id, topic, payload) SELECT g, 't', '{}' FROM generate_series(1, 3) g");
    relaying.stop();

    List<SourceRecord> relayed = new ArrayList<>();
    ConnectException refused =
        assertThrows(
            ConnectException.class,
            () ->
                await()
                    .atMost(Duration.ofSeconds(10))
                    .until(
                        () -> {
                          List<SourceRecord> records = waiting.poll();
                          if (records != null) {
                            relayed.addAll(records);
                            records.forEach(record -> waiting.commitRecord(record, null));
                          }
                          return relayed.size() >= 6;
                        }),
            () -> "relayed instead: " + ids(relayed));
    assertRefusedAsInheriting(refused);
    assertEquals(List.of(), relayed);
  }

  /** Spread over two tasks of one connector: each sees the other's table in its own lock set. */
  @Test
  void twoTasksOfOneConnectorFailWhenOneTableIsMadeToInheritFromTheOther() throws Exception {
    createTable("a_t");
    createTable("b_t");
    List<OutboxTable> connector = List.of(table("public.a_t"), table("public.b_t"));
    OutboxLocks a = new OutboxLocks(List.of(table("public.a_t")), connector);
    a.checkEveryMs(0);
    OutboxLocks b = new OutboxLocks(List.of(table("public.b_t")), connector);
    b.checkEveryMs(0);
    Connection aSession = connect();
    Connection bSession = connect();
    assertEquals(List.of(table("public.a_t")), a.take(aSession));
    assertEquals(List.of(table("public.b_t")), b.take(bSession));

    execute("ALTER TABLE b_t INHERIT a_t");

    assertRefusedAsInheriting(assertThrows(ConnectException.class, () -> a.take(aSession)));
    assertRefusedAsInheriting(assertThrows(ConnectException.class, () -> b.take(bSession)));
  }

  /**
   * A DETACH ... CONCURRENTLY cancelled in its wait leaves the partition in pg_inherits, marked
   * detach-pending until DETACH ... FINALIZE: reads of the parent leave it out, so the parent's
   * relay neither locks it nor keeps its own relay waiting, and each relays its rows once.
   */
  @Test
  void aPartitionLeftDetachPendingIsRelayedApartFromItsParent() throws Exception {
    insert(1000, 2); // into pt_2
    Connection parentSession = connect();
    OutboxLocks parent = locks("public.pt");
    parent.checkEveryMs(0);
    assertEquals(List.of(table("public.pt")), parent.take(parentSession));

    leaveDetachPending("pt", "pt_2");
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM pt WHERE id >= 1000")) {
      rs.next();
      assertEquals(0, rs.getLong(1), "a read of the parent leaves pt_2 out");
    }

    assertEquals(List.of(), parent.take(parentSession));
    assertEquals(
        Set.of("pt:ExclusiveLock", "pt_1:ExclusiveLock", "pt_1_a:ExclusiveLock"),
        relayLocks(parentSession),
        "pt_2's lock let go of at the check");
    Connection partitionSession = connect();
    assertEquals(List.of(table("public.pt_2")), locks("public.pt_2").take(partitionSession));
    assertEquals(Set.of("pt_2:ExclusiveLock"), relayLocks(partitionSession), "no parent's lock");

    end(parentSession);
    parent.released();
    assertEquals(
        List.of(table("public.pt")),
        parent.take(connect()),
        "the parent's relay takes its set on a new session beside pt_2's");
  }

  /**
   * The same with tasks: a connector on the parent and one on the detach-pending partition relay
   * side by side, each its own rows once; listed together in one connector they are not refused.
   */
  @Test
  void aParentAndItsDetachPendingPartitionAreRelayedSideBySide() throws Exception {
    insert(0, 2); // into pt_1_a
    insert(1000, 2); // into pt_2
    leaveDetachPending("pt", "pt_2");

    PostgresOutboxSourceTask parent =
        started("public.pt", new HandRunSourceContext(props(), map()));
    PostgresOutboxSourceTask partition =
        started("public.pt_2", new HandRunSourceContext(props(), map()));
    assertEquals(List.of(0L, 1L), ids(HandRunSourceContext.relayUntil(parent, 2)));
    assertEquals(List.of(1000L, 1001L), ids(HandRunSourceContext.relayUntil(partition, 2)));
    try (Connection c = pg.connect(db)) {
      assertNull(
          OutboxLocks.overlap(
              c, OutboxLocks.oids(c, List.of(table("public.pt"), table("public.pt_2")))));
    }
  }

  /** Plain inheritance: a parent and a table inheriting from it, in two connectors. */
  @Test
  void anInheritanceParentAndItsChildAreRelayedOneAtATime() throws Exception {
    execute("CREATE TABLE base (id bigint)");
    execute("CREATE TABLE heir () INHERITS (base)");
    Connection heirSession = connect();
    assertEquals(List.of(table("public.heir")), locks("public.heir").take(heirSession));
    assertEquals(Set.of("base:ShareLock", "heir:ExclusiveLock"), relayLocks(heirSession));
    assertEquals(List.of(), locks("public.base").take(connect()));
  }

  private static OutboxTable table(String name) {
    return OutboxTable.parse(name);
  }

  private static OutboxLocks locks(String name) {
    return new OutboxLocks(List.of(table(name)));
  }

  /**
   * The relay locks the session holds, as {@code table:mode}. Advisory locks are re-entrant: a lock
   * taken twice shows once.
   */
  private static Set<String> relayLocks(Connection session) throws SQLException {
    try (PreparedStatement s =
        session.prepareStatement(
            "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.objid"
                + " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
                + " AND l.pid = pg_backend_pid() AND l.classid = ?::int4::oid")) {
      s.setInt(1, OutboxLocks.NAMESPACE);
      Set<String> found = new TreeSet<>();
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          found.add(rs.getString(1) + ":" + rs.getString(2));
        }
      }
      return found;
    }
  }

  private static void assertRefusedAsInheriting(ConnectException refused) {
    assertTrue(refused.getMessage().contains("outbox.tables"), refused::getMessage);
    assertTrue(
        refused.getMessage().contains("'public.b_t' is a table inheriting from 'public.a_t'"),
        refused::getMessage);
  }

  /**
   * Detaches the partition concurrently and cancels the detach while it waits for a transaction
   * that has read the parent: the first of its two transactions has marked the partition
   * detach-pending in pg_inherits, and that stays.
   */
  private void leaveDetachPending(String parent, String partition) throws Exception {
    try (Connection reader = pg.connect(db);
        Connection detacher = pg.connect(db)) {
      reader.setAutoCommit(false);
      try (Statement s = reader.createStatement()) {
        s.executeQuery("SELECT 1 FROM " + parent + " LIMIT 0").close(); // holds its lock
      }
      int pid = backendPid(detacher);
      CompletableFuture<Void> detach =
          CompletableFuture.runAsync(
              () -> {
                try (Statement s = detacher.createStatement()) {
                  s.execute(
                      "ALTER TABLE " + parent + " DETACH PARTITION " + partition + " CONCURRENTLY");
                } catch (SQLException e) {
                  throw new CompletionException(e);
                }
              });
      try (Connection c = pg.connect(db);
          PreparedStatement waiting =
              c.prepareStatement(
                  "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = ?");
          PreparedStatement cancel = c.prepareStatement("SELECT pg_cancel_backend(?)")) {
        waiting.setInt(1, pid);
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () -> {
                  try (ResultSet rs = waiting.executeQuery()) {
                    return rs.next() && rs.getBoolean(1);
                  }
                });
        cancel.setInt(1, pid);
        cancel.executeQuery().close();
      }
      CompletionException cancelled = assertThrows(CompletionException.class, detach::join);
      assertEquals("57014", ((SQLException) cancelled.getCause()).getSQLState(), "cancelled");
      reader.rollback();
    }
    try (Connection c = pg.connect(db);
        PreparedStatement s =
            c.prepareStatement(
                "SELECT inhdetachpending FROM pg_inherits"
                    + " WHERE inhrelid = to_regclass(?) AND inhparent = to_regclass(?)")) {
      s.setString(1, partition);
      s.setString(2, parent);
      try (ResultSet rs = s.executeQuery()) {
        assertTrue(rs.next() && rs.getBoolean(1), "detach-pending");
      }
    }
  }

  private static int backendPid(Connection session) throws SQLException {
    try (Statement s = session.createStatement();
        ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static void lockExclusively(Connection session, String table) throws SQLException {
    try (PreparedStatement s =
        session.prepareStatement("SELECT pg_advisory_lock(?, to_regclass(?)::oid::int4)")) {
      s.setInt(1, OutboxLocks.NAMESPACE);
      s.setString(2, table);
      s.executeQuery().close();
    }
  }

  /**
   * Closes the session and waits until the server has ended it: its backend lets go of its locks
   * just after the client has closed the connection.
   */
  private void end(Connection session) throws SQLException {
    int pid;
    try (Statement s = session.createStatement();
        ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      pid = rs.getInt(1);
    }
    session.close();
    try (Connection c = pg.connect(db);
        PreparedStatement s =
            c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE pid = ?")) {
      s.setInt(1, pid);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> {
                try (ResultSet rs = s.executeQuery()) {
                  rs.next();
                  return rs.getLong(1) == 0;
                }
              });
    }
  }

  private Connection connect() throws SQLException {
    Connection c = pg.connect(db);
    connections.add(c);
    return c;
  }

  private void createTable(String name) throws SQLException {
    execute("CREATE TABLE " + name + " (LIKE pt INCLUDING DEFAULTS)");
  }

  private void execute(String sql) throws SQLException {
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private void insert(long firstId, int rows) throws SQLException {
    try (Connection c = pg.connect(db);
        PreparedStatement s =
            c.prepareStatement(
                "INSERT INTO pt(id, topic, payload) SELECT g, 't', '{}'"
                    + " FROM generate_series(?::int8, ?::int8) g")) {
      s.setLong(1, firstId);
      s.setLong(2, firstId + rows - 1);
      s.execute();
    }
  }

  private Map<String, String> props() {
    Map<String, String> props = HandRunSourceContext.relayProps(pg.jdbcUrl(db), pg.user());
    props.put("outbox.table.create", "false"); // made beforehand: no column is added to a partition
    return props;
  }

  /** A connector's committed offsets: each connector has its own. */
  private static Map<Map<String, ?>, Map<String, Object>> map() {
    return new HashMap<>();
  }

  private PostgresOutboxSourceTask started(String table, HandRunSourceContext context) {
    Map<String, String> props = new HashMap<>(context.configs());
    props.put("outbox.tables", table);
    PostgresOutboxSourceTask task = new PostgresOutboxSourceTask();
    task.initialize(context);
    task.start(props);
    tasks.add(task);
    return task;
  }

  /** Polls a task that must relay nothing, as often as a relay with work would have relayed. */
  private static void assertNothingRelayed(PostgresOutboxSourceTask task) throws Exception {
    for (int poll = 0; poll < 10; poll++) {
      List<SourceRecord> records = task.poll();
      assertNull(records, "another task holds the table");
    }
  }
}
