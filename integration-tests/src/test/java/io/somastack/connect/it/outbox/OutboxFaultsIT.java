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
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
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
  private static final int ROWS_PER_WRITER = 500;
  private static final int KEYS_PER_WRITER = 5;

  private static PostgresServer pg;
  private static ConnectHarness harness;
  private static String url;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.shared();
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

    AtomicInteger written = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
    List<Future<?>> writers = new ArrayList<>();
    for (int w = 0; w < WRITERS; w++) {
      int writer = w;
      writers.add(pool.submit(() -> write(writer, written)));
    }

    int total = WRITERS * ROWS_PER_WRITER;
    await().atMost(Duration.ofSeconds(60)).until(() -> written.get() > total / 4);
    WorkerHandle worker = harness.connect().workers().iterator().next();
    harness.connect().removeWorker(worker);
    harness.connect().addWorker();
    harness.awaitRunning(CONNECTOR, 1);
    assertTrue(written.get() < total, "the worker restart must happen mid-stream");

    await().atMost(Duration.ofSeconds(60)).until(() -> written.get() > total * 2 / 3);
    assertTrue(pg.canRestart(), "the test PostgreSQL must be restartable");
    pg.restart();
    assertTrue(written.get() < total, "the database restart must happen mid-stream");

    for (Future<?> f : writers) {
      f.get();
    }
    pool.shutdown();
    assertEquals(total, count(pg, DB, "SELECT count(*) FROM outbox"));
    awaitAllMarked();

    List<ConsumerRecord<String, String>> records =
        OutboxItSupport.readAll(
            harness.bootstrapServers(),
            total,
            Duration.ofSeconds(3),
            Duration.ofSeconds(60),
            TOPICS);
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

  /**
   * Waits until the relay has marked every row. When it does not, the failure says why it might not
   * have: a transaction left open holds the visibility horizon back, and the connector's state.
   */
  private static void awaitAllMarked() throws SQLException {
    try {
      await("all rows relayed and marked")
          .atMost(Duration.ofSeconds(90))
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

  /** One writer: autocommit inserts, reconnecting and retrying through the server restart. */
  private static Void write(int writer, AtomicInteger written) throws InterruptedException {
    Connection c = null;
    for (int seq = 0; seq < ROWS_PER_WRITER; ) {
      try {
        if (c == null) {
          c = pg.connect(DB);
        }
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
        seq++;
        written.incrementAndGet();
        Thread.sleep(20); // ~40 rows/s per writer: the faults land mid-stream
      } catch (SQLException e) {
        try {
          if (c != null) {
            c.close();
          }
        } catch (SQLException ignored) {
          // the connection is gone anyway
        }
        c = null;
        Thread.sleep(100);
      }
    }
    try {
      if (c != null) {
        c.close();
      }
    } catch (SQLException ignored) {
      // done
    }
    return null;
  }
}
