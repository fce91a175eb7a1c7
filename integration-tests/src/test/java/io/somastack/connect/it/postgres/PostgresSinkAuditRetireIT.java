package io.somastack.connect.it.postgres;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.ConnectHarness;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * soma_audit_retire in a running worker: an operator retires the old months of an audit table the
 * connector writes, soma_audit_verify stays clean, and the connector goes on linking new rows to
 * the chains it cut. The sink connects as a role of its own, as in production; the operator is
 * another role, a member of the sink's.
 */
class PostgresSinkAuditRetireIT {

  private static final String TOPIC = "somastack.events.audit.retire";
  private static final String CONNECTOR = "audit-retire";
  private static final String TABLE = "audit_events";
  private static final String SINK_ROLE = "soma_it_retire_sink";
  private static final String SINK_PASSWORD = "it-retire-sink";
  private static final String OPERATOR_ROLE = "soma_it_retire_admin";
  private static final String OPERATOR_PASSWORD = "it-retire-admin";

  // the connector partitions from last month on, so the months are relative to today: the three
  // before last month land in the default partition, last month and this one in their own
  private static final YearMonth THIS_MONTH = YearMonth.now(ZoneOffset.UTC);
  private static final YearMonth LAST_MONTH = THIS_MONTH.minusMonths(1);
  private static final YearMonth M2 = THIS_MONTH.minusMonths(2);
  private static final YearMonth M3 = THIS_MONTH.minusMonths(3);
  private static final YearMonth M4 = THIS_MONTH.minusMonths(4);

  /** Beyond the months made ahead: the default partition. */
  private static final YearMonth FAR_AHEAD = YearMonth.of(2099, 1);

  /**
   * The event months of each Kafka partition's records, in offset order. Partition 0 interleaves
   * old months and this one, so the rows kept link to rows retired three times over; partition 1's
   * head is an old row; partition 2 lies wholly before this month.
   */
  private static final Map<Integer, List<YearMonth>> BEFORE_RETIRING =
      Map.of(
          0, List.of(M4, THIS_MONTH, M3, LAST_MONTH, THIS_MONTH, M2, THIS_MONTH),
          1, List.of(THIS_MONTH, LAST_MONTH, M3, M4),
          2, List.of(M4, M3, M2, LAST_MONTH));

  /**
   * Sent after retiring: each chain goes on (partition 1's and 2's from a retired head), a late
   * event dated last month, whose partition is gone, and one dated far ahead.
   */
  private static final Map<Integer, List<YearMonth>> AFTER_RETIRING =
      Map.of(
          0,
          List.of(THIS_MONTH),
          1,
          List.of(THIS_MONTH, LAST_MONTH),
          2,
          List.of(THIS_MONTH, FAR_AHEAD));

  private static ConnectHarness connect;
  private static PostgresSinkFixture db;

  @BeforeAll
  static void start() throws Exception {
    db = new PostgresSinkFixture("sink_audit_retire");
    createRoles();
    connect = ConnectHarness.builder("audit-retire").start();
    connect.createTopic(TOPIC, 3);
    Map<String, String> config = db.sinkConfig(TOPIC, "audit", "somastack.dlq");
    config.put("table.name.format", TABLE);
    config.put("columns", "tenant:text:tenant_id,action:text:action");
    config.put("connection.user", SINK_ROLE);
    config.put("connection.password", SINK_PASSWORD);
    connect.deploy(CONNECTOR, config, 2);
    send(BEFORE_RETIRING, new TreeMap<>());
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> db.countRows(TABLE) == count(BEFORE_RETIRING));
  }

  @AfterAll
  static void stop() {
    if (connect != null) {
      connect.close();
    }
  }

  /**
   * Roles are the server's, not the database's: made once, kept across runs. PostgreSQL 15 gives
   * PUBLIC no CREATE on schema public, which the sink needs for its table.
   */
  private static void createRoles() throws SQLException {
    for (String[] role :
        List.of(
            new String[] {SINK_ROLE, SINK_PASSWORD},
            new String[] {OPERATOR_ROLE, OPERATOR_PASSWORD})) {
      db.execute(
          "DO $$BEGIN CREATE ROLE "
              + role[0]
              + " LOGIN PASSWORD '"
              + role[1]
              + "'; EXCEPTION WHEN duplicate_object THEN NULL; END$$");
    }
    db.execute("GRANT CREATE ON SCHEMA public TO " + SINK_ROLE);
    db.execute("GRANT " + SINK_ROLE + " TO " + OPERATOR_ROLE);
  }

  @Test
  void oldMonthsRetiredWhileTheConnectorRunsLeaveAChainThatVerifies() throws Exception {
    assertEquals(List.of(), problems());
    Map<Integer, Long> offsets = nextOffsets(BEFORE_RETIRING);
    retireWhileEventsArrive(offsets);
    assertRunning();
    assertEquals(List.of(), problems());

    List<String> expected = new ArrayList<>(kept(BEFORE_RETIRING));
    expected.addAll(eventIds(AFTER_RETIRING, offsets));
    assertEquals(sorted(expected), strings("SELECT event_id FROM " + TABLE + " ORDER BY event_id"));
    assertTheCutLinksAreAnchored();
    // the late event of last month and the one far ahead: in the empty default partition put in
    assertEquals(
        List.of("p1-" + (offsets.get(1) + 1), "p2-" + (offsets.get(2) + 1)),
        strings("SELECT event_id FROM " + TABLE + "_default ORDER BY event_id"));
    assertEquals(
        List.of(SINK_ROLE),
        strings(
            "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = '"
                + TABLE
                + "_default'"));

    // the default partition now holds a row after the cutoff: kept whole, listed as kept
    try (Connection operator = connectAs(OPERATOR_ROLE, OPERATOR_PASSWORD)) {
      assertEquals(List.of(TABLE + "_default: 1 kept"), retire(operator, THIS_MONTH));
    }
    assertEquals(2, db.count("SELECT count(*) FROM " + TABLE + "_default"));
    assertEquals(List.of(), problems());
    assertRunning();

    startedAgainGoesOn(expected);
    assertTamperingIsFound(offsets);
  }

  /**
   * Retires what is before this month (last month's partition, and the default one holding the
   * months before it) and, before committing, sends more events: the sink's batches wait for the
   * retirement, then link their rows to the chains it cut.
   */
  private static void retireWhileEventsArrive(Map<Integer, Long> offsets) throws Exception {
    long old = rowsBefore(BEFORE_RETIRING, LAST_MONTH);
    assertEquals(old, db.count("SELECT count(*) FROM " + TABLE + "_default"));
    try (Connection operator = connectAs(OPERATOR_ROLE, OPERATOR_PASSWORD)) {
      operator.setAutoCommit(false);
      assertEquals(
          List.of(
              partition(LAST_MONTH) + ": " + rowsIn(BEFORE_RETIRING, LAST_MONTH) + " retired",
              TABLE + "_default: " + old + " retired"),
          retire(operator, THIS_MONTH));
      send(AFTER_RETIRING, offsets);
      await().atMost(Duration.ofSeconds(60)).until(PostgresSinkAuditRetireIT::sinkWaitsForALock);
      operator.commit();
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> db.countRows(TABLE) == kept(BEFORE_RETIRING).size() + count(AFTER_RETIRING));
  }

  /**
   * The kept rows 0@1, 0@4 and 0@6 link to retired rows, and the heads of partitions 1 and 2 were
   * retired: one anchor each, recorded as the operator's. The retired rows that followed a kept row
   * (0@2 after 0@1, 0@5 after 0@4, 1@1 after 1@0) or started a chain (0@0, 2@0) are recorded as
   * followers, so a kept row deleted before them, or a row forged beside them, still shows.
   */
  private static void assertTheCutLinksAreAnchored() throws SQLException {
    assertEquals(List.of("0@0", "0@3", "0@5", "1@3", "2@3"), liveRecords("anchor"));
    assertEquals(List.of("0@0", "0@2", "0@5", "1@1", "2@0"), liveRecords("follower"));
    assertEquals(
        List.of(OPERATOR_ROLE + " {" + partition(LAST_MONTH) + "," + TABLE + "_default}"),
        strings(
            "SELECT DISTINCT retired_by || ' ' || retired_partitions::text FROM soma_audit_retired"));
  }

  /**
   * Tasks started again set up the table's months anew, reading the default partition the operator
   * put in, and go on from their stored offsets: nothing written twice, nothing missing.
   */
  private static void startedAgainGoesOn(List<String> written) throws Exception {
    connect.connect().stopConnector(CONNECTOR);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> "STOPPED".equals(connect.status(CONNECTOR).connector().state()));
    connect.connect().resumeConnector(CONNECTOR);
    connect.awaitRunning(CONNECTOR, 2);
    Map<Integer, Long> from = new TreeMap<>();
    BEFORE_RETIRING.forEach(
        (partition, months) ->
            from.put(partition, (long) months.size() + AFTER_RETIRING.get(partition).size()));
    Map<Integer, List<YearMonth>> more =
        Map.of(0, List.of(THIS_MONTH), 1, List.of(THIS_MONTH), 2, List.of(THIS_MONTH));
    send(more, from);
    List<String> expected = new ArrayList<>(written);
    expected.addAll(eventIds(more, from));
    await().atMost(Duration.ofSeconds(60)).until(() -> db.countRows(TABLE) == expected.size());
    assertEquals(sorted(expected), strings("SELECT event_id FROM " + TABLE + " ORDER BY event_id"));
    assertEquals(List.of(), problems());
    assertRunning();
  }

  @Test
  void theSinksOwnRoleIsRefused() throws Exception {
    try (Connection sink = connectAs(SINK_ROLE, SINK_PASSWORD)) {
      SQLException refused = assertThrows(SQLException.class, () -> retire(sink, THIS_MONTH));
      assertEquals("42501", refused.getSQLState());
      // refused by the function itself, not for want of EXECUTE: the sink owns the function
      assertTrue(
          refused.getMessage().contains("soma_audit_retire refuses role " + SINK_ROLE),
          refused.getMessage());
    }
  }

  /** An edit of a row kept, and the deletion of one a later row links to, in a rolled-back try. */
  private static void assertTamperingIsFound(Map<Integer, Long> offsets) throws SQLException {
    // partition 0's last row before retiring: kept, linked to an anchor, and linked to by the next
    long linked = offsets.get(0) - 1;
    try (Connection c = db.server.connect(db.database)) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.execute(
            "UPDATE "
                + TABLE
                + " SET payload = jsonb_set(payload, '{action}', '\"nothing\"')"
                + " WHERE kafka_partition = 1 AND kafka_offset = 0");
        s.execute(
            "DELETE FROM " + TABLE + " WHERE kafka_partition = 0 AND kafka_offset = " + linked);
        assertEquals(
            List.of(
                "0@" + (linked + 1) + ": chain broken: the row before it was deleted or edited",
                "1@0: row edited: its hash does not match its contents"),
            problems(c));
      } finally {
        c.rollback();
      }
    }
    assertEquals(List.of(), problems());
  }

  /** Retires, as the given role, what is before the first day of {@code month}. */
  private static List<String> retire(Connection c, YearMonth month) throws SQLException {
    List<String> partitions = new ArrayList<>();
    try (Statement s = c.createStatement()) {
      s.setQueryTimeout(60);
      try (ResultSet rs =
          s.executeQuery(
              "SELECT * FROM soma_audit_retire('"
                  + TABLE
                  + "', '"
                  + month.atDay(1)
                  + " 00:00:00+00')")) {
        while (rs.next()) {
          partitions.add(
              rs.getString(1) + ": " + rs.getLong(2) + (rs.getBoolean(3) ? " retired" : " kept"));
        }
      }
    }
    return partitions;
  }

  /** Sends each partition's events from the given offsets on (0 for a partition not named). */
  private static void send(Map<Integer, List<YearMonth>> plan, Map<Integer, Long> from) {
    for (Map.Entry<Integer, List<YearMonth>> entry : new TreeMap<>(plan).entrySet()) {
      long offset = from.getOrDefault(entry.getKey(), 0L);
      for (YearMonth month : entry.getValue()) {
        connect.send(
            TOPIC, entry.getKey(), "t" + entry.getKey(), event(entry.getKey(), offset++, month));
      }
    }
    connect.flush();
  }

  /** An event named after where it lands in Kafka: the topic is new, so offsets start at 0. */
  private static String event(int partition, long offset, YearMonth month) {
    String time =
        month.atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant().plusSeconds(offset).toString();
    return "{\"event_id\":\"p"
        + partition
        + "-"
        + offset
        + "\",\"tenant_id\":\"t"
        + partition
        + "\",\"action\":\"tool.invoke\",\"timestamp\":\""
        + time
        + "\",\"details\":{\"amount\":1.50}}";
  }

  private static Map<Integer, Long> nextOffsets(Map<Integer, List<YearMonth>> plan) {
    Map<Integer, Long> next = new TreeMap<>();
    plan.forEach((partition, months) -> next.put(partition, (long) months.size()));
    return next;
  }

  private static List<String> eventIds(
      Map<Integer, List<YearMonth>> plan, Map<Integer, Long> from) {
    List<String> ids = new ArrayList<>();
    plan.forEach(
        (partition, months) -> {
          for (int i = 0; i < months.size(); i++) {
            ids.add("p" + partition + "-" + (from.get(partition) + i));
          }
        });
    return ids;
  }

  /** The events of this month: what a retirement before this month keeps. */
  private static List<String> kept(Map<Integer, List<YearMonth>> plan) {
    List<String> ids = new ArrayList<>();
    plan.forEach(
        (partition, months) -> {
          for (int i = 0; i < months.size(); i++) {
            if (!months.get(i).isBefore(THIS_MONTH)) {
              ids.add("p" + partition + "-" + i);
            }
          }
        });
    return ids;
  }

  private static long count(Map<Integer, List<YearMonth>> plan) {
    return plan.values().stream().mapToLong(List::size).sum();
  }

  private static long rowsIn(Map<Integer, List<YearMonth>> plan, YearMonth month) {
    return plan.values().stream().flatMap(List::stream).filter(month::equals).count();
  }

  private static long rowsBefore(Map<Integer, List<YearMonth>> plan, YearMonth month) {
    return plan.values().stream().flatMap(List::stream).filter(m -> m.isBefore(month)).count();
  }

  private static List<String> sorted(List<String> ids) {
    List<String> copy = new ArrayList<>(ids);
    copy.sort(null);
    return copy;
  }

  /** The partition the connector makes for a month: audit_events_2026_12. */
  private static String partition(YearMonth month) {
    return String.format("%s_%04d_%02d", TABLE, month.getYear(), month.getMonthValue());
  }

  private static void assertRunning() {
    ConnectorStateInfo status = connect.status(CONNECTOR);
    assertEquals("RUNNING", status.connector().state());
    assertEquals(2, status.tasks().size());
    status.tasks().forEach(t -> assertEquals("RUNNING", t.state(), t.trace()));
  }

  private static boolean sinkWaitsForALock() throws SQLException {
    return db.count(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                + " AND wait_event_type = 'Lock' AND usename = '"
                + SINK_ROLE
                + "'")
        > 0;
  }

  /** The live records of soma_audit_retired in a role: "anchor" or "follower". */
  private static List<String> liveRecords(String role) throws SQLException {
    return strings(
        "SELECT kafka_partition || '@' || kafka_offset FROM soma_audit_retired"
            + " WHERE superseded_at IS NULL AND "
            + role
            + " ORDER BY kafka_partition, kafka_offset");
  }

  private static List<String> problems() throws SQLException {
    try (Connection c = db.server.connect(db.database)) {
      return problems(c);
    }
  }

  private static List<String> problems(Connection c) throws SQLException {
    List<String> problems = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT * FROM soma_audit_verify('" + TABLE + "')")) {
      while (rs.next()) {
        problems.add(rs.getInt(2) + "@" + rs.getLong(3) + ": " + rs.getString(4));
      }
    }
    return problems;
  }

  private static List<String> strings(String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = db.server.connect(db.database);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  private static Connection connectAs(String role, String password) throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", role);
    props.setProperty("password", password);
    return DriverManager.getConnection(db.server.jdbcUrl(db.database), props);
  }
}
