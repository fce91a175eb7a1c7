package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * What an audit task's setup does to the monthly partitions and the default one: nothing at all to
 * the default partition when every month's partition is in place (the setup runs at every task
 * start and after every reconnect, and the default partition grows with every backfill), an index
 * on its event time so a month's rows are found there by a probe, and the next month made even when
 * audit.partitions.ahead.months is 0.
 */
class AuditPartitionSetupTest {

  private static final TopicPartition PARTITION = new TopicPartition("audit", 0);

  private static final String EVENT_TIME_INDEXES =
      "SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
          + " AND a.attnum = i.indkey[0] WHERE i.indrelid = 'audit_default'::regclass"
          + " AND a.attname = 'event_time'";

  /**
   * A setup finding every month's partition in place neither reads the default partition (to look
   * for the months' rows) nor alters it: it goes on while an operator's transaction holds the
   * default partition in ACCESS EXCLUSIVE mode, with a lock_timeout on the database that would fail
   * it at once if it waited. The batch itself, whose rows go to a monthly partition, does not touch
   * it either.
   */
  @Test
  void aSetupWithEveryMonthInPlaceLeavesTheDefaultPartitionAlone() throws Exception {
    String database = "audit_setup_default_untouched";
    String url = SERVER.createDatabase(database);
    YearMonth now = YearMonth.now(ZoneOffset.UTC);
    put(url, event(0, now.atDay(1) + "T00:00:00Z"), event(1, "2001-01-01T00:00:00Z"));
    LocalTasks.execute(database, "ALTER DATABASE " + database + " SET lock_timeout = '1s'");
    try (Connection holder = SERVER.connect(database);
        Statement s = holder.createStatement()) {
      holder.setAutoCommit(false);
      s.execute("LOCK TABLE audit_default IN ACCESS EXCLUSIVE MODE");
      put(url, event(2, now.atDay(1) + "T00:00:01Z"));
      holder.rollback();
    }
    assertEquals(3, LocalTasks.count(database, "SELECT count(*) FROM audit"));
    assertEquals(1, LocalTasks.count(database, "SELECT count(*) FROM audit_default"));
    assertEquals(0, LocalTasks.count(database, "SELECT count(*) FROM soma_audit_verify('audit')"));
  }

  /**
   * The default partition gets an index led by event_time (the months' partitions none: rows there
   * pay nothing for it); a table made before lacks it and gets it at its next setup; an index an
   * operator built beforehand (CREATE INDEX CONCURRENTLY, so that building it blocks no write) is
   * used, not doubled.
   */
  @Test
  void theDefaultPartitionIsIndexedByEventTime() throws Exception {
    String database = "audit_setup_default_index";
    String url = SERVER.createDatabase(database);
    YearMonth now = YearMonth.now(ZoneOffset.UTC);
    put(url, event(0, now.atDay(1) + "T00:00:00Z"), event(1, "2001-01-01T00:00:00Z"));
    assertEquals(1, LocalTasks.count(database, EVENT_TIME_INDEXES));
    String month = String.format("audit_%04d_%02d", now.getYear(), now.getMonthValue());
    assertEquals(
        1,
        LocalTasks.count(
            database, "SELECT count(*) FROM pg_index WHERE indrelid = '" + month + "'::regclass"),
        "the monthly partition has the conflict index only");

    // a table set up by a sink before this one
    String made =
        LocalTasks.strings(
                database,
                "SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_attribute a"
                    + " ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
                    + " WHERE i.indrelid = 'audit_default'::regclass AND a.attname = 'event_time'")
            .get(0);
    LocalTasks.execute(database, "DROP INDEX " + made);
    put(url, event(2, now.atDay(1) + "T00:00:01Z"));
    assertEquals(1, LocalTasks.count(database, EVENT_TIME_INDEXES));

    LocalTasks.execute(database, "DROP INDEX " + made);
    LocalTasks.execute(
        database, "CREATE INDEX CONCURRENTLY audit_default_by_time ON audit_default (event_time)");
    put(url, event(3, now.atDay(1) + "T00:00:02Z"));
    assertEquals(1, LocalTasks.count(database, EVENT_TIME_INDEXES));
    assertEquals(
        1,
        LocalTasks.count(
            database, "SELECT count(*) FROM pg_class WHERE relname = 'audit_default_by_time'"));
    assertEquals(0, LocalTasks.count(database, "SELECT count(*) FROM soma_audit_verify('audit')"));
  }

  /**
   * With audit.partitions.ahead.months=0 the next month's partition is made all the same, so an
   * event stamped just past the month's end (a producer's clock a little ahead) lands in it rather
   * than in the default partition, where it would keep that month from ever getting a partition.
   */
  @Test
  void noMonthsAheadStillMakesTheNextMonth() throws Exception {
    String database = "audit_setup_ahead_zero";
    String url = SERVER.createDatabase(database);
    YearMonth next = YearMonth.now(ZoneOffset.UTC).plusMonths(1);
    put(
        url,
        List.of("audit.partitions.ahead.months", "0"),
        event(0, next.atDay(1) + "T00:00:00.010Z"));
    String partition = String.format("audit_%04d_%02d", next.getYear(), next.getMonthValue());
    assertEquals(
        List.of(partition), LocalTasks.strings(database, "SELECT tableoid::regclass FROM audit"));
    assertEquals(
        List.of(),
        LocalTasks.strings(
            database,
            "SELECT relname FROM pg_class WHERE relname = '"
                + String.format(
                    "audit_%04d_%02d",
                    next.plusMonths(1).getYear(), next.plusMonths(1).getMonthValue())
                + "'"),
        "no month beyond the next");
  }

  /**
   * The first setup after the upgrade builds the default partition's index and makes a missing
   * month. Built first, the index held SHARE on the default partition while the month's CREATE
   * waited for ACCESS EXCLUSIVE on the table, so a writer of a backfilled row (ROW EXCLUSIVE on the
   * table, then queued on the default partition) deadlocked with it and one of them failed with
   * 40P01. Here the writer is its two locks, taken in the order an insert takes them, and an
   * operator's ROW EXCLUSIVE on the default partition holds the setup until both wait.
   */
  @Test
  void aSetupMakingAMonthAndTheIndexDoesNotDeadlockWithABackfillWriter() throws Exception {
    String database = "audit_setup_no_deadlock";
    String url = SERVER.createDatabase(database);
    YearMonth now = YearMonth.now(ZoneOffset.UTC);
    put(url, event(0, now.atDay(1) + "T00:00:00Z"), event(1, "2001-01-01T00:00:00Z"));
    // as a sink before the index left the table, a month short
    YearMonth last = now.plusMonths(3);
    LocalTasks.execute(
        database,
        String.format("DROP TABLE audit_%04d_%02d", last.getYear(), last.getMonthValue()));
    for (String index :
        LocalTasks.strings(
            database,
            "SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_attribute a"
                + " ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
                + " WHERE i.indrelid = 'audit_default'::regclass AND a.attname = 'event_time'")) {
      LocalTasks.execute(database, "DROP INDEX " + index);
    }
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try (Connection operator = SERVER.connect(database);
        Statement o = operator.createStatement();
        Connection writer = SERVER.connect(database)) {
      operator.setAutoCommit(false);
      o.execute("LOCK TABLE audit_default IN ROW EXCLUSIVE MODE");
      Future<?> setup = threads.submit(() -> put(url, event(2, now.atDay(1) + "T00:00:01Z")));
      await().atMost(Duration.ofSeconds(30)).until(() -> LocalTasks.waitingForALock(database) == 1);
      Future<?> backfill =
          threads.submit(
              () -> {
                writer.setAutoCommit(false);
                try (Statement w = writer.createStatement()) {
                  w.execute("LOCK TABLE ONLY audit IN ROW EXCLUSIVE MODE");
                  w.execute("LOCK TABLE audit_default IN ROW EXCLUSIVE MODE");
                }
                writer.commit();
                return null;
              });
      await().atMost(Duration.ofSeconds(30)).until(() -> LocalTasks.waitingForALock(database) == 2);
      operator.commit();
      setup.get(60, TimeUnit.SECONDS);
      backfill.get(60, TimeUnit.SECONDS);
    } finally {
      threads.shutdownNow();
    }
    assertEquals(1, LocalTasks.count(database, EVENT_TIME_INDEXES));
    assertEquals(
        1,
        LocalTasks.count(
            database,
            String.format(
                "SELECT count(*) FROM pg_class WHERE relname = 'audit_%04d_%02d'",
                last.getYear(), last.getMonthValue())));
    assertEquals(3, LocalTasks.count(database, "SELECT count(*) FROM audit"));
  }

  private static void put(String url, SinkRecord... records) {
    put(url, List.of(), records);
  }

  /** A task started anew (its setup runs) with the options given, putting the records, stopped. */
  private static void put(String url, List<String> options, SinkRecord... records) {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION);
    List<String> keyValues =
        new ArrayList<>(List.of("write.mode", "audit", "retry.timeout.ms", "0"));
    keyValues.addAll(options);
    PostgresMemorySinkTask task =
        LocalTasks.started(url, context, keyValues.toArray(new String[0]));
    try {
      task.put(List.of(records));
    } finally {
      task.stop();
    }
  }

  private static SinkRecord event(long offset, String time) {
    String json = "{\"event_id\":\"e" + offset + "\",\"timestamp\":\"" + time + "\"}";
    return new SinkRecord(PARTITION.topic(), 0, null, null, null, json, offset);
  }
}
