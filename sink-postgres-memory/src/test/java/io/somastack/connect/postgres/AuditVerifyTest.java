package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * soma_audit_verify reports what was done to an audit table by hand, and nothing for a table the
 * sink wrote, whatever happened to the topic, the table or the caller's session.
 */
class AuditVerifyTest {

  private static final TopicPartition PARTITION = new TopicPartition("checked", 0);

  /**
   * A topic deleted and made again (or moved to another Kafka cluster) starts its offsets at 0: its
   * records are linked after the old ones, and the check must follow the links, not the offsets.
   */
  @Test
  void aChainWhoseOffsetsStartAgainVerifies() throws Exception {
    String database = "verify_offsets_again";
    String url = written(database, 3, "2026-12-01");
    LocalTasks.execute(database, "DELETE FROM soma_connect_offsets"); // the new topic's consumer
    write(url, "public", records(2, "2026-12-02"));
    assertEquals(5, LocalTasks.count(database, "SELECT count(*) FROM checked"));
    assertEquals(List.of(), problems(database, "public.checked"));
  }

  /** The check on a table out of the caller's search_path still compares the chain heads. */
  @Test
  void aDeletedLastRowIsFoundWhateverTheCallersSearchPath() throws Exception {
    String database = "verify_search_path";
    String url = SERVER.createDatabase(database);
    LocalTasks.execute(database, "CREATE SCHEMA archive");
    write(url, "archive", records(3, "2026-12-01"));
    LocalTasks.execute(database, "DELETE FROM archive.checked WHERE kafka_offset = 2");
    assertEquals(
        List.of("2: last rows deleted: the recorded chain head is gone"),
        problems(database, "archive.checked", "SET search_path = archive, public"));
  }

  /**
   * A dropped audit table is not made again by the sink while its chain heads are on record: a
   * table made anew would verify, and the drop (with every row) would leave no trace.
   */
  @Test
  void aDroppedTableIsNotMadeAgain() throws Exception {
    String database = "verify_table_dropped";
    String url = written(database, 3, "2026-12-01");
    LocalTasks.execute(database, "DROP TABLE checked");

    ConnectException refused =
        // the topic's next records: the task resumes after the offsets stored beside the table
        assertThrows(
            ConnectException.class, () -> write(url, "public", records(2, "2026-12-02", 3)));

    assertTrue(
        refused.getMessage().contains("audit table \"public\".\"checked\""), refused.getMessage());
    assertTrue(
        refused
            .getMessage()
            .contains("DELETE FROM soma_audit_chain_heads WHERE table_name = 'checked'"),
        refused.getMessage());
    assertEquals(
        0, LocalTasks.count(database, "SELECT count(*) FROM pg_class WHERE relname = 'checked'"));
    assertEquals(1, LocalTasks.count(database, "SELECT count(*) FROM soma_audit_chain_heads"));
  }

  /**
   * A table dropped on purpose, whose chains an operator then gave up with the statements the
   * sink's error names, is made again by the sink with new chains, and verifies.
   */
  @Test
  void aTableDroppedAndGivenUpByAnOperatorIsMadeAgainAndVerifies() throws Exception {
    String database = "verify_table_again";
    String url = written(database, 3, "2026-12-01");
    LocalTasks.execute(database, "DROP TABLE checked");
    assertThrows(ConnectException.class, () -> write(url, "public", records(1, "2026-12-02", 3)));
    LocalTasks.execute(database, giveUp("checked"));
    LocalTasks.execute(database, "DELETE FROM soma_connect_offsets");
    write(url, "public", records(2, "2026-12-02"));
    assertEquals(2, LocalTasks.count(database, "SELECT count(*) FROM checked"));
    assertEquals(List.of(), problems(database, "public.checked"));
  }

  /** The operator's step in docs/audit-archival.md ("An audit table dropped"). */
  static String giveUp(String tableName) {
    return "DELETE FROM soma_audit_chain_heads WHERE table_name = '"
        + tableName
        + "'; UPDATE soma_audit_retired SET superseded_at = now() WHERE table_name = '"
        + tableName
        + "' AND superseded_at IS NULL";
  }

  /**
   * The sink's role owns soma_audit_verify and may replace it with one that finds nothing: the
   * auditor's own copy (docs/audit-archival.md), installed by another role in its own schema, still
   * finds a deleted row.
   */
  @Test
  void anAuditorsOwnCopyOfTheCheckFindsWhatAReplacedOneHides() throws Exception {
    String database = "verify_own_copy";
    written(database, 3, "2026-12-01");
    String sql;
    try (InputStream in = getClass().getResourceAsStream("/sql/soma_audit_verify.sql")) {
      // its constants filled in by hand, as docs/audit-archival.md shows with sed
      sql =
          new String(in.readAllBytes(), StandardCharsets.UTF_8)
              .replace("@sink_search_path@", "public")
              .replace("@tables_schema@", "public")
              .replace("@functions_schema@", "audit_check");
    }
    LocalTasks.execute(
        database,
        "DO $$BEGIN CREATE ROLE soma_auditor; EXCEPTION WHEN duplicate_object THEN NULL; END$$;"
            + " CREATE SCHEMA audit_check AUTHORIZATION soma_auditor;"
            + " GRANT SELECT ON checked, soma_audit_chain_heads, soma_audit_retired"
            + " TO soma_auditor");
    try (Connection c = SERVER.connect(database);
        Statement s = c.createStatement()) {
      s.execute("SET ROLE soma_auditor");
      s.execute("SET search_path = audit_check");
      s.execute(sql);
    }
    // what whoever holds the sink's credentials could do
    LocalTasks.execute(
        database,
        "CREATE OR REPLACE FUNCTION public.soma_audit_verify(audit_table regclass) RETURNS TABLE"
            + " (kafka_topic text, kafka_partition integer, kafka_offset bigint, problem text)"
            + " LANGUAGE sql AS 'SELECT NULL::text, NULL::integer, NULL::bigint, NULL::text"
            + " WHERE false'; DELETE FROM checked WHERE kafka_offset = 0");
    assertEquals(List.of(), problems(database, "public.checked"));

    List<String> found = new ArrayList<>();
    try (Connection c = SERVER.connect(database);
        Statement s = c.createStatement()) {
      s.execute("SET ROLE soma_auditor");
      try (ResultSet rs =
          s.executeQuery("SELECT * FROM audit_check.soma_audit_verify('public.checked')")) {
        while (rs.next()) {
          found.add(rs.getLong(3) + ": " + rs.getString(4));
        }
      }
    }
    assertEquals(List.of("1: chain broken: the row before it was deleted or edited"), found);
  }

  @Test
  void aDeletedFirstRowIsFound() throws Exception {
    String database = "verify_first_row";
    written(database, 3, "2026-12-01");
    LocalTasks.execute(database, "DELETE FROM checked WHERE kafka_offset = 0");
    assertEquals(
        List.of("1: chain broken: the row before it was deleted or edited"),
        problems(database, "public.checked"));
  }

  /**
   * Rows put in by hand with hashes made as the sink makes them: one after the chain's head, one
   * beside a row of the chain. Neither was linked by the sink.
   */
  @Test
  void rowsInsertedByHandWithMatchingHashesAreFound() throws Exception {
    String database = "verify_inserted";
    written(database, 3, "2026-12-01");
    LocalTasks.execute(database, forged(10, 2)); // after the head, offset 2
    LocalTasks.execute(database, forged(11, 0)); // a second successor of offset 0
    assertEquals(
        List.of(
            "1: chain forked: another row follows the same row",
            "10: row after the chain head: the sink did not link it",
            "11: chain forked: another row follows the same row"),
        problems(database, "public.checked"));
  }

  /** A chain forged whole in a partition the sink never wrote has no head to be checked against. */
  @Test
  void aChainForgedWhereTheSinkNeverWroteIsFound() throws Exception {
    String database = "verify_forged_chain";
    written(database, 3, "2026-12-01");
    LocalTasks.execute(
        database,
        "INSERT INTO checked (event_id, event_time, payload, kafka_topic, kafka_partition,"
            + " kafka_offset, prev_hash, row_hash) SELECT 'forged', t, '{}', 'checked', 7, 0,"
            + " NULL, sha256(convert_to(concat_ws('|', 'forged', 'checked', 7, 0,"
            + " (extract(epoch FROM t) * 1000000)::bigint, '{}'), 'UTF8'))"
            + " FROM CAST('2026-12-01 00:00:00+00' AS timestamptz) t");
    assertEquals(
        List.of("0: chain without a recorded head: the sink did not write it"),
        problems(database, "public.checked"));
  }

  /**
   * The sink's role writing to a schema of its own name, found by its search_path's "$user": an
   * operator's role calling the check must read that schema's heads, not its own "$user"'s.
   */
  @Test
  void theCheckCalledByAnotherRoleReadsTheSinksHeads() throws Exception {
    String database = "verify_user_schema";
    String url = SERVER.createDatabase(database);
    LocalTasks.execute(
        database,
        "DO $$BEGIN CREATE ROLE soma_own_schema LOGIN PASSWORD 'own-schema';"
            + " EXCEPTION WHEN duplicate_object THEN NULL; END$$");
    LocalTasks.execute(database, "CREATE SCHEMA soma_own_schema AUTHORIZATION soma_own_schema");
    PostgresMemorySinkTask task =
        LocalTasks.started(
            url,
            new HandRunTaskContext(PARTITION),
            "write.mode",
            "audit",
            "table.schema",
            "soma_own_schema",
            "connection.user",
            "soma_own_schema",
            "connection.password",
            "own-schema");
    try {
      task.put(records(3, "2026-12-01"));
    } finally {
      task.stop();
    }
    LocalTasks.execute(database, "DELETE FROM soma_own_schema.checked WHERE kafka_offset = 2");

    List<String> problems = new ArrayList<>();
    try (Connection c = SERVER.connect(database);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT * FROM soma_own_schema.soma_audit_verify('soma_own_schema.checked')")) {
      while (rs.next()) {
        problems.add(rs.getLong(3) + ": " + rs.getString(4));
      }
    }
    assertEquals(List.of("2: last rows deleted: the recorded chain head is gone"), problems);
  }

  /**
   * The heads table's statistics taken when it held one chain: the check must not then scan the
   * table once per head (a nested loop over the rows), which takes hours on a large table.
   */
  @Test
  void theCheckScansTheTableOnceWhateverTheHeadsStatistics() throws Exception {
    String database = "verify_stale_stats";
    String url = written(database, 3, "2026-12-01");
    LocalTasks.execute(database, "ANALYZE soma_audit_chain_heads");
    List<SinkRecord> more = new ArrayList<>();
    for (int partition = 1; partition <= 40; partition++) {
      for (int offset = 0; offset < 50; offset++) {
        String json =
            "{\"event_id\":\"p"
                + partition
                + "-"
                + offset
                + "\",\"timestamp\":\"2026-12-01T00:00:00Z\"}";
        more.add(new SinkRecord("checked", partition, null, null, null, json, offset));
      }
    }
    PostgresMemorySinkTask task =
        LocalTasks.started(
            url,
            new HandRunTaskContext(
                java.util.stream.IntStream.rangeClosed(0, 40)
                    .mapToObj(p -> new TopicPartition("checked", p))
                    .toArray(TopicPartition[]::new)),
            "write.mode",
            "audit");
    try {
      task.put(more);
    } finally {
      task.stop();
    }
    LocalTasks.execute(database, "ANALYZE checked");

    String plans = plansOfTheCheck(database, false);
    assertTrue(plans.contains("soma_audit_chain_heads"), plans);
    assertFalse(plans.contains("Nested Loop"), plans);
  }

  /**
   * Each row is matched with the row it links to by hash, not compared with every row of its
   * partition: a merge join on the topic and partition alone, the planner's choice with the heads'
   * join sorted so, compared 30,000 rows 900 million times (four and a half minutes; a partition of
   * millions of rows would never be checked).
   */
  @Test
  void theCheckMatchesEachRowWithItsLinkNotWithItsWholePartition() throws Exception {
    String database = "verify_one_long_chain";
    String url = SERVER.createDatabase(database);
    List<SinkRecord> chain = new ArrayList<>();
    for (int offset = 0; offset < 3_000; offset++) {
      String json = "{\"event_id\":\"e" + offset + "\",\"timestamp\":\"2026-12-01T00:00:00Z\"}";
      chain.add(
          new SinkRecord(PARTITION.topic(), PARTITION.partition(), null, null, null, json, offset));
    }
    write(url, "public", chain);
    LocalTasks.execute(database, "ANALYZE checked");

    String plans = plansOfTheCheck(database, true);

    assertTrue(plans.contains("soma_audit_chain_heads"), plans);
    java.util.regex.Matcher removed =
        java.util.regex.Pattern.compile("Rows Removed by Join Filter: (\\d+)").matcher(plans);
    while (removed.find()) {
      assertEquals("0", removed.group(1), plans);
    }
    assertFalse(plans.contains("Merge"), plans);
  }

  /**
   * The plans of the check's own statements (run on a table that verifies), sent to this session as
   * notices; with {@code analyze}, with the rows each step read and dropped.
   */
  private static String plansOfTheCheck(String database, boolean analyze) throws SQLException {
    StringBuilder plans = new StringBuilder();
    try (Connection c = SERVER.connect(database);
        Statement s = c.createStatement()) {
      s.execute("LOAD 'auto_explain'");
      s.execute("SET auto_explain.log_min_duration = 0");
      s.execute("SET auto_explain.log_nested_statements = on");
      s.execute("SET auto_explain.log_analyze = " + analyze);
      s.execute("SET auto_explain.log_level = notice");
      try (ResultSet rs = s.executeQuery("SELECT count(*) FROM soma_audit_verify('checked')")) {
        rs.next();
        assertEquals(0, rs.getLong(1));
      }
      for (java.sql.SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) {
        plans.append(w.getMessage()).append('\n');
      }
    }
    return plans.toString();
  }

  /** A row at {@code offset} linked after the row at {@code after}, hashed as the sink does. */
  private static String forged(long offset, long after) {
    return "INSERT INTO checked (event_id, event_time, payload, kafka_topic, kafka_partition,"
        + " kafka_offset, prev_hash, row_hash) SELECT 'forged', p.event_time, '{}', p.kafka_topic,"
        + " p.kafka_partition, "
        + offset
        + ", p.row_hash, sha256(p.row_hash || convert_to(concat_ws('|', 'forged', p.kafka_topic,"
        + " p.kafka_partition, "
        + offset
        + ", (extract(epoch FROM p.event_time) * 1000000)::bigint, '{}'), 'UTF8'))"
        + " FROM checked p WHERE p.kafka_offset = "
        + after;
  }

  private static String written(String database, int count, String day) throws SQLException {
    String url = SERVER.createDatabase(database);
    write(url, "public", records(count, day));
    return url;
  }

  private static List<SinkRecord> records(int count, String day) {
    return records(count, day, 0);
  }

  /** {@code count} records from offset {@code first} on. */
  private static List<SinkRecord> records(int count, String day, int first) {
    List<SinkRecord> records = new ArrayList<>();
    for (int i = first; i < first + count; i++) {
      String json =
          "{\"event_id\":\""
              + day
              + "-"
              + i
              + "\",\"timestamp\":\""
              + day
              + "T00:00:0"
              + i
              + "Z\"}";
      records.add(
          new SinkRecord(PARTITION.topic(), PARTITION.partition(), null, null, null, json, i));
    }
    return records;
  }

  private static void write(String url, String schema, List<SinkRecord> records) {
    PostgresMemorySinkTask task =
        LocalTasks.started(
            url, new HandRunTaskContext(PARTITION), "write.mode", "audit", "table.schema", schema);
    try {
      task.put(records);
    } finally {
      task.stop();
    }
  }

  /** The check's findings, as "offset: problem", after the session statements given. */
  private static List<String> problems(String database, String table, String... session)
      throws SQLException {
    List<String> problems = new ArrayList<>();
    try (Connection c = SERVER.connect(database);
        Statement s = c.createStatement()) {
      for (String statement : session) {
        s.execute(statement);
      }
      try (ResultSet rs =
          s.executeQuery("SELECT * FROM public.soma_audit_verify('" + table + "')")) {
        while (rs.next()) {
          problems.add(rs.getLong(3) + ": " + rs.getString(4));
        }
      }
    }
    return problems;
  }
}
