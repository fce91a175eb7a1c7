package io.somastack.connect.it.postgres;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.testing.connect.ConnectHarness;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Exactly once under faults. The audit table is the strictest witness: a record written twice or
 * skipped shows in the row count, and a replay that reached the chain shows in soma_audit_verify.
 */
class PostgresSinkFaultsIT {

  private static final String TOPIC = "memory.audit";
  private ConnectHarness connect;
  private PostgresSinkFixture db;
  private int sent;

  @BeforeEach
  void start() {
    connect = ConnectHarness.builder("faults").start();
    connect.createTopic(TOPIC, 3);
  }

  /** Deploys the audit sink writing to {@code fixture}'s database. */
  private void deployOn(PostgresSinkFixture fixture) {
    db = fixture;
    Map<String, String> config = db.sinkConfig(TOPIC, "audit", "memory.dlq");
    config.put("table.name.format", "audit_events");
    connect.deploy("audit", config, 2);
  }

  @AfterEach
  void stop() {
    if (connect != null) {
      connect.close();
    }
  }

  @Test
  void aWorkerStoppedAndReplacedMidStream() throws Exception {
    deployOn(new PostgresSinkFixture("sink_faults"));
    send(3000);
    await().atMost(Duration.ofSeconds(60)).until(() -> db.countRows("audit_events") > 0);
    connect.connect().removeWorker();
    send(3000); // while no worker runs
    connect.connect().addWorker();
    connect.awaitRunning("audit", 2);
    send(3000);
    assertExactlyOnce();
  }

  @Test
  void postgresRestartedMidStream() throws Exception {
    deployOn(PostgresSinkFixture.onOwnedServer("sink_faults"));
    send(3000);
    await().atMost(Duration.ofSeconds(60)).until(() -> db.countRows("audit_events") > 0);
    db.server.restart();
    send(3000);
    db.server.restart();
    send(3000);
    assertExactlyOnce();
  }

  @Test
  void consumerGroupRewoundToTheEarliestOffset() throws Exception {
    deployOn(new PostgresSinkFixture("sink_faults"));
    send(3000);
    await().atMost(Duration.ofSeconds(60)).until(() -> db.countRows("audit_events") == 3000);
    connect.connect().stopConnector("audit");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> "STOPPED".equals(connect.status("audit").connector().state()));
    connect.connect().resetConnectorOffsets("audit"); // the group now starts from the beginning
    connect.connect().resumeConnector("audit");
    connect.awaitRunning("audit", 2);
    send(3000);
    assertExactlyOnce();
  }

  private void send(int events) {
    for (int i = 0; i < events; i++) {
      String event =
          "{\"event_id\":\""
              + UUID.randomUUID()
              + "\",\"n\":"
              + (sent + i)
              + ",\"timestamp\":\"2026-11-23T12:00:00Z\",\"action\":\"memory.write\"}";
      connect.send(TOPIC, "k" + ((sent + i) % 50), event);
    }
    connect.flush();
    sent += events;
  }

  private void assertExactlyOnce() throws Exception {
    await().atMost(Duration.ofSeconds(120)).until(() -> db.countRows("audit_events") >= sent);
    // every event exactly once: as many rows as events, as many distinct event numbers as rows
    assertEquals(sent, db.countRows("audit_events"));
    assertEquals(sent, db.count("SELECT count(DISTINCT payload->>'n') FROM audit_events"));
    assertEquals(
        sent,
        db.count("SELECT sum(next_offset) FROM soma_connect_offsets WHERE connector = 'audit'"));
    try (Connection c = db.server.connect(db.database);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM soma_audit_verify('audit_events')")) {
      rs.next();
      assertEquals(0, rs.getLong(1), "the audit chain has breaks");
    }
  }
}
