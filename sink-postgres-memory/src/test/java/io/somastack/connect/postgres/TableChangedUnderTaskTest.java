package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A DBA changes a table under a running task, whose statements and catalog knowledge were made for
 * the table as it was. The task either adapts (reads the catalog again and writes the batch once
 * more: nothing lost, duplicated or dead-lettered) or stops naming the table and what changed.
 */
class TableChangedUnderTaskTest {

  private static final TopicPartition PARTITION = new TopicPartition("changes", 0);

  private String database;
  private HandRunTaskContext context;
  private PostgresMemorySinkTask task;

  @AfterEach
  void stopTask() {
    if (task != null) {
      task.stop();
    }
  }

  /** A column the sink writes, dropped: auto.evolve adds it again and the batch lands. */
  @Test
  void aDroppedColumnIsAddedAgainWithAutoEvolve() throws SQLException {
    for (String mode : List.of("append", "upsert")) {
      start("dropped_evolve_" + mode, mode, "columns", "score:bigint:score");
      task.put(List.of(event("e1", 0, "\"score\":1")));
      alter("ALTER TABLE t DROP COLUMN score");
      task.put(List.of(event("e2", 1, "\"score\":2"), event("e3", 2, "\"score\":3")));

      assertEquals(
          List.of("e1:null", "e2:2", "e3:3"),
          rows("event_id || ':' || coalesce(score::text, 'null')"),
          mode);
      assertEquals(List.of(), context.deadLettered(), mode);
      task.stop();
      task = null;
    }
  }

  /**
   * Without auto.evolve the sink may not add it back: the task stops naming the table and the
   * column, dead-letters nothing, and fails the same way at every later put (no retry loop).
   */
  @Test
  void aDroppedColumnWithoutAutoEvolveStopsTheTaskNamingTheTableAndColumn() throws SQLException {
    for (String mode : List.of("append", "upsert")) {
      start("dropped_fixed_" + mode, mode, "columns", "score:bigint:score", "auto.evolve", "false");
      task.put(List.of(event("e1", 0, "\"score\":1")));
      alter("ALTER TABLE t DROP COLUMN score");
      ConnectException e =
          assertThrows(ConnectException.class, () -> task.put(List.of(event("e2", 1, ""))));
      assertTrue(e.getMessage().contains("\"t\""), e.getMessage());
      assertTrue(e.getMessage().contains("lacks column(s) score"), e.getMessage());
      assertSame(e, assertThrows(ConnectException.class, () -> task.put(List.of())));
      assertEquals(1, LocalTasks.count(database, "SELECT count(*) FROM t"), mode);
      assertEquals(List.of(), context.deadLettered(), mode);
      task.stop();
      task = null;
    }
  }

  /**
   * A text column altered to jsonb: the statement prepared for text sends text, which jsonb takes
   * only with a cast (SQLSTATE 42804). The task reads the types again and writes the batch.
   */
  @Test
  void aColumnAlteredToJsonbTakesTheNextBatch() throws SQLException {
    start("altered_jsonb", "upsert", "columns", "note:text:note");
    task.put(List.of(event("e1", 0, "\"note\":\"{\\\"a\\\": 1}\"")));
    alter("ALTER TABLE t ALTER COLUMN note TYPE jsonb USING note::jsonb");
    task.put(List.of(event("e2", 1, "\"note\":\"{\\\"b\\\": 2}\"")));

    assertEquals(List.of("e1:{\"a\": 1}", "e2:{\"b\": 2}"), rows("event_id || ':' || note"));
    assertEquals(List.of(), context.deadLettered());
  }

  /**
   * A column altered to a type the sink cannot send into (a bigint extracted into jsonb): the batch
   * fails again after the catalog is read anew, and the task stops naming the table and the
   * column's type, at every later put too, dead-lettering nothing.
   */
  @Test
  void aColumnAlteredToATypeTheSinkCannotSendStopsTheTaskNamingIt() throws SQLException {
    start("altered_unsendable", "upsert", "columns", "score:bigint:score");
    task.put(List.of(event("e1", 0, "\"score\":1")));
    alter("ALTER TABLE t ALTER COLUMN score TYPE jsonb USING to_jsonb(score)");
    ConnectException e =
        assertThrows(
            ConnectException.class, () -> task.put(List.of(event("e2", 1, "\"score\":2"))));
    assertTrue(e.getMessage().contains("table \"public\".\"t\""), e.getMessage());
    assertTrue(e.getMessage().contains("SQLSTATE 42804"), e.getMessage());
    assertTrue(e.getMessage().contains("column \"score\" is of type jsonb"), e.getMessage());
    assertSame(e, assertThrows(ConnectException.class, () -> task.put(List.of())));
    assertEquals(1, LocalTasks.count(database, "SELECT count(*) FROM t"));
    assertEquals(List.of(), context.deadLettered());
  }

  /**
   * An audit table dropped under the task fails the task, naming the operator's step; once the
   * operator gave the old chains up, it is made again, its chains starting anew, and verifies.
   */
  @Test
  void anAuditTableDroppedFailsTheTaskUntilAnOperatorGivesItsChainsUp() throws SQLException {
    start("dropped_audit", "audit", "columns", "");
    task.put(List.of(event("e1", 0, "\"timestamp\":\"2026-12-01T00:00:00Z\"")));
    alter("DROP TABLE t");
    List<SinkRecord> next = List.of(event("e2", 1, "\"timestamp\":\"2026-12-01T00:00:01Z\""));
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(next));
    assertTrue(e.getMessage().contains("soma_audit_chain_heads"), e.getMessage());
    assertEquals(
        0, LocalTasks.count(database, "SELECT count(*) FROM pg_class WHERE relname = 't'"));

    alter(AuditVerifyTest.giveUp("t"));
    task.stop();
    restartedWith("audit", "columns", "");
    task.put(next);

    assertEquals(List.of("e2"), rows("event_id"));
    assertEquals(0, LocalTasks.count(database, "SELECT count(*) FROM soma_audit_verify('t')"));
    assertEquals(List.of(), context.deadLettered());
  }

  /** Changes PostgreSQL assigns without a cast go on as they are. */
  @Test
  void columnsAlteredToTypesThatTakeTheSameValuesGoOn() throws SQLException {
    start("altered_assignable", "upsert", "columns", "score:bigint:score,note:text:note");
    alter("CREATE EXTENSION IF NOT EXISTS citext");
    task.put(List.of(event("e1", 0, "\"score\":1,\"note\":\"a\"")));
    alter("ALTER TABLE t ALTER COLUMN score TYPE numeric, ALTER COLUMN note TYPE citext");
    task.put(List.of(event("e2", 1, "\"score\":9007199254740993,\"note\":\"B\"")));

    assertEquals(
        List.of("e1:1:a", "e2:9007199254740993:B"),
        rows("event_id || ':' || score || ':' || note"));
    assertEquals(List.of(), context.deadLettered());
  }

  /**
   * A uuid key column altered to text: the statement made for uuid still casts each key to uuid,
   * which refuses keys the text column takes. Those rows are not bad data, and are not
   * dead-lettered.
   */
  @Test
  void aKeyColumnAlteredFromUuidToTextDeadLettersNoRow() throws SQLException {
    database = "altered_uuid_text";
    String url = SERVER.createDatabase(database);
    LocalTasks.execute(
        database,
        "CREATE TABLE t (id uuid PRIMARY KEY, payload jsonb NOT NULL, kafka_topic text NOT NULL,"
            + " kafka_partition integer NOT NULL, kafka_offset bigint NOT NULL,"
            + " updated_at timestamptz NOT NULL DEFAULT now())");
    context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task =
        LocalTasks.started(
            url,
            context,
            "write.mode",
            "upsert",
            "key.fields",
            "id",
            "table.name.format",
            "t",
            "columns",
            "");
    String uuid = "0e7d3b1c-5a4f-4c8e-9b2d-1f6a7c8e9d0a";
    task.put(List.of(keyed(uuid, 0)));
    alter("ALTER TABLE t ALTER COLUMN id TYPE text");
    task.put(List.of(keyed("order-42", 1), keyed("order-43", 2)));

    assertEquals(List.of(), context.deadLettered());
    assertEquals(List.of(uuid, "order-42", "order-43"), rows("id"));
  }

  private static SinkRecord keyed(String id, long offset) {
    return new SinkRecord(PARTITION.topic(), 0, null, id, null, "{\"id\":\"" + id + "\"}", offset);
  }

  /**
   * A table dropped (or renamed away) is made again with auto.create, and the batch lands; so does
   * it into a table a DBA made again at once, with its columns in another order.
   */
  @Test
  void aTableDroppedOrRenamedIsMadeAgainWithAutoCreate() throws SQLException {
    for (String mode : List.of("append", "upsert")) {
      for (String change : List.of("DROP TABLE t", "ALTER TABLE t RENAME TO t_old", RECREATED)) {
        start("dropped_table_" + mode, mode);
        task.put(List.of(event("e1", 0, "")));
        alter(change);
        task.put(List.of(event("e2", 1, "")));

        assertEquals(List.of("e2"), rows("event_id"), mode + ": " + change);
        assertEquals(List.of(), context.deadLettered(), mode);
        task.stop();
        task = null;
      }
    }
  }

  private static final String RECREATED =
      "DROP TABLE t; CREATE TABLE t (kafka_offset bigint NOT NULL, payload jsonb NOT NULL,"
          + " event_id text PRIMARY KEY, kafka_partition integer NOT NULL,"
          + " kafka_topic text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())";

  /** Without auto.create the task stops naming the table it lacks. */
  @Test
  void aTableDroppedWithoutAutoCreateStopsTheTaskNamingIt() throws SQLException {
    for (String mode : List.of("append", "upsert")) {
      start("dropped_fixed_table_" + mode, mode, "auto.create", "true");
      task.put(List.of(event("e1", 0, "")));
      task.stop();
      restartedWith(mode, "auto.create", "false");
      task.put(List.of(event("e2", 1, "")));
      alter("ALTER TABLE t RENAME TO t_old");
      ConnectException e =
          assertThrows(ConnectException.class, () -> task.put(List.of(event("e3", 2, ""))));
      assertTrue(e.getMessage().contains("\"t\""), e.getMessage());
      assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
      assertEquals(List.of(), context.deadLettered(), mode);
      task.stop();
      task = null;
    }
  }

  /** The unique index ON CONFLICT names, dropped: auto.evolve adds it again. */
  @Test
  void aDroppedConflictIndexIsAddedAgainWithAutoEvolve() throws SQLException {
    start("dropped_index", "upsert");
    task.put(List.of(event("e1", 0, "")));
    alter("ALTER TABLE t DROP CONSTRAINT t_pkey");
    task.put(List.of(event("e1", 1, "\"v\":2"), event("e2", 2, "")));

    assertEquals(List.of("e1:2", "e2:"), rows("event_id || ':' || coalesce(payload->>'v', '')"));
    assertEquals(List.of(), context.deadLettered());
  }

  /** Without auto.evolve the task stops naming the table and the index it lacks. */
  @Test
  void aDroppedConflictIndexWithoutAutoEvolveStopsTheTaskNamingIt() throws SQLException {
    start("dropped_index_fixed", "upsert", "auto.evolve", "false");
    task.put(List.of(event("e1", 0, "")));
    alter("ALTER TABLE t DROP CONSTRAINT t_pkey");
    assertStopsNamingTheTable(List.of(event("e2", 1, "")), "unique index on (event_id)");
  }

  /** An index replaced by another on the same columns changes nothing. */
  @Test
  void aConflictIndexReplacedOnTheSameColumnsChangesNothing() throws SQLException {
    start("replaced_index", "upsert", "auto.evolve", "false");
    task.put(List.of(event("e1", 0, "")));
    alter("ALTER TABLE t DROP CONSTRAINT t_pkey");
    alter("CREATE UNIQUE INDEX t_by_id ON t (event_id)");
    task.put(List.of(event("e1", 1, "\"v\":2"), event("e2", 2, "")));

    assertEquals(List.of("e1:2", "e2:"), rows("event_id || ':' || coalesce(payload->>'v', '')"));
  }

  /**
   * Append mode's COPY names no unique index: it learns of an event id already stored only from the
   * index's 23505. So a unique index on the event id dropped under the task (or a table swapped for
   * a copy made without it) is noticed before the next COPY relies on it, in text format as in
   * binary, and auto.evolve adds it again: an event id arriving again at new offsets never makes a
   * second row.
   */
  @Test
  void anAppendTablesDroppedUniqueIndexIsAddedAgainBeforeAnEventIdLandsTwice() throws SQLException {
    for (String format : List.of("binary", "text")) {
      start("dropped_append_index_" + format, "append");
      task.put(List.of(event("e1", 0, "")));
      if (format.equals("text")) {
        alter("ALTER TABLE t ALTER COLUMN payload TYPE json"); // no binary COPY into json
      }
      alter("ALTER TABLE t DROP CONSTRAINT t_event_id_key");
      task.put(List.of(event("e1", 1, ""), event("e2", 2, "")));
      task.put(List.of(event("e1", 3, "")));

      assertEquals(List.of("e1", "e2"), rows("event_id"), format);
      assertEquals(1, uniqueIndexes(), format);
      assertEquals(List.of(), context.deadLettered(), format);
      task.stop();
      task = null;
    }
  }

  /** A DBA's swap for a copy without the unique index: auto.evolve adds it to the new table. */
  @Test
  void anAppendTableSwappedForOneWithoutTheUniqueIndexGetsItBeforeAnEventIdLandsTwice()
      throws SQLException {
    start("swapped_append", "append");
    task.put(List.of(event("e1", 0, "")));
    alter(
        "CREATE TABLE t_new (LIKE t INCLUDING DEFAULTS); DROP TABLE t;"
            + " ALTER TABLE t_new RENAME TO t");
    task.put(List.of(event("e1", 1, ""))); // the new table is empty: e1 is new to it
    task.put(List.of(event("e1", 2, ""), event("e2", 3, "")));

    assertEquals(List.of("e1", "e2"), rows("event_id"));
    assertEquals(1, uniqueIndexes());
    assertEquals(List.of(), context.deadLettered());
  }

  /**
   * Without auto.evolve the sink may not add it back: the task stops naming the table and the
   * index, writing nothing of the batch.
   */
  @Test
  void anAppendTablesDroppedUniqueIndexWithoutAutoEvolveStopsTheTaskNamingIt() throws SQLException {
    start("dropped_append_index_fixed", "append", "auto.evolve", "false");
    task.put(List.of(event("e1", 0, "")));
    alter("ALTER TABLE t DROP CONSTRAINT t_event_id_key");
    assertStopsNamingTheTable(
        List.of(event("e1", 1, ""), event("e2", 2, "")), "has no unique index on (event_id)");
    assertEquals(List.of("e1"), rows("event_id"));
  }

  /**
   * Rows another writer stored twice while the index was gone keep auto.evolve from adding it: the
   * task stops saying so, quoting no value, and writes nothing of the batch.
   */
  @Test
  void anAppendTableHoldingAnEventIdTwiceWithoutItsIndexStopsTheTaskSayingSo() throws SQLException {
    start("duplicates_stored", "append");
    task.put(List.of(event("e1", 0, "")));
    alter("ALTER TABLE t DROP CONSTRAINT t_event_id_key");
    alter(
        "INSERT INTO t (event_id, payload, kafka_topic, kafka_partition, kafka_offset)"
            + " SELECT event_id, payload, kafka_topic, kafka_partition, 100 FROM t");
    ConnectException e =
        assertStopsNamingTheTable(
            List.of(event("e2", 1, "")), "has no unique index on (event_id)", "Delete the");
    assertNoMessageQuotes(e, "e1");
    assertEquals(List.of("e1", "e1"), rows("event_id"));
  }

  /**
   * Every mode relies on its unique index (append for one row per event id, the others for ON
   * CONFLICT): without auto.evolve a table lacking it stops the task at its first write, naming the
   * table and the index, not as a table changed under the running task.
   */
  @Test
  void aTableWithoutItsUniqueIndexStopsTheTaskWithoutAutoEvolveInEveryMode() throws SQLException {
    Map<String, String> conflictColumns =
        Map.of(
            "append", "(event_id)",
            "upsert", "(event_id)",
            "audit", "(kafka_topic, kafka_partition, kafka_offset, event_time)",
            "dead_letter", "(kafka_topic, kafka_partition, kafka_offset)");
    for (Map.Entry<String, String> mode : conflictColumns.entrySet()) {
      String at = "\"timestamp\":\"2026-12-01T00:00:00Z\"";
      start("no_index_" + mode.getKey(), mode.getKey(), "columns", "");
      task.put(List.of(event("e1", 0, at)));
      task.stop();
      alter(DROP_UNIQUE_CONSTRAINTS);
      restartedWith(mode.getKey(), "columns", "", "auto.evolve", "false");
      ConnectException e = assertStopsNamingTheTable(List.of(event("e2", 1, at)));
      assertTrue(
          e.getMessage().contains("has no unique index on " + mode.getValue()),
          mode.getKey() + ": " + e.getMessage());
      assertFalse(e.getMessage().contains("changed under the running task"), e.getMessage());
      assertEquals(1, LocalTasks.count(database, "SELECT count(*) FROM t"), mode.getKey());
      task.stop();
      task = null;
    }
  }

  private static final String DROP_UNIQUE_CONSTRAINTS =
      "DO $$ DECLARE c text; BEGIN FOR c IN SELECT conname FROM pg_constraint"
          + " WHERE conrelid = 't'::regclass AND contype IN ('p', 'u') LOOP"
          + " EXECUTE format('ALTER TABLE t DROP CONSTRAINT %I', c); END LOOP; END $$";

  /** The unique indexes of table t. */
  private long uniqueIndexes() throws SQLException {
    return LocalTasks.count(
        database, "SELECT count(*) FROM pg_index WHERE indrelid = 't'::regclass AND indisunique");
  }

  /**
   * A NOT NULL column without a default, which the sink does not write, refuses every row: the
   * table's fault, not the records'. The task stops naming the table and the column, and
   * dead-letters none of them.
   */
  @Test
  void aNotNullColumnTheSinkDoesNotWriteStopsTheTaskAndDeadLettersNothing() throws SQLException {
    for (String mode : List.of("append", "upsert")) {
      start("not_null_" + mode, mode, "columns", "score:bigint:score");
      task.put(List.of(event("e1", 0, "")));
      alter("ALTER TABLE t ADD COLUMN region text NOT NULL DEFAULT 'eu'");
      alter("ALTER TABLE t ALTER COLUMN region DROP DEFAULT, ALTER COLUMN score TYPE integer");
      ConnectException e =
          assertThrows(
              ConnectException.class,
              () ->
                  task.put(
                      List.of(
                          event("e2", 1, "\"score\":98765432101"),
                          event("e3", 2, ""),
                          event("e4", 3, ""))));
      assertTrue(e.getMessage().contains("\"t\""), e.getMessage());
      assertTrue(e.getMessage().contains("region"), e.getMessage());
      assertEquals(List.of(), context.deadLettered(), mode);
      assertEquals(1, LocalTasks.count(database, "SELECT count(*) FROM t"), mode);
      task.stop();
      task = null;
    }
  }

  /**
   * A NOT NULL column the sink does not write but that PostgreSQL fills from the row (a generated
   * column, a BEFORE INSERT trigger) is null for some rows only: those rows are dead-lettered and
   * the rest written, the task goes on.
   */
  @Test
  void aNotNullColumnFilledFromThePayloadDeadLettersOnlyTheRowsLeavingItNull() throws SQLException {
    String generated =
        "ALTER TABLE t ADD COLUMN tenant text GENERATED ALWAYS AS (payload->>'tenant') STORED"
            + " NOT NULL";
    String trigger =
        "ALTER TABLE t ADD COLUMN tenant text NOT NULL DEFAULT 'a';"
            + " ALTER TABLE t ALTER COLUMN tenant DROP DEFAULT;"
            + " CREATE FUNCTION fill_tenant() RETURNS trigger LANGUAGE plpgsql AS"
            + " $$ BEGIN NEW.tenant := NEW.payload->>'tenant'; RETURN NEW; END $$;"
            + " CREATE TRIGGER fill_tenant BEFORE INSERT ON t FOR EACH ROW"
            + " EXECUTE FUNCTION fill_tenant()";
    for (String mode : List.of("append", "upsert")) {
      for (String change : List.of(generated, trigger)) {
        start("filled_" + mode, mode);
        task.put(List.of(event("e1", 0, "\"tenant\":\"a\"")));
        alter(change);
        task.put(
            List.of(
                event("e2", 1, "\"tenant\":\"b\""),
                event("e3", 2, ""),
                event("e4", 3, "\"tenant\":\"c\"")));

        assertEquals(List.of("e1:a", "e2:b", "e4:c"), rows("event_id || ':' || tenant"), change);
        assertEquals(1, context.deadLettered().size(), mode + ": " + change);
        assertEquals(2, context.deadLettered().get(0).getKey().kafkaOffset(), change);
        assertTrue(
            context.deadLettered().get(0).getValue().getMessage().contains("SQLSTATE 23502"),
            change);
        task.stop();
        task = null;
      }
    }
  }

  /**
   * In a SQL_ASCII database a JSON escape above 0x7F cannot be stored as jsonb (SQLSTATE 0A000,
   * "conversion between UTF8 and SQL_ASCII is not supported"): the record's fault, not the table's.
   * It alone is dead-lettered, naming the SQLSTATE, and the rest are written.
   */
  @Test
  void aJsonEscapeASqlAsciiDatabaseCannotStoreDeadLettersOnlyItsRecord() throws SQLException {
    for (String mode : List.of("append", "upsert")) {
      database = "sql_ascii_" + mode;
      try (Connection c = SERVER.connect("postgres");
          Statement s = c.createStatement()) {
        s.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
        s.execute(
            "CREATE DATABASE "
                + database
                + " ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
      }
      context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
      task = LocalTasks.started(SERVER.jdbcUrl(database), context, options(mode));
      task.put(
          List.of(
              event("e1", 0, "\"name\":\"Rene\""),
              event("e2", 1, "\"name\":\"Ren\\u00e9e\""),
              event("e3", 2, "\"name\":\"Renee\"")));

      assertEquals(List.of("e1", "e3"), rows("event_id"), mode);
      assertEquals(1, context.deadLettered().size(), mode);
      assertEquals(1, context.deadLettered().get(0).getKey().kafkaOffset(), mode);
      String reason = context.deadLettered().get(0).getValue().getMessage();
      assertTrue(reason.contains("SQLSTATE 0A000"), reason);
      // alone in its batch, as at low traffic, such a record is still its own fault
      task.put(List.of(event("e4", 3, "\"name\":\"Ren\\u00e9e\"")));
      assertEquals(2, context.deadLettered().size(), mode);
      assertEquals(3, context.deadLettered().get(1).getKey().kafkaOffset(), mode);
      task.stop();
      task = null;
    }
  }

  /**
   * A DBA's regclass column: a value naming no table raises 42P01, as a dropped table would. The
   * task reads the catalog again, and when the batch is still refused, finds that only that row is
   * to blame: it is dead-lettered naming the SQLSTATE, never the value, and the rest written.
   */
  @Test
  void aRowWhoseValueNamesNoObjectIsDeadLetteredWithoutItsValue() throws SQLException {
    for (String mode : List.of("append", "upsert")) {
      start("regclass_" + mode, mode, "columns", "ref:text:ref");
      task.put(List.of(event("e1", 0, "\"ref\":\"pg_class\"")));
      alter("ALTER TABLE t ALTER COLUMN ref TYPE regclass USING ref::regclass");
      task.put(
          List.of(
              event("e2", 1, "\"ref\":\"pg_type\""),
              event("e3", 2, "\"ref\":\"secret_value\""),
              event("e4", 3, "\"ref\":\"pg_proc\"")));

      assertEquals(List.of("e1", "e2", "e4"), rows("event_id"), mode);
      assertEquals(1, context.deadLettered().size(), mode);
      assertEquals(2, context.deadLettered().get(0).getKey().kafkaOffset(), mode);
      Throwable reason = context.deadLettered().get(0).getValue();
      assertTrue(reason.getMessage().contains("SQLSTATE 42P01"), reason.getMessage());
      for (Throwable t = reason; t != null; t = t.getCause()) {
        assertFalse(String.valueOf(t.getMessage()).contains("secret_value"), t.getMessage());
      }
      task.stop();
      task = null;
    }
  }

  /**
   * A table whose column the catalog names as the layout's type, but whose binary input refuses the
   * layout's bytes (SQLSTATE 22P03: here a domain named uuid that a search_path puts before
   * pg_catalog's): the batch is retried once, in text format, not again in binary format until
   * retry.timeout.ms runs out.
   */
  @Test
  void aTableWhoseBinaryCopyWasRefusedTakesTextFormatAtTheRetry() throws SQLException {
    database = "binary_refused";
    String url = SERVER.createDatabase(database);
    alter("CREATE DOMAIN public.uuid AS \"char\"");
    alter("ALTER DATABASE binary_refused SET search_path = public, pg_catalog");
    context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task = LocalTasks.started(url, context, options("append", "columns", "ref:uuid:ref"));
    List<SinkRecord> batch =
        List.of(event("e1", 0, "\"ref\":\"0e7d3b1c-5a4f-4c8e-9b2d-1f6a7c8e9d0a\""));
    assertThrows(RetriableException.class, () -> task.put(batch));
    task.put(batch);

    assertEquals(List.of("e1:0"), rows("event_id || ':' || ref::pg_catalog.text"));
    assertEquals(List.of(), context.deadLettered());
  }

  /**
   * A table that refuses the batch at commit (a deferred constraint trigger reading a table dropped
   * since), after its bad records were dead-lettered: they are not sent a second time, and the
   * task's error does not claim a retry that did not run.
   */
  @Test
  void aFailureAtCommitDoesNotDeadLetterTheBatchsBadRecordsTwice() throws SQLException {
    start("fails_at_commit", "append");
    task.put(List.of(event("e1", 0, "")));
    alter(
        "CREATE TABLE gone (id int); CREATE FUNCTION at_commit() RETURNS trigger LANGUAGE plpgsql"
            + " AS $$ BEGIN PERFORM 1 FROM gone; RETURN NULL; END $$;"
            + " CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON t DEFERRABLE INITIALLY"
            + " DEFERRED FOR EACH ROW EXECUTE FUNCTION at_commit(); DROP TABLE gone");
    SinkRecord notJson = new SinkRecord(PARTITION.topic(), 0, null, "x", null, "not json", 1);
    ConnectException e =
        assertThrows(ConnectException.class, () -> task.put(List.of(notJson, event("e2", 2, ""))));

    assertEquals(1, context.deadLettered().size());
    assertTrue(e.getMessage().contains("SQLSTATE 42P01"), e.getMessage());
    assertFalse(e.getMessage().contains("even after"), e.getMessage());
    assertEquals(List.of("e1"), rows("event_id"));
  }

  /**
   * The sink's own offsets table dropped under the task: the error names it and says a restart
   * makes it again, not auto.create, which is for the tables the records go to; and a restart does.
   */
  @Test
  void theOffsetsTableDroppedUnderTheTaskIsNamedAndMadeAgainAtRestart() throws SQLException {
    start("offsets_dropped", "append");
    task.put(List.of(event("e1", 0, "")));
    alter("DROP TABLE soma_connect_offsets");
    ConnectException e =
        assertThrows(ConnectException.class, () -> task.put(List.of(event("e2", 1, ""))));
    assertTrue(e.getMessage().contains("offsets table"), e.getMessage());
    assertTrue(e.getMessage().contains("soma_connect_offsets"), e.getMessage());
    assertTrue(e.getMessage().contains("restart"), e.getMessage());
    assertFalse(e.getMessage().contains("auto.create"), e.getMessage());
    task.stop();
    restartedWith("append");
    task.put(List.of(event("e2", 1, "")));

    assertEquals(List.of("e1", "e2"), rows("event_id"));
  }

  /**
   * An audit table is partitioned: PostgreSQL's NOT NULL violation names the month's partition, not
   * the table. A NOT NULL column the sink does not write still fails the task naming the column,
   * and no record is dead-lettered.
   */
  @Test
  void aNotNullColumnOfAPartitionedAuditTableStopsTheTaskAndDeadLettersNothing()
      throws SQLException {
    start("not_null_audit", "audit", "columns", "");
    task.put(List.of(event("e1", 0, "\"timestamp\":\"2026-12-01T00:00:00Z\"")));
    alter("ALTER TABLE t ADD COLUMN region text NOT NULL DEFAULT 'eu'");
    alter("ALTER TABLE t ALTER COLUMN region DROP DEFAULT");
    ConnectException e =
        assertThrows(
            ConnectException.class,
            () ->
                task.put(
                    List.of(
                        event("e2", 1, "\"timestamp\":\"2026-12-01T00:00:01Z\""),
                        event("e3", 2, "\"timestamp\":\"2026-12-01T00:00:02Z\""))));
    assertTrue(e.getMessage().contains("\"t\""), e.getMessage());
    assertTrue(e.getMessage().contains("region"), e.getMessage());
    assertEquals(List.of(), context.deadLettered());
    assertEquals(1, LocalTasks.count(database, "SELECT count(*) FROM t"));
  }

  /**
   * A DBA adds an INSERT rule to an upsert table: PostgreSQL refuses every INSERT ... ON CONFLICT
   * (SQLSTATE 0A000). Every row refused, for no fault of its data, is the table's fault: the task
   * stops naming the table and dead-letters nothing.
   */
  @Test
  void aRuleThatRefusesEveryUpsertStopsTheTaskAndDeadLettersNothing() throws SQLException {
    start("insert_rule", "upsert");
    task.put(List.of(event("e1", 0, "")));
    alter("CREATE RULE t_inserted AS ON INSERT TO t DO ALSO NOTIFY t_inserted");
    assertStopsNamingTheTable(
        List.of(event("e2", 1, ""), event("e3", 2, ""), event("e4", 3, "")), "SQLSTATE 0A000");
    assertEquals(List.of("e1"), rows("event_id"));
  }

  /**
   * A BEFORE UPDATE trigger inserting into a table dropped since: only the rows taking the update
   * path fail (SQLSTATE 42P01, raised inside PL/pgSQL). The trigger is the table's, not the rows':
   * the task stops naming the table and dead-letters nothing.
   */
  @Test
  void aCatalogStateRaisedInsideATriggerStopsTheTaskAndDeadLettersNothing() throws SQLException {
    start("trigger_gone", "upsert");
    task.put(List.of(event("e1", 0, "")));
    alter(
        "CREATE TABLE gone (id text); CREATE FUNCTION on_update() RETURNS trigger LANGUAGE plpgsql"
            + " AS $$ BEGIN INSERT INTO gone VALUES (NEW.event_id); RETURN NEW; END $$;"
            + " CREATE TRIGGER on_update BEFORE UPDATE ON t FOR EACH ROW"
            + " EXECUTE FUNCTION on_update(); DROP TABLE gone");
    assertStopsNamingTheTable(
        List.of(event("e1", 1, ""), event("e2", 2, ""), event("e3", 3, "")), "SQLSTATE 42P01");
    assertEquals(List.of("e1"), rows("event_id"));
  }

  /**
   * A regclass column every row of a batch fills with a name of no table: the task fails (the table
   * refused every row), and no exception of the failure's chain quotes the value, which is record
   * data: the worker logs the chain.
   */
  @Test
  void aFailureWhoseMessageMayQuoteAValueKeepsItOutOfTheCauseChain() throws SQLException {
    start("regclass_chain", "append", "columns", "ref:text:ref");
    task.put(List.of(event("e1", 0, "\"ref\":\"pg_class\"")));
    alter("ALTER TABLE t ALTER COLUMN ref TYPE regclass USING ref::regclass");
    ConnectException e =
        assertThrows(
            ConnectException.class,
            () -> task.put(List.of(event("e2", 1, "\"ref\":\"secret_value\""))));
    assertTrue(e.getMessage().contains("SQLSTATE 42P01"), e.getMessage());
    assertNoMessageQuotes(e, "secret_value");
    assertEquals(List.of(), context.deadLettered());
  }

  /**
   * A DBA's table partitioned by range, with no partition for the batch's rows: PostgreSQL refuses
   * each (SQLSTATE 23514, "no partition of relation ... found for row"). Every row refused so is
   * the table's fault, as a NOT NULL column nothing fills: the task stops naming the table, quoting
   * no value, dead-letters nothing and reports no offset, so the records wait for the partition.
   */
  @Test
  void aPartitionedTableWithNoPartitionForAnyRowStopsTheTaskAndDeadLettersNothing()
      throws SQLException {
    startPartitioned("no_partition");
    List<SinkRecord> batch = List.of(event("x1", 0, ""), event("x2", 1, ""));
    ConnectException e = assertStopsNamingTheTable(batch, "SQLSTATE 23514", "no partition");
    assertNoMessageQuotes(e, "x1");
    assertEquals(
        Map.of(), task.preCommit(Map.of(PARTITION, new OffsetAndMetadata(2))), "no offset");
    assertEquals(0, LocalTasks.count(database, "SELECT count(*) FROM soma_connect_offsets"));
    assertEquals(List.of(), rows("event_id"));
  }

  /**
   * A batch of one row without a partition (an id beyond the partitions, at low traffic) is that
   * row's fault: dead-lettered, not the table's.
   */
  @Test
  void aLoneRowWithNoPartitionIsDeadLettered() throws SQLException {
    startPartitioned("lone_partitionless");
    task.put(List.of(event("x1", 0, "")));
    task.put(List.of(event("e2", 1, "")));

    assertEquals(List.of("e2"), rows("event_id"));
    assertEquals(1, context.deadLettered().size());
    assertEquals(0, context.deadLettered().get(0).getKey().kafkaOffset());
  }

  /** Only some rows without a partition (ids beyond the partitions): those are dead-lettered. */
  @Test
  void aRowWithNoPartitionAmongOthersIsDeadLetteredAndTheOthersLand() throws SQLException {
    startPartitioned("some_partitionless");
    task.put(List.of(event("e1", 0, ""), event("x2", 1, ""), event("e3", 2, "")));

    assertEquals(List.of("e1", "e3"), rows("event_id"));
    assertEquals(1, context.deadLettered().size());
    assertEquals(1, context.deadLettered().get(0).getKey().kafkaOffset());
    assertTrue(
        context.deadLettered().get(0).getValue().getMessage().contains("SQLSTATE 23514"),
        context.deadLettered().get(0).getValue().getMessage());
  }

  /**
   * A table partitioned by time cannot be an append table (PostgreSQL's unique index on a
   * partitioned table must hold the partition key): with auto.evolve the sink cannot add the index
   * it needs, and stops saying why, not with a bare SQLSTATE 0A000.
   */
  @Test
  void aTablePartitionedByTimeStopsTheTaskSayingWhyItCannotHaveTheIndex() throws SQLException {
    database = "partitioned_by_time";
    String url = SERVER.createDatabase(database);
    alter(
        "CREATE TABLE t (event_id text NOT NULL, payload jsonb NOT NULL, kafka_topic text NOT"
            + " NULL, kafka_partition integer NOT NULL, kafka_offset bigint NOT NULL,"
            + " ingested_at timestamptz NOT NULL DEFAULT now()) PARTITION BY RANGE (ingested_at);"
            + " CREATE TABLE t_all PARTITION OF t DEFAULT");
    context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task = LocalTasks.started(url, context, options("append"));
    ConnectException e =
        assertThrows(ConnectException.class, () -> task.put(List.of(event("e1", 0, ""))));
    assertTrue(e.getMessage().contains("partition key"), e.getMessage());
    assertEquals(List.of(), context.deadLettered());
  }

  /**
   * Table t made by a DBA, partitioned by range on the event id, with a partition for ids from e
   * only: so that it can have the unique index on event_id that append mode needs (one on a
   * partitioned table must hold the partition key, which a table partitioned by time cannot).
   */
  private void startPartitioned(String database) throws SQLException {
    this.database = database;
    String url = SERVER.createDatabase(database);
    alter(
        "CREATE TABLE t (event_id text NOT NULL, payload jsonb NOT NULL, kafka_topic text NOT"
            + " NULL, kafka_partition integer NOT NULL, kafka_offset bigint NOT NULL,"
            + " UNIQUE (event_id)) PARTITION BY RANGE (event_id);"
            + " CREATE TABLE t_e PARTITION OF t FOR VALUES FROM ('e') TO ('f')");
    context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task = LocalTasks.started(url, context, options("append", "auto.evolve", "false"));
  }

  /**
   * A DBA's regconfig column filled from columns: a value naming no text search configuration
   * (SQLSTATE 42704) or a configuration in no schema (3F000) is that row's fault, as a regclass
   * naming no table: dead-lettered, its reason quoting no value, and the rest written.
   */
  @Test
  void aRowWhoseValueNamesNoConfigurationIsDeadLetteredWithoutItsValue() throws SQLException {
    for (String mode : List.of("append", "upsert")) {
      start("regconfig_" + mode, mode, "columns", "ref:text:ref");
      task.put(List.of(event("e1", 0, "\"ref\":\"english\"")));
      alter("ALTER TABLE t ALTER COLUMN ref TYPE regconfig USING ref::regconfig");
      task.put(
          List.of(
              event("e2", 1, "\"ref\":\"simple\""),
              event("e3", 2, "\"ref\":\"secret_config\""),
              event("e4", 3, "\"ref\":\"secret_schema.english\""),
              event("e5", 4, "\"ref\":\"german\"")));

      assertEquals(List.of("e1", "e2", "e5"), rows("event_id"), mode);
      assertEquals(2, context.deadLettered().size(), mode);
      assertEquals(2, context.deadLettered().get(0).getKey().kafkaOffset(), mode);
      assertEquals(3, context.deadLettered().get(1).getKey().kafkaOffset(), mode);
      for (Map.Entry<SinkRecord, Throwable> letter : context.deadLettered()) {
        for (Throwable t = letter.getValue(); t != null; t = t.getCause()) {
          String reason = String.valueOf(t.getMessage());
          assertFalse(reason.contains("secret_"), reason);
        }
      }
      assertTrue(
          context.deadLettered().get(0).getValue().getMessage().contains("SQLSTATE 42704"), mode);
      assertTrue(
          context.deadLettered().get(1).getValue().getMessage().contains("SQLSTATE 3F000"), mode);
      task.stop();
      task = null;
    }
  }

  /**
   * A DBA's trigger refusing a row with the row's value in its message (RAISE EXCEPTION, SQLSTATE
   * P0001): the task fails, and no message of its chain quotes the value: the worker logs the
   * chain, and Connect's REST status shows it.
   */
  @Test
  void aTriggersMessageQuotingAValueIsKeptOutOfTheTasksError() throws SQLException {
    start("trigger_raises", "append");
    task.put(List.of(event("e0", 0, "")));
    alter(
        "CREATE FUNCTION check_email() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE"
            + " EXCEPTION 'invalid email %', NEW.payload->>'email'; END $$;"
            + " CREATE TRIGGER check_email BEFORE INSERT ON t FOR EACH ROW"
            + " EXECUTE FUNCTION check_email()");
    ConnectException e =
        assertThrows(
            ConnectException.class,
            () -> task.put(List.of(event("e1", 1, "\"email\":\"secret@example.com\""))));
    assertTrue(e.getMessage().contains("SQLSTATE P0001"), e.getMessage());
    assertNoMessageQuotes(e, "secret@example.com");
    assertEquals(List.of(), context.deadLettered());
  }

  /** No message in the chain of causes and next exceptions holds {@code value}. */
  private static void assertNoMessageQuotes(Throwable e, String value) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      assertFalse(String.valueOf(t.getMessage()).contains(value), t.toString());
      if (t instanceof SQLException q) {
        for (SQLException n = q.getNextException(); n != null; n = n.getNextException()) {
          assertFalse(String.valueOf(n.getMessage()).contains(value), n.toString());
        }
      }
    }
  }

  private void start(String database, String mode, String... options) {
    this.database = database;
    String url = SERVER.createDatabase(database);
    context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task = LocalTasks.started(url, context, options(mode, options));
  }

  /** Another task on the same database, as a restart with another config. */
  private void restartedWith(String mode, String... options) {
    context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task = LocalTasks.started(SERVER.jdbcUrl(database), context, options(mode, options));
  }

  private static String[] options(String mode, String... options) {
    List<String> all = new ArrayList<>(List.of("write.mode", mode, "table.name.format", "t"));
    if (mode.equals("upsert")) {
      all.addAll(List.of("key.fields", "event_id"));
    }
    all.addAll(List.of(options));
    return all.toArray(String[]::new);
  }

  private void alter(String sql) throws SQLException {
    LocalTasks.execute(database, sql);
  }

  /** One text per row of t, in order. */
  private List<String> rows(String expression) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection c = SERVER.connect(database);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT " + expression + " FROM t ORDER BY 1")) {
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    }
    return rows;
  }

  private static SinkRecord event(String id, long offset, String fields) {
    String json = "{\"event_id\":\"" + id + "\"" + (fields.isEmpty() ? "" : "," + fields) + "}";
    return new SinkRecord(PARTITION.topic(), 0, null, id, null, json, offset);
  }

  /**
   * Puts the batch and expects the task to stop for the table: a ConnectException naming table t
   * and each phrase, with nothing dead-lettered.
   */
  private ConnectException assertStopsNamingTheTable(List<SinkRecord> batch, String... phrases) {
    ConnectException e = assertThrows(ConnectException.class, () -> task.put(batch));
    assertTrue(e.getMessage().contains("\"t\""), e.getMessage());
    for (String phrase : phrases) {
      assertTrue(e.getMessage().contains(phrase), e.getMessage());
    }
    assertEquals(List.of(), context.deadLettered());
    return e;
  }
}
