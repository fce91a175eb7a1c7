package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * soma_audit_retire drops an audit table's old monthly partitions so that soma_audit_verify still
 * checks what is left: it anchors the links it cuts, refuses a table that does not verify, and is
 * for an operator's role, never the sink's. The sink writes as a role of its own here, as it would
 * in production; the operator is the server's superuser.
 */
class AuditRetireTest {

  private static final String SINK_ROLE = "soma_retire_sink";
  private static final String SINK_PASSWORD = "retire-sink";
  private static final TopicPartition FIRST = new TopicPartition("checked", 0);
  private static final TopicPartition SECOND = new TopicPartition("checked", 1);
  private static final YearMonth NOW = YearMonth.now(ZoneOffset.UTC);

  /**
   * Partition 0's chain runs through three old months with late events (offset 3 dated before
   * offset 2, offset 6 between two rows of the month kept), so the rows retired are not a prefix of
   * it; partition 1's chain lies wholly in the oldest month, its head among the rows retired.
   */
  @Test
  void retiredMonthsLeaveATableThatVerifiesAndTheSinkGoesOn() throws Exception {
    String database = "retire_months";
    String url = writtenAcrossMonths(database);

    assertEquals(
        List.of(partition(3) + ": 5 retired", partition(2) + ": 2 retired"),
        retire(database, NOW.minusMonths(1)));
    assertEquals(List.of(), problems(database));
    assertEquals(List.of("0:3", "0:6", "1:1"), liveAnchors(database));
    // the retired rows linked after a row kept, or starting a chain
    assertEquals(List.of("0:0", "0:6", "1:0"), liveFollowers(database));
    assertEquals(List.of(4L, 5L, 7L, 8L), offsets(database));

    // the sink links partition 1's next row to its retired head
    write(url, event(SECOND, 2, NOW.atDay(2)));
    assertEquals(List.of(), problems(database));

    assertEquals(List.of(partition(1) + ": 3 retired"), retire(database, NOW));
    assertEquals(List.of(), problems(database));
    // 3 and 6 no longer excuse anything: the rows linked to them are gone too
    assertEquals(List.of("0:7", "1:1"), liveAnchors(database));
    assertEquals(List.of("0:0", "1:0"), liveFollowers(database));
    assertEquals(
        List.of("0:3", "0:6"),
        LocalTasks.strings(
            database,
            "SELECT kafka_partition || ':' || kafka_offset FROM soma_audit_retired"
                + " WHERE superseded_at IS NOT NULL ORDER BY kafka_offset"));
  }

  @Test
  void anEditAfterRetiringIsFound() throws Exception {
    String database = "retire_then_edit";
    writtenAcrossMonths(database);
    retire(database, NOW.minusMonths(1));
    LocalTasks.execute(
        database,
        "UPDATE checked SET payload = '{}' WHERE kafka_offset = 5 AND kafka_partition = 0");
    assertEquals(
        List.of("0:5: row edited: its hash does not match its contents"), problems(database));
  }

  /** A row added by hand after an anchor, hashed as the sink does, forks the chain there. */
  @Test
  void aRowForgedAfterAnAnchorIsFound() throws Exception {
    String database = "retire_then_forge";
    writtenAcrossMonths(database);
    retire(database, NOW.minusMonths(1));
    LocalTasks.execute(
        database,
        "INSERT INTO checked (event_id, event_time, payload, kafka_topic, kafka_partition,"
            + " kafka_offset, prev_hash, row_hash) SELECT 'forged', t, '{}', 'checked', 0, 20,"
            + " r.row_hash, sha256(r.row_hash || convert_to(concat_ws('|', 'forged', 'checked', 0,"
            + " 20, (extract(epoch FROM t) * 1000000)::bigint, '{}'), 'UTF8'))"
            + " FROM soma_audit_retired r, CAST('"
            + NOW.atDay(5)
            + " 00:00:00+00' AS timestamptz) t WHERE r.kafka_partition = 0 AND r.kafka_offset = 3");
    assertEquals(
        List.of(
            "0:4: chain forked: another row follows the same row",
            "0:20: chain forked: another row follows the same row"),
        problems(database));
  }

  /**
   * The reviewer's case: a late event (offset 2) just before the cutoff follows offset 1, just
   * after it. Retired, it must still witness offset 1: deleting that row leaves no row of the table
   * broken, as nothing kept links to it.
   */
  @Test
  void aRowDeletedBeforeARetiredLateEventIsFound() throws Exception {
    String database = "retire_late_delete";
    lateEventsAroundTheCutoff(database);
    assertEquals(List.of(partition(1) + ": 2 retired"), retire(database, NOW));
    assertEquals(List.of(), problems(database));

    LocalTasks.execute(database, "DELETE FROM checked WHERE kafka_offset = 1");

    assertEquals(
        List.of("0:2: chain broken: the row a retired row followed was deleted or edited"),
        problems(database));
  }

  /** A row forged after the row a retired late event follows forks the chain there. */
  @Test
  void aRowForgedBesideARetiredLateEventIsFound() throws Exception {
    String database = "retire_late_forge";
    lateEventsAroundTheCutoff(database);
    retire(database, NOW);
    LocalTasks.execute(database, forgedAfter("p.row_hash", "checked p WHERE p.kafka_offset = 1"));
    assertEquals(
        List.of("0:20: chain forked: another row follows the same row"), problems(database));
  }

  /** Once a chain's first row is retired, a forged chain start is still a second one. */
  @Test
  void aChainStartForgedAfterTheFirstRowIsRetiredIsFound() throws Exception {
    String database = "retire_forged_start";
    lateEventsAroundTheCutoff(database);
    retire(database, NOW);
    LocalTasks.execute(database, forgedAfter("NULL::bytea", "(SELECT 1) p"));
    assertEquals(
        List.of("0:20: chain forked: another row follows the same row"), problems(database));
  }

  /** The sink goes on after such a retirement, and a second one leaves a table that verifies. */
  @Test
  void lateEventsAroundTwoRetirementsVerify() throws Exception {
    String database = "retire_late_twice";
    String url = lateEventsAroundTheCutoff(database);
    retire(database, NOW);
    // the sink makes last month's partition again; an older event lands in the default one
    write(
        url,
        at(FIRST, 5, cutoff().plusSeconds(3)),
        at(SECOND, 0, cutoff().minusSeconds(1)),
        at(SECOND, 1, NOW.minusMonths(2).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant()));
    assertEquals(List.of(), problems(database));
    assertEquals(
        List.of(partition(1) + ": 1 retired", "checked_default: 1 retired"), retire(database, NOW));
    assertEquals(List.of(), problems(database));
    assertEquals(List.of("0:0", "0:2", "1:0"), liveFollowers(database));
  }

  /**
   * Partition bounds printed under the caller's DateStyle and read back in another order would
   * retire months after the cutoff.
   */
  @Test
  void theCallersDateStyleDoesNotMoveTheCutoff() throws Exception {
    String database = "retire_date_style";
    writtenAcrossMonths(database);
    // the driver refuses a session in that DateStyle: a function of the caller's sets it
    LocalTasks.execute(
        database,
        "CREATE FUNCTION retire_in_german(t regclass, b timestamptz)"
            + " RETURNS TABLE (partition_name text, row_count bigint, retired boolean)"
            + " LANGUAGE sql SET DateStyle = 'German, MDY'"
            + " AS 'SELECT * FROM soma_audit_retire(t, b)'");
    assertEquals(
        List.of(),
        LocalTasks.strings(
            database,
            "SELECT partition_name FROM retire_in_german('checked', '"
                + NOW.minusMonths(3).atDay(1)
                + " 00:00:00+00')"));
    assertEquals(11, LocalTasks.count(database, "SELECT count(*) FROM checked"));
  }

  /**
   * A month attached by hand as a partitioned table: its rows live in its own partitions, which
   * must be anchored as the month's.
   */
  @Test
  void aSubPartitionedMonthIsRetiredWithItsAnchors() throws Exception {
    String database = "retire_sub_partitioned";
    String url = withSinkRole(database);
    write(url, at(FIRST, 0, NOW.atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant()));
    LocalTasks.execute(
        database,
        "CREATE TABLE checked_old PARTITION OF checked FOR VALUES FROM ('"
            + NOW.minusMonths(3).atDay(1)
            + " 00:00:00+00') TO ('"
            + NOW.minusMonths(2).atDay(1)
            + " 00:00:00+00') PARTITION BY RANGE (event_time);"
            + " CREATE TABLE checked_old_all PARTITION OF checked_old"
            + " FOR VALUES FROM (MINVALUE) TO (MAXVALUE)");
    write(
        url,
        at(FIRST, 1, NOW.minusMonths(3).atDay(2).atStartOfDay(ZoneOffset.UTC).toInstant()),
        at(FIRST, 2, NOW.atDay(2).atStartOfDay(ZoneOffset.UTC).toInstant()));
    assertEquals(List.of(), problems(database));

    assertEquals(List.of("checked_old: 1 retired"), retire(database, NOW.minusMonths(2)));

    assertEquals(List.of(), problems(database));
    assertEquals(List.of("0:1"), liveAnchors(database));
    LocalTasks.execute(database, "DELETE FROM checked WHERE kafka_offset = 0");
    assertEquals(
        List.of("0:1: chain broken: the row a retired row followed was deleted or edited"),
        problems(database));
  }

  /**
   * An anchor written by hand to excuse a deleted row: the row was kept, so its event time is not
   * before the cutoff recorded, which no retirement writes.
   */
  @Test
  void anAnchorForgedForADeletedRowIsFound() throws Exception {
    String database = "retire_forged_anchor";
    writtenAcrossMonths(database);
    retire(database, NOW.minusMonths(1));
    LocalTasks.execute(
        database,
        "INSERT INTO soma_audit_retired (table_name, kafka_topic, kafka_partition, kafka_offset,"
            + " row_hash, event_time, retired_before, retired_partitions)"
            + " SELECT 'checked', kafka_topic, kafka_partition, kafka_offset, row_hash, event_time,"
            + " (SELECT max(retired_before) FROM soma_audit_retired), '{}'"
            + " FROM checked WHERE kafka_partition = 0 AND kafka_offset = 4;"
            + " DELETE FROM checked WHERE kafka_partition = 0 AND kafka_offset = 4");
    assertEquals(
        List.of("0:4: anchor not before its cutoff: written by hand, not by soma_audit_retire"),
        problems(database));
  }

  /** The cutoff the late-event tests retire before: this month's first instant. */
  private static Instant cutoff() {
    return NOW.atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
  }

  /**
   * Partition 0 at offsets 0..4: 0 just before {@link #cutoff()}, 1 just after, 2 late (before it
   * again), 3 and 4 after it.
   */
  private static String lateEventsAroundTheCutoff(String database) throws SQLException {
    String url = withSinkRole(database);
    write(
        url,
        at(FIRST, 0, cutoff().minusMillis(100)),
        at(FIRST, 1, cutoff().plusMillis(100)),
        at(FIRST, 2, cutoff().minusMillis(50)),
        at(FIRST, 3, cutoff().plusSeconds(1)),
        at(FIRST, 4, cutoff().plusSeconds(2)));
    assertEquals(List.of(), problems(database));
    return url;
  }

  /** A row at offset 20 of partition 0 linked after {@code prev}, hashed as the sink does. */
  private static String forgedAfter(String prev, String from) {
    Instant time = cutoff().plusSeconds(10);
    return "INSERT INTO checked (event_id, event_time, payload, kafka_topic, kafka_partition,"
        + " kafka_offset, prev_hash, row_hash) SELECT 'forged', t, '{}', 'checked', 0, 20, "
        + prev
        + ", sha256(coalesce("
        + prev
        + ", ''::bytea) || convert_to(concat_ws('|', 'forged', 'checked', 0, 20,"
        + " (extract(epoch FROM t) * 1000000)::bigint, '{}'), 'UTF8'))"
        + " FROM CAST('"
        + time
        + "' AS timestamptz) t, "
        + from;
  }

  /**
   * Under REPEATABLE READ the snapshot predates the lock: rows written meanwhile would be missed.
   */
  @Test
  void aRepeatableReadTransactionIsRefused() throws Exception {
    String database = "retire_repeatable_read";
    writtenAcrossMonths(database);
    try (Connection c = SERVER.connect(database);
        Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      SQLException refused =
          assertThrows(
              SQLException.class,
              () -> s.executeQuery("SELECT * FROM soma_audit_retire('checked', now())"));
      assertEquals("25000", refused.getSQLState());
    }
  }

  /** A month dropped by hand after a retirement is a gap no anchor covers. */
  @Test
  void aMonthDroppedByHandIsStillAGap() throws Exception {
    String database = "retire_then_drop";
    writtenAcrossMonths(database);
    retire(database, NOW.minusMonths(1));
    LocalTasks.execute(database, "DROP TABLE " + partition(1));
    assertEquals(
        List.of(
            // offset 6, retired, followed offset 5 of the month dropped
            "0:6: chain broken: the row a retired row followed was deleted or edited",
            "0:8: chain broken: the row before it was deleted or edited"),
        problems(database));
  }

  @Test
  void aTableWhoseRowsToRetireWereEditedIsRefused() throws Exception {
    String database = "retire_edited";
    writtenAcrossMonths(database);
    LocalTasks.execute(
        database,
        "UPDATE checked SET payload = '{}' WHERE kafka_offset = 1 AND kafka_partition = 0");

    SQLException refused =
        assertThrows(SQLException.class, () -> retire(database, NOW.minusMonths(1)));

    assertEquals("XX001", refused.getSQLState());
    assertEquals(11, LocalTasks.count(database, "SELECT count(*) FROM checked"));
    assertEquals(0, LocalTasks.count(database, "SELECT count(*) FROM soma_audit_retired"));
  }

  @Test
  void retiringBeforeEveryMonthChangesNothing() throws Exception {
    String database = "retire_nothing";
    writtenAcrossMonths(database);
    assertEquals(List.of(), retire(database, NOW.minusMonths(3)));
    assertEquals(11, LocalTasks.count(database, "SELECT count(*) FROM checked"));
    assertEquals(0, LocalTasks.count(database, "SELECT count(*) FROM soma_audit_retired"));
    assertEquals(List.of(), problems(database));
  }

  @Test
  void theSinksOwnRoleCannotRetire() throws Exception {
    String database = "retire_as_sink";
    writtenAcrossMonths(database);
    try (Connection sink = connectAsSink(database);
        Statement s = sink.createStatement()) {
      SQLException refused =
          assertThrows(
              SQLException.class,
              () -> s.executeQuery("SELECT * FROM soma_audit_retire('checked', now())"));
      assertEquals("42501", refused.getSQLState());
    }
    assertEquals(11, LocalTasks.count(database, "SELECT count(*) FROM checked"));
  }

  /**
   * The default partition holds events outside the monthly partitions: retired whole, and replaced
   * by an empty one the sink goes on writing to, when all of them are before the cutoff; kept whole
   * otherwise.
   */
  @Test
  void theDefaultPartitionIsRetiredOnlyWhole() throws Exception {
    String database = "retire_default";
    String url = writtenAcrossMonths(database);
    write(url, event(FIRST, 9, YearMonth.of(2020, 1).atDay(1)));

    assertEquals(
        List.of(
            partition(3) + ": 5 retired",
            partition(2) + ": 2 retired",
            "checked_default: 1 retired"),
        retire(database, NOW.minusMonths(1)));
    assertEquals(List.of(), problems(database));
    // the empty default partition made anew is indexed as the sink's setup indexes it
    assertEquals(
        1,
        LocalTasks.count(
            database,
            "SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
                + " AND a.attnum = i.indkey[0] WHERE i.indrelid = 'checked_default'::regclass"
                + " AND a.attname = 'event_time'"));

    write(url, event(FIRST, 10, YearMonth.of(2020, 2).atDay(1)));
    write(url, event(FIRST, 11, YearMonth.of(2099, 1).atDay(1)));
    assertEquals(2, LocalTasks.count(database, "SELECT count(*) FROM checked_default"));
    assertEquals(List.of(), problems(database));

    assertEquals(
        List.of(partition(1) + ": 3 retired", "checked_default: 1 kept"), retire(database, NOW));
    assertEquals(2, LocalTasks.count(database, "SELECT count(*) FROM checked_default"));
    assertEquals(List.of(), problems(database));
  }

  /**
   * A batch of the sink that reaches the table while a retirement holds it (its chain heads locked
   * already) waits, then links its rows, one of them to a month just retired.
   */
  @Test
  void aBatchDuringARetirementWaitsAndLinks() throws Exception {
    String database = "retire_while_writing";
    String url = writtenAcrossMonths(database);
    PostgresMemorySinkTask task = started(url);
    try {
      task.put(List.of(event(FIRST, 9, NOW.atDay(3))));
      try (Connection operator = SERVER.connect(database);
          Statement s = operator.createStatement()) {
        operator.setAutoCommit(false);
        s.executeQuery(
                "SELECT * FROM soma_audit_retire('checked', '" + NOW.minusMonths(1).atDay(1) + "')")
            .close();
        CompletableFuture<Void> batch =
            CompletableFuture.runAsync(
                () ->
                    task.put(
                        List.of(
                            event(FIRST, 10, NOW.minusMonths(3).atDay(5)),
                            event(FIRST, 11, NOW.atDay(4)))));
        await().atMost(Duration.ofSeconds(30)).until(() -> sinkWaitsForALock(database));
        operator.commit();
        batch.get(30, TimeUnit.SECONDS);
      }
    } finally {
      task.stop();
    }
    assertEquals(List.of(), problems(database));
    // the late event's month is gone: it lands in the default partition
    assertEquals(1, LocalTasks.count(database, "SELECT count(*) FROM checked_default"));
  }

  /**
   * A retirement that reaches the table while a batch of the sink is in flight waits for it, and
   * then sees its rows: here the batch's late event, dated in a month retired, becomes the chain's
   * head, which must be anchored. The batch is held open by a second table whose chain head another
   * transaction locks.
   */
  @Test
  void aRetirementDuringABatchWaitsAndAnchorsItsRows() throws Exception {
    String database = "retire_after_writing";
    String url = writtenAcrossMonths(database);
    TopicPartition other = new TopicPartition("other", 0);
    PostgresMemorySinkTask task = started(url, FIRST, SECOND, other);
    try {
      task.put(List.of(event(other, 0, NOW.atDay(1))));
      try (Connection holder = SERVER.connect(database);
          Statement s = holder.createStatement()) {
        holder.setAutoCommit(false);
        s.execute("SELECT 1 FROM soma_audit_chain_heads WHERE kafka_topic = 'other' FOR UPDATE");
        CompletableFuture<Void> batch =
            CompletableFuture.runAsync(
                () ->
                    task.put(
                        List.of(
                            event(FIRST, 9, NOW.minusMonths(2).atDay(5)),
                            event(other, 1, NOW.atDay(2)))));
        await().atMost(Duration.ofSeconds(30)).until(() -> sinkWaitsForALock(database));
        CompletableFuture<List<String>> retirement =
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return retire(database, NOW.minusMonths(1));
                  } catch (SQLException e) {
                    throw new IllegalStateException(e);
                  }
                });
        await().atMost(Duration.ofSeconds(30)).until(() -> operatorWaitsForALock(database));
        holder.rollback();
        batch.get(30, TimeUnit.SECONDS);
        assertEquals(
            List.of(partition(3) + ": 5 retired", partition(2) + ": 3 retired"),
            retirement.get(30, TimeUnit.SECONDS));
      }
    } finally {
      task.stop();
    }
    assertEquals(List.of(), problems(database));
    assertTrue(liveAnchors(database).contains("0:9"), "the head retired is anchored");
  }

  /**
   * A table written by the sink's role: partition 0 at offsets 0..8 and partition 1 at 0..1, over
   * the months three, two and one before this one (made as the sink made them when they were the
   * current month) and this month.
   */
  private static String writtenAcrossMonths(String database) throws SQLException {
    String url = withSinkRole(database);
    write(url, event(FIRST, 0, NOW.minusMonths(3).atDay(1)));
    // the first row landed in the default partition, which must give it up for its month's
    StringBuilder months =
        new StringBuilder(
            "CREATE TEMP TABLE moved AS SELECT * FROM checked_default; DELETE FROM checked_default;"
                + " SET ROLE "
                + SINK_ROLE
                + ";");
    for (int back = 3; back >= 2; back--) {
      months
          .append(" CREATE TABLE ")
          .append(partition(back))
          .append(" PARTITION OF checked FOR VALUES FROM ('")
          .append(NOW.minusMonths(back).atDay(1))
          .append(" 00:00:00+00') TO ('")
          .append(NOW.minusMonths(back - 1).atDay(1))
          .append(" 00:00:00+00');");
    }
    LocalTasks.execute(database, months + " RESET ROLE; INSERT INTO checked SELECT * FROM moved");
    write(
        url,
        event(FIRST, 1, NOW.minusMonths(3).atDay(2)),
        event(FIRST, 2, NOW.minusMonths(2).atDay(1)),
        event(FIRST, 3, NOW.minusMonths(3).atDay(3)),
        event(FIRST, 4, NOW.minusMonths(1).atDay(1)),
        event(FIRST, 5, NOW.minusMonths(1).atDay(2)),
        event(FIRST, 6, NOW.minusMonths(2).atDay(2)),
        event(FIRST, 7, NOW.minusMonths(1).atDay(3)),
        event(FIRST, 8, NOW.atDay(1)),
        event(SECOND, 0, NOW.minusMonths(3).atDay(4)),
        event(SECOND, 1, NOW.minusMonths(3).atDay(5)));
    assertEquals(List.of(), problems(database));
    return url;
  }

  /** A new database, where the sink's role may create its tables. */
  private static String withSinkRole(String database) throws SQLException {
    String url = SERVER.createDatabase(database);
    LocalTasks.execute(
        database,
        "DO $$BEGIN CREATE ROLE "
            + SINK_ROLE
            + " LOGIN PASSWORD '"
            + SINK_PASSWORD
            + "'; EXCEPTION WHEN duplicate_object THEN NULL; END$$");
    LocalTasks.execute(database, "GRANT CREATE ON SCHEMA public TO " + SINK_ROLE);
    return url;
  }

  /** The monthly partition of the month {@code back} months before this one. */
  private static String partition(int back) {
    YearMonth month = NOW.minusMonths(back);
    return String.format("checked_%04d_%02d", month.getYear(), month.getMonthValue());
  }

  /** Retires as the operator what is before the first day of {@code month}. */
  private static List<String> retire(String database, YearMonth month) throws SQLException {
    List<String> partitions = new ArrayList<>();
    try (Connection c = SERVER.connect(database);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT * FROM soma_audit_retire('checked', '"
                    + month.atDay(1)
                    + " 00:00:00+00')")) {
      while (rs.next()) {
        partitions.add(
            rs.getString(1) + ": " + rs.getLong(2) + (rs.getBoolean(3) ? " retired" : " kept"));
      }
    }
    return partitions;
  }

  private static List<String> problems(String database) throws SQLException {
    return LocalTasks.strings(
        database,
        "SELECT kafka_partition || ':' || kafka_offset || ': ' || problem"
            + " FROM soma_audit_verify('checked')");
  }

  private static List<String> liveAnchors(String database) throws SQLException {
    return LocalTasks.strings(
        database,
        "SELECT kafka_partition || ':' || kafka_offset FROM soma_audit_retired"
            + " WHERE superseded_at IS NULL AND anchor ORDER BY kafka_partition, kafka_offset");
  }

  private static List<String> liveFollowers(String database) throws SQLException {
    return LocalTasks.strings(
        database,
        "SELECT kafka_partition || ':' || kafka_offset FROM soma_audit_retired"
            + " WHERE superseded_at IS NULL AND follower ORDER BY kafka_partition, kafka_offset");
  }

  private static List<Long> offsets(String database) throws SQLException {
    List<Long> offsets = new ArrayList<>();
    for (String offset :
        LocalTasks.strings(
            database, "SELECT kafka_offset FROM checked ORDER BY kafka_partition, kafka_offset")) {
      offsets.add(Long.parseLong(offset));
    }
    return offsets;
  }

  private static boolean sinkWaitsForALock(String database) throws SQLException {
    return waitsForALock(database, "usename = '" + SINK_ROLE + "'");
  }

  private static boolean operatorWaitsForALock(String database) throws SQLException {
    return waitsForALock(database, "query LIKE '%soma_audit_retire(%' AND pid <> pg_backend_pid()");
  }

  private static boolean waitsForALock(String database, String who) throws SQLException {
    return LocalTasks.count(
            database,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '"
                + database
                + "' AND wait_event_type = 'Lock' AND "
                + who)
        > 0;
  }

  private static Connection connectAsSink(String database) throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", SINK_ROLE);
    props.setProperty("password", SINK_PASSWORD);
    return DriverManager.getConnection(SERVER.jdbcUrl(database), props);
  }

  private static PostgresMemorySinkTask started(String url, TopicPartition... partitions) {
    return LocalTasks.started(
        url,
        new HandRunTaskContext(
            partitions.length == 0 ? new TopicPartition[] {FIRST, SECOND} : partitions),
        "write.mode",
        "audit",
        "connection.user",
        SINK_ROLE,
        "connection.password",
        SINK_PASSWORD);
  }

  private static void write(String url, SinkRecord... records) {
    PostgresMemorySinkTask task = started(url);
    try {
      task.put(List.of(records));
    } finally {
      task.stop();
    }
  }

  private static SinkRecord event(TopicPartition partition, long offset, java.time.LocalDate day) {
    return at(partition, offset, day.atStartOfDay(ZoneOffset.UTC).toInstant().plusSeconds(offset));
  }

  private static SinkRecord at(TopicPartition partition, long offset, Instant time) {
    String json =
        "{\"event_id\":\"" + partition + "-" + offset + "\",\"timestamp\":\"" + time + "\"}";
    return new SinkRecord(partition.topic(), partition.partition(), null, null, null, json, offset);
  }
}
