package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.io.IOException;
import java.sql.SQLException;
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
 * The one failure a database transaction cannot settle by itself: PostgreSQL commits a batch, and
 * the connection breaks before the reply reaches the task. The task sees a transient error, Connect
 * delivers the same records again, and they must not be written a second time. Append and upsert
 * tables would absorb a second write; an audit chain would link the rows again, so it is the test.
 */
class CommitReplyLostTest {

  private static final TopicPartition PARTITION = new TopicPartition("audit", 0);

  private final String database = "commit_reply_lost";
  private final HandRunTaskContext context = new HandRunTaskContext(PARTITION);
  private CuttingProxy proxy;
  private PostgresMemorySinkTask task;

  @BeforeEach
  void start() throws Exception {
    proxy = CuttingProxy.before(SERVER.createDatabase(database));
    // prepareThreshold=0: every COMMIT goes out as text, which is what the proxy looks for
    String url = proxy.jdbcUrl(database) + "?prepareThreshold=0";
    task =
        LocalTasks.started(url, context, "write.mode", "audit", "retry.backoff.initial.ms", "10");
  }

  @AfterEach
  void stop() throws IOException {
    task.stop();
    proxy.close();
  }

  @Test
  void aBatchWhoseCommitReplyWasLostIsNotWrittenAgain() throws Exception {
    task.put(List.of(event(0, "a")));
    List<SinkRecord> batch = List.of(event(1, "b"), event(2, "c"));
    proxy.cutAfterNextCommit();
    assertThrows(RetriableException.class, () -> task.put(batch));
    assertEquals(3, count("SELECT count(*) FROM audit"), "the batch did commit");

    task.put(batch); // Connect delivers the same records again
    task.put(List.of(event(3, "d")));

    assertEquals(4, count("SELECT count(*) FROM audit"));
    assertEquals(
        0,
        count("SELECT count(*) FROM soma_audit_verify('audit')"),
        "the chain of an untouched table verifies");
  }

  @Test
  void aDatabaseBehindTheRecordsInHandIsFilledFromItsStoredOffsetNotPastIt() throws Exception {
    writeFourThenRestoreABackupOfTheFirst();

    assertTheFailedRecordsWaitForTheGapToBeFilled();
  }

  /**
   * As above, but a rebalance assigns another partition while Connect holds the failed put's
   * records: open() reads the stored offsets then, and the check of the records in hand against
   * them must still happen when they come again.
   */
  @Test
  void aPartitionAssignedDuringTheRetryDoesNotSkipTheCheckOfTheRecordsInHand() throws Exception {
    writeFourThenRestoreABackupOfTheFirst();

    task.open(List.of(new TopicPartition(PARTITION.topic(), 1))); // reads the stored offsets
    assertTheFailedRecordsWaitForTheGapToBeFilled();
  }

  /**
   * Writes offset 0, then 1-2; the put of offset 3 fails with its commit's reply lost, and the
   * database comes back from a backup taken after the first batch: offsets 1-3 are lost.
   */
  private void writeFourThenRestoreABackupOfTheFirst() throws Exception {
    task.put(List.of(event(0, "a")));
    task.put(List.of(event(1, "b"), event(2, "c")));
    proxy.cutAfterNextCommit();
    assertThrows(RetriableException.class, () -> task.put(List.of(event(3, "d"))));
    LocalTasks.execute(database, "DELETE FROM audit WHERE kafka_offset >= 1");
    LocalTasks.execute(database, "UPDATE soma_connect_offsets SET next_offset = 1");
    LocalTasks.execute(
        database,
        "UPDATE soma_audit_chain_heads h SET kafka_offset = 0, row_hash = a.row_hash"
            + " FROM audit a WHERE a.kafka_offset = 0");
  }

  /**
   * After {@link #writeFourThenRestoreABackupOfTheFirst}: the failed put's record (offset 3) comes
   * again and is not written past the gap; the task rewinds to offset 1, reports nothing beyond it,
   * and the records from offset 1 on then land in order.
   */
  private void assertTheFailedRecordsWaitForTheGapToBeFilled() throws Exception {
    task.put(List.of(event(3, "d"))); // Connect delivers the failed put's records again
    assertEquals(1, count("SELECT count(*) FROM audit"), "nothing written past the gap");
    assertEquals(Map.of(PARTITION, 1L), context.requestedOffsets(), "rewound to the stored offset");
    // Connect may commit before its next poll seeks back: what it consumed is not done with
    assertEquals(
        Map.of(PARTITION, new OffsetAndMetadata(1)),
        task.preCommit(Map.of(PARTITION, new OffsetAndMetadata(4))));
    assertEquals(
        1, count("SELECT next_offset FROM soma_connect_offsets"), "offsets 1-3 not skipped");

    task.put(List.of(event(1, "b"), event(2, "c"), event(3, "d"))); // from offset 1 again
    assertEquals(4, count("SELECT count(DISTINCT kafka_offset) FROM audit"));
    assertEquals(4, count("SELECT count(*) FROM audit"));
    assertEquals(0, count("SELECT count(*) FROM soma_audit_verify('audit')"), "linked in order");
  }

  private static SinkRecord event(long offset, String id) {
    String json = "{\"event_id\":\"" + id + "\",\"timestamp\":\"2026-12-01T00:00:00Z\"}";
    return new SinkRecord(PARTITION.topic(), PARTITION.partition(), null, null, null, json, offset);
  }

  private long count(String sql) throws SQLException {
    return LocalTasks.count(database, sql);
  }
}
