package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.junit.jupiter.api.Test;

/**
 * A table.schema naming no schema (a typo) stops the task when it opens its partitions, naming the
 * option and the statement that makes the schema, rather than later as a table "changed under the
 * task" (PostgreSQL's 3F000 from the sink's own CREATE TABLE).
 */
class MissingSchemaTest {

  @Test
  void aTableSchemaNamingNoSchemaIsSaidToBeOne() {
    String url = SERVER.createDatabase("missing_schema");
    HandRunTaskContext context = new HandRunTaskContext(new TopicPartition("memory.events", 0));
    ConnectException e =
        assertThrows(
            ConnectException.class,
            () -> LocalTasks.started(url, context, "table.schema", "Memroy"));
    assertTrue(e.getMessage().startsWith("table.schema=Memroy names no schema"), e.getMessage());
    assertTrue(e.getMessage().contains("CREATE SCHEMA \"Memroy\""), e.getMessage());
  }
}
