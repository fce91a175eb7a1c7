package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * put() hands its batch to the task's writer thread and returns while PostgreSQL commits it. These
 * tests hold a batch in flight with a table lock taken from another connection, so what happens
 * meanwhile is certain, not a race: offsets are reported only once committed, a batch that fails in
 * the background fails the next put(), and its records are written once when they come again.
 */
class BackgroundWriteTest {

  private static final TopicPartition PARTITION = new TopicPartition("events", 0);
  private static final TopicPartition NEW_PARTITION = new TopicPartition("events", 1);
  private static final String DATABASE = "background_write";

  private final HandRunTaskContext context = new HandRunTaskContext(PARTITION, NEW_PARTITION);
  private PostgresMemorySinkTask task;

  @BeforeEach
  void start() {
    String url = SERVER.createDatabase(DATABASE);
    task = LocalTasks.started(url, context, "write.mode", "append", "table.name.format", "events");
    LocalTasks.putAndSettle(task, List.of(event(0))); // creates the table
  }

  @AfterEach
  void stop() {
    task.stop();
  }

  @Test
  void putReturnsWhileItsBatchCommitsAndPreCommitReportsItOnlyOnceCommitted() throws Exception {
    Map<TopicPartition, OffsetAndMetadata> consumed = Map.of(PARTITION, new OffsetAndMetadata(3));
    try (Connection lock = lockEvents()) {
      task.put(List.of(event(1), event(2)));
      awaitWriterBlocked();
      assertEquals(1, rows(), "put returned before its batch committed");
      lock.commit();
    }
    assertEquals(Map.of(PARTITION, new OffsetAndMetadata(3)), task.preCommit(consumed));
    assertEquals(3, rows());
  }

  @Test
  void aBatchWhoseConnectionDiesInTheBackgroundFailsTheNextPutAndIsWrittenOnceLater()
      throws Exception {
    try (Connection lock = lockEvents()) {
      task.put(List.of(event(1), event(2)));
      int writer = awaitWriterBlocked();
      LocalTasks.execute(DATABASE, "SELECT pg_terminate_backend(" + writer + ")");
      lock.commit();
    }
    assertEquals(
        Map.of(PARTITION, new OffsetAndMetadata(1)),
        task.preCommit(Map.of(PARTITION, new OffsetAndMetadata(3))),
        "a batch that failed reports no offsets");
    assertEquals(1, rows(), "the batch was lost with its connection");
    List<SinkRecord> next = List.of(event(3));
    assertThrows(RetriableException.class, () -> task.put(next));

    task.put(next); // Connect delivers the failed put's records again
    assertEquals(Map.of(PARTITION, 1L), context.requestedOffsets(), "rewound to the stored offset");
    // Connect may commit before its next poll seeks back: what it consumed is not done with
    assertEquals(
        Map.of(PARTITION, new OffsetAndMetadata(1)),
        task.preCommit(Map.of(PARTITION, new OffsetAndMetadata(4))));
    assertEquals(
        1,
        LocalTasks.count(
            DATABASE, "SELECT next_offset FROM soma_connect_offsets WHERE kafka_partition = 0"),
        "the records left out are not taken for records Connect skipped");
    LocalTasks.putAndSettle(task, List.of(event(1), event(2), event(3))); // from offset 1 again

    assertEquals(4, rows());
    assertEquals(4, LocalTasks.count(DATABASE, "SELECT count(DISTINCT kafka_offset) FROM events"));
  }

  /**
   * The first batch of a partition fails: the database holds no offset of it to resume from, so the
   * task resumes it from the failed batch's first record, not from the records in hand.
   */
  @Test
  void aPartitionsFirstBatchThatFailsInTheBackgroundIsWrittenFromItsFirstRecord() throws Exception {
    try (Connection lock = lockEvents()) {
      task.put(List.of(event(NEW_PARTITION, 5), event(NEW_PARTITION, 6)));
      int writer = awaitWriterBlocked();
      LocalTasks.execute(DATABASE, "SELECT pg_terminate_backend(" + writer + ")");
      lock.commit();
    }
    List<SinkRecord> next = List.of(event(NEW_PARTITION, 7));
    assertThrows(RetriableException.class, () -> task.put(next));

    task.put(next); // Connect delivers the failed put's records again
    assertEquals(5L, context.requestedOffsets().get(NEW_PARTITION), "rewound to the first record");
    assertEquals(1, rows(), "nothing written past the failed batch");
    LocalTasks.putAndSettle(
        task, List.of(event(NEW_PARTITION, 5), event(NEW_PARTITION, 6), next.get(0)));

    assertEquals(4, rows());
    assertEquals(
        8,
        LocalTasks.count(
            DATABASE, "SELECT next_offset FROM soma_connect_offsets WHERE kafka_partition = 1"));
  }

  /**
   * A batch of one partition fails, and the put that raises it holds records of another partition
   * only. Connect delivers that put again; the task asks for a seek of the first partition back to
   * its stored offset, and until Connect has sought, what it consumed there is not done with, even
   * if it commits first.
   */
  @Test
  void aFailedPartitionAbsentFromTheRedeliveredPutKeepsItsStoredOffset() throws Exception {
    try (Connection lock = lockEvents()) {
      task.put(List.of(event(1), event(2)));
      int writer = awaitWriterBlocked();
      LocalTasks.execute(DATABASE, "SELECT pg_terminate_backend(" + writer + ")");
      lock.commit();
    }
    List<SinkRecord> other = List.of(event(NEW_PARTITION, 0));
    assertThrows(RetriableException.class, () -> task.put(other));
    task.put(other); // delivered again; it holds nothing of the failed partition

    assertEquals(1L, context.requestedOffsets().get(PARTITION), "rewound to the stored offset");
    Map<TopicPartition, OffsetAndMetadata> consumed =
        Map.of(PARTITION, new OffsetAndMetadata(3), NEW_PARTITION, new OffsetAndMetadata(1));
    assertEquals(
        Map.of(PARTITION, new OffsetAndMetadata(1), NEW_PARTITION, new OffsetAndMetadata(1)),
        task.preCommit(consumed),
        "Connect commits before it seeks");
    assertEquals(1, storedOffset(PARTITION), "records 1 and 2 are not taken for skipped ones");

    LocalTasks.putAndSettle(task, List.of(event(1), event(2))); // after the seek
    assertEquals(4, rows());
    assertEquals(3, storedOffset(PARTITION));
  }

  /** No more records come: the failed batch's records are asked for again all the same. */
  @Test
  void onAQuietTopicAFailedBatchIsAskedForAgainWithoutNewRecords() throws Exception {
    try (Connection lock = lockEvents()) {
      task.put(List.of(event(1), event(2)));
      int writer = awaitWriterBlocked();
      LocalTasks.execute(DATABASE, "SELECT pg_terminate_backend(" + writer + ")");
      lock.commit();
    }
    assertThrows(RetriableException.class, () -> LocalTasks.settle(task));
    assertEquals(Map.of(), context.requestedOffsets());

    task.put(List.of()); // Connect's next put: still no records
    assertEquals(Map.of(PARTITION, 1L), context.requestedOffsets(), "rewound to the stored offset");
    LocalTasks.putAndSettle(task, List.of(event(1), event(2))); // after the seek
    assertEquals(3, rows());
  }

  private static long storedOffset(TopicPartition partition) throws SQLException {
    return LocalTasks.count(
        DATABASE,
        "SELECT next_offset FROM soma_connect_offsets WHERE kafka_partition = "
            + partition.partition());
  }

  /** A connection holding a lock that makes every insert into the table wait. */
  private static Connection lockEvents() throws SQLException {
    Connection c = SERVER.connect(DATABASE);
    c.setAutoCommit(false);
    try (Statement s = c.createStatement()) {
      s.execute("LOCK TABLE events IN EXCLUSIVE MODE");
    }
    return c;
  }

  /** Waits until the task's writer waits for the lock; returns its backend's process id. */
  private static int awaitWriterBlocked() {
    String blocked =
        "SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE datname = '"
            + DATABASE
            + "' AND wait_event_type = 'Lock'";
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> (int) LocalTasks.count(DATABASE, blocked), pid -> pid != 0);
  }

  private static long rows() throws SQLException {
    return LocalTasks.count(DATABASE, "SELECT count(*) FROM events");
  }

  private static SinkRecord event(long offset) {
    return event(PARTITION, offset);
  }

  private static SinkRecord event(TopicPartition partition, long offset) {
    String id = "e" + partition.partition() + "-" + offset;
    String json = "{\"event_id\":\"" + id + "\",\"text\":\"memory " + offset + "\"}";
    return new SinkRecord(partition.topic(), partition.partition(), null, null, null, json, offset);
  }
}
