package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * The typed columns extracted from an audit event are part of its row: soma_audit_verify must find
 * an edit of any of them, as it finds an edit of the payload, and must find nothing in rows as
 * written, whatever the verifying session's time zone, date style or float digits.
 */
class AuditTypedColumnsTest {

  private static final TopicPartition PARTITION = new TopicPartition("audit.typed", 0);
  private static final String DATABASE = "audit_typed";
  private static final String COLUMNS =
      "actor:text:actor,amount:double:amount,count:bigint:count,ok:boolean:ok,"
          + "at:timestamptz:at,ref:uuid:ref,detail:jsonb:detail";

  @Test
  void anEditOfATypedColumnIsFoundAndRowsAsWrittenVerify() throws Exception {
    String url = SERVER.createDatabase(DATABASE);
    PostgresMemorySinkTask task =
        LocalTasks.started(
            url,
            new HandRunTaskContext(PARTITION),
            "write.mode",
            "audit",
            "table.name.format",
            "audit_typed",
            "columns",
            COLUMNS);
    try {
      task.put(List.of(event(0, 0.1), event(1, 1.0e10), event(2, 123.456789012345)));
    } finally {
      task.stop();
    }
    assertEquals(0, problems("SET TimeZone = 'UTC'"), "rows as written verify");
    assertEquals(
        0, problems("SET TimeZone = 'Asia/Kolkata'; SET DateStyle = 'ISO, DMY'"), "in any session");
    assertEquals(0, problems("SET extra_float_digits = 0"), "with any float digits");

    LocalTasks.execute(DATABASE, "UPDATE audit_typed SET actor = 'mallory' WHERE kafka_offset = 0");
    LocalTasks.execute(DATABASE, "UPDATE audit_typed SET amount = 2 WHERE kafka_offset = 1");
    LocalTasks.execute(DATABASE, "UPDATE audit_typed SET at = NULL WHERE kafka_offset = 2");
    assertEquals(
        3,
        LocalTasks.count(
            DATABASE,
            "SELECT count(*) FROM soma_audit_verify('audit_typed')"
                + " WHERE problem LIKE 'row edited%'"));
  }

  /** Problems the check finds in a session with these settings. */
  private static long problems(String settings) throws Exception {
    try (Connection c = SERVER.connect(DATABASE);
        Statement s = c.createStatement()) {
      s.execute(settings);
      try (ResultSet rs = s.executeQuery("SELECT count(*) FROM soma_audit_verify('audit_typed')")) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static SinkRecord event(long offset, double amount) {
    String json =
        "{\"event_id\":\"e"
            + offset
            + "\",\"timestamp\":\"2026-12-01T00:00:00Z\",\"actor\":\"ada\",\"amount\":"
            + amount
            + ",\"count\":"
            + (offset * 1_000_000_007L)
            + ",\"ok\":true,\"at\":\"2026-12-01T10:15:30.123456+05:30\","
            + "\"ref\":\"6F9619FF-8B86-D011-B42D-00C04FC964FF\","
            + "\"detail\":{\"b\": [1, 2.50], \"a\": null}}";
    return new SinkRecord(PARTITION.topic(), PARTITION.partition(), null, null, null, json, offset);
  }
}
