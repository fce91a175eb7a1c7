package io.somastack.connect.qdrant.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.somastack.connect.qdrant.QdrantSinkConfig;
import io.somastack.connect.qdrant.embed.Embedder;
import io.somastack.connect.testing.DeepValues;
import io.somastack.connect.testing.StackThreads;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A record nested deeper than the task thread's stack can walk is that record's fault: the mapper
 * either writes it or hands it back rejected, with a reason that names the problem (for the dead
 * letter queue), and the records beside it are written. A StackOverflowError, which Connect does
 * not tolerate, would kill the task. JsonConverter reads JSON nested up to 1000 levels; Structs and
 * Maps from other converters can be deeper. A point whose payload holds such a value is always
 * rejected: Qdrant decodes a request only 100 protobuf levels deep (see PointOp.MAX_DEPTH and
 * RequestDepthTest). Each case runs on a thread with the JVM's default stack (as Connect's task
 * threads have) and on one of 512 KB.
 */
class DeeplyNestedValuesTest {

  /** A mapper configuration, and the value shapes it reads. */
  private record Case(String name, List<String> shapes, String... props) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Arguments> cases() {
    List<String> all = List.of("map", "struct", "json");
    List<Case> cases =
        List.of(
            new Case("hashing, whole payload", all),
            new Case("hashing, nested text field", all, "embedder.text.fields", "deep"),
            new Case("hashing, nested id", all, "id.field", "deep"),
            new Case("hashing, included nested field", all, "payload.include", "text,deep"),
            new Case("hashing, nested key of a tombstone", List.of("map", "struct")),
            new Case(
                "field, template",
                all,
                "embedder",
                "field",
                "collection.name",
                "c_${value.id}",
                "delete.enabled",
                "false"),
            new Case(
                "field, excluded inside", all, "embedder", "field", "payload.exclude", "deep.a"),
            new Case("field, whole payload", all, "embedder", "field"));
    List<Arguments> arguments = new ArrayList<>();
    for (Case c : cases) {
      for (String shape : c.shapes()) {
        for (int depth : List.of(1_000, 10_000)) {
          for (long stack : List.of(0L, 512L * 1024)) {
            arguments.add(Arguments.of(c, shape, depth, stack));
          }
        }
      }
    }
    return arguments.stream();
  }

  @ParameterizedTest(name = "{0}, {1}, {2} levels, stack {3}")
  @MethodSource("cases")
  void aDeeplyNestedRecordIsWrittenOrRejected(Case c, String shape, int depth, long stack)
      throws Exception {
    SinkRecord[] records = new SinkRecord[2];
    // a deep Struct is built on a large stack: Struct.put validates the whole value below it
    Throwable setup =
        StackThreads.thrownOn(
            256L << 20,
            () -> {
              records[0] = deep(shape, depth, c.name().contains("tombstone"));
              records[1] = plain();
            });
    assertNull(setup);
    PointMapper mapper = mapper(c.props());
    List<PointMapper.Rejected> rejects = new ArrayList<>();
    List<PointOp> ops = new ArrayList<>();
    Throwable thrown =
        StackThreads.thrownOn(stack, () -> ops.addAll(mapper.map(List.of(records), rejects)));
    assertNull(thrown, c + ": " + thrown);
    // records and points are neither compared nor printed: equals and toString recurse too
    assertEquals(2, ops.size() + rejects.size(), () -> reasons(rejects).toString());
    assertEquals(1, ops.stream().filter(op -> op.record() == records[1]).count());
    if (!c.name().contains("tombstone") && !c.name().contains("excluded")) {
      // its payload holds the deep value, far deeper than Qdrant decodes: never sent
      assertEquals(1, ops.size(), c + ": " + reasons(rejects));
    }
    for (PointMapper.Rejected rejected : rejects) {
      assertSame(records[0], rejected.record());
      assertFalse(rejected.reason().contains("leaf-secret"), rejected.reason());
      assertFalse(rejected.reason().isBlank());
    }
  }

  /**
   * A text field nested deeper than JSON's 1000 levels has no JSON text to embed, even where the
   * stack is large enough to read it (a worker run with a larger -Xss): that record is rejected,
   * not the whole batch.
   */
  @org.junit.jupiter.api.Test
  void aTextFieldDeeperThanJsonAllowsRejectsItsRecordOnly() throws Exception {
    PointMapper mapper = mapper("embedder.text.fields", "deep");
    List<PointMapper.Rejected> rejects = new ArrayList<>();
    List<PointOp> ops = new ArrayList<>();
    SinkRecord deep = deep("map", 1_500, false);
    Throwable thrown =
        StackThreads.thrownOn(
            64L << 20, () -> ops.addAll(mapper.map(List.of(deep, plain()), rejects)));
    assertNull(thrown);
    assertEquals(1, ops.size());
    assertEquals(List.of("a text field in [deep] is nested too deeply"), reasons(rejects));
  }

  private static List<String> reasons(List<PointMapper.Rejected> rejects) {
    return rejects.stream().map(PointMapper.Rejected::reason).toList();
  }

  private static PointMapper mapper(String... keyValues) {
    Map<String, String> props = new HashMap<>(Map.of("vector.size", "2"));
    for (int i = 0; i < keyValues.length; i += 2) {
      props.put(keyValues[i], keyValues[i + 1]);
    }
    QdrantSinkConfig config = new QdrantSinkConfig(props);
    return new PointMapper(config, Embedder.create(config), (values, nanos) -> {});
  }

  private static SinkRecord plain() {
    Map<String, Object> value = new LinkedHashMap<>();
    value.put("id", "m-2");
    value.put("text", "hello");
    value.put("vector", List.of(1.0, 0.0));
    value.put("deep", "plain");
    return new SinkRecord("memory.events", 0, null, null, null, value, 43L);
  }

  /**
   * {"id": "m-1", "text": "hello", "vector": [0, 1], "deep": <nested>}, where nested is an object
   * holding an object, depth levels down to a string; as a tombstone, that value is the key.
   */
  private static SinkRecord deep(String shape, int depth, boolean tombstone) {
    Schema schema = null;
    Object value;
    switch (shape) {
      case "map":
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("id", "m-1");
        map.put("text", "hello");
        map.put("vector", List.of(0.0, 1.0));
        map.put("deep", DeepValues.map(depth, "leaf-secret"));
        value = map;
        break;
      case "struct":
        // built once per depth (Struct.put validates the whole value below it, so building one is
        // quadratic in its depth) and shared: mapping never changes a Struct
        Object[] built = STRUCTS.computeIfAbsent(depth, DeeplyNestedValuesTest::structValue);
        schema = (Schema) built[0];
        value = built[1];
        break;
      default:
        // the record's own object is the first level
        value =
            "{\"id\":\"m-1\",\"text\":\"hello\",\"vector\":[0,1],\"deep\":"
                + DeepValues.json(depth - 1, "\"leaf-secret\"")
                + "}";
    }
    return tombstone
        ? new SinkRecord("memory.events", 0, schema, value, null, null, 42L)
        : new SinkRecord("memory.events", 0, null, null, schema, value, 42L);
  }

  private static final Map<Integer, Object[]> STRUCTS = new ConcurrentHashMap<>();

  /** {schema, Struct} of the "struct" shape. */
  private static Object[] structValue(int depth) {
    Schema deepSchema = DeepValues.schema(depth);
    Schema schema =
        SchemaBuilder.struct()
            .field("id", Schema.STRING_SCHEMA)
            .field("text", Schema.STRING_SCHEMA)
            .field("vector", SchemaBuilder.array(Schema.FLOAT64_SCHEMA).build())
            .field("deep", deepSchema)
            .build();
    return new Object[] {
      schema,
      new Struct(schema)
          .put("id", "m-1")
          .put("text", "hello")
          .put("vector", List.of(0.0, 1.0))
          .put("deep", DeepValues.struct(deepSchema, "leaf-secret"))
    };
  }
}
