package io.somastack.connect.it.outbox;

import static io.somastack.connect.it.outbox.OutboxItSupport.TOPICS;
import static io.somastack.connect.it.outbox.OutboxItSupport.count;
import static io.somastack.connect.it.outbox.OutboxItSupport.header;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.ConnectHarness;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.apache.kafka.connect.util.clusters.WorkerHandle;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A worker stopped and replaced mid-stream, then PostgreSQL restarted mid-stream, while writers
 * keep inserting: a read_committed consumer sees every dedupe key exactly once, and the events of
 * each aggregate key in the order they were written (id order).
 */
class OutboxFaultsIT {

  private static final String DB = "outbox_faults_it";
  private static final String CONNECTOR = "outbox-faults";
  private static final int WRITERS = 3;

  /** Rows each writer writes before the first fault and after each fault, however fast it runs. */
  private static final int ROWS_PER_PHASE = 100;

  private static final int KEYS_PER_WRITER = 5;
  private static final Duration WAIT = Duration.ofSeconds(90);

  private static PostgresServer pg;
  private static ConnectHarness harness;
  private static String url;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.owned(); // restarted mid-stream: a cluster of the local binaries
    url = OutboxItSupport.createDatabase(pg, DB);
    try (Connection c = pg.connect(DB);
        Statement s = c.createStatement()) {
      // aggregate key column, and a unique dedupe key so a writer may retry an insert whose
      // commit it could not confirm (the server restarts) without writing the event twice
      s.execute("ALTER TABLE outbox ADD COLUMN key text");
      s.execute("CREATE UNIQUE INDEX outbox_dedupe ON outbox (dedupe_key)");
    }
    harness =
        ConnectHarness.builder("outbox-faults")
            .exactlyOnceSource()
            // reassign a departed worker's tasks at once
            .workerProp("scheduled.rebalance.max.delay.ms", "0")
            .start();
  }

  @AfterAll
  static void stop() {
    if (harness != null) {
      harness.close();
    }
  }

  @Test
  void workerAndDatabaseRestartsNeitherLoseNorDuplicate() throws Exception {
    Map<String, String> config = new HashMap<>(OutboxItSupport.connectorConfig(pg, url));
    config.put("after.publish", "mark");
    config.put("column.key", "key");
    harness.deploy(CONNECTOR, config, 1);

    AtomicIntegerArray written = new AtomicIntegerArray(WRITERS);
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
    List<Future<?>> writers = new ArrayList<>();
    int total;
    try {
      for (int w = 0; w < WRITERS; w++) {
        int writer = w;
        writers.add(pool.submit(() -> write(writer, written, stop)));
      }

      // the worker goes while rows are being relayed and written, and writers go on after it
      awaitEachWrote(written, new int[WRITERS], "before the worker restart");
      awaitMarked(ROWS_PER_PHASE);
      WorkerHandle worker = harness.connect().workers().iterator().next();
      harness.connect().removeWorker(worker);
      harness.connect().addWorker();
      harness.awaitRunning(CONNECTOR, 1);
      int[] afterWorkerRestart = snapshot(written);
      awaitEachWrote(written, afterWorkerRestart, "after the worker restart");

      // the database goes while the new worker relays and writers write, and writers go on after
      awaitMarked(IntStream.of(afterWorkerRestart).sum());
      pg.restart();
      awaitEachWrote(written, snapshot(written), "after the database restart");
    } finally {
      stop.set(true);
      for (Future<?> f : writers) {
        f.get();
      }
      pool.shutdown();
      total = IntStream.of(snapshot(written)).sum();
    }
    assertEquals(total, count(pg, DB, "SELECT count(*) FROM outbox"));
    awaitAllMarked();

    List<ConsumerRecord<String, String>> records =
        OutboxItSupport.readCommitted(harness.bootstrapServers(), TOPICS);
    List<String> dedupeKeys = records.stream().map(r -> header(r, "id")).toList();
    Set<String> distinct = new HashSet<>(dedupeKeys);
    assertEquals(total, distinct.size(), "every dedupe key arrives");
    assertEquals(total, dedupeKeys.size(), "exactly once");

    // per aggregate key, the sequence numbers (which follow the ids) only grow
    Map<String, Integer> lastSeq = new HashMap<>();
    for (ConsumerRecord<String, String> record : records) {
      int seq = Integer.parseInt(record.value().replaceAll("\\D+", ""));
      Integer previous = lastSeq.put(record.key(), seq);
      assertTrue(
          previous == null || previous < seq,
          "key " + record.key() + ": " + seq + " arrived after " + previous);
    }
    assertEquals(WRITERS * KEYS_PER_WRITER, lastSeq.size());
  }

  /** Waits until every writer has written {@link #ROWS_PER_PHASE} rows past {@code from}. */
  private static void awaitEachWrote(AtomicIntegerArray written, int[] from, String phase) {
    await(ROWS_PER_PHASE + " rows from each writer " + phase)
        .atMost(WAIT)
        .until(
            () ->
                IntStream.range(0, WRITERS)
                    .allMatch(w -> written.get(w) >= from[w] + ROWS_PER_PHASE));
  }

  /** Waits until the relay has marked at least {@code rows} rows. */
  private static void awaitMarked(int rows) {
    await(rows + " rows relayed and marked")
        .atMost(WAIT)
        .until(
            () ->
                count(pg, DB, "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL")
                    >= rows);
  }

  private static int[] snapshot(AtomicIntegerArray written) {
    return IntStream.range(0, WRITERS).map(written::get).toArray();
  }

  /**
   * Waits until the relay has marked every row. When it does not, the failure says why it might not
   * have: a transaction left open holds the visibility horizon back, and the connector's state.
   */
  private static void awaitAllMarked() throws SQLException {
    try {
      await("all rows relayed and marked")
          .atMost(WAIT)
          .until(
              () -> count(pg, DB, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0);
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(e.getMessage() + "\n" + diagnosis(), e);
    }
  }

  private static String diagnosis() throws SQLException {
    ConnectorStateInfo status = harness.connect().connectorStatus(CONNECTOR);
    StringBuilder out = new StringBuilder("connector ").append(status.connector().state());
    for (ConnectorStateInfo.TaskState task : status.tasks()) {
      out.append(", task ").append(task.id()).append(' ').append(task.state());
      if (task.trace() != null) {
        out.append(": ").append(task.trace().lines().limit(3).toList());
      }
    }
    out.append('\n');
    try (Connection c = pg.connect(DB);
        Statement s = c.createStatement()) {
      try (ResultSet rs =
          s.executeQuery(
              "SELECT pg_current_snapshot()::text, (SELECT count(*) FROM outbox"
                  + " WHERE published_at IS NULL)")) {
        rs.next();
        out.append("snapshot ").append(rs.getString(1));
        out.append(", unmarked rows ").append(rs.getLong(2)).append('\n');
      }
      try (ResultSet rs =
          s.executeQuery(
              "SELECT pid, application_name, state, backend_xid, backend_xmin, xact_start,"
                  + " left(query, 80) FROM pg_stat_activity WHERE datname = current_database()"
                  + " AND pid <> pg_backend_pid()")) {
        while (rs.next()) {
          out.append("backend");
          for (int i = 1; i <= 7; i++) {
            out.append(' ').append(rs.getString(i));
          }
          out.append('\n');
        }
      }
    }
    return out.toString();
  }

  /**
   * One writer: autocommit inserts of its rows, one after the other, until told to stop; {@code
   * written} counts the rows it knows are in. A row whose insert fails (the server restarts) is
   * retried on a new connection until it is in before the writer looks at {@code stop}: the insert
   * may have committed unconfirmed, and the retry then adds nothing (ON CONFLICT on the dedupe
   * key).
   */
  private static Void write(int writer, AtomicIntegerArray written, AtomicBoolean stop)
      throws SQLException {
    Connection c = pg.connect(DB);
    try {
      for (int seq = 0; !stop.get(); seq++) {
        try {
          insert(c, writer, seq);
        } catch (SQLException e) {
          closeQuietly(c);
          c = reconnectAndInsert(writer, seq);
        }
        written.incrementAndGet(writer);
      }
    } finally {
      closeQuietly(c);
    }
    return null;
  }

  /** A new connection with the row inserted, tried again while the server is away. */
  private static Connection reconnectAndInsert(int writer, int seq) {
    return await("writer " + writer + " reconnects and inserts row " + seq)
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(
            () -> {
              Connection c = pg.connect(DB);
              try {
                insert(c, writer, seq);
                return c;
              } catch (SQLException e) {
                closeQuietly(c);
                throw e;
              }
            },
            Objects::nonNull);
  }

  private static void insert(Connection c, int writer, int seq) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "INSERT INTO outbox(topic, payload, dedupe_key, key) VALUES (?, ?::jsonb, ?, ?)"
                + " ON CONFLICT (dedupe_key) DO NOTHING")) {
      int aggregate = seq % KEYS_PER_WRITER;
      // one aggregate, one topic: ordering is per topic partition
      s.setString(1, TOPICS.get(aggregate % TOPICS.size()));
      s.setString(2, "{\"seq\": " + seq + "}");
      s.setString(3, "w" + writer + "-" + seq);
      s.setString(4, "aggregate-" + writer + "-" + aggregate);
      s.executeUpdate();
    }
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException ignored) {
      // the connection is gone anyway
    }
  }
}
