package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.somastack.connect.common.postgres.SqlStates;
import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A write that waits longer than pgjdbc's socket timeout (a DBA's LOCK TABLE or ALTER TABLE, VACUUM
 * FULL, a long lock queue) must not leave its backend behind: the client closes its socket, but a
 * backend waiting on a lock reads nothing from it, so it would wait on, holding its transaction's
 * locks (the offsets row among them) and a connection slot, and each retry would queue behind it
 * and leave one more. The session's lock_timeout, below the socket timeout, has the server give up
 * the wait first. The socket timeout is 3 s here (the connectors set 60 s; a URL may set another),
 * so the test is quick.
 */
class AbandonedStatementTest {

  private static final TopicPartition PARTITION = new TopicPartition("abandoned", 0);
  private static final String DATABASE = "abandoned_statement";
  private static final String APPLICATION_NAME = "soma-connect postgres sink";

  private PostgresMemorySinkTask task;

  @AfterEach
  void stop() {
    if (task != null) {
      task.stop();
    }
  }

  @Test
  void aWriteWaitingOnALockedTableLeavesNoBackendWaiting() throws SQLException {
    String url = SERVER.createDatabase(DATABASE);
    task =
        LocalTasks.started(
            url + (url.contains("?") ? "&" : "?") + "socketTimeout=3",
            new HandRunTaskContext(PARTITION),
            "table.name.format",
            "ev");
    task.put(List.of(record(0))); // creates the table

    try (Connection holder = SERVER.connect(DATABASE)) {
      holder.setAutoCommit(false);
      try (Statement s = holder.createStatement()) {
        s.execute("LOCK TABLE ev IN ACCESS EXCLUSIVE MODE");
      }
      RetriableException e =
          assertThrows(RetriableException.class, () -> task.put(List.of(record(1))));
      // without it, the backend of the statement the client gave up on waits on for the lock
      await().atMost(Duration.ofSeconds(10)).until(() -> backendsWaitingOnALock() == 0);
      SQLException cause = assertInstanceOf(SQLException.class, e.getCause());
      assertEquals(
          "55P03",
          SqlStates.rootState(cause),
          "the server gave up the lock wait before the client gave up on it");
      holder.rollback();
    }

    task.put(List.of(record(1))); // the retry, the table free again
    assertEquals(2, LocalTasks.count(DATABASE, "SELECT count(*) FROM ev"));
  }

  private static long backendsWaitingOnALock() throws SQLException {
    try (Connection c = SERVER.connect(DATABASE);
        PreparedStatement s =
            c.prepareStatement(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = ?"
                    + " AND application_name = ? AND wait_event_type = 'Lock'")) {
      s.setString(1, DATABASE);
      s.setString(2, APPLICATION_NAME);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static SinkRecord record(long offset) {
    String json = "{\"event_id\":\"e" + offset + "\"}";
    return new SinkRecord(PARTITION.topic(), PARTITION.partition(), null, null, null, json, offset);
  }
}
