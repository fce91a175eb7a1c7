package io.somastack.connect.it.postgres;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.ConnectHarness;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorOffset;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo.TaskState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A DBA changes a table under a running connector (drops a column it writes, drops the table): with
 * auto.evolve or auto.create the tasks read the catalog again, remake what is missing and write
 * every event once, dead-lettering nothing; without auto.evolve the task fails naming the table and
 * the column, and once the DBA restores the column a task restart through the REST API resumes from
 * the offsets stored in PostgreSQL.
 */
class PostgresSinkTableChangedIT {

  /** In every record's payload; a task's error must not quote it. */
  private static final String CONTENT_MARKER = "remember the milk";

  private static ConnectHarness connect;
  private static PostgresSinkFixture db;

  @BeforeAll
  static void start() {
    db = new PostgresSinkFixture("sink_table_changed");
    connect = ConnectHarness.builder("table-changed").start();
  }

  @AfterAll
  static void stop() {
    if (connect != null) {
      connect.close();
    }
  }

  @Test
  void aMappedColumnDroppedUnderTheConnectorIsAddedAgainWithAutoEvolve() throws Exception {
    String topic = "memory.evolve";
    String dlq = topic + ".dlq";
    connect.createTopic(topic, 3);
    Map<String, String> config = db.sinkConfig(topic, "append", dlq);
    config.put("table.name.format", "memory_evolve");
    config.put("columns", "tenant:text:metadata.tenant_id");
    config.put("auto.evolve", "true");
    connect.deploy("evolve", config, 2);

    List<String> first = send(topic, "ev-a-", 300);
    awaitRowsWhileRunning("evolve", "memory_evolve", first.size());

    db.execute("ALTER TABLE memory_evolve DROP COLUMN tenant");
    List<String> second = send(topic, "ev-b-", 300);

    List<String> all = concat(first, second);
    awaitRowsWhileRunning("evolve", "memory_evolve", all.size());
    assertRunning("evolve", 2);
    assertEquals(1, db.count(columnExists("memory_evolve", "tenant")), "tenant added again");
    assertExactlyOnce("memory_evolve", all);
    // the values of the dropped column went with it; every event after the drop has its own
    assertEquals(second.size(), db.count("SELECT count(*) FROM memory_evolve WHERE tenant = 't1'"));
    assertEquals(
        0,
        db.count(
            "SELECT count(*) FROM memory_evolve WHERE tenant IS NULL AND event_id LIKE 'ev-b-%'"));
    assertNothingDeadLettered("evolve", all.size(), dlq);
  }

  @Test
  void aTableDroppedUnderAnUpsertConnectorIsMadeAgainWithAutoCreate() throws Exception {
    String topic = "memory.recreated";
    String dlq = topic + ".dlq";
    connect.createTopic(topic, 3);
    Map<String, String> config = db.sinkConfig(topic, "upsert", dlq);
    config.put("table.name.format", "memory_recreated");
    config.put("key.fields", "namespace,id");
    config.put("auto.create", "true");
    connect.deploy("recreated", config, 2);

    // 100 memories, version 1
    int sent = sendVersions(topic, 0, 100, 1);
    awaitRowsWhileRunning("recreated", "memory_recreated", 100);

    db.execute("DROP TABLE memory_recreated");
    // memories 50..149 after the drop: 50 known ones at version 2, 50 new ones
    sent += sendVersions(topic, 50, 150, 2);

    awaitRowsWhileRunning("recreated", "memory_recreated", 100);
    assertRunning("recreated", 2);
    // only what came after the drop, each memory once at its latest version
    assertEquals(
        range("m", 50, 150), strings("SELECT id FROM memory_recreated ORDER BY id COLLATE \"C\""));
    assertEquals(
        100,
        db.count(
            "SELECT count(*) FROM memory_recreated WHERE (payload->>'version')::int = 2"
                + " AND payload->>'id' = id AND namespace = 'ns'"));
    assertNothingDeadLettered("recreated", sent, dlq);
  }

  @Test
  void aColumnDroppedWithoutAutoEvolveFailsTheTaskAndARestartResumesOnceItIsBack()
      throws Exception {
    String topic = "memory.strict";
    String dlq = topic + ".dlq";
    String connector = "strict";
    connect.createTopic(topic, 3);
    Map<String, String> config = db.sinkConfig(topic, "append", dlq);
    config.put("tasks.max", "1"); // one task owns every partition: it alone must stop
    config.put("table.name.format", "memory_strict");
    config.put("columns", "tenant:text:metadata.tenant_id,version:bigint:version");
    config.put("auto.evolve", "false");
    connect.deploy(connector, config, 1);

    List<String> first = send(topic, "pii-ev-a-", 200);
    awaitRowsWhileRunning(connector, "memory_strict", first.size());

    db.execute("ALTER TABLE memory_strict DROP COLUMN tenant");
    List<String> second = send(topic, "pii-ev-b-", 200);

    String trace = awaitFailed(connector).trace();
    assertTrue(trace.contains("\"memory_strict\""), trace);
    assertTrue(trace.contains("lacks column(s) tenant"), trace);
    assertTrue(trace.contains("auto.evolve=false"), trace);
    assertFalse(trace.contains(CONTENT_MARKER), "the error quotes a record:\n" + trace);
    assertFalse(trace.contains("pii-ev-"), "the error quotes a record:\n" + trace);
    // nothing of the refused batch was written, nor its offsets stored
    assertEquals(first.size(), db.countRows("memory_strict"));
    assertEquals(first.size(), storedOffsets(connector));

    db.execute("ALTER TABLE memory_strict ADD COLUMN tenant text");
    List<String> third = send(topic, "pii-ev-c-", 200); // while the task is FAILED
    connect.connect().restartTask(connector, 0);
    awaitTaskRunning(connector);

    List<String> all = concat(concat(first, second), third);
    awaitRowsWhileRunning(connector, "memory_strict", all.size());
    assertExactlyOnce("memory_strict", all);
    assertEquals(
        second.size() + third.size(),
        db.count("SELECT count(*) FROM memory_strict WHERE tenant = 't1'"));
    assertNothingDeadLettered(connector, all.size(), dlq);
    // the restarted task never met a stored event again: it resumed from the stored offsets
    assertEquals(0, pluginMetric(connector, "batches-rewritten-total"));
  }

  /**
   * A DBA adds a NOT NULL column without default that the sink does not write: every row would be
   * refused, so the task stops naming the table and the column instead of dead-lettering the stream
   * (errors.tolerance=all); once the column has a default, a restart writes every event.
   */
  @Test
  void aNotNullColumnTheSinkDoesNotWriteFailsTheTaskInsteadOfDeadLetteringTheStream()
      throws Exception {
    String topic = "memory.notnull";
    String dlq = topic + ".dlq";
    String connector = "notnull";
    connect.createTopic(topic, 3);
    Map<String, String> config = db.sinkConfig(topic, "append", dlq);
    config.put("tasks.max", "1");
    config.put("table.name.format", "memory_notnull");
    connect.deploy(connector, config, 1);

    List<String> first = send(topic, "pii-nn-a-", 100);
    awaitRowsWhileRunning(connector, "memory_notnull", first.size());

    // the usual way to add a NOT NULL column to a table with rows: filled once, then no default
    db.execute("ALTER TABLE memory_notnull ADD COLUMN owner text NOT NULL DEFAULT 'legacy'");
    db.execute("ALTER TABLE memory_notnull ALTER COLUMN owner DROP DEFAULT");
    List<String> second = send(topic, "pii-nn-b-", 100);

    String trace = awaitFailed(connector).trace();
    assertTrue(trace.contains("\"memory_notnull\""), trace);
    assertTrue(trace.contains("has column owner NOT NULL without a default"), trace);
    assertTrue(trace.contains("SQLSTATE 23502"), trace);
    assertFalse(trace.contains(CONTENT_MARKER), "the error quotes a record:\n" + trace);
    assertFalse(trace.contains("pii-nn-"), "the error quotes a record:\n" + trace);
    // nothing of the refused batch was written, nor its offsets stored (nor, checked at the end
    // once Connect has committed every offset, dead-lettered)
    assertEquals(first.size(), db.countRows("memory_notnull"));
    assertEquals(first.size(), storedOffsets(connector));

    db.execute("ALTER TABLE memory_notnull ALTER COLUMN owner SET DEFAULT 'sink'");
    connect.connect().restartTask(connector, 0);
    awaitTaskRunning(connector);

    List<String> all = concat(first, second);
    awaitRowsWhileRunning(connector, "memory_notnull", all.size());
    assertExactlyOnce("memory_notnull", all);
    assertEquals(
        second.size(), db.count("SELECT count(*) FROM memory_notnull WHERE owner = 'sink'"));
    assertNothingDeadLettered(connector, all.size(), dlq);
  }

  /** A metric of the plugin summed over the connector's tasks, read from the platform MBeans. */
  private static double pluginMetric(String connector, String attribute) throws Exception {
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    double sum = 0;
    for (ObjectName name : server.queryNames(new ObjectName("kafka.connect:*"), null)) {
      if (!connector.equals(name.getKeyProperty("connector"))
          || name.getKeyProperty("task") == null) {
        continue;
      }
      try {
        sum += ((Number) server.getAttribute(name, attribute)).doubleValue();
      } catch (javax.management.AttributeNotFoundException notThisBean) {
        // Connect's own task metrics share the tags; only the plugin's bean has this attribute
      }
    }
    return sum;
  }

  /** Sends {@code count} memory events with ids {@code prefix0..}; returns their event ids. */
  private static List<String> send(String topic, String prefix, int count) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String eventId = prefix + i;
      connect.send(topic, "k" + i, PostgresSinkFixture.memoryEvent(eventId, "ns", "m" + i, i));
      ids.add(eventId);
    }
    connect.flush();
    return ids;
  }

  /** One event per memory m{from}..m{to - 1} at {@code version}, keyed by the memory. */
  private static int sendVersions(String topic, int from, int to, int version) {
    for (int m = from; m < to; m++) {
      String key = "{\"namespace\":\"ns\",\"id\":\"m" + m + "\"}";
      connect.send(
          topic,
          key,
          PostgresSinkFixture.memoryEvent("e" + m + "-" + version, "ns", "m" + m, version));
    }
    connect.flush();
    return to - from;
  }

  /**
   * Waits for {@code rows} rows, failing at once (with the trace) when a task of the connector
   * FAILED instead: the table changes must not stop it.
   */
  private static void awaitRowsWhileRunning(String connector, String table, int rows) {
    await(rows + " rows in " + table)
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              connect.status(connector).tasks().stream()
                  .filter(t -> "FAILED".equals(t.state()))
                  .findFirst()
                  .ifPresent(
                      t -> {
                        throw new AssertionError(
                            "task " + t.id() + " of " + connector + " FAILED:\n" + t.trace());
                      });
              return db.countRows(table) >= rows;
            });
  }

  private static void assertRunning(String connector, int tasks) {
    ConnectorStateInfo status = connect.status(connector);
    assertEquals("RUNNING", status.connector().state());
    assertEquals(tasks, status.tasks().size());
    status.tasks().forEach(t -> assertEquals("RUNNING", t.state(), t.trace()));
  }

  /** Every event once: the exact set of event ids, and as many rows as distinct ids. */
  private static void assertExactlyOnce(String table, List<String> eventIds) throws Exception {
    assertEquals(
        eventIds.stream().sorted().toList(),
        strings("SELECT event_id FROM " + table + " ORDER BY event_id COLLATE \"C\""));
    assertEquals(db.count("SELECT count(DISTINCT event_id) FROM " + table), db.countRows(table));
  }

  /**
   * Nothing in the dead-letter topic. Connect commits a sink's offsets only after the records it
   * dead-lettered up to them are in that topic, so once its committed offsets cover every record
   * sent, the topic holds all it ever will of them.
   */
  private static void assertNothingDeadLettered(String connector, long sent, String dlq)
      throws Exception {
    await("PostgreSQL's offsets cover every record")
        .atMost(Duration.ofSeconds(30))
        .until(() -> storedOffsets(connector) == sent);
    await("Connect committed offsets for every record")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> committedOffsets(connector) == sent);
    assertEquals(0, connect.connect().kafka().consumeAll(10_000, dlq).count());
  }

  /** The next offsets the sink stored in PostgreSQL for the connector, summed over partitions. */
  private static long storedOffsets(String connector) throws SQLException {
    return db.count(
        "SELECT coalesce(sum(next_offset), 0) FROM soma_connect_offsets WHERE connector = '"
            + connector
            + "'");
  }

  /** The offsets Connect committed for the connector's consumer group, summed over partitions. */
  private static long committedOffsets(String connector) {
    long sum = 0;
    for (ConnectorOffset offset : connect.connect().connectorOffsets(connector).offsets()) {
      sum += ((Number) offset.offset().get("kafka_offset")).longValue();
    }
    return sum;
  }

  /** The task's state once FAILED. */
  private static TaskState awaitFailed(String connector) {
    TaskState[] failed = new TaskState[1];
    await("the task FAILED")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              TaskState task = connect.status(connector).tasks().get(0);
              failed[0] = task;
              return "FAILED".equals(task.state());
            });
    return failed[0];
  }

  /**
   * The restarted task RUNNING. Not {@link ConnectHarness#awaitRunning}, which stops at a FAILED
   * task: the status topic may still show the failure the restart has just cleared.
   */
  private static void awaitTaskRunning(String connector) {
    await("the restarted task RUNNING")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () -> {
              TaskState task = connect.status(connector).tasks().get(0);
              assertEquals("RUNNING", task.state(), task.trace());
            });
  }

  private static List<String> strings(String sql) throws SQLException {
    List<String> values = new ArrayList<>();
    try (Connection c = db.server.connect(db.database);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        values.add(rs.getString(1));
      }
    }
    return values;
  }

  private static String columnExists(String table, String column) {
    return "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public'"
        + " AND table_name = '"
        + table
        + "' AND column_name = '"
        + column
        + "'";
  }

  private static List<String> range(String prefix, int from, int to) {
    List<String> values = new ArrayList<>();
    for (int i = from; i < to; i++) {
      values.add(prefix + i);
    }
    return values.stream().sorted().toList();
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
