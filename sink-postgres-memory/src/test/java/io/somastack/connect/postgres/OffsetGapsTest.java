package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.postgres.config.PostgresSinkConfig;
import io.somastack.connect.postgres.write.OffsetStore;
import io.somastack.connect.postgres.write.PostgresSession;
import io.somastack.connect.testing.CapturedStderr;
import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Offsets with gaps: a topic written in transactions has a commit marker after each transaction
 * (the outbox relay writes exactly once), and a compacted topic loses records; the first record
 * after the stored offset then lies beyond it, though the database lacks nothing. Only a database
 * really behind the records (restored from an older backup) is warned about. (The tests log through
 * slf4j-simple, which writes to System.err.)
 */
class OffsetGapsTest {

  private static final String DATABASE = "offset_gaps";
  private static final TopicPartition PARTITION = new TopicPartition("outbox", 0);
  private static final String BEHIND = "missing from PostgreSQL";

  private String url;
  private PostgresMemorySinkTask task;
  private PostgresSession session;

  @BeforeEach
  void createDatabase() {
    url = SERVER.createDatabase(DATABASE);
  }

  @AfterEach
  void stop() {
    if (task != null) {
      task.stop();
    }
    if (session != null) {
      session.close();
    }
  }

  /**
   * Records 0-2 in a transaction, its commit marker at offset 3, then 4-5: a restarted task resumes
   * at 3 and gets 4 first. It writes them, without a warning that PostgreSQL is behind.
   */
  @Test
  void aTransactionMarkerAfterTheStoredOffsetIsNoWarning() throws Exception {
    task = LocalTasks.started(url, new HandRunTaskContext(PARTITION), "table.name.format", "e");
    task.put(List.of(record(0), record(1), record(2)));
    task.stop();

    HandRunTaskContext context = new HandRunTaskContext(PARTITION);
    String logged =
        CapturedStderr.ofWork(
            () -> {
              task = LocalTasks.started(url, context, "table.name.format", "e");
              assertEquals(Map.of(PARTITION, 3L), context.requestedOffsets(), "resumed at 3");
              // Connect's first poll after seeking to 3, and (if the task rewinds to make sure
              // nothing lies before 4) its poll after that rewind: 4 and 5 both times
              task.put(List.of(record(4), record(5)));
              task.put(List.of(record(4), record(5)));
            });

    assertEquals(5, LocalTasks.count(DATABASE, "SELECT count(*) FROM e"));
    assertEquals(6, LocalTasks.count(DATABASE, "SELECT next_offset FROM soma_connect_offsets"));
    assertFalse(logged.contains(BEHIND), logged);
    assertFalse(logged.contains("WARN"), logged);
  }

  /**
   * The stored offsets read again after a transient error: a gap a rewind showed to be natural (the
   * rewind came back to the same record) is not rewound again, nor is its partition left out of the
   * batch.
   */
  @Test
  void aGapShownNaturalIsNotRewoundAgainAfterTheOffsetsAreReadAgain() throws SQLException {
    PartitionOffsets offsets = offsetsStoredAt(3);
    assertTrue(offsets.startsBeyondStored(record(4), PARTITION), "checked by a rewind");
    offsets.polled(); // Connect sought back to 3, and polled 4 again: nothing lies before it
    assertFalse(offsets.startsBeyondStored(record(4), PARTITION));

    offsets.reloadAssigned(); // a transient error: the same records come again
    offsets.load();
    offsets.polled();
    assertFalse(offsets.startsBeyondStored(record(4), PARTITION), "no second rewind");
  }

  /** A rewind that brings records the batch in hand had started after: those were missing. */
  @Test
  void recordsTheRewindBringsAreWarnedAbout() throws Exception {
    PartitionOffsets offsets = offsetsStoredAt(3);
    String logged =
        CapturedStderr.ofWork(
            () -> {
              assertTrue(offsets.startsBeyondStored(record(7), PARTITION));
              offsets.polled();
              assertFalse(offsets.startsBeyondStored(record(3), PARTITION), "written now");
            });
    assertTrue(logged.contains(BEHIND), logged);
    assertTrue(logged.contains("from offset 3 to 6"), logged);
  }

  /**
   * A gap of several offsets may also be records retention deleted before the sink wrote them (the
   * rewind's seek then lands at the earliest record left): not a warning, since compaction and
   * aborted transactions make such gaps too, but logged at INFO with the range; a gap of one (a
   * commit marker) only at DEBUG.
   */
  @Test
  void aGapOfSeveralOffsetsIsLoggedWithItsRange() throws Exception {
    PartitionOffsets offsets = offsetsStoredAt(3);
    String logged =
        CapturedStderr.ofWork(
            () -> {
              assertTrue(offsets.startsBeyondStored(record(7), PARTITION));
              offsets.polled();
              assertFalse(offsets.startsBeyondStored(record(7), PARTITION), "written now");
            });
    assertTrue(logged.contains("INFO"), logged);
    assertTrue(logged.contains("between offsets 3 and 6"), logged);
    assertFalse(logged.contains("WARN"), logged);
  }

  /** The task's offsets of PARTITION as a task reads them on open(), the database holding 3. */
  private PartitionOffsets offsetsStoredAt(long next) throws SQLException {
    PostgresSinkConfig config =
        new PostgresSinkConfig(Map.of("connection.url", url, "connection.user", SERVER.user()));
    session = new PostgresSession(config);
    OffsetStore store = new OffsetStore("public", "soma_connect_offsets", "gaps");
    store.createIfMissing(session.connection());
    session.connection().commit();
    LocalTasks.execute(
        DATABASE,
        "INSERT INTO soma_connect_offsets (connector, topic, kafka_partition, next_offset)"
            + " VALUES ('gaps', 'outbox', 0, "
            + next
            + ")");
    HandRunTaskContext context = new HandRunTaskContext(PARTITION);
    PartitionOffsets offsets = new PartitionOffsets(store, session, context);
    offsets.assigned(List.of(PARTITION));
    offsets.load();
    offsets.polled();
    return offsets;
  }

  private static SinkRecord record(long offset) {
    String json = "{\"event_id\":\"e" + offset + "\"}";
    return new SinkRecord(PARTITION.topic(), PARTITION.partition(), null, null, null, json, offset);
  }
}
