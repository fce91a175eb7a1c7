package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * Rows as the sink writes them must verify: the writer's text of a typed column and the verifier's
 * text of the stored value must agree for awkward values, for a column whose type in the table is
 * not the one the config names, and for a column the database fills itself.
 */
class AuditTypedColumnsEdgeTest {

  private static final TopicPartition PARTITION = new TopicPartition("audit.edge", 0);
  private static final String COLUMNS =
      "actor:text:actor,amount:double:amount,count:bigint:count,ok:boolean:ok,"
          + "at:timestamptz:at,ref:uuid:ref,detail:jsonb:detail";

  /** Awkward values of every type verify in any session. */
  @Test
  void awkwardValuesVerify() throws Exception {
    String database = "audit_edge_values";
    String url = SERVER.createDatabase(database);
    String[] doubles = {
      "1e-7", "-0.0", "5e-324", "1.7976931348623157e308", "0.30000000000000004", "123456789.125"
    };
    String[] times = {
      "\"1969-07-20T20:17:40.000001Z\"",
      "\"0500-03-01T12:00:00.999999+01:00\"",
      "\"1900-01-01T00:00:00Z\"",
      "\"9999-12-31T23:59:59.999999Z\"",
      "-1"
    };
    String[] texts = {
      "\"a|b=c:d\"",
      "\"line\\nbreak\\r\\n\"",
      "\"|amount=3:0.1\"",
      "\"\"",
      "\"\\u00e9\\ud83d\\ude00\""
    };
    String[] jsons = {
      "{\"u\":\"\\u00e9\\ud83d\\ude00\",\"big\":1e400,\"n\":{\"x\":null,\"y\":[null,{}]}}",
      "[1.0, 1.00, -0, 1E+2]",
      "\"a\\u0001b\"",
      "12345678901234567890123456789012345678901234567890"
    };
    List<SinkRecord> records = new ArrayList<>();
    int n = Math.max(Math.max(doubles.length, times.length), Math.max(texts.length, jsons.length));
    for (int i = 0; i < n; i++) {
      records.add(
          event(
              i,
              texts[i % texts.length],
              doubles[i % doubles.length],
              times[i % times.length],
              jsons[i % jsons.length]));
    }
    PostgresMemorySinkTask task = start(url, COLUMNS);
    try {
      task.put(records);
    } finally {
      task.stop();
    }
    assertEquals(n, LocalTasks.count(database, "SELECT count(*) FROM audit_edge"), "all written");
    assertEquals(0, problems(database, "SET TimeZone = 'UTC'"));
    assertEquals(
        0,
        problems(
            database,
            "SET TimeZone = 'America/St_Johns'; SET DateStyle = 'ISO, DMY';"
                + " SET extra_float_digits = -15; SET IntervalStyle = 'sql_standard'"));
  }

  /**
   * The config names a column's type, but the table keeps the type the column was made with (the
   * sink never rewrites a column): a column made as text by an earlier config, now extracted as a
   * double or a timestamptz. The insert would cast (1e-7 stored as the text "1e-07", a time as text
   * in the session's time zone) while the writer hashed the config type's text: every such row
   * failed the check as "row edited". The task now refuses the table, naming the column.
   */
  @Test
  void aColumnWhoseTableTypeDiffersFromTheConfigIsRefused() throws Exception {
    String database = "audit_edge_types";
    String url = SERVER.createDatabase(database);
    PostgresMemorySinkTask first = start(url, "amount:text:amount_text,at:text:at_text");
    try {
      first.put(List.of(event(0, "\"x\"", "1", "\"2026-12-01T00:00:00Z\"", "{}")));
    } finally {
      first.stop();
    }
    PostgresMemorySinkTask second = start(url, "amount:double:amount,at:timestamptz:at");
    try {
      Exception refused =
          assertThrows(
              Exception.class,
              () ->
                  second.put(
                      List.of(event(1, "\"x\"", "1e-7", "\"2026-12-01T10:15:30.5+05:30\"", "{}"))));
      String message = String.valueOf(refused.getMessage()) + " " + refused.getCause();
      assertTrue(message.contains("alter the column"), message);
    } finally {
      second.stop();
    }
    assertEquals(1, LocalTasks.count(database, "SELECT count(*) FROM audit_edge"));
    assertEquals(0, problems(database, "SET TimeZone = 'UTC'"), "no row with a wrong hash");
  }

  /**
   * A DBA's column with a default: the README says a column left NULL changes nothing, but rows the
   * sink writes after the default is set get a value the writer never hashed.
   */
  @Test
  void rowsWrittenAfterADbaColumnDefaultVerify() throws Exception {
    String database = "audit_edge_default";
    String url = SERVER.createDatabase(database);
    PostgresMemorySinkTask task = start(url, "actor:text:actor");
    try {
      task.put(List.of(event(0, "\"ada\"", "1", "-1", "{}")));
      LocalTasks.execute(database, "ALTER TABLE audit_edge ADD COLUMN region text");
      LocalTasks.execute(database, "ALTER TABLE audit_edge ALTER COLUMN region SET DEFAULT 'eu'");
      task.put(List.of(event(1, "\"ada\"", "1", "-1", "{}")));
    } finally {
      task.stop();
    }
    assertEquals(0, problems(database, "SET TimeZone = 'UTC'"), "rows as written verify");
  }

  private static PostgresMemorySinkTask start(String url, String columns) {
    return LocalTasks.started(
        url,
        new HandRunTaskContext(PARTITION),
        "write.mode",
        "audit",
        "table.name.format",
        "audit_edge",
        "columns",
        columns);
  }

  private static long problems(String database, String settings) throws Exception {
    try (Connection c = SERVER.connect(database);
        Statement s = c.createStatement()) {
      s.execute(settings);
      try (ResultSet rs =
          s.executeQuery(
              "SELECT string_agg(kafka_offset || ': ' || problem, '; '), count(*)"
                  + " FROM soma_audit_verify('audit_edge')")) {
        rs.next();
        if (rs.getLong(2) > 0) {
          System.err.println("problems: " + rs.getString(1));
        }
        return rs.getLong(2);
      }
    }
  }

  private static SinkRecord event(
      long offset, String actor, String amount, String at, String detail) {
    String json =
        "{\"event_id\":\"e"
            + offset
            + "\",\"timestamp\":\"2026-12-01T00:00:00Z\",\"actor\":"
            + actor
            + ",\"amount\":"
            + amount
            + ",\"amount_text\":\"t\",\"at_text\":\"t\",\"count\":"
            + (offset - 3) * 3_000_000_000L
            + ",\"ok\":"
            + (offset % 2 == 0)
            + ",\"at\":"
            + at
            + ",\"ref\":\"6F9619FF-8B86-D011-B42D-00C04FC964FF\",\"detail\":"
            + detail
            + "}";
    return new SinkRecord(PARTITION.topic(), PARTITION.partition(), null, null, null, json, offset);
  }
}
