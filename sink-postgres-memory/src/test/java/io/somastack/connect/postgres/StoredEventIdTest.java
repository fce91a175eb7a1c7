package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Append mode copies rows without savepoints, so an event id that is already stored (a true
 * duplicate at a new offset, such as a producer's retry) fails the whole transaction: the task must
 * write that batch again, skipping only the stored ids, and land everything else.
 */
class StoredEventIdTest {

  private static final String DATABASE = "stored_event_id";
  private static final TopicPartition PARTITION = new TopicPartition("events", 0);

  private String url;
  private PostgresMemorySinkTask task;
  private HandRunTaskContext context;

  @BeforeEach
  void createDatabase() throws SQLException {
    url = SERVER.createDatabase(DATABASE);
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE events (event_id text NOT NULL UNIQUE, payload jsonb NOT NULL,"
            + " kafka_topic text NOT NULL, kafka_partition integer NOT NULL,"
            + " kafka_offset bigint NOT NULL, secret text CHECK (secret <> 'refused'),"
            + " ingested_at timestamptz NOT NULL DEFAULT now())");
    context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    task =
        LocalTasks.started(
            url,
            context,
            "write.mode",
            "append",
            "table.name.format",
            "events",
            "columns",
            "secret:text:secret",
            "batch.max.records",
            "2"); // several COPY statements per put: the first lands before the second fails
  }

  @AfterEach
  void stopTask() {
    task.stop();
  }

  @Test
  void aStoredIdInALaterStatementOfTheBatchLosesNothingElseOfIt() throws SQLException {
    task.put(List.of(record("e1", 0), record("e2", 1)));
    // statements [e3, e4] and [e1, e5]: the second meets e1, stored by the first put
    task.put(List.of(record("e3", 2), record("e4", 3), record("e1", 4), record("e5", 5)));

    assertEquals(5, LocalTasks.count(DATABASE, "SELECT count(*) FROM events"));
    assertEquals(
        0, LocalTasks.count(DATABASE, "SELECT kafka_offset FROM events WHERE event_id = 'e1'"));
    assertEquals(1.0, context.metric("duplicates-skipped-total"));
    assertEquals(1.0, context.metric("batches-rewritten-total"), "the put was written again");
    assertEquals(
        Map.of(PARTITION, new OffsetAndMetadata(6)),
        task.preCommit(Map.of(PARTITION, new OffsetAndMetadata(6))));
  }

  /**
   * The batches after one with a stored id copy inside savepoints: they skip such ids without being
   * written a second time.
   */
  @Test
  void theBatchesAfterAStoredIdSkipStoredIdsWithoutARewrite() throws SQLException {
    List<SinkRecord> first = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      first.add(record("e" + i, i));
    }
    task.put(first);
    long offset = 10;
    for (int round = 0; round < 3; round++) {
      task.put(List.of(record("new" + round, offset++), record("e" + round, offset++)));
    }
    assertEquals(13, LocalTasks.count(DATABASE, "SELECT count(*) FROM events"));
    assertEquals(3.0, context.metric("duplicates-skipped-total"));
    assertEquals(1.0, context.metric("batches-rewritten-total"), "only the first is rewritten");
  }

  /**
   * A batch holding both a stored id and a row the database refuses: only the refused row is dead
   * lettered. The stored id is skipped, not blamed, while the task looks for the culprit.
   */
  @Test
  void aStoredIdBesideARefusedRowIsSkippedNotDeadLettered() throws SQLException {
    task.put(List.of(record("e1", 0)));
    task.put(
        List.of(
            record("e2", 1),
            record("e1", 2),
            record("{\"event_id\":\"e3\",\"secret\":\"refused\"}", null, 3),
            record("e4", 4)));

    assertEquals(3, LocalTasks.count(DATABASE, "SELECT count(*) FROM events"));
    assertEquals(1, context.deadLettered().size());
    assertEquals(3, context.deadLettered().get(0).getKey().kafkaOffset());
  }

  private static SinkRecord record(String eventId, long offset) {
    return record("{\"event_id\":\"" + eventId + "\",\"text\":\"memory\"}", null, offset);
  }

  private static SinkRecord record(String json, Object key, long offset) {
    return new SinkRecord(PARTITION.topic(), 0, null, key, null, json, offset);
  }
}
