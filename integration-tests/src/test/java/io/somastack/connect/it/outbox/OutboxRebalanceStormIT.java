package io.somastack.connect.it.outbox;

import static io.somastack.connect.it.outbox.OutboxItSupport.count;
import static io.somastack.connect.it.outbox.OutboxItSupport.header;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.it.storm.StormCluster;
import io.somastack.connect.testing.connect.ConnectHarness;
import io.somastack.connect.testing.connect.PackagedPlugins;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exactly once for the outbox relay under a rebalance storm: 3 workers with exactly-once source
 * support, two connectors of 4 outbox tables each (one deleting relayed rows, one marking them),
 * tasks.max=4 so the tables spread over the tasks, and a writer inserting rows into all 8 tables
 * throughout, several rows per transaction. Meanwhile workers are stopped and added, tasks.max goes
 * 4 → 2 → 4 (tables move between tasks, and a task waits for a table's lock until its previous
 * relay's session has ended), the connectors and their tasks are restarted through the REST API, a
 * single task is restarted, and a worker is stopped and another added back to back.
 *
 * <p>At the end, read_committed from the beginning: every row written is in its topic exactly once
 * (by its unique dedupe key), none is missing, and, as source-outbox/README.md promises (a table's
 * records are relayed in (txid, id) order, which for one writer committing one transaction after
 * the other is the order written; records of one key go to one partition and stay in the order
 * relayed), each key's records are in one partition in the order written, and so are each
 * partition's (a topic holds one table's records). The deleting connector's tables are empty, the
 * marking connector's rows all marked.
 */
class OutboxRebalanceStormIT {

  private static final Logger log = LoggerFactory.getLogger(OutboxRebalanceStormIT.class);

  private static final String DB = "outbox_storm_it";
  private static final int TABLES_PER_RELAY = 4;
  private static final int PARTITIONS = 3;
  private static final int KEYS_PER_TABLE = 6;

  /** Rows the relays must move past the count at a step's end before the next step. */
  private static final int PROGRESS_ROWS = 150;

  private static final Duration WAIT = Duration.ofSeconds(90);
  private static final Pattern SEQ = Pattern.compile("\"seq\": (\\d+)");

  private static final Relay DELETE = new Relay("outbox-storm-delete", "delete", "storm_del_");
  private static final Relay MARK = new Relay("outbox-storm-mark", "mark", "storm_mark_");
  private static final List<Relay> RELAYS = List.of(DELETE, MARK);

  /** Every table, relays in order: index = relay * TABLES_PER_RELAY + table. */
  private static final List<String> TABLES = new ArrayList<>();

  static {
    for (Relay relay : RELAYS) {
      TABLES.addAll(relay.tables());
    }
  }

  private PostgresServer pg;
  private ConnectHarness connect;
  private Thread writer;
  private final AtomicBoolean writing = new AtomicBoolean(true);
  private final AtomicReference<Throwable> writeFailure = new AtomicReference<>();

  /** per table: rows committed (= the next sequence number) */
  private final AtomicLongArray written = new AtomicLongArray(TABLES.size());

  private final AtomicLong transactions = new AtomicLong();

  @AfterEach
  void stop() throws Exception {
    writing.set(false);
    if (writer != null) {
      writer.join(10_000);
    }
    if (connect != null) {
      connect.close();
    }
  }

  @Test
  void everyRowExactlyOnceAndInOrderThroughARebalanceStorm() throws Exception {
    long started = System.nanoTime();
    pg = PostgresServer.shared();
    String url = pg.createDatabase(DB);
    createTables();
    connect = StormCluster.builder("outbox-storm").exactlyOnceSource().start();
    for (String table : TABLES) {
      connect.createTopic(topic(table), PARTITIONS);
    }
    Map<String, Map<String, String>> configs = new HashMap<>();
    for (Relay relay : RELAYS) {
      Map<String, String> config = new HashMap<>(OutboxItSupport.connectorConfig(pg, url));
      config.put("outbox.tables", String.join(",", relay.tables()));
      config.put("after.publish", relay.mode());
      config.put("column.key", "key");
      config.put("tasks.max", "4");
      configs.put(relay.name(), config);
      connect.deploy(relay.name(), config, 4);
    }

    startWriter();
    awaitProgress("start");

    int[] tasksMax = {4};
    List<String> done = new ArrayList<>();
    Runnable[] storm = {
      () -> {
        connect.connect().removeWorker();
        done.add("removeWorker");
      },
      () -> {
        connect.connect().addWorker();
        done.add("addWorker");
      },
      () -> {
        reconfigure(configs, 2, tasksMax);
        done.add("tasks.max=2");
      },
      () -> {
        reconfigure(configs, 4, tasksMax);
        done.add("tasks.max=4");
      },
      () -> {
        for (Relay relay : RELAYS) {
          connect.connect().restartConnectorAndTasks(relay.name(), false, true, false);
        }
        done.add("restart connector+tasks");
      },
      () -> {
        connect.connect().restartTask(DELETE.name(), 1);
        connect.connect().restartTask(MARK.name(), 2);
        done.add("restartTask");
      },
      () -> {
        // back to back: a worker leaves and one joins while the first rebalance runs
        connect.connect().removeWorker();
        connect.connect().addWorker();
        done.add("removeWorker+addWorker");
      },
    };
    for (Runnable step : storm) {
      long stepStart = System.nanoTime();
      step.run();
      for (Relay relay : RELAYS) {
        awaitRunning(relay.name(), tasksMax[0]);
      }
      String name = done.get(done.size() - 1);
      awaitProgress(name);
      log.info(
          String.format(
              "STORM step %s done in %d ms: written=%d relayed=%s",
              name, (System.nanoTime() - stepStart) / 1_000_000, writtenTotal(), relayedByRelay()));
    }

    writing.set(false);
    writer.join(30_000);
    assertFalse(writer.isAlive(), "the writer stopped");
    if (writeFailure.get() != null) {
      throw new AssertionError("the writer failed", writeFailure.get());
    }
    long total = writtenTotal();
    log.info(
        String.format(
            "STORM wrote %d rows in %d transactions over %d tables",
            total, transactions.get(), TABLES.size()));

    awaitDrained();
    for (Relay relay : RELAYS) {
      for (String table : relay.tables()) {
        long rows = count(pg, DB, "SELECT count(*) FROM " + table);
        long expected = "delete".equals(relay.mode()) ? 0 : written.get(TABLES.indexOf(table));
        assertEquals(expected, rows, "rows left in " + table + " (" + relay.mode() + ")");
        assertEquals(
            0,
            count(pg, DB, "SELECT count(*) FROM " + table + " WHERE published_at IS NULL"),
            "unpublished rows in " + table);
      }
    }

    List<String> topics = TABLES.stream().map(OutboxRebalanceStormIT::topic).toList();
    List<ConsumerRecord<String, String>> records =
        OutboxItSupport.readCommitted(connect.bootstrapServers(), topics);
    assertExactlyOnceInOrder(records);
    log.info(
        String.format(
            "STORM passed: steps=%s rows=%d records=%d in %d s",
            done, total, records.size(), (System.nanoTime() - started) / 1_000_000_000));
  }

  /**
   * Every row once, none missing, and per key and per partition in the order written. Violations
   * name topic, partition, offset and dedupe key (never a payload).
   */
  private void assertExactlyOnceInOrder(List<ConsumerRecord<String, String>> records) {
    List<String> problems = new ArrayList<>();
    Map<String, String> firstSeenAt = new HashMap<>();
    Map<String, Long> lastSeqOfPartition = new HashMap<>();
    Map<String, Long> lastSeqOfKey = new HashMap<>();
    Map<String, Integer> partitionOfKey = new HashMap<>();
    long[] received = new long[TABLES.size()];
    for (ConsumerRecord<String, String> r : records) {
      String at = r.topic() + "/" + r.partition() + "@" + r.offset();
      String id = header(r, "id");
      int table = TABLES.indexOf(r.topic().substring("storm.".length()));
      Matcher m = SEQ.matcher(r.value());
      if (id == null || table < 0 || !m.find()) {
        problems.add("unexpected record at " + at + " id=" + id);
        continue;
      }
      long seq = Long.parseLong(m.group(1));
      String expectedId = TABLES.get(table) + "-" + seq;
      if (!expectedId.equals(id)) {
        problems.add("record at " + at + " has id " + id + ", its seq says " + expectedId);
      }
      String earlier = firstSeenAt.putIfAbsent(id, at);
      if (earlier != null) {
        problems.add("duplicate " + id + " at " + at + ", first at " + earlier);
        continue;
      }
      received[table]++;
      if (seq >= written.get(table)) {
        problems.add("record " + id + " at " + at + " was never written");
      }
      String partition = r.topic() + "/" + r.partition();
      Long before = lastSeqOfPartition.put(partition, seq);
      if (before != null && before >= seq) {
        problems.add("partition order: " + id + " at " + at + " after seq " + before);
      }
      Integer keyPartition = partitionOfKey.putIfAbsent(r.key(), r.partition());
      if (keyPartition != null && keyPartition != r.partition()) {
        problems.add("key of " + id + " at " + at + " was in partition " + keyPartition);
      }
      Long keyBefore = lastSeqOfKey.put(r.key(), seq);
      if (keyBefore != null && keyBefore >= seq) {
        problems.add("key order: " + id + " at " + at + " after seq " + keyBefore);
      }
    }
    Map<String, String> counts = new TreeMap<>();
    for (int t = 0; t < TABLES.size(); t++) {
      counts.put(TABLES.get(t), received[t] + "/" + written.get(t));
      for (long seq = 0; seq < written.get(t) && problems.size() < 50; seq++) {
        if (!firstSeenAt.containsKey(TABLES.get(t) + "-" + seq)) {
          problems.add("missing " + TABLES.get(t) + "-" + seq);
        }
      }
    }
    log.info("STORM distinct records received/written per table: " + counts);
    assertTrue(
        problems.isEmpty(),
        problems.size()
            + " problem(s), first ones: "
            + String.join("\n", problems.subList(0, Math.min(problems.size(), 50))));
    assertEquals(writtenTotal(), records.size(), "records in the topics");
    assertEquals(TABLES.size() * KEYS_PER_TABLE, partitionOfKey.size(), "keys seen");
  }

  /** The shipped sql/outbox.sql, once per table with the table's own object names. */
  private void createTables() throws Exception {
    String ddl =
        Files.readString(
            PackagedPlugins.projectRoot().resolve("source-outbox/sql/outbox.sql"),
            StandardCharsets.UTF_8);
    try (Connection c = pg.connect(DB);
        Statement s = c.createStatement()) {
      for (String table : TABLES) {
        // "outbox" and "outbox_relay_idx", "outbox_txid", ...; not "soma_outbox_txid" and the
        // notify channel 'soma_outbox', which the tables share
        s.execute(
            ddl.replace("\"public\".\"outbox\"", "\"public\".\"" + table + "\"")
                .replace("\"outbox_", "\"" + table + "_"));
        s.execute("ALTER TABLE " + table + " ADD COLUMN key text");
        s.execute("CREATE UNIQUE INDEX " + table + "_dedupe ON " + table + " (dedupe_key)");
      }
    }
  }

  /**
   * One writer, one transaction after the other, each inserting 1 to 3 rows into every table: about
   * 15 transactions and 240 rows a second. A table's rows carry its sequence number.
   */
  private void startWriter() {
    writer =
        new Thread(
            () -> {
              try (Connection c = pg.connect(DB)) {
                c.setAutoCommit(false);
                List<PreparedStatement> inserts = new ArrayList<>();
                for (String table : TABLES) {
                  inserts.add(
                      c.prepareStatement(
                          "INSERT INTO "
                              + table
                              + "(topic, payload, dedupe_key, key) VALUES (?, ?::jsonb, ?, ?)"));
                }
                long[] next = new long[TABLES.size()];
                for (long tx = 0; writing.get(); tx++) {
                  int rows = 1 + (int) (tx % 3);
                  for (int t = 0; t < TABLES.size(); t++) {
                    PreparedStatement s = inserts.get(t);
                    for (int i = 0; i < rows; i++) {
                      long seq = next[t] + i;
                      s.setString(1, topic(TABLES.get(t)));
                      s.setString(2, "{\"seq\": " + seq + "}");
                      s.setString(3, TABLES.get(t) + "-" + seq);
                      s.setString(4, TABLES.get(t) + "-k" + (seq % KEYS_PER_TABLE));
                      s.addBatch();
                    }
                    s.executeBatch();
                  }
                  c.commit();
                  for (int t = 0; t < TABLES.size(); t++) {
                    next[t] += rows;
                    written.set(t, next[t]);
                  }
                  transactions.set(tx + 1);
                  Thread.sleep(60); // the load's pace, not a wait for a condition
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } catch (Throwable e) {
                writeFailure.set(e);
              }
            },
            "outbox-storm-writer");
    writer.start();
  }

  private void reconfigure(Map<String, Map<String, String>> configs, int tasks, int[] tasksMax) {
    for (Relay relay : RELAYS) {
      Map<String, String> config = configs.get(relay.name());
      config.put("tasks.max", Integer.toString(tasks));
      connect.connect().configureConnector(relay.name(), config); // PUT /connectors/x/config
    }
    tasksMax[0] = tasks;
    // the old generation's tasks are gone only when the new count is reported
    await("task count " + tasks)
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> RELAYS.stream().allMatch(r -> taskCount(r.name()) == tasks));
  }

  /**
   * {@link ConnectHarness#awaitRunningAfterReconfiguration} (a task FAILED with Connect's
   * TooManyTasksException after tasks.max went down is waited out), with the outbox tables' state
   * in the message when it times out.
   */
  private void awaitRunning(String connector, int tasks) throws SQLException {
    try {
      connect.awaitRunningAfterReconfiguration(connector, tasks);
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(e.getMessage() + "\n" + diagnosis(), e);
    }
  }

  private int taskCount(String connector) {
    try {
      return connect.status(connector).tasks().size();
    } catch (RuntimeException e) {
      return -1;
    }
  }

  /** Waits until each relay has published {@link #PROGRESS_ROWS} rows more than now. */
  private void awaitProgress(String step) throws SQLException {
    Map<String, Long> from = relayedByRelay();
    try {
      await("progress of " + PROGRESS_ROWS + " rows per relay after " + step)
          .atMost(WAIT)
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                failOnWriterFailure();
                Map<String, Long> now = relayedByRelay();
                return RELAYS.stream()
                    .allMatch(r -> now.get(r.name()) >= from.get(r.name()) + PROGRESS_ROWS);
              });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(e.getMessage() + "\n" + diagnosis(), e);
    }
  }

  /** Waits until every row written is published: deleted or marked. */
  private void awaitDrained() throws SQLException {
    try {
      await("every row published")
          .atMost(WAIT)
          .pollInterval(Duration.ofMillis(200))
          .until(() -> pendingTotal() == 0);
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(e.getMessage() + "\n" + diagnosis(), e);
    }
  }

  private void failOnWriterFailure() {
    if (writeFailure.get() != null) {
      throw new AssertionError("the writer failed", writeFailure.get());
    }
  }

  /**
   * Rows each relay has published: marked rows, or rows written and gone (written is read first, so
   * a commit in between makes this too low, never too high).
   */
  private Map<String, Long> relayedByRelay() throws SQLException {
    Map<String, Long> out = new TreeMap<>();
    for (Relay relay : RELAYS) {
      long n = 0;
      for (String table : relay.tables()) {
        long writtenBefore = written.get(TABLES.indexOf(table));
        n +=
            "delete".equals(relay.mode())
                ? writtenBefore - count(pg, DB, "SELECT count(*) FROM " + table)
                : count(
                    pg, DB, "SELECT count(*) FROM " + table + " WHERE published_at IS NOT NULL");
      }
      out.put(relay.name(), n);
    }
    return out;
  }

  private long pendingTotal() throws SQLException {
    long n = 0;
    for (String table : TABLES) {
      n += count(pg, DB, "SELECT count(*) FROM " + table + " WHERE published_at IS NULL");
    }
    return n;
  }

  private long writtenTotal() {
    long n = 0;
    for (int t = 0; t < TABLES.size(); t++) {
      n += written.get(t);
    }
    return n;
  }

  /** Task states and rows left per table, for a timeout's message. */
  private String diagnosis() throws SQLException {
    StringBuilder out = new StringBuilder();
    for (Relay relay : RELAYS) {
      try {
        ConnectorStateInfo status = connect.status(relay.name());
        out.append(relay.name()).append(' ').append(status.connector().state());
        for (ConnectorStateInfo.TaskState task : status.tasks()) {
          out.append(", task ").append(task.id()).append(' ').append(task.state());
          out.append(" on ").append(task.workerId());
          if (task.trace() != null) {
            out.append(": ").append(task.trace().lines().limit(3).toList());
          }
        }
      } catch (RuntimeException e) {
        out.append(relay.name()).append(" status unavailable: ").append(e.getMessage());
      }
      out.append('\n');
    }
    for (String table : TABLES) {
      out.append(table)
          .append(" unpublished=")
          .append(count(pg, DB, "SELECT count(*) FROM " + table + " WHERE published_at IS NULL"))
          .append(' ');
    }
    return out.toString();
  }

  private static String topic(String table) {
    return "storm." + table;
  }

  private record Relay(String name, String mode, String tablePrefix) {
    List<String> tables() {
      List<String> tables = new ArrayList<>();
      for (int i = 0; i < TABLES_PER_RELAY; i++) {
        tables.add(tablePrefix + i);
      }
      return tables;
    }
  }
}
