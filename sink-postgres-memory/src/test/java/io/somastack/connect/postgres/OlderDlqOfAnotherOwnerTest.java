package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.postgres.write.OffsetStore;
import io.somastack.connect.testing.CapturedStderr;
import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A dlq table made by a DBA from seed-tables.sql before event_key, event_key_format and
 * event_timestamp existed, with the connector's role granted DML only, as the file says. That role
 * may not add the columns (only the owner may alter a table), whatever auto.evolve says: dead
 * letters land without them, and one warning says how to add them, instead of the task stopping
 * where it ran before the upgrade.
 */
class OlderDlqOfAnotherOwnerTest {

  private static final String DATABASE = "older_dlq_of_another_owner";
  private static final String ROLE = "soma_sink_dlq_dml_only";
  private static final TopicPartition DLQ = new TopicPartition("memory.wal.dlq", 0);
  private static final String SECRET_KEY = "alice@example.com";

  private String url;
  private final PostgresMemorySinkTask task = new PostgresMemorySinkTask();

  @BeforeEach
  void createOlderDlq() throws SQLException {
    url = SERVER.createDatabase(DATABASE);
    LocalTasks.loginRoleWithoutCreate(DATABASE, ROLE);
    LocalTasks.execute(
        DATABASE,
        OffsetStore.createTableSql("soma_connect_offsets")
            + "; GRANT SELECT, INSERT, UPDATE, DELETE ON soma_connect_offsets TO "
            + ROLE
            + "; CREATE TABLE \"public\".\"dlq\" (\"id\" bigserial, \"topic\" text, \"event\" jsonb"
            + " NOT NULL, \"event_format\" text, \"error\" text, \"error_class\" text,"
            + " \"source_partition\" integer, \"source_offset\" bigint, \"connector\" text,"
            + " \"stage\" text, \"kafka_topic\" text, \"kafka_partition\" integer,"
            + " \"kafka_offset\" bigint, \"created_at\" timestamptz NOT NULL DEFAULT now(),"
            + " PRIMARY KEY (\"id\"), UNIQUE (\"kafka_topic\", \"kafka_partition\","
            + " \"kafka_offset\")); GRANT SELECT, INSERT, UPDATE, DELETE ON dlq TO "
            + ROLE
            + "; GRANT USAGE ON SEQUENCE dlq_id_seq TO "
            + ROLE);
  }

  @AfterEach
  void stopTask() {
    task.stop();
  }

  @ParameterizedTest(name = "auto.evolve={0}")
  @ValueSource(strings = {"true", "false"})
  void deadLettersLandWithoutTheKeyColumnsAndOneWarningSaysHowToAddThem(String autoEvolve)
      throws Exception {
    String log =
        CapturedStderr.ofWork(
            () -> {
              start(autoEvolve);
              task.put(List.of(deadLetter(0), deadLetter(1)));
              task.put(List.of(deadLetter(2)));
            });

    assertEquals(
        3,
        LocalTasks.count(
            DATABASE,
            "SELECT count(*) FROM dlq WHERE topic = 'memory.wal' AND error = 'bad'"
                + " AND event = '{\"a\": 1}' AND event_format = 'json'"));
    assertEquals(
        0,
        LocalTasks.count(
            DATABASE,
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'dlq'::regclass"
                + " AND attname IN ('event_key', 'event_key_format', 'event_timestamp')"));
    List<String> warnings =
        log.lines().filter(line -> line.contains("WARN") && line.contains("event_key")).toList();
    assertEquals(1, warnings.size(), log);
    String warning = warnings.get(0);
    for (String named :
        List.of(
            "\"public\".\"dlq\"",
            "event_key, event_key_format, event_timestamp",
            "ALTER TABLE \"public\".\"dlq\" ADD COLUMN IF NOT EXISTS \"event_key\" text",
            "ADD COLUMN IF NOT EXISTS \"event_timestamp\" timestamptz",
            "seed-tables.sql")) {
      assertTrue(warning.contains(named), warning);
    }
    assertFalse(log.contains(SECRET_KEY), log);
  }

  /**
   * A required column the table lacks, which the role may not add: the task stops, naming the
   * column and the ALTER TABLE the owner runs (PostgreSQL's "must be owner of table dlq" names
   * neither), and nothing is written.
   */
  @Test
  void aRequiredColumnTheRoleMayNotAddIsNamedWithItsStatement() throws Exception {
    LocalTasks.execute(DATABASE, "ALTER TABLE dlq DROP COLUMN stage");
    Exception e =
        assertThrows(
            Exception.class,
            () -> {
              start("true");
              task.put(List.of(deadLetter(0)));
            });
    for (String named :
        List.of(
            "lacks column(s) stage",
            "connection.user does not own it",
            "ALTER TABLE \"public\".\"dlq\" ADD COLUMN IF NOT EXISTS \"stage\" text")) {
      assertTrue(e.getMessage().contains(named), e.getMessage());
    }
    assertEquals(0, LocalTasks.count(DATABASE, "SELECT count(*) FROM dlq"));
  }

  /** A dlq without the unique index the sink's ON CONFLICT needs: named, with its statement. */
  @Test
  void aMissingUniqueIndexTheRoleMayNotMakeIsNamedWithItsStatement() throws Exception {
    LocalTasks.execute(
        DATABASE,
        "ALTER TABLE dlq DROP CONSTRAINT dlq_kafka_topic_kafka_partition_kafka_offset_key");
    Exception e =
        assertThrows(
            Exception.class,
            () -> {
              start("true");
              task.put(List.of(deadLetter(0)));
            });
    assertTrue(e.getMessage().contains("has no unique index on kafka_topic"), e.getMessage());
    assertTrue(e.getMessage().contains("CREATE UNIQUE INDEX IF NOT EXISTS"), e.getMessage());
  }

  private void start(String autoEvolve) {
    LocalTasks.started(
        task,
        url,
        new HandRunTaskContext(DLQ),
        "write.mode",
        "dead_letter",
        "table.name.format",
        "dlq",
        "auto.evolve",
        autoEvolve,
        "connection.user",
        ROLE,
        "connection.password",
        ROLE);
  }

  private static SinkRecord deadLetter(long offset) {
    ConnectHeaders headers = new ConnectHeaders();
    headers.addBytes("__connect.errors.topic", utf8("memory.wal"));
    headers.addBytes("__connect.errors.exception.message", utf8("bad"));
    return new SinkRecord(
        DLQ.topic(),
        DLQ.partition(),
        null,
        utf8(SECRET_KEY),
        null,
        utf8("{\"a\":1}"),
        offset,
        1714979289123L,
        TimestampType.CREATE_TIME,
        headers);
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
