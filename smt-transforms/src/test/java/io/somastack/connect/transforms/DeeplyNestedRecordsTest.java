package io.somastack.connect.transforms;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.DeepValues;
import io.somastack.connect.testing.StackThreads;
import io.somastack.connect.transforms.crypto.FieldCipher;
import io.somastack.connect.transforms.crypto.Keyring;
import io.somastack.connect.transforms.predicates.FieldMatches;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Stream;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.transforms.Transformation;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A record nested deeper than a task thread's stack can walk is that record's fault: every
 * transform and predicate either handles it or fails it as bad data (a DataException naming the
 * record, for errors.tolerance and the dead letter queue), never with a StackOverflowError, which
 * Connect does not tolerate and which kills the task. JsonConverter reads JSON nested up to 1000
 * levels; Structs and Maps from other converters can be deeper. Each case runs on a thread with the
 * JVM's default stack (as Connect's task threads have) and on one of 512 KB.
 */
class DeeplyNestedRecordsTest {

  private static final String KEYS = "pii:1:" + TestRecords.key(1);

  /** A transform or predicate applied to one record. */
  private interface Step {
    Object apply(ConnectRecord<?> record);
  }

  private record Case(String name, Step step, Function<Integer, ConnectRecord<?>> record) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Arguments> cases() {
    List<Case> cases = new ArrayList<>();
    for (String shape : List.of("map", "struct", "json")) {
      cases.add(new Case("EncryptFields " + shape, transform(encrypt()), sink(shape)));
      cases.add(new Case("RedactFields hmac " + shape, transform(redact("hmac")), sink(shape)));
      cases.add(new Case("RedactFields mask " + shape, transform(redact("mask")), sink(shape)));
      cases.add(
          new Case(
              "DecryptFields tenant " + shape, transform(decrypt("id", "tenant")), sink(shape)));
      cases.add(
          new Case(
              "DecryptFields sealed " + shape,
              transform(decrypt("sealed", "tenant_id")),
              sink(shape)));
      cases.add(new Case("StampEnvelope fields " + shape, transform(stamp("fields")), sink(shape)));
      cases.add(
          new Case("StampEnvelope headers " + shape, transform(stamp("headers")), sink(shape)));
      cases.add(
          new Case("StampEnvelope source " + shape, transform(stamp("fields")), source(shape)));
      cases.add(new Case("KeyFromField id " + shape, transform(keyFrom("id")), sink(shape)));
      cases.add(new Case("KeyFromField deep " + shape, transform(keyFrom("deep")), sink(shape)));
      cases.add(new Case("RouteByField " + shape, transform(route()), sink(shape)));
      cases.add(new Case("FieldMatches id " + shape, predicate("id"), sink(shape)));
      cases.add(new Case("FieldMatches deep " + shape, predicate("deep"), sink(shape)));
    }
    List<Arguments> arguments = new ArrayList<>();
    for (Case c : cases) {
      for (int depth : List.of(1_000, 10_000)) {
        for (long stack : List.of(0L, 512L * 1024)) {
          arguments.add(Arguments.of(c, depth, stack));
        }
      }
    }
    return arguments.stream();
  }

  @ParameterizedTest(name = "{0}, {1} levels, stack {2}")
  @MethodSource("cases")
  void aDeeplyNestedRecordIsHandledOrFailsAsBadData(Case c, int depth, long stack)
      throws Exception {
    ConnectRecord<?>[] built = new ConnectRecord<?>[1];
    // a deep Struct is built on a large stack: Struct.put validates the whole value below it
    Throwable setup = StackThreads.thrownOn(256L << 20, () -> built[0] = c.record().apply(depth));
    assertNull(setup);
    ConnectRecord<?> record = built[0];
    Throwable thrown = StackThreads.thrownOn(stack, () -> c.step().apply(record));
    if (thrown != null) {
      assertTrue(thrown instanceof DataException, c + ": " + thrown);
      assertTrue(thrown.getMessage().startsWith("record at topic"), thrown.getMessage());
      assertTrue(!thrown.getMessage().contains("leaf-secret"), thrown.getMessage());
    }
  }

  private static Function<Integer, ConnectRecord<?>> sink(String shape) {
    return depth -> {
      Object[] value = value(shape, depth);
      return new SinkRecord(TestRecords.TOPIC, 2, null, null, (Schema) value[0], value[1], 42L);
    };
  }

  private static Function<Integer, ConnectRecord<?>> source(String shape) {
    return depth -> {
      Object[] value = value(shape, depth);
      return new SourceRecord(
          Map.of("table", "t"), Map.of("id", 1), TestRecords.TOPIC, 2, (Schema) value[0], value[1]);
    };
  }

  /**
   * {schema, value}: {"id": "m-1", "tenant": <nested>, "deep": <nested>}, where nested is an object
   * holding an object, depth levels down to a string.
   */
  private static Object[] value(String shape, int depth) {
    switch (shape) {
      case "map":
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("id", "m-1");
        map.put("tenant_id", "acme");
        map.put("sealed", sealed(depth));
        map.put("tenant", DeepValues.map(depth, "leaf-secret"));
        map.put("deep", DeepValues.map(depth, "leaf-secret"));
        return new Object[] {null, map};
      case "struct":
        // built once per depth (Struct.put validates the whole value below it, so building one is
        // quadratic in its depth) and shared: the transforms make new Structs, never change one
        return STRUCTS.computeIfAbsent(depth, DeeplyNestedRecordsTest::structValue);
      default:
        // the record's own object is the first level
        String nested = DeepValues.json(depth - 1, "\"leaf-secret\"");
        return new Object[] {
          null,
          "{\"id\":\"m-1\",\"tenant_id\":\"acme\",\"sealed\":\""
              + sealed(depth)
              + "\",\"tenant\":"
              + nested
              + ",\"deep\":"
              + nested
              + "}"
        };
    }
  }

  private static final Map<Integer, Object[]> STRUCTS = new ConcurrentHashMap<>();

  private static Object[] structValue(int depth) {
    Schema deepSchema = DeepValues.schema(depth);
    Schema schema =
        SchemaBuilder.struct()
            .field("id", Schema.STRING_SCHEMA)
            .field("tenant_id", Schema.STRING_SCHEMA)
            .field("sealed", Schema.STRING_SCHEMA)
            .field("tenant", deepSchema)
            .field("deep", deepSchema)
            .build();
    return new Object[] {
      schema,
      new Struct(schema)
          .put("id", "m-1")
          .put("tenant_id", "acme")
          .put("sealed", sealed(depth))
          .put("tenant", DeepValues.struct(deepSchema, "leaf-secret"))
          .put("deep", DeepValues.struct(deepSchema, "leaf-secret"))
    };
  }

  /**
   * The ciphertext of a nested object, as EncryptFields would make of field "sealed" for tenant
   * acme; made by the cipher itself, as EncryptFields refuses values nested deeper than JSON's 1000
   * levels.
   */
  private static String sealed(int depth) {
    return new FieldCipher(Keyring.parse(KEYS))
        .encrypt(
            DeepValues.json(depth, "\"leaf-secret\"").getBytes(StandardCharsets.UTF_8),
            "pii",
            FieldCipher.Mode.RANDOM,
            "sealed",
            "acme");
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Step transform(Transformation transformation) {
    return record -> transformation.apply(record);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Step predicate(String field) {
    FieldMatches predicate = new FieldMatches.Value();
    predicate.configure(Map.of("field", field, "equals", "m-1"));
    return record -> predicate.test(record);
  }

  private static Transformation<?> encrypt() {
    EncryptFields<?> transform = new EncryptFields.Value<>();
    transform.configure(Map.of("fields", "deep", "keys", KEYS, "key.id", "pii"));
    return transform;
  }

  /**
   * Decryption of a field; it reads the tenant as text, whatever it is (with tenant "tenant", a
   * deeply nested object).
   */
  private static Transformation<?> decrypt(String field, String tenant) {
    DecryptFields<?> transform = new DecryptFields.Value<>();
    transform.configure(Map.of("fields", field, "keys", KEYS, "tenant.field", tenant));
    return transform;
  }

  private static Transformation<?> redact(String with) {
    RedactFields<?> transform = new RedactFields.Value<>();
    transform.configure(Map.of("fields", "deep", "with", with, "hmac.key", TestRecords.key(5)));
    return transform;
  }

  private static Transformation<?> stamp(String to) {
    StampEnvelope<?> transform = new StampEnvelope<>();
    transform.configure(Map.of("stamp.to", to, "event.id.field", "event_id"));
    return transform;
  }

  private static Transformation<?> keyFrom(String field) {
    KeyFromField<?> transform = new KeyFromField.Value<>();
    transform.configure(Map.of("field", field, "on.missing", "null"));
    return transform;
  }

  private static Transformation<?> route() {
    RouteByField<?> transform = new RouteByField<>();
    transform.configure(Map.of("topic.template", "events-${value.id}"));
    return transform;
  }
}
