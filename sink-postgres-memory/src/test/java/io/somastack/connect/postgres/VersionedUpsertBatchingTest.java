package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * Versioned upsert ends the same however Connect cuts the stream into batches: a tombstone followed
 * by a lower version of its key (a memory deleted, then made anew from version 1) leaves that lower
 * version, as it does record by record.
 */
class VersionedUpsertBatchingTest {

  private static final TopicPartition PARTITION = new TopicPartition("kv", 0);

  private static final List<SinkRecord> STREAM =
      List.of(
          record(0, "{\"id\":\"k\",\"version\":5,\"text\":\"old\"}"),
          record(1, null), // the tombstone of k
          record(2, "{\"id\":\"k\",\"version\":1,\"text\":\"new\"}"),
          record(3, "{\"id\":\"j\",\"version\":2,\"text\":\"other\"}"));

  @Test
  void aTombstoneThenALowerVersionInOneBatchLeavesTheLowerVersion() throws Exception {
    List<List<SinkRecord>> recordByRecord = new ArrayList<>();
    STREAM.forEach(r -> recordByRecord.add(List.of(r)));
    List<String> expected = rowsAfter(recordByRecord);
    assertEquals(List.of("j:2:other", "k:1:new"), expected);
    assertEquals(expected, rowsAfter(List.of(STREAM)));
    assertEquals(expected, rowsAfter(List.of(STREAM.subList(0, 1), STREAM.subList(1, 4))));
  }

  private static List<String> rowsAfter(List<List<SinkRecord>> batches) throws SQLException {
    String url = SERVER.createDatabase("versioned_upsert_batching");
    PostgresMemorySinkTask task =
        LocalTasks.started(
            url,
            new HandRunTaskContext(PARTITION),
            "write.mode",
            "upsert",
            "key.fields",
            "id",
            "version.field",
            "version");
    try {
      batches.forEach(task::put);
    } finally {
      task.stop();
    }
    List<String> rows = new ArrayList<>();
    try (Connection c = SERVER.connect("versioned_upsert_batching");
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT id, event_version, payload->>'text' FROM kv ORDER BY id")) {
      while (rs.next()) {
        rows.add(rs.getString(1) + ":" + rs.getLong(2) + ":" + rs.getString(3));
      }
    }
    return rows;
  }

  private static SinkRecord record(long offset, String json) {
    return new SinkRecord(PARTITION.topic(), 0, null, "k", null, json, offset);
  }
}
