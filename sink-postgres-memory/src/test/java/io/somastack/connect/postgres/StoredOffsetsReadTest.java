package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.postgres.write.OffsetStore;
import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * A task reads the stored offsets of its own partitions only. A connector on topics.regex may hold
 * offsets for thousands of partitions; every task read all of them, at every rebalance, to keep its
 * few.
 */
class StoredOffsetsReadTest {

  private static final TopicPartition MINE = new TopicPartition("events", 3);

  /** Rows of the same connector for partitions other tasks own. */
  private static final int OTHERS = 20_000;

  @Test
  void aTaskOpeningItsPartitionsReadsOnlyTheirStoredOffsets() throws Exception {
    String database = "stored_offsets_read";
    String url = SERVER.createDatabase(database);
    try (Connection c = SERVER.connect(database);
        Statement s = c.createStatement()) {
      s.execute(OffsetStore.createTableSql("soma_connect_offsets"));
      s.execute(
          "INSERT INTO soma_connect_offsets (connector, topic, kafka_partition, next_offset)"
              + " SELECT 'local-task', 'other-' || (i / 100), i % 100, i FROM generate_series(1, "
              + OTHERS
              + ") i");
      s.execute(
          "INSERT INTO soma_connect_offsets (connector, topic, kafka_partition, next_offset)"
              + " VALUES ('local-task', 'events', 3, 42)");
    }
    try (WireMeter meter = WireMeter.before(url)) {
      HandRunTaskContext context = new HandRunTaskContext(MINE);
      PostgresMemorySinkTask task = LocalTasks.started(meter.jdbcUrl(database), context);
      try {
        assertEquals(Map.of(MINE, 42L), context.requestedOffsets());
        long answered = meter.replies().stream().mapToLong(Long::longValue).sum();
        // each row of another partition is about 40 bytes on the wire: 800 kB when all are read
        assertTrue(answered < 64 * 1024, answered + " bytes answered while opening");
      } finally {
        task.stop();
      }
    }
  }
}
