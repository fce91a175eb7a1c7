package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * Behind a pooler in transaction mode that does not track server-side prepared statements
 * (PgBouncer before 1.21), each transaction may run on another server connection, where the sink's
 * prepared statement is missing (26000) or one of its name is there already (42P05). The batch
 * failed saying only "PostgreSQL rejected a batch (SQLSTATE 26000)": it now says what to change.
 * The server's answer is made here by a trigger raising that state, as a pooler's server would.
 */
class PreparedStatementClashTest {

  private static final TopicPartition PARTITION = new TopicPartition("events", 0);

  @Test
  void aMissingPreparedStatementNamesThePoolerAndTheUrlSetting() throws Exception {
    String database = "prepared_statement_clash";
    String url = SERVER.createDatabase(database);
    HandRunTaskContext context = new HandRunTaskContext(PARTITION);
    PostgresMemorySinkTask task =
        LocalTasks.started(url, context, "table.name.format", "ev", "retry.timeout.ms", "0");
    try {
      task.put(List.of(event(0)));
      LocalTasks.execute(
          database,
          "CREATE FUNCTION missing() RETURNS trigger LANGUAGE plpgsql AS"
              + " $$BEGIN RAISE EXCEPTION 'prepared statement \"S_1\" does not exist'"
              + " USING ERRCODE = '26000'; END$$");
      LocalTasks.execute(
          database,
          "CREATE TRIGGER missing BEFORE INSERT ON ev FOR EACH STATEMENT EXECUTE FUNCTION"
              + " missing()");
      ConnectException failed =
          assertThrows(ConnectException.class, () -> task.put(List.of(event(1))));
      assertTrue(
          failed.getMessage().contains("SQLSTATE 26000")
              && failed.getMessage().contains("prepareThreshold=0"),
          failed.getMessage());
    } finally {
      task.stop();
    }
  }

  private static SinkRecord event(long offset) {
    String json = "{\"event_id\":\"e" + offset + "\"}";
    return new SinkRecord(PARTITION.topic(), 0, null, null, null, json, offset);
  }
}
