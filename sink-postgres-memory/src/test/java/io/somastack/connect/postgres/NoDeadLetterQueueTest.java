package io.somastack.connect.postgres;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * Without a dead letter queue a row the database refuses stops the task, and the error Connect logs
 * names the record by position and the reason by SQLSTATE, never by the record's contents
 * (PostgreSQL's own message quotes the failing row).
 */
class NoDeadLetterQueueTest {

  private static final PostgresServer SERVER = PostgresServer.shared();

  @Test
  void aRefusedRowStopsTheTaskWithAnErrorThatHoldsNoRecordContents() throws Exception {
    String database = "no_dead_letter_queue";
    String url = SERVER.createDatabase(database);
    try (Connection c = SERVER.connect(database);
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE events (event_id text NOT NULL UNIQUE, payload jsonb NOT NULL,"
              + " kafka_topic text NOT NULL, kafka_partition integer NOT NULL,"
              + " kafka_offset bigint NOT NULL, secret text CHECK (secret <> 'ssn-123-45-6789'),"
              + " ingested_at timestamptz NOT NULL DEFAULT now())");
    }
    Map<String, String> props = new HashMap<>();
    props.put("name", "no-dlq");
    props.put("connection.url", url);
    props.put("connection.user", SERVER.user());
    if (SERVER.password() != null) {
      props.put("connection.password", SERVER.password());
    }
    props.put("table.name.format", "events");
    props.put("columns", "secret:text:secret");
    PostgresMemorySinkTask task = new PostgresMemorySinkTask();
    task.initialize(new TaskContext(new TopicPartition("events", 0)));
    task.start(props);
    try {
      task.open(List.of(new TopicPartition("events", 0)));
      String json = "{\"event_id\":\"e1\",\"secret\":\"ssn-123-45-6789\"}";
      ConnectException e =
          assertThrows(
              ConnectException.class,
              () -> task.put(List.of(new SinkRecord("events", 0, null, null, null, json, 7))));
      assertTrue(e.getMessage().contains("events-0@7"), e.getMessage());
      assertTrue(e.getMessage().contains("SQLSTATE 23514"), e.getMessage());
      assertFalse(e.getMessage().contains("ssn-123-45-6789"), e.getMessage());
    } finally {
      task.stop();
    }
  }
}
