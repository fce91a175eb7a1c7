package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Bad records met by a task run by hand against a real PostgreSQL. */
class BadRecordsTaskTest {

  private static final String DATABASE = "bad_records_task";
  private static final TopicPartition PARTITION = new TopicPartition("events", 0);

  private String url;
  private PostgresMemorySinkTask task;

  @BeforeEach
  void createTable() throws SQLException {
    url = SERVER.createDatabase(DATABASE);
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE events (event_id text NOT NULL UNIQUE, payload jsonb NOT NULL,"
            + " kafka_topic text NOT NULL, kafka_partition integer NOT NULL,"
            + " kafka_offset bigint NOT NULL, secret text CHECK (secret <> 'ssn-123-45-6789'),"
            + " ingested_at timestamptz NOT NULL DEFAULT now())");
  }

  @AfterEach
  void stopTask() {
    if (task != null) {
      task.stop();
    }
  }

  /**
   * Without a dead letter queue a row the database refuses stops the task, and the error Connect
   * logs names the record by position and the reason by SQLSTATE, never by the record's contents
   * (PostgreSQL's own message quotes the failing row).
   */
  @Test
  void aRefusedRowStopsTheTaskWithAnErrorThatHoldsNoRecordContents() throws SQLException {
    start(new HandRunTaskContext(PARTITION), "write.mode", "append");
    String json = "{\"event_id\":\"e1\",\"secret\":\"ssn-123-45-6789\"}";
    ConnectException e =
        assertThrows(ConnectException.class, () -> task.put(List.of(record(json, null, 7))));
    assertTrue(e.getMessage().contains("events-0@7"), e.getMessage());
    assertTrue(e.getMessage().contains("SQLSTATE 23514"), e.getMessage());
    assertFalse(e.getMessage().contains("ssn-123-45-6789"), e.getMessage());
    task.preCommit(Map.of(PARTITION, new OffsetAndMetadata(8))); // Connect's commit as it stops
    assertEquals(0, LocalTasks.count(DATABASE, "SELECT count(*) FROM events"), "nothing landed");
  }

  /**
   * PostgreSQL's detail of a refused row quotes the whole row ("Failing row contains (...)"). A
   * dead letter's reason goes into its headers twice (message and stack trace), and Connect logs it
   * with errors.log.enable: the reason and every message in its causes carry no record contents,
   * and stay small however large the record.
   */
  @Test
  void aDeadLetterReasonCarriesNoRowContentsAndStaysSmall() throws SQLException {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    start(context, "write.mode", "append");
    String bulk = "remembered-" + "x".repeat(300_000);
    String json = "{\"event_id\":\"e1\",\"secret\":\"ssn-123-45-6789\",\"note\":\"" + bulk + "\"}";
    task.put(List.of(record(json, null, 0), record("{\"event_id\":\"e2\"}", null, 1)));

    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM events"));
    Throwable reason = context.deadLettered().get(0).getValue();
    assertTrue(reason.getMessage().contains("SQLSTATE 23514"), reason.getMessage());
    assertTrue(reason.getMessage().contains("events_secret_check"), reason.getMessage());
    int length = 0;
    for (Throwable t = reason; t != null; t = t.getCause()) {
      String message = String.valueOf(t.getMessage());
      assertFalse(message.contains("ssn-123-45-6789"), message);
      assertFalse(message.contains("remembered-"), "a message quotes the row");
      length += message.length();
    }
    assertTrue(length < 4096, "the reason and its causes take " + length + " characters");
  }

  /**
   * PostgreSQL's message of a data exception (class 22) quotes the value it refused ('value
   * "99999999999" is out of range for type integer'): such a reason keeps the SQLSTATE and the
   * names the server gives, never the message, in the reason and in every cause.
   */
  @Test
  void aValueTheColumnsTypeRefusesIsDeadLetteredWithoutQuotingIt() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE scored (event_id text NOT NULL UNIQUE, payload jsonb NOT NULL,"
            + " kafka_topic text NOT NULL, kafka_partition integer NOT NULL,"
            + " kafka_offset bigint NOT NULL, score integer)");
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task =
        LocalTasks.started(
            url,
            context,
            "write.mode",
            "append",
            "table.name.format",
            "scored",
            "columns",
            "score:bigint:score");
    task.put(
        List.of(
            record("{\"event_id\":\"e1\",\"score\":98765432101}", null, 0),
            record("{\"event_id\":\"e2\",\"score\":7}", null, 1)));

    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM scored"));
    Throwable reason = context.deadLettered().get(0).getValue();
    assertTrue(reason.getMessage().contains("SQLSTATE 22003"), reason.getMessage());
    for (Throwable t = reason; t != null; t = t.getCause()) {
      assertFalse(String.valueOf(t.getMessage()).contains("98765432101"), t.getMessage());
    }
  }

  /** A key Connect's data API cannot turn into JSON is a bad record, not the task's end. */
  @Test
  void aKeyThatCannotBeReadIsDeadLetteredAndTheRestLands() throws SQLException {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    start(context, "write.mode", "upsert", "key.fields", "event_id", "table.name.format", "kv");
    task.put(
        List.of(
            record("{\"event_id\":\"e1\"}", "e1", 0),
            record(null, new StringBuilder("not a type Connect knows"), 1), // a tombstone
            record("{\"event_id\":\"e2\"}", "e2", 2)));
    assertEquals(2, LocalTasks.count(DATABASE, "SELECT count(*) FROM kv"));
    assertEquals(1, context.deadLettered().size());
    assertEquals(1, context.deadLettered().get(0).getKey().kafkaOffset());
  }

  /**
   * An id too long for the unique index (PostgreSQL's SQLSTATE 54000, "index row size exceeds
   * maximum") is the record's fault, like any other row the database refuses: dead-lettered with
   * its reason, and the rest of the batch lands. Append mode writes with COPY, upsert with INSERT.
   */
  @Test
  void anIdTooLongForItsIndexIsDeadLetteredAndTheRestLands() throws SQLException {
    for (String mode : List.of("append", "upsert")) {
      long base = mode.equals("append") ? 0 : 3; // the stream goes on where the first round ended
      String table = mode.equals("append") ? "events" : "kv";
      HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
      if (mode.equals("upsert")) {
        // a table of its own: the append round's table has no upsert columns
        start(context, "write.mode", mode, "key.fields", "event_id", "table.name.format", "kv");
      } else {
        start(context, "write.mode", mode);
      }
      String longId = incompressible(20_000);
      task.put(
          List.of(
              record("{\"event_id\":\"e1\"}", "e1", base),
              record("{\"event_id\":\"" + longId + "\"}", longId, base + 1),
              record("{\"event_id\":\"e2\"}", "e2", base + 2)));
      assertEquals(2, LocalTasks.count(DATABASE, "SELECT count(*) FROM " + table), mode);
      assertEquals(1, context.deadLettered().size(), mode);
      assertEquals(base + 1, context.deadLettered().get(0).getKey().kafkaOffset(), mode);
      String reason = context.deadLettered().get(0).getValue().getMessage();
      assertTrue(reason.contains("SQLSTATE 54000"), reason);
      task.stop();
      task = null;
    }
  }

  /**
   * In audit mode the sink's own index holds no id, but a DBA's index on event_id does: an id too
   * long for it is dead-lettered, the rows around it are chained without it, and the chain, later
   * batches included, verifies.
   */
  @Test
  void anAuditIdTooLongForADbaIndexIsDeadLetteredAndTheChainVerifies() throws SQLException {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    start(context, "write.mode", "audit", "table.name.format", "audit", "columns", "");
    task.put(List.of(auditEvent("a0", 0)));
    LocalTasks.execute(DATABASE, "CREATE INDEX audit_event_id ON audit (event_id)");
    task.put(
        List.of(auditEvent("a1", 1), auditEvent(incompressible(20_000), 2), auditEvent("a3", 3)));
    task.put(List.of(auditEvent("a4", 4)));

    assertEquals(1, context.deadLettered().size());
    assertEquals(2, context.deadLettered().get(0).getKey().kafkaOffset());
    assertEquals(4, LocalTasks.count(DATABASE, "SELECT count(*) FROM audit"));
    assertEquals(
        0,
        LocalTasks.count(DATABASE, "SELECT count(*) FROM soma_audit_verify('audit')"),
        "the chain verifies");
  }

  private static SinkRecord auditEvent(String id, long offset) {
    return record(
        "{\"event_id\":\"" + id + "\",\"timestamp\":\"2026-12-01T00:00:00Z\"}", null, offset);
  }

  /** Without a dead letter queue, the same id stops the task naming the record's position. */
  @Test
  void anIdTooLongForItsIndexStopsTheTaskNamingTheRecord() {
    start(new HandRunTaskContext(PARTITION), "write.mode", "append");
    String longId = incompressible(20_000);
    ConnectException e =
        assertThrows(
            ConnectException.class,
            () -> task.put(List.of(record("{\"event_id\":\"" + longId + "\"}", null, 4))));
    assertTrue(e.getMessage().contains("events-0@4"), e.getMessage());
    assertTrue(e.getMessage().contains("SQLSTATE 54000"), e.getMessage());
  }

  /**
   * PostgreSQL refuses every write with the same SQLSTATE 54000 near transaction-id wraparound
   * (played here by triggers). Each row then fails alone, and so does the write of the rest: the
   * task stops with the SQLSTATE and dead-letters none of the good rows.
   */
  @Test
  void aDatabaseRefusingEveryWriteWith54000StopsTheTaskAndDeadLettersNothing() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
            + " $$BEGIN RAISE EXCEPTION 'no new transaction ids' USING ERRCODE = '54000'; END$$");
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    start(context, "write.mode", "append");
    LocalTasks.execute(
        DATABASE,
        "CREATE TRIGGER refuse BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse()");
    LocalTasks.execute(
        DATABASE,
        "CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON soma_connect_offsets"
            + " FOR EACH ROW EXECUTE FUNCTION refuse()");
    ConnectException e =
        assertThrows(
            ConnectException.class,
            () ->
                task.put(
                    List.of(
                        record("{\"event_id\":\"e1\"}", null, 0),
                        record("{\"event_id\":\"e2\"}", null, 1))));
    assertTrue(e.getMessage().contains("SQLSTATE 54000"), e.getMessage());
    assertEquals(List.of(), context.deadLettered());
    assertEquals(0, LocalTasks.count(DATABASE, "SELECT count(*) FROM events"));
  }

  /** Text that PostgreSQL's compression cannot shrink below the index's limit. */
  private static String incompressible(int length) {
    java.util.Random random = new java.util.Random(54000);
    StringBuilder text = new StringBuilder(length);
    while (text.length() < length) {
      text.append((char) ('!' + random.nextInt(90)));
    }
    return text.toString().replace("\"", "#").replace("\\", "/");
  }

  private void start(HandRunTaskContext context, String... keyValues) {
    List<String> options = new ArrayList<>(List.of("table.name.format", "events"));
    options.addAll(List.of("columns", "secret:text:secret"));
    options.addAll(List.of(keyValues));
    task = LocalTasks.started(url, context, options.toArray(String[]::new));
  }

  private static SinkRecord record(String json, Object key, long offset) {
    return new SinkRecord(PARTITION.topic(), 0, null, key, null, json, offset);
  }
}
