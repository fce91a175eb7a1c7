package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.math.BigDecimal;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Records with schemas (Avro, Protobuf, JSON Schema, JsonConverter with schemas.enable=true) hand
 * the sink Structs whose version is a Timestamp (epoch milliseconds as the docs promise) or a
 * Decimal of scale 0 (an integer-valued decimal). Both are versions: the newer lands, an older
 * replayed one is refused as stale, and a bigint column of a Timestamp holds its epoch
 * milliseconds.
 */
class SchemaVersionsTest {

  private static final String DATABASE = "schema_versions";
  private static final TopicPartition PARTITION = new TopicPartition("versioned", 0);

  private PostgresMemorySinkTask task;

  @AfterEach
  void stopTask() {
    if (task != null) {
      task.stop();
    }
  }

  @Test
  void aTimestampVersionLandsAndAnOlderOneIsStale() throws SQLException {
    Schema schema = schema(Timestamp.SCHEMA);
    HandRunTaskContext context = start("columns", "seen:bigint:version");
    task.put(List.of(record(0, schema, "k", new Date(1_700_000_002_000L), "newer")));
    task.put(List.of(record(1, schema, "k", new Date(1_700_000_001_000L), "older")));

    assertEquals(List.of(), context.deadLettered(), "nothing dead-lettered");
    assertEquals(
        List.of("k|1700000002000|newer|1700000002000"),
        LocalTasks.strings(
            DATABASE,
            "SELECT concat_ws('|', id, event_version, payload->>'text', seen) FROM versioned"));
    assertEquals(1, context.metric("stale-updates-refused-total"));
  }

  @Test
  void aDecimalVersionOfScaleZeroLandsAndAnOlderOneIsStale() throws SQLException {
    Schema schema = schema(Decimal.schema(0));
    HandRunTaskContext context = start();
    task.put(List.of(record(0, schema, "k", new BigDecimal("5"), "newer")));
    task.put(List.of(record(1, schema, "k", new BigDecimal("3"), "older")));

    assertEquals(List.of(), context.deadLettered(), "nothing dead-lettered");
    assertEquals(
        List.of("k|5|newer"),
        LocalTasks.strings(
            DATABASE, "SELECT concat_ws('|', id, event_version, payload->>'text') FROM versioned"));
    assertEquals(1, context.metric("stale-updates-refused-total"));
  }

  /** A decimal written with a fraction, even of zeros, is no integer version: as JSON 2.0 is. */
  @Test
  void aDecimalVersionWithAFractionIsStillDeadLettered() throws SQLException {
    Schema schema = schema(Decimal.schema(1));
    HandRunTaskContext context = start();
    task.put(List.of(record(0, schema, "k", new BigDecimal("2.0"), "fraction")));

    assertEquals(1, context.deadLettered().size());
    assertTrue(
        context.deadLettered().get(0).getValue().getMessage().contains("'version'"),
        context.deadLettered().get(0).getValue().getMessage());
  }

  private HandRunTaskContext start(String... options) throws SQLException {
    String url = SERVER.createDatabase(DATABASE);
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    List<String> props =
        new ArrayList<>(
            List.of("write.mode", "upsert", "key.fields", "id", "version.field", "version"));
    props.addAll(List.of(options));
    task = LocalTasks.started(url, context, props.toArray(String[]::new));
    return context;
  }

  private static Schema schema(Schema version) {
    return SchemaBuilder.struct()
        .name("versioned")
        .field("id", Schema.STRING_SCHEMA)
        .field("version", version)
        .field("text", Schema.STRING_SCHEMA)
        .build();
  }

  private static SinkRecord record(
      long offset, Schema schema, String id, Object version, String text) {
    Struct value = new Struct(schema).put("id", id).put("version", version).put("text", text);
    return new SinkRecord(PARTITION.topic(), 0, Schema.STRING_SCHEMA, id, schema, value, offset);
  }
}
