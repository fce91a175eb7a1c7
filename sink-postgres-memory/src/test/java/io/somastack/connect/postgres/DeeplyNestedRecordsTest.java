package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.apache.kafka.common.record.TimestampType.CREATE_TIME;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.DeepValues;
import io.somastack.connect.testing.StackThreads;
import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A record nested deeper than the task thread's stack can read is that record's fault: a task run
 * by hand against a real PostgreSQL either writes it or dead-letters it with a reason that names
 * the problem (never its contents), and the records beside it land. A StackOverflowError, which
 * Connect's errors.tolerance does not catch, would kill the task. JsonConverter reads JSON nested
 * up to 1000 levels; Structs and Maps from other converters can be deeper. Each case puts its batch
 * on a thread with the JVM's default stack (as Connect's task threads have) and on one of 512 KB.
 */
class DeeplyNestedRecordsTest {

  private static final String DATABASE = "deeply_nested_records";
  private static final List<String> SHAPES = List.of("map", "struct", "string", "bytes");
  private static final List<Integer> DEPTHS = List.of(1_000, 10_000);

  private static String url;
  private PostgresMemorySinkTask task;

  /** A write mode and options, and whether its batch holds tombstones with deep keys. */
  private record Case(String name, boolean tombstones, String... props) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Arguments> cases() {
    List<Case> cases =
        List.of(
            new Case("append, whole payload", false, "write.mode", "append"),
            new Case(
                "append, jsonb column of the nested field",
                false,
                "write.mode",
                "append",
                "columns",
                "deep:jsonb:deep"),
            new Case(
                "upsert, jsonb column inside the nested field, deep keys of tombstones",
                true,
                "write.mode",
                "upsert",
                "key.fields",
                "event_id",
                "columns",
                "inner:jsonb:deep.a"),
            new Case("audit", false, "write.mode", "audit"),
            new Case("dead_letter archive", false, "write.mode", "dead_letter"));
    List<Arguments> arguments = new ArrayList<>();
    int table = 0;
    for (Case c : cases) {
      for (long stack : List.of(0L, 512L * 1024)) {
        arguments.add(Arguments.of(c, stack, "t" + table++));
      }
    }
    return arguments.stream();
  }

  @BeforeAll
  static void createDatabase() {
    url = SERVER.createDatabase(DATABASE);
  }

  @AfterEach
  void stopTask() {
    if (task != null) {
      task.stop();
    }
  }

  /** Each case its own table and topic (the sink's stored offsets are per topic partition). */
  @ParameterizedTest(name = "{0}, stack {1}")
  @MethodSource("cases")
  void aDeeplyNestedRecordIsWrittenOrDeadLettered(Case c, long stack, String table)
      throws Exception {
    List<SinkRecord> batch = new ArrayList<>();
    Set<SinkRecord> deep = Collections.newSetFromMap(new IdentityHashMap<>());
    List<String> plainIds = new ArrayList<>();
    long offset = 0;
    for (String shape : SHAPES) {
      for (int depth : DEPTHS) {
        SinkRecord record = deep(table, shape, depth, offset++, false);
        batch.add(record);
        deep.add(record);
        plainIds.add("plain-" + offset);
        batch.add(plain(table, "plain-" + offset, offset++));
        if (c.tombstones()) {
          SinkRecord tombstone = deep(table, shape, depth, offset++, true);
          batch.add(tombstone);
          deep.add(tombstone);
        }
      }
    }
    HandRunTaskContext context =
        new HandRunTaskContext(new TopicPartition(table, 0)).deadLetterQueue(true);
    List<String> props = new ArrayList<>(List.of(c.props()));
    props.addAll(List.of("table.name.format", table));
    task = LocalTasks.started(url, context, props.toArray(String[]::new));

    Throwable thrown = StackThreads.thrownOn(stack, () -> task.put(batch));

    assertNull(thrown, () -> c + ": " + thrown);
    Set<SinkRecord> deadLettered = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Map.Entry<SinkRecord, Throwable> letter : context.deadLettered()) {
      // records are neither compared nor printed: equals and toString recurse too
      assertTrue(deep.contains(letter.getKey()), "only deep records are dead-lettered");
      deadLettered.add(letter.getKey());
      for (Throwable t = letter.getValue(); t != null; t = t.getCause()) {
        String reason = String.valueOf(t.getMessage());
        assertFalse(reason.contains("leaf-secret"), reason);
      }
      String reason = letter.getValue().getMessage();
      assertTrue(reason.contains("nested too deeply"), reason);
    }
    long written = LocalTasks.count(DATABASE, "SELECT count(*) FROM " + table);
    long deepWritten = deep.stream().filter(r -> r.value() != null).count();
    deepWritten -= deadLettered.stream().filter(r -> r.value() != null).count();
    assertEquals(plainIds.size() + deepWritten, written, "every plain record and no other");
  }

  private static SinkRecord plain(String topic, String id, long offset) {
    Map<String, Object> value = new LinkedHashMap<>();
    value.put("event_id", id);
    value.put("deep", Map.of("a", Map.of("a", "plain")));
    return new SinkRecord(
        topic, 0, null, null, null, value, offset, 1_700_000_000_000L, CREATE_TIME);
  }

  /**
   * {"event_id": "deep-...", "deep": <nested>}, where nested is an object holding an object, depth
   * levels down to a string; as a tombstone, that object is the key.
   */
  private static SinkRecord deep(
      String topic, String shape, int depth, long offset, boolean tombstone) {
    // a tombstone's key names no row: it must not delete a deep record written beside it
    String id = (tombstone ? "key-" : "deep-") + shape + "-" + depth;
    Schema schema = null;
    Object value;
    switch (shape) {
      case "map" -> {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("event_id", id);
        map.put("deep", DeepValues.map(depth, "leaf-secret"));
        value = map;
      }
      case "struct" -> {
        Object[] built = structValue(id, depth);
        schema = (Schema) built[0];
        value = built[1];
      }
      default -> {
        // the record's own object is the first level
        String text =
            "{\"event_id\":\""
                + id
                + "\",\"deep\":"
                + "{\"a\":".repeat(depth - 1)
                + "\"leaf-secret\""
                + "}".repeat(depth - 1)
                + "}";
        value = shape.equals("bytes") ? text.getBytes(StandardCharsets.UTF_8) : text;
      }
    }
    long time = 1_700_000_000_000L;
    return tombstone
        ? new SinkRecord(topic, 0, schema, value, null, null, offset, time, CREATE_TIME)
        : new SinkRecord(topic, 0, null, null, schema, value, offset, time, CREATE_TIME);
  }

  /**
   * The nested Structs, {schema, Struct}, built once per depth (Struct.put validates the whole
   * value below it, so building one is quadratic in its depth) and shared: the sink never changes a
   * Struct.
   */
  private static final Map<Integer, Object[]> NESTED_STRUCTS = new ConcurrentHashMap<>();

  /** {schema, Struct} nested depth levels around the leaf. */
  private static Object[] deepStruct(int depth) {
    Schema schema = DeepValues.schema(depth);
    return new Object[] {schema, DeepValues.struct(schema, "leaf-secret")};
  }

  /**
   * {schema, Struct} of the "struct" shape. Built on a large stack: Struct.put validates the whole
   * value below it, recursively.
   */
  private static Object[] structValue(String id, int depth) {
    Object[][] built = new Object[1][];
    Throwable thrown;
    try {
      thrown =
          StackThreads.thrownOn(
              256L << 20,
              () -> {
                Object[] nested =
                    NESTED_STRUCTS.computeIfAbsent(depth, DeeplyNestedRecordsTest::deepStruct);
                Schema schema =
                    SchemaBuilder.struct()
                        .field("event_id", Schema.STRING_SCHEMA)
                        .field("deep", (Schema) nested[0])
                        .build();
                built[0] =
                    new Object[] {
                      schema, new Struct(schema).put("event_id", id).put("deep", nested[1])
                    };
              });
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
    assertNull(thrown);
    return built[0];
  }
}
