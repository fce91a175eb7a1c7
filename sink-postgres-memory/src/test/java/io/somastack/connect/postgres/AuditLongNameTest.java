package io.somastack.connect.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.common.sql.SqlIdentifier;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * A topic long enough that its table name takes all of PostgreSQL's 63 bytes: the audit table still
 * gets its default and monthly partitions (whose plain names PostgreSQL would cut back to the
 * table's own), and rows land in them.
 */
class AuditLongNameTest {

  private static final PostgresServer SERVER = PostgresServer.shared();
  private static final String TOPIC =
      "agent.audit.events.for.the.tenant.with.a.rather.long.descriptive.name";

  @Test
  void anAuditTableWithA63ByteNameGetsItsPartitions() throws Exception {
    String url = SERVER.createDatabase("audit_long_name");
    TopicPartition partition = new TopicPartition(TOPIC, 0);
    TaskContext context = new TaskContext(partition).withDeadLetterQueue();
    Map<String, String> props = new HashMap<>();
    props.put("name", "audit-long-name");
    props.put("connection.url", url);
    props.put("connection.user", SERVER.user());
    if (SERVER.password() != null) {
      props.put("connection.password", SERVER.password());
    }
    props.put("write.mode", "audit");
    PostgresMemorySinkTask task = new PostgresMemorySinkTask();
    task.initialize(context);
    task.start(props);
    try {
      task.open(List.of(partition));
      String json = "{\"event_id\":\"e\",\"timestamp\":\"" + Instant.now() + "\"}";
      task.put(List.of(new SinkRecord(TOPIC, 0, null, null, null, json, 0)));
    } finally {
      task.stop();
    }
    assertEquals(List.of(), context.deadLettered);
    String table = SqlIdentifier.quote(SqlIdentifier.sanitize(TOPIC));
    assertTrue(
        count("SELECT count(*) FROM pg_inherits WHERE inhparent = '" + table + "'::regclass") >= 3,
        "a default partition and one per month, last month on");
    assertEquals(
        1,
        count(
            "SELECT count(*) FROM "
                + table
                + " WHERE tableoid::regclass::text NOT LIKE '%default%'"),
        "the row is in its month's partition");
  }

  private static long count(String sql) throws SQLException {
    try (Connection c = SERVER.connect("audit_long_name");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
