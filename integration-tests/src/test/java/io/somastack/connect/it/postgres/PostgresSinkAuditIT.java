package io.somastack.connect.it.postgres;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.testing.connect.ConnectHarness;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Audit mode: an append-only, monthly-partitioned table whose rows are hash-chained per Kafka
 * partition; soma_audit_verify finds every edited or deleted row.
 */
class PostgresSinkAuditIT {

  // the connector partitions from last month on (older rows go to the default partition), so the
  // events are dated relative to today, not to the day this test was written
  private static final YearMonth THIS_MONTH = YearMonth.now(ZoneOffset.UTC);
  private static final YearMonth LAST_MONTH = THIS_MONTH.minusMonths(1);
  private static ConnectHarness connect;
  private static PostgresSinkFixture db;

  @BeforeAll
  static void start() throws Exception {
    db = new PostgresSinkFixture("sink_audit");
    connect = ConnectHarness.builder("audit").start();
    connect.createTopic("somastack.events.audit", 3);
    Map<String, String> config = db.sinkConfig("somastack.events.audit", "audit", "somastack.dlq");
    config.put("table.name.format", "audit_events");
    config.put("columns", "tenant:text:tenant_id,action:text:action");
    connect.deploy("audit-archive", config, 2);
    for (int i = 0; i < 600; i++) {
      String month = (i % 2 == 0 ? THIS_MONTH : LAST_MONTH).toString();
      String event =
          "{\"event_id\":\""
              + UUID.randomUUID()
              + "\",\"tenant_id\":\"t"
              + (i % 3)
              + "\",\"action\":\"tool.invoke\",\"timestamp\":\""
              + month
              + "-0"
              + (1 + i % 9)
              + "T12:00:00.123456Z\",\"details\":{\"n\":"
              + i
              + ",\"amount\":1.50}}";
      connect.send("somastack.events.audit", i % 3, "t" + (i % 3), event);
    }
    connect.flush();
    await().atMost(Duration.ofSeconds(60)).until(() -> db.countRows("audit_events") == 600);
  }

  /** The partition the connector makes for a month: audit_events_2026_12. */
  private static String partition(YearMonth month) {
    return String.format("audit_events_%04d_%02d", month.getYear(), month.getMonthValue());
  }

  @AfterAll
  static void stop() {
    if (connect != null) {
      connect.close();
    }
  }

  @Test
  void rowsLandInMonthlyPartitionsAndTheIntactChainVerifies() throws Exception {
    assertEquals(List.of(), problems());
    assertEquals(300, db.count("SELECT count(*) FROM " + partition(THIS_MONTH)));
    assertEquals(300, db.count("SELECT count(*) FROM " + partition(LAST_MONTH)));
    assertEquals(
        600, db.count("SELECT count(DISTINCT (kafka_partition, kafka_offset)) FROM audit_events"));
  }

  @Test
  void tamperingWithAnyRowIsFoundByTheCheck() throws Exception {
    // the tampering happens in a transaction that is rolled back, so the other test sees the
    // table as the connector wrote it
    try (Connection c = db.server.connect(db.database)) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        // an edit, a deletion in the middle of a chain, and the deletion of a chain's last row
        s.execute(
            "UPDATE audit_events SET payload = jsonb_set(payload, '{action}', '\"nothing\"')"
                + " WHERE kafka_partition = 0 AND kafka_offset = 5");
        s.execute("DELETE FROM audit_events WHERE kafka_partition = 1 AND kafka_offset = 10");
        s.execute("DELETE FROM audit_events WHERE kafka_partition = 2 AND kafka_offset = 199");
        List<String> problems = problems(c);
        assertEquals(
            List.of(
                "0@5: row edited: its hash does not match its contents",
                "1@11: chain broken: the row before it was deleted or edited",
                "2@199: last rows deleted: the recorded chain head is gone"),
            problems);
      } finally {
        c.rollback();
      }
    }
  }

  private static List<String> problems() throws SQLException {
    try (Connection c = db.server.connect(db.database)) {
      return problems(c);
    }
  }

  private static List<String> problems(Connection c) throws SQLException {
    List<String> problems = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT * FROM soma_audit_verify('audit_events')")) {
      while (rs.next()) {
        problems.add(rs.getInt(2) + "@" + rs.getLong(3) + ": " + rs.getString(4));
      }
    }
    return problems;
  }
}
