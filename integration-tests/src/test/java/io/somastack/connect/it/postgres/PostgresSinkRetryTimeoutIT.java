package io.somastack.connect.it.postgres;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.ConnectHarness;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo.TaskState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * retry.timeout.ms in a real worker: PostgreSQL stays down longer than the timeout, so the task
 * gives up (FAILED, which alerting on task state sees) instead of retrying for ever while shown
 * RUNNING. Nothing is acknowledged that was not written: once the database is back, a task restart
 * through the REST API resumes from the offsets stored in PostgreSQL and writes every event once.
 */
class PostgresSinkRetryTimeoutIT {

  private static final String TOPIC = "memory.audit.outage";
  private static final String CONNECTOR = "audit-outage";
  private static final long RETRY_TIMEOUT_MS = 3000;

  /** In every record's value; the task's error must not quote it. */
  private static final String CONTENT_MARKER = "pii-marker";

  private static ConnectHarness connect;
  private static PostgresSinkFixture db;
  private int sent;

  @BeforeAll
  static void start() {
    db = PostgresSinkFixture.onOwnedServer("sink_retry_timeout"); // stopped mid-stream
    connect = ConnectHarness.builder("retry-timeout").start();
  }

  @AfterAll
  static void stop() {
    if (connect != null) {
      connect.close();
    }
  }

  @Test
  void anOutageLongerThanTheTimeoutFailsTheTaskAndARestartResumesExactly() throws Exception {
    connect.createTopic(TOPIC, 3);
    Map<String, String> config = db.sinkConfig(TOPIC, "audit", "memory.outage.dlq");
    config.put("tasks.max", "1"); // one task owns every partition: it alone must give up
    config.put("table.name.format", "audit_outage");
    config.put("retry.backoff.initial.ms", "50");
    config.put("retry.backoff.max.ms", "500");
    config.put("retry.timeout.ms", String.valueOf(RETRY_TIMEOUT_MS));
    connect.deploy(CONNECTOR, config, 1);

    send(300);
    await("the first events written")
        .atMost(Duration.ofSeconds(60))
        .until(() -> db.countRows("audit_outage") == sent);

    TaskState failed;
    try {
      db.server.stop();
      send(300); // written to Kafka while the database is down: the task retries them
      failed = awaitFailed();
    } finally {
      db.server.start();
    }

    String trace = failed.trace();
    assertTrue(trace.contains("Gave up retrying transient database errors after"), trace);
    assertTrue(trace.contains("retry.timeout.ms=" + RETRY_TIMEOUT_MS), trace);
    assertTrue(
        Pattern.compile("after \\d+ attempt\\(s\\) over [\\d.]+ s").matcher(trace).find(), trace);
    assertTrue(
        Pattern.compile("last error: (SQLSTATE [0-9A-Z]{5}|an I/O failure without SQLSTATE)")
            .matcher(trace)
            .find(),
        trace);
    assertTrue(trace.contains("records not acknowledged: " + TOPIC + "-"), trace);
    assertFalse(trace.contains(CONTENT_MARKER), "the error quotes a record:\n" + trace);
    assertFalse(trace.contains("memory.write"), "the error quotes a record:\n" + trace);

    send(300); // while the task is FAILED
    connect.connect().restartTask(CONNECTOR, 0);
    awaitTaskRunning();
    send(300);
    assertExactlyOnce();
  }

  /** The task's state once FAILED; generous, since a loaded machine slows the retries down. */
  private static TaskState awaitFailed() {
    TaskState[] failed = new TaskState[1];
    await("the task FAILED after retry.timeout.ms")
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              TaskState task = connect.status(CONNECTOR).tasks().get(0);
              failed[0] = task;
              return "FAILED".equals(task.state());
            });
    return failed[0];
  }

  /**
   * The restarted task RUNNING. Not {@link ConnectHarness#awaitRunning}, which stops at a FAILED
   * task: the status topic may still show the failure the restart has just cleared.
   */
  private static void awaitTaskRunning() {
    await("the restarted task RUNNING")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () -> {
              TaskState task = connect.status(CONNECTOR).tasks().get(0);
              assertEquals("RUNNING", task.state(), task.trace());
            });
  }

  private void send(int events) {
    for (int i = 0; i < events; i++) {
      String event =
          "{\"event_id\":\""
              + UUID.randomUUID()
              + "\",\"n\":"
              + (sent + i)
              + ",\"note\":\""
              + CONTENT_MARKER
              + "-"
              + (sent + i)
              + "\",\"timestamp\":\"2026-11-23T12:00:00Z\",\"action\":\"memory.write\"}";
      connect.send(TOPIC, "k" + ((sent + i) % 20), event);
    }
    connect.flush();
    sent += events;
  }

  /** Every event once: rows, distinct event numbers, stored offsets, and an unbroken chain. */
  private void assertExactlyOnce() throws Exception {
    await("every event written")
        .atMost(Duration.ofSeconds(120))
        .until(() -> db.countRows("audit_outage") >= sent);
    assertEquals(sent, db.countRows("audit_outage"));
    assertEquals(sent, db.count("SELECT count(DISTINCT payload->>'n') FROM audit_outage"));
    assertEquals(
        sent,
        db.count(
            "SELECT sum(next_offset) FROM soma_connect_offsets WHERE connector = '"
                + CONNECTOR
                + "'"));
    try (Connection c = db.server.connect(db.database);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM soma_audit_verify('audit_outage')")) {
      rs.next();
      assertEquals(0, rs.getLong(1), "the audit chain has breaks");
    }
  }
}
