package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.HandRunSourceContext.ids;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.postgres.PostgresServer;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One outbox table must be relayed by one task at a time. Two names for one table in one connector
 * ({@code outbox} and {@code public.outbox}) made two source partitions with their own positions,
 * and two connectors on one table each relayed every row: every row reached Kafka twice. Names are
 * now resolved to the table, and a task reads and deletes/marks a table only while it holds the
 * table's advisory lock on its own connection.
 */
class OneRelayPerTableTest {

  private final PostgresServer pg = PostgresServer.shared();
  private final String db = "outbox_one_relay_" + System.nanoTime();
  private final List<PostgresOutboxSourceTask> tasks = new ArrayList<>();

  /** The offsets Connect has committed, shared by the tasks as one connector's are. */
  private final Map<Map<String, ?>, Map<String, Object>> committed = new HashMap<>();

  @BeforeEach
  void createDatabase() {
    pg.createDatabase(db);
  }

  @AfterEach
  void stop() {
    tasks.forEach(PostgresOutboxSourceTask::stop);
  }

  @Test
  void twoNamesForOneTableAreRefusedAtConnectorStart() throws Exception {
    createOutbox();
    Map<String, String> props = relayProps();
    props.put("outbox.tables", "outbox,public.outbox");
    PostgresOutboxSourceConnector connector = new PostgresOutboxSourceConnector();

    ConfigException refused = assertThrows(ConfigException.class, () -> connector.start(props));
    assertTrue(refused.getMessage().contains("outbox.tables"), refused::getMessage);
    assertTrue(refused.getMessage().contains("'outbox' and 'public.outbox'"), refused::getMessage);
  }

  @Test
  void twoNamesForOneTableAreRefusedByTheTask() throws Exception {
    createOutbox();
    Map<String, String> props = relayProps();
    props.put("outbox.tables", "public.outbox,outbox");
    PostgresOutboxSourceTask task = started(props, new HandRunSourceContext(props, committed));

    ConnectException refused = assertThrows(ConnectException.class, task::poll);
    assertTrue(refused.getMessage().contains("'public.outbox' and 'outbox'"), refused::getMessage);
  }

  /**
   * The connector's check needs the database; when it was down at connector start, or the two names
   * went to two tasks, each task saw only its own name and one of them waited for the other's lock
   * for ever, with a warning about a second connector.
   */
  @Test
  void twoNamesForOneTableSpreadOverTwoTasksAreRefusedByEach() throws Exception {
    createOutbox();
    Map<String, String> props = relayProps();
    props.put("outbox.tables", "outbox,public.outbox");
    for (Map<String, String> taskProps :
        PostgresOutboxSourceConnector.spread(List.of("outbox", "public.outbox"), 2, props)) {
      PostgresOutboxSourceTask task = started(taskProps);

      ConnectException refused = assertThrows(ConnectException.class, task::poll);
      assertTrue(
          refused.getMessage().contains("'outbox' and 'public.outbox'"), refused::getMessage);
    }
  }

  /**
   * A read of a partitioned table reads its partitions' rows: listed with one of them (here a
   * partition of a partition), each row of that one would be relayed twice, once per position.
   */
  @Test
  void aTableAndItsPartitionAreRefusedAtConnectorStart() throws Exception {
    createPartitionedOutbox();
    Map<String, String> props = relayProps();
    props.put("outbox.table.create", "false"); // made beforehand: no column is added to a partition
    props.put("outbox.tables", "public.pt_1_a,public.pt");
    PostgresOutboxSourceConnector connector = new PostgresOutboxSourceConnector();

    ConfigException refused = assertThrows(ConfigException.class, () -> connector.start(props));
    assertTrue(refused.getMessage().contains("outbox.tables"), refused::getMessage);
    assertTrue(
        refused.getMessage().contains("'public.pt_1_a' is a partition of 'public.pt'"),
        refused::getMessage);
  }

  /** Each task checks too, also when the two went to two tasks. */
  @Test
  void aTableAndItsPartitionAreRefusedByEachTask() throws Exception {
    createPartitionedOutbox();
    Map<String, String> props = relayProps();
    props.put("outbox.table.create", "false"); // made beforehand: no column is added to a partition
    props.put("outbox.tables", "public.pt,public.pt_1");
    for (Map<String, String> taskProps :
        PostgresOutboxSourceConnector.spread(List.of("public.pt", "public.pt_1"), 2, props)) {
      PostgresOutboxSourceTask task = started(taskProps);

      ConnectException refused = assertThrows(ConnectException.class, task::poll);
      assertTrue(
          refused.getMessage().contains("'public.pt_1' is a partition of 'public.pt'"),
          refused::getMessage);
    }
  }

  /** Plain inheritance: a read of the parent reads the child's rows too. */
  @Test
  void aTableAndATableInheritingFromItAreRefusedByTheTask() throws Exception {
    createOutbox();
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE outbox_child () INHERITS (outbox)");
    }
    Map<String, String> props = relayProps();
    props.put("outbox.tables", "public.outbox_child,public.outbox");
    PostgresOutboxSourceTask task = started(props);

    ConnectException refused = assertThrows(ConnectException.class, task::poll);
    assertTrue(
        refused
            .getMessage()
            .contains("'public.outbox_child' is a table inheriting from 'public.outbox'"),
        refused::getMessage);
  }

  @Test
  void aSecondTaskReadsNothingWhileTheFirstHoldsTheTableThenTakesOverWithoutRepeats()
      throws Exception {
    PostgresOutboxSourceTask first = started(relayProps());
    assertNull(first.poll(), "creates the table and takes its lock");
    insert(3);
    List<SourceRecord> firstBatch = pollUntil(first, 3);

    HandRunSourceContext secondContext = new HandRunSourceContext(relayProps(), committed);
    PostgresOutboxSourceTask second = started(relayProps(), secondContext);
    insert(2);
    assertNothingRelayed(second);
    assertEquals(1.0, secondContext.metric("tables-locked-elsewhere"), "the wait is visible");

    // Connect committed the first batch with its offset; the first task stops before marking it
    committed.put(partition(), offsetOf(firstBatch.get(2)));
    first.stop();

    List<SourceRecord> rest = pollUntil(second, 2);
    assertEquals(List.of(4L, 5L), ids(rest), "the rest, and no row of the first batch again");
    assertEquals(0.0, secondContext.metric("tables-locked-elsewhere"));
    assertEquals(2, unmarked(), "the second task marked the committed first batch");
  }

  /**
   * Reading the committed offset on taking a table asks Kafka, which can fail (Connect's reader
   * then throws a ConnectException): the task must not fail for it, and must read the offset again
   * before it relays the table, or it would relay again the rows the other task relayed.
   */
  @Test
  void anOffsetReadFailingOnTakeOverIsRetriedBeforeTheTableIsRead() throws Exception {
    PostgresOutboxSourceTask first = started(relayProps());
    assertNull(first.poll(), "creates the table and takes its lock");
    insert(3);
    List<SourceRecord> firstBatch = pollUntil(first, 3);

    Map<String, String> props = relayProps();
    props.put("retry.backoff.initial.ms", "10");
    props.put("retry.backoff.max.ms", "50");
    HandRunSourceContext secondContext = new HandRunSourceContext(props, committed);
    PostgresOutboxSourceTask second = started(props, secondContext);
    insert(2);
    assertNothingRelayed(second);

    committed.put(partition(), offsetOf(firstBatch.get(2)));
    first.stop();
    secondContext.failNextOffsetRead();

    assertNull(second.poll(), "takes the table, cannot read its offset, backs off");
    List<SourceRecord> rest = pollUntil(second, 2);
    assertEquals(List.of(4L, 5L), ids(rest), "the committed offset was read on the retry");
  }

  @Test
  void aTaskWithoutTheLockMarksNothing() throws Exception {
    PostgresOutboxSourceTask first = started(relayProps());
    assertNull(first.poll(), "creates the table and takes its lock");
    insert(3);
    List<SourceRecord> batch = pollUntil(first, 3);
    committed.put(partition(), offsetOf(batch.get(2)));

    // a leftover relay whose committed offset covers the rows the first task is relaying
    assertNothingRelayed(started(relayProps()));
    assertEquals(3, unmarked(), "only the task holding the table deletes or marks its rows");
  }

  @Test
  void theLockIsTakenAgainAfterAReconnect() throws Exception {
    Map<String, String> props = relayProps();
    props.put("retry.backoff.initial.ms", "10");
    props.put("retry.backoff.max.ms", "50");
    PostgresOutboxSourceTask first = started(props);
    assertNull(first.poll(), "creates the table and takes its lock");
    int before = lockHolder();

    terminate(before);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              assertNull(first.poll());
              int holder = lockHolder();
              return holder != 0 && holder != before;
            });

    HandRunSourceContext secondContext = new HandRunSourceContext(relayProps(), committed);
    PostgresOutboxSourceTask second = started(relayProps(), secondContext);
    insert(1);
    assertNothingRelayed(second);
    assertEquals(1.0, secondContext.metric("tables-locked-elsewhere"));
    assertEquals(List.of(1L), ids(pollUntil(first, 1)), "the first task relays on");
    assertNotEquals(0, lockHolder());
  }

  /**
   * After a network cut the server keeps the old session and its lock until it notices the client
   * is gone, by default after over two hours of TCP silence: the lock's session asks for sooner.
   */
  @Test
  void theLockSessionHasTheServerNoticeADeadClientSoon() throws Exception {
    createOutbox();
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      new OutboxLocks(List.of(OutboxTable.parse("public.outbox"))).take(c);
      try (ResultSet rs = s.executeQuery("SHOW tcp_keepalives_idle")) {
        rs.next();
        assertEquals(String.valueOf(OutboxLocks.KEEPALIVE_IDLE_S), rs.getString(1));
      }
      // keepalives wait while sent data is unacknowledged, as a NOTIFY sent into a cut connection
      try (ResultSet rs =
          s.executeQuery("SELECT setting FROM pg_settings WHERE name = 'tcp_user_timeout'")) {
        rs.next();
        assertEquals(String.valueOf(OutboxLocks.USER_TIMEOUT_MS), rs.getString(1));
      }
    }
  }

  /**
   * A relay statement waiting longer than the socket timeout (a DBA's LOCK TABLE on the outbox)
   * must not leave its backend behind, still holding the table's relay lock, so that the relay,
   * reconnected, finds its own table "locked elsewhere": the lock's session, connected as the task
   * connects, has the server end a lock wait before the client gives up on it, and notice a client
   * that is gone.
   */
  @Test
  void theLockSessionHasTheServerEndALockWaitBeforeTheClientGivesUp() throws Exception {
    createOutbox();
    OutboxSourceConfig config = new OutboxSourceConfig(relayProps());
    try (Connection c = DriverManager.getConnection(config.url(), config.connectionProperties());
        Statement s = c.createStatement()) {
      new OutboxLocks(List.of(OutboxTable.parse("public.outbox"))).take(c);
      try (ResultSet rs = s.executeQuery("SHOW lock_timeout")) {
        rs.next();
        assertEquals("55s", rs.getString(1), "5 s below the socket timeout of 60 s");
      }
      try (ResultSet rs = s.executeQuery("SHOW client_connection_check_interval")) {
        rs.next();
        assertEquals("10s", rs.getString(1));
      }
    }
  }

  /**
   * A proxy or a fork of PostgreSQL may refuse the keepalive settings; they only hasten a handover,
   * so the task takes its locks without them instead of failing on every start.
   */
  @Test
  void refusedKeepaliveSettingsDoNotStopTheLockBeingTaken() throws Exception {
    createOutbox();
    OutboxTable table = OutboxTable.parse("public.outbox");
    // refused for want of privilege, unknown to a fork, or not settable in a session (55P02,
    // which SqlStates counts as transient: it looped for ever)
    for (String state : List.of("42501", "42704", "55P02")) {
      try (Connection c = pg.connect(db)) {
        assertEquals(
            List.of(table), new OutboxLocks(List.of(table)).take(refusingSet(c, state)), state);
        assertNotEquals(0, lockHolder(), state);
      }
      // a closed connection's backend lets go of its session lock as it exits, after close()
      // returned: the next round's connection must not find the table still locked
      await().atMost(Duration.ofSeconds(10)).until(() -> lockHolder() == 0);
    }
  }

  /** A SET that fails because the connection is gone is no refusal: the task reconnects. */
  @Test
  void aSetFailingWithTheConnectionIsThrown() throws Exception {
    createOutbox();
    OutboxTable table = OutboxTable.parse("public.outbox");
    try (Connection c = pg.connect(db)) {
      SQLException e =
          assertThrows(
              SQLException.class,
              () -> new OutboxLocks(List.of(table)).take(refusingSet(c, "08006")));
      assertEquals("08006", e.getSQLState());
    }
  }

  /** The connection, but every SET is refused with {@code state}, as a proxy or fork might. */
  private static Connection refusingSet(Connection real, String state) {
    return (Connection)
        Proxy.newProxyInstance(
            Connection.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) -> {
              Object result = invoke(real, method, args);
              if (result instanceof Statement s && !(result instanceof PreparedStatement)) {
                return Proxy.newProxyInstance(
                    Statement.class.getClassLoader(),
                    new Class<?>[] {Statement.class},
                    (p, m, a) -> {
                      if (m.getName().startsWith("execute")
                          && a != null
                          && a[0] instanceof String sql
                          && sql.strip().toUpperCase(Locale.ROOT).startsWith("SET ")) {
                        throw new SQLException("refused", state);
                      }
                      return invoke(s, m, a);
                    });
              }
              return result;
            });
  }

  private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  /**
   * The lock is keyed on the table's OID, looked up when the task connects, while its statements
   * name the table. After a rename swap the task read and marked the new table under the old one's
   * lock, and a second relay found the new table's lock free: both relayed every row of it.
   */
  @Test
  void aTableReplacedUnderItsNameIsLockedAgainBeforeItIsRelayed() throws Exception {
    Map<String, String> props = relayProps();
    props.put("retry.backoff.initial.ms", "10");
    props.put("retry.backoff.max.ms", "50");
    PostgresOutboxSourceTask first = started(props);
    first.tableCheckEveryMs(0);
    assertNull(first.poll(), "creates the table and takes its lock");
    insert(2);
    assertEquals(2, HandRunSourceContext.relayUntil(first, 2).size());

    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE outbox_new (LIKE outbox INCLUDING ALL)");
      s.execute("INSERT INTO outbox_new(topic, payload) VALUES ('t', '{}'), ('t', '{}')");
      c.setAutoCommit(false);
      s.execute("ALTER TABLE outbox RENAME TO outbox_old");
      s.execute("ALTER TABLE outbox_new RENAME TO outbox");
      c.commit();
    }

    List<SourceRecord> relayed = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              List<SourceRecord> records = first.poll();
              if (records != null) {
                relayed.addAll(records);
              }
              return lockHolder() != 0;
            });
    try (Connection other = pg.connect(db);
        PreparedStatement lock =
            other.prepareStatement(
                "SELECT pg_try_advisory_lock(?, to_regclass('public.outbox')::oid::int4)")) {
      lock.setInt(1, OutboxLocks.NAMESPACE);
      try (ResultSet rs = lock.executeQuery()) {
        rs.next();
        assertEquals(false, rs.getBoolean(1), "the task holds the new table's lock");
      }
    }
    relayed.addAll(pollUntil(first, 2 - relayed.size()));
    assertEquals(List.of(3L, 4L), ids(relayed), "the new table's rows, once each");
    assertNothingRelayed(started(relayProps()));
  }

  private Map<String, String> relayProps() {
    return HandRunSourceContext.relayProps(pg.jdbcUrl(db), pg.user());
  }

  private PostgresOutboxSourceTask started(Map<String, String> props) {
    return started(props, new HandRunSourceContext(props, committed));
  }

  private PostgresOutboxSourceTask started(
      Map<String, String> props, HandRunSourceContext context) {
    PostgresOutboxSourceTask task = new PostgresOutboxSourceTask();
    task.initialize(context);
    task.start(props);
    tasks.add(task);
    return task;
  }

  /** Polls a task that must relay nothing, as often as a relay with work would have relayed. */
  private static void assertNothingRelayed(PostgresOutboxSourceTask task) throws Exception {
    for (int poll = 0; poll < 10; poll++) {
      assertNull(task.poll(), "another task holds the table");
    }
  }

  /** Exactly {@code count} records: one task relays its table's rows, none twice. */
  private static List<SourceRecord> pollUntil(PostgresOutboxSourceTask task, int count) {
    List<SourceRecord> relayed = HandRunSourceContext.pollUntil(task, count);
    assertEquals(count, relayed.size());
    return relayed;
  }

  private static Map<String, Object> offsetOf(SourceRecord record) {
    return OutboxCursor.fromOffset(record.sourceOffset()).toOffset();
  }

  private static Map<String, String> partition() {
    return OutboxTable.parse("public.outbox").sourcePartition();
  }

  /**
   * pt, partitioned by id; pt_1 one of its partitions, itself partitioned; pt_1_a one of its. And
   * the default outbox, for its dead-letter table.
   */
  private void createPartitionedOutbox() throws SQLException {
    createOutbox();
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE pt (id bigint NOT NULL, topic text, payload jsonb, dedupe_key text,"
              + " headers jsonb, created_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
              + " published_at timestamptz, error text,"
              + " txid xid8 NOT NULL DEFAULT pg_current_xact_id()) PARTITION BY RANGE (id)");
      s.execute(
          "CREATE TABLE pt_1 PARTITION OF pt FOR VALUES FROM (0) TO (1000) PARTITION BY RANGE (id)");
      s.execute("CREATE TABLE pt_1_a PARTITION OF pt_1 FOR VALUES FROM (0) TO (100)");
      s.execute(
          "INSERT INTO pt(id, topic, payload) SELECT g, 't', '{}' FROM generate_series(0, 9) g");
    }
  }

  private void createOutbox() throws SQLException {
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      s.execute(DefaultOutbox.script());
    }
  }

  private void insert(int rows) throws SQLException {
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      for (int i = 0; i < rows; i++) {
        s.execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{}')");
      }
    }
  }

  private long unmarked() throws SQLException {
    return queryLong("SELECT count(*) FROM outbox WHERE published_at IS NULL");
  }

  /** The pid of the session holding the relay lock of public.outbox, 0 when none does. */
  private int lockHolder() throws SQLException {
    try (Connection c = pg.connect(db);
        PreparedStatement s =
            c.prepareStatement(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    + " AND database = (SELECT oid FROM pg_database"
                    + " WHERE datname = current_database())"
                    + " AND classid = ?::int4::oid AND objsubid = 2"
                    + " AND objid = to_regclass('public.outbox')::oid")) {
      s.setInt(1, OutboxLocks.NAMESPACE);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? rs.getInt(1) : 0;
      }
    }
  }

  private void terminate(int pid) throws SQLException {
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      s.execute("SELECT pg_terminate_backend(" + pid + ")");
    }
  }

  private long queryLong(String sql) throws SQLException {
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
