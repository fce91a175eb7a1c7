package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static io.somastack.connect.postgres.LocalTasks.count;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.common.sql.SqlIdentifier;
import io.somastack.connect.postgres.record.TableName;
import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * A topic long enough that its table name takes all of PostgreSQL's 63 bytes: the audit table still
 * gets its default and monthly partitions (whose plain names PostgreSQL would cut back to the
 * table's own), and rows land in them.
 */
class AuditLongNameTest {

  private static final String DATABASE = "audit_long_name";
  private static final String TOPIC =
      "agent.audit.events.for.the.tenant.with.a.rather.long.descriptive.name";

  @Test
  void anAuditTableWithA63ByteNameGetsItsPartitions() throws Exception {
    String url = SERVER.createDatabase(DATABASE);
    HandRunTaskContext context =
        new HandRunTaskContext(new TopicPartition(TOPIC, 0)).deadLetterQueue(true);
    PostgresMemorySinkTask task = LocalTasks.started(url, context, "write.mode", "audit");
    try {
      String json = "{\"event_id\":\"e\",\"timestamp\":\"" + Instant.now() + "\"}";
      task.put(List.of(new SinkRecord(TOPIC, 0, null, null, null, json, 0)));
    } finally {
      task.stop();
    }
    assertEquals(List.of(), context.deadLettered());
    String table = SqlIdentifier.quote(TableName.of(TOPIC));
    assertTrue(
        count(
                DATABASE,
                "SELECT count(*) FROM pg_inherits WHERE inhparent = '" + table + "'::regclass")
            >= 3,
        "a default partition and one per month, last month on");
    assertEquals(
        1,
        count(
            DATABASE,
            "SELECT count(*) FROM "
                + table
                + " WHERE tableoid::regclass::text NOT LIKE '%default%'"),
        "the row is in its month's partition");
  }
}
