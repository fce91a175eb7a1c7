package io.somastack.connect.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.somastack.connect.testing.CapturedStderr;
import io.somastack.connect.testing.StackThreads;
import io.somastack.connect.transforms.schema.SchemaSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ValidateJsonSchemaTest {

  private static final String MEMORY = "classpath:schemas/memory-event.schema.json";
  private static final String SECRET = "s3cr3t-user-content";

  private static ValidateJsonSchema<SinkRecord> value(Map<String, String> props) {
    ValidateJsonSchema<SinkRecord> transform = new ValidateJsonSchema.Value<>();
    transform.configure(props);
    return transform;
  }

  private static Map<String, String> props(String... pairs) {
    Map<String, String> props = new HashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      props.put(pairs[i], pairs[i + 1]);
    }
    return props;
  }

  private static Map<String, Object> invalidMemoryEvent() {
    Map<String, Object> event = TestRecords.example("memory-event");
    event.remove("id");
    event.put("event_id", SECRET);
    event.put("timestamp", SECRET);
    event.put("namespace", SECRET + " with spaces");
    return event;
  }

  /**
   * A record nested deeper than the thread's stack can validate against a recursive schema is the
   * record's fault: it fails as bad data (for errors.tolerance and the DLQ), never with a
   * StackOverflowError that kills the task.
   */
  @Test
  void aRecordNestedTooDeeplyForARecursiveSchemaFailsAsBadData() throws Exception {
    String tree =
        "{\"$defs\":{\"node\":{\"type\":\"object\",\"properties\":"
            + "{\"child\":{\"$ref\":\"#/$defs/node\"}}}},\"$ref\":\"#/$defs/node\"}";
    Map<String, Object> value = new HashMap<>();
    Map<String, Object> node = value;
    for (int depth = 0; depth < 5_000; depth++) {
      Map<String, Object> child = new HashMap<>();
      node.put("child", child);
      node = child;
    }
    SinkRecord record = TestRecords.value(value);
    ValidateJsonSchema<SinkRecord> transform = value(props("schema", tree));
    Throwable thrown = StackThreads.thrownOn(256 * 1024, () -> transform.apply(record));
    assertTrue(thrown instanceof DataException, String.valueOf(thrown));
    assertTrue(thrown.getMessage().contains("nested"), thrown.getMessage());
    assertTrue(thrown.getMessage().contains("offset 42"), thrown.getMessage());
  }

  /**
   * JSON text can write a number of a billion digits in a dozen characters (1e999999999). The
   * validator writes such numbers out for enum (out of memory: the task, and the worker's heap with
   * it) and divides by them for multipleOf (an ArithmeticException, or seconds of CPU per record at
   * 1e100000): they fail as bad data before validation, named without their value.
   */
  @Test
  void aNumberWithTooManyDigitsWrittenOutFailsAsBadDataBeforeValidation() {
    String[] schemas = {
      "{\"properties\":{\"n\":{\"multipleOf\":0.01}}}", "{\"properties\":{\"n\":{\"enum\":[1,2]}}}"
    };
    String[] numbers = {"1e999999999", "-1e100000", "1e-999999999", "[1.5e1001]"};
    for (String schema : schemas) {
      ValidateJsonSchema<SinkRecord> transform = value(props("schema", schema));
      for (String number : numbers) {
        SinkRecord record = TestRecords.value("{\"n\":" + number + "}");
        DataException e = assertThrows(DataException.class, () -> transform.apply(record));
        assertTrue(e.getMessage().contains("offset 42: the value holds a number"), e.getMessage());
        assertTrue(e.getMessage().contains("more than 1000 digits"), e.getMessage());
        assertFalse(e.getMessage().contains("999"), e.getMessage());
      }
    }
    // as many digits as Jackson reads in plain text, and every double, still validate
    ValidateJsonSchema<SinkRecord> multipleOf = value(props("schema", schemas[0]));
    for (String number : new String[] {"1e999", "1.7976931348623157E308"}) {
      SinkRecord record = TestRecords.value("{\"n\":" + number + "}");
      assertSame(record, multipleOf.apply(record));
    }
    SinkRecord tiny = TestRecords.value("{\"n\":4.9E-324}");
    DataException e = assertThrows(DataException.class, () -> multipleOf.apply(tiny));
    assertTrue(e.getMessage().contains("must be multiple of 0.01"), e.getMessage());
  }

  /**
   * A schema's pattern runs on java.util.regex, which recurses per repetition of a group with
   * alternatives: a long string overflows the stack. It fails as bad data, and the message says so
   * rather than blaming nesting the record does not have.
   */
  @Test
  void aStringTooLongForAPatternOfTheSchemaFailsAsBadData() throws Exception {
    ValidateJsonSchema<SinkRecord> transform =
        value(props("schema", "{\"properties\":{\"s\":{\"pattern\":\"^(a|b)*$\"}}}"));
    SinkRecord record = TestRecords.value(TestRecords.map("s", "ab".repeat(50_000)));
    Throwable thrown = StackThreads.thrownOn(0, () -> transform.apply(record));
    assertTrue(thrown instanceof DataException, String.valueOf(thrown));
    assertTrue(thrown.getMessage().contains("or holds a string too long"), thrown.getMessage());
  }

  @Test
  void passesAValidRecordUnchanged() {
    SinkRecord record = TestRecords.value(TestRecords.example("memory-event"));
    assertSame(record, value(props("schema", MEMORY)).apply(record));
  }

  @Test
  void failsAnInvalidRecordNamingPlaceAndRulesButNoValues() {
    SinkRecord record = TestRecords.value(invalidMemoryEvent());
    DataException e =
        assertThrows(DataException.class, () -> value(props("schema", MEMORY)).apply(record));
    String message = e.getMessage();
    assertTrue(message.contains("topic 'memory.events' partition 2 offset 42"), message);
    assertTrue(message.contains("$.event_id"), message);
    assertTrue(message.contains("uuid"), message);
    assertTrue(message.contains("'id'"), message);
    assertTrue(message.contains("$.timestamp"), message);
    assertFalse(message.contains(SECRET), message);
  }

  @Test
  void reroutesAnInvalidRecordWithTheViolationsInAHeader() {
    ValidateJsonSchema<SinkRecord> transform =
        value(props("schema", MEMORY, "on.invalid", "reroute"));
    SinkRecord out = transform.apply(TestRecords.value(invalidMemoryEvent()));
    assertEquals("memory.events.invalid", out.topic());
    String header = (String) out.headers().lastWithName("soma.validation.errors").value();
    assertTrue(header.contains("$.event_id"), header);
    assertFalse(header.contains(SECRET), header);
  }

  /**
   * The reroute topic is a dead-letter-like topic, often with fewer partitions than the source's: a
   * source record keeping its partition would fail at the producer (the partition does not exist),
   * losing exactly the records the reroute is there to keep. It goes without one, as Connect's dead
   * letter queue produces, and the producer picks the partition by the key. A sink record keeps its
   * partition, where it was read; it cannot hold none.
   */
  @Test
  void reroutesASourceRecordWithoutItsPartitionAndASinkRecordWithIt() {
    ValidateJsonSchema<SourceRecord> sourceTransform = new ValidateJsonSchema.Value<>();
    sourceTransform.configure(props("schema", MEMORY, "on.invalid", "reroute"));
    SourceRecord source =
        new SourceRecord(
            Map.of("table", "outbox"),
            Map.of("id", 5),
            "memory.events",
            11,
            Schema.STRING_SCHEMA,
            "k",
            null,
            invalidMemoryEvent());
    SourceRecord rerouted = sourceTransform.apply(source);
    assertEquals("memory.events.invalid", rerouted.topic());
    assertNull(rerouted.kafkaPartition());
    assertEquals("k", rerouted.key());
    assertEquals(Schema.STRING_SCHEMA, rerouted.keySchema());
    assertSame(source.value(), rerouted.value());
    assertEquals(source.sourcePartition(), rerouted.sourcePartition());
    assertEquals(source.sourceOffset(), rerouted.sourceOffset());
    assertTrue(rerouted.headers().lastWithName("soma.validation.errors") != null);

    SinkRecord sink =
        value(props("schema", MEMORY, "on.invalid", "reroute"))
            .apply(TestRecords.value(invalidMemoryEvent()));
    assertEquals(2, sink.kafkaPartition());
    assertEquals(42L, sink.kafkaOffset());
  }

  @Test
  void reroutesToAFixedTopicAndHeader() {
    ValidateJsonSchema<SinkRecord> transform =
        value(
            props(
                "schema", MEMORY,
                "on.invalid", "reroute",
                "reroute.topic", "quarantine",
                "errors.header", "why",
                "max.violations", "1"));
    SinkRecord out = transform.apply(TestRecords.value(invalidMemoryEvent()));
    assertEquals("quarantine", out.topic());
    String header = (String) out.headers().lastWithName("why").value();
    assertTrue(header.contains("more"), header);
  }

  @Test
  void choosesTheSchemaByTopic() {
    ValidateJsonSchema<SinkRecord> transform =
        value(
            props(
                "topic.schemas",
                "agent-actions=classpath:schemas/agent-action.schema.json,memory.events="
                    + MEMORY));
    SinkRecord action = TestRecords.at("agent-actions", 0, 1, TestRecords.example("agent-action"));
    assertSame(action, transform.apply(action));
    SinkRecord memoryAsAction =
        TestRecords.at("agent-actions", 0, 2, TestRecords.example("memory-event"));
    assertThrows(DataException.class, () -> transform.apply(memoryAsAction));
    SinkRecord unknown = TestRecords.at("other", 0, 3, TestRecords.example("memory-event"));
    DataException e = assertThrows(DataException.class, () -> transform.apply(unknown));
    assertTrue(e.getMessage().contains("no JSON Schema"), e.getMessage());
  }

  @Test
  void readsInlineAndFileSchemas(@TempDir Path dir) throws Exception {
    String schema =
        "{\"type\":\"object\",\"required\":[\"tenant_id\"],"
            + "\"properties\":{\"tenant_id\":{\"type\":\"string\"}}}";
    Path file = dir.resolve("tenant.schema.json");
    Files.writeString(file, schema);
    for (String source : new String[] {schema, file.toString()}) {
      ValidateJsonSchema<SinkRecord> transform = value(props("schema", source));
      SinkRecord good = TestRecords.value(TestRecords.map("tenant_id", "acme"));
      assertSame(good, transform.apply(good));
      SinkRecord bad = TestRecords.value(TestRecords.map("tenant_id", 7));
      assertThrows(DataException.class, () -> transform.apply(bad));
    }
  }

  @Test
  void readsAnEditedSchemaFileWhenReconfigured(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("edited.schema.json");
    Files.writeString(file, "{\"type\":\"object\",\"required\":[\"old\"]}");
    ValidateJsonSchema<SinkRecord> before = value(props("schema", file.toString()));
    Files.writeString(file, "{\"type\":\"object\",\"required\":[\"new\"]}");
    ValidateJsonSchema<SinkRecord> after = value(props("schema", file.toString()));
    SinkRecord oldShape = TestRecords.value(TestRecords.map("old", 1));
    SinkRecord newShape = TestRecords.value(TestRecords.map("new", 1));
    assertSame(newShape, after.apply(newShape));
    assertThrows(DataException.class, () -> after.apply(oldShape));
    assertSame(oldShape, before.apply(oldShape), "a running transform keeps its schema");
  }

  /** A schema file whose property refers to a sibling file, as schemas split across files do. */
  private static Path schemaWithSiblingRef(Path dir, int minLength) throws Exception {
    Files.writeString(
        dir.resolve("tenant.schema.json"), "{\"type\":\"string\",\"minLength\":" + minLength + "}");
    Path main = dir.resolve("main.schema.json");
    Files.writeString(
        main,
        "{\"type\":\"object\",\"properties\":{\"tenant_id\":{\"$ref\":\"tenant.schema.json\"}}}");
    return main;
  }

  @Test
  void resolvesRelativeRefsAgainstTheSchemaFile(@TempDir Path dir) throws Exception {
    ValidateJsonSchema<SinkRecord> transform =
        value(props("schema", schemaWithSiblingRef(dir, 3).toString()));
    SinkRecord good = TestRecords.value(TestRecords.map("tenant_id", "acme"));
    assertSame(good, transform.apply(good));
    SinkRecord bad = TestRecords.value(TestRecords.map("tenant_id", "ab"));
    DataException e = assertThrows(DataException.class, () -> transform.apply(bad));
    assertTrue(e.getMessage().contains("$.tenant_id"), e.getMessage());
  }

  @Test
  void readsAnEditedReferencedFileWhenReconfigured(@TempDir Path dir) throws Exception {
    ValidateJsonSchema<SinkRecord> before =
        value(props("schema", schemaWithSiblingRef(dir, 3).toString()));
    ValidateJsonSchema<SinkRecord> after =
        value(props("schema", schemaWithSiblingRef(dir, 5).toString()));
    SinkRecord four = TestRecords.value(TestRecords.map("tenant_id", "acme"));
    assertSame(four, before.apply(four), "a running transform keeps its schema");
    assertThrows(DataException.class, () -> after.apply(four));
  }

  /** Answers every request with a schema, counting them: no request must ever reach it. */
  private static HttpServer schemaServer(AtomicInteger requests) throws IOException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        exchange -> {
          requests.incrementAndGet();
          byte[] body = "{\"type\":\"string\"}".getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
    return server;
  }

  @Test
  void refusesRefsToRemoteSchemasWithoutFetchingThem(@TempDir Path dir) throws Exception {
    AtomicInteger requests = new AtomicInteger();
    HttpServer server = schemaServer(requests);
    try {
      String base = "http://127.0.0.1:" + server.getAddress().getPort() + "/schemas/";
      String relativeToId =
          "{\"$id\":\""
              + base
              + "main.json\",\"type\":\"object\","
              + "\"properties\":{\"a\":{\"$ref\":\"other.json\"}}}";
      String absolute =
          "{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"" + base + "other.json\"}}}";
      Path file = dir.resolve("main.schema.json");
      Files.writeString(file, relativeToId);
      String metaSchema = "{\"$schema\":\"" + base + "other.json\",\"type\":\"object\"}";
      for (String schema : List.of(relativeToId, absolute, file.toString(), metaSchema)) {
        ConfigException e =
            assertThrows(ConfigException.class, () -> value(props("schema", schema)), schema);
        assertTrue(e.getMessage().contains(base + "other.json"), e.getMessage());
        assertTrue(e.getMessage().contains("not fetched"), e.getMessage());
      }
      assertEquals(0, requests.get(), "requests made to the schema server");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void resolvesRefsToSchemasEmbeddedUnderTheirOwnId() {
    String schema =
        "{\"$id\":\"https://schemas.example.com/main.json\",\"type\":\"object\","
            + "\"properties\":{\"tenant\":{\"$ref\":\"tenant.json\"}},"
            + "\"$defs\":{\"t\":{\"$id\":\"tenant.json\",\"type\":\"string\"}}}";
    ValidateJsonSchema<SinkRecord> transform = value(props("schema", schema));
    SinkRecord good = TestRecords.value(TestRecords.map("tenant", "acme"));
    assertSame(good, transform.apply(good));
    SinkRecord bad = TestRecords.value(TestRecords.map("tenant", 7));
    assertThrows(DataException.class, () -> transform.apply(bad));
  }

  @Test
  void validatesStructsAndJsonText() {
    ValidateJsonSchema<SinkRecord> transform =
        value(
            props(
                "schema",
                "{\"type\":\"object\",\"required\":[\"n\"],\"properties\":{\"n\":{\"minimum\":1}}}"));
    Schema schema = SchemaBuilder.struct().field("n", Schema.INT32_SCHEMA).build();
    SinkRecord struct = TestRecords.value(schema, new Struct(schema).put("n", 3));
    assertSame(struct, transform.apply(struct));
    SinkRecord zero = TestRecords.value(schema, new Struct(schema).put("n", 0));
    assertThrows(DataException.class, () -> transform.apply(zero));
    SinkRecord text = TestRecords.value("{\"n\":2}");
    assertSame(text, transform.apply(text));
    SinkRecord bytes = TestRecords.value("{\"n\":0}".getBytes(StandardCharsets.UTF_8));
    assertThrows(DataException.class, () -> transform.apply(bytes));
  }

  @Test
  void rejectsAnythingThatIsNotJsonWithoutQuotingIt() {
    ValidateJsonSchema<SinkRecord> transform = value(props("schema", "{\"type\":\"object\"}"));
    SinkRecord text = TestRecords.value("name=" + SECRET);
    DataException e = assertThrows(DataException.class, () -> transform.apply(text));
    assertFalse(e.getMessage().contains(SECRET), e.getMessage());
    assertNull(e.getCause());
    SinkRecord number = TestRecords.value(Schema.INT64_SCHEMA, 5L);
    assertThrows(DataException.class, () -> transform.apply(number));
  }

  @Test
  void validatesTheKeyWithTheKeyVariant() {
    ValidateJsonSchema<SinkRecord> transform = new ValidateJsonSchema.Key<>();
    transform.configure(props("schema", "{\"type\":\"object\",\"required\":[\"tenant_id\"]}"));
    SinkRecord good = TestRecords.record(null, TestRecords.map("tenant_id", "a"), null, "x");
    assertSame(good, transform.apply(good));
    SinkRecord bad = TestRecords.record(null, TestRecords.map("id", "a"), null, "x");
    assertThrows(DataException.class, () -> transform.apply(bad));
  }

  /** Keys arrive as Structs (Avro, JSON with schemas) and as JSON text (StringConverter). */
  @Test
  void validatesStructAndJsonTextKeys() {
    ValidateJsonSchema<SinkRecord> transform =
        key(props("schema", "{\"type\":\"object\",\"required\":[\"tenant_id\"]}"));
    Schema keySchema = SchemaBuilder.struct().field("tenant_id", Schema.STRING_SCHEMA).build();
    SinkRecord struct =
        TestRecords.record(keySchema, new Struct(keySchema).put("tenant_id", "a"), null, "x");
    assertSame(struct, transform.apply(struct));
    SinkRecord text = TestRecords.record(null, "{\"tenant_id\":\"a\"}", null, "x");
    assertSame(text, transform.apply(text));
    SinkRecord bad = TestRecords.record(null, "{\"id\":\"a\"}", null, "x");
    DataException e = assertThrows(DataException.class, () -> transform.apply(bad));
    assertTrue(e.getMessage().contains("the key does not match"), e.getMessage());
  }

  /**
   * A number key (LongConverter) or value is JSON, but not what the transform reads: the message
   * names the side and what it is, rather than calling it "not JSON".
   */
  @Test
  void aScalarKeyOrValueIsNamedBySideAndType() {
    String schema = "{\"type\":\"object\"}";
    SinkRecord longKey = TestRecords.record(Schema.INT64_SCHEMA, 5L, null, "x");
    DataException key =
        assertThrows(DataException.class, () -> key(props("schema", schema)).apply(longKey));
    assertTrue(key.getMessage().contains("offset 42: the key is a Long,"), key.getMessage());
    assertTrue(key.getMessage().contains("a Struct, a Map, a List or JSON text"), key.getMessage());

    SinkRecord intValue = TestRecords.value(Schema.INT32_SCHEMA, 7);
    DataException value =
        assertThrows(DataException.class, () -> value(props("schema", schema)).apply(intValue));
    assertTrue(value.getMessage().contains("the value is an Integer,"), value.getMessage());

    SinkRecord nan = TestRecords.value(TestRecords.map("score", Double.NaN));
    DataException noJson =
        assertThrows(DataException.class, () -> value(props("schema", schema)).apply(nan));
    assertTrue(
        noJson.getMessage().contains("the value holds a value JSON has no representation for"),
        noJson.getMessage());

    SinkRecord plainText = TestRecords.record(null, "user-" + SECRET, null, "x");
    DataException text =
        assertThrows(DataException.class, () -> key(props("schema", schema)).apply(plainText));
    assertTrue(
        text.getMessage().contains("the key cannot be read as JSON (key is not valid JSON (line 1"),
        text.getMessage());
    assertFalse(text.getMessage().contains(SECRET), text.getMessage());

    SinkRecord twice =
        TestRecords.record(null, "{\"" + SECRET + "\":1,\"" + SECRET + "\":2}", null, "x");
    DataException duplicate =
        assertThrows(DataException.class, () -> key(props("schema", schema)).apply(twice));
    assertTrue(
        duplicate.getMessage().contains("the key cannot be read as JSON (key has a duplicate key"),
        duplicate.getMessage());
    assertFalse(duplicate.getMessage().contains(SECRET), duplicate.getMessage());
  }

  private static ValidateJsonSchema<SinkRecord> key(Map<String, String> props) {
    ValidateJsonSchema<SinkRecord> transform = new ValidateJsonSchema.Key<>();
    transform.configure(props);
    return transform;
  }

  @Test
  void validatesAMissingKeyAsJsonNull() {
    SinkRecord keyless = TestRecords.record(null, null, null, "x");
    DataException e =
        assertThrows(
            DataException.class,
            () -> key(props("schema", "{\"type\":\"object\"}")).apply(keyless));
    assertTrue(e.getMessage().contains("the key does not match"), e.getMessage());
    assertSame(keyless, key(props("schema", "{\"type\":[\"object\",\"null\"]}")).apply(keyless));
  }

  @Test
  void validatesTheKeyOfATombstone() {
    ValidateJsonSchema<SinkRecord> transform =
        key(props("schema", "{\"type\":\"object\",\"required\":[\"tenant_id\"]}"));
    SinkRecord good = TestRecords.record(null, TestRecords.map("tenant_id", "a"), null, null);
    assertSame(good, transform.apply(good));
    SinkRecord bad = TestRecords.record(null, TestRecords.map("id", "a"), null, null);
    assertThrows(DataException.class, () -> transform.apply(bad));
  }

  @Test
  void letsTombstonesPass() {
    SinkRecord tombstone = TestRecords.value(null);
    assertSame(tombstone, value(props("schema", MEMORY)).apply(tombstone));
  }

  /** A value with {@code count} string-typed fields holding numbers, each named by a long name. */
  private static Map<String, Object> manyLongNamedViolations(int count, int nameLength) {
    Map<String, Object> value = new HashMap<>();
    for (int i = 0; i < count; i++) {
      // a character outside the BMP is two Java chars and four UTF-8 bytes: cuts must not split it
      value.put(i + "\uD83D\uDE00".repeat(nameLength), i);
    }
    return value;
  }

  private static void assertCappedUtf8(String text) {
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    assertTrue(utf8.length <= 4096, "the violations take " + utf8.length + " bytes");
    assertEquals(text, new String(utf8, StandardCharsets.UTF_8), "cut inside a character");
  }

  @Test
  void capsTheErrorsHeaderInBytesAndSaysHowManyMore() {
    String schema = "{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}}";
    ValidateJsonSchema<SinkRecord> transform =
        value(props("schema", schema, "on.invalid", "reroute", "max.violations", "1000"));
    SinkRecord out = transform.apply(TestRecords.value(manyLongNamedViolations(200, 300)));
    String header = (String) out.headers().lastWithName("soma.validation.errors").value();
    assertCappedUtf8(header);
    assertTrue(header.matches("(?s).*; \\.\\.\\. and \\d+ more"), header);

    SinkRecord one = TestRecords.value(manyLongNamedViolations(1, 3000));
    String single =
        (String) transform.apply(one).headers().lastWithName("soma.validation.errors").value();
    assertCappedUtf8(single);
    assertTrue(single.startsWith("$"), single);
  }

  @Test
  void capsTheViolationsInTheExceptionMessage() {
    String schema = "{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}}";
    ValidateJsonSchema<SinkRecord> transform =
        value(props("schema", schema, "max.violations", "1000"));
    SinkRecord record = TestRecords.value(manyLongNamedViolations(200, 300));
    String message = assertThrows(DataException.class, () -> transform.apply(record)).getMessage();
    String violations = message.substring(message.indexOf("inline schema: ") + 15);
    assertCappedUtf8(violations);
    assertTrue(violations.contains(" more"), violations);
  }

  /**
   * A file named as a schema that is no JSON fails the configuration by name and position but
   * without quoting it: the parser's message quotes the token it stops at, and the error reaches
   * the REST response and the worker log, so whoever may configure a connector could read the start
   * of any file the worker can (a properties file, a token).
   */
  @Test
  void aSchemaFileThatIsNotJsonFailsWithoutQuotingIt(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("credentials");
    Files.writeString(file, "{\"user\": Sup3rS3cretToken}");
    ConfigException e =
        assertThrows(ConfigException.class, () -> value(props("schema", file.toString())));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("line 1, column 10"), e.getMessage());
    for (Throwable t = e; t != null; t = t.getCause()) {
      assertFalse(String.valueOf(t.getMessage()).contains("Sup3rS3cret"), t.getMessage());
    }
  }

  /**
   * A $ref to a file that is no JSON fails by the file's URI and position only, and the start of
   * the file reaches neither the error nor the worker log: the validator's own loader logged its
   * parser's message, which quotes the token it stopped at, so whoever may call Connect's REST
   * validate could have the worker log the start of any file it can read.
   */
  @Test
  void aReferencedFileThatIsNotJsonFailsWithoutQuotingItOrLoggingIt(@TempDir Path dir)
      throws Exception {
    Path secret = dir.resolve("credentials");
    Files.writeString(secret, "Sup3rS3cretToken=hunter2\n");
    String uri = secret.toUri().toString();
    String schema = "{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"" + uri + "\"}}}";
    List<List<String>> errors = new ArrayList<>();
    String log = CapturedStderr.of(() -> errors.add(validationErrors("schema", "schema", schema)));
    assertFalse(log.contains("Sup3rS3cret"), log);
    assertEquals(1, errors.get(0).size(), errors.toString());
    String error = errors.get(0).get(0);
    assertTrue(error.contains(uri), error);
    assertTrue(error.contains("line 1, column "), error);
    assertFalse(error.contains("Sup3rS3cret"), error);

    ConfigException e = assertThrows(ConfigException.class, () -> value(props("schema", schema)));
    for (Throwable t = e; t != null; t = t.getCause()) {
      assertFalse(String.valueOf(t.getMessage()).contains("Sup3rS3cret"), t.getMessage());
    }
  }

  /** The errors Connect's REST validate call reports for one option of these props. */
  private static List<String> validationErrors(String option, String... pairs) {
    return ValidateJsonSchema.CONFIG_DEF.validate(props(pairs)).stream()
        .filter(v -> v.name().equals(option))
        .findFirst()
        .orElseThrow()
        .errorMessages();
  }

  /**
   * Connect validates a transform's options with their validators only (it never calls configure),
   * so a schema that cannot be read or compiled, or a reroute topic that reads fields, must fail in
   * a validator to be reported before the connector's tasks start and fail.
   */
  @Test
  void reportsUnusableSchemasAndRerouteTopicsWhenTheConfigIsValidated(@TempDir Path dir) {
    String missing = dir.resolve("missing.schema.json").toString();
    for (String schema : List.of("classpath:schemas/nope.schema.json", missing, "{not json")) {
      assertEquals(1, validationErrors("schema", "schema", schema).size(), schema);
      assertEquals(
          1,
          validationErrors("topic.schemas", "topic.schemas", "memory.events=" + schema).size(),
          schema);
    }
    assertEquals(
        1,
        validationErrors("reroute.topic", "schema", MEMORY, "reroute.topic", "x-${value.a}")
            .size());
    assertEquals(List.of(), validationErrors("schema", "schema", MEMORY));
    assertEquals(List.of(), validationErrors("topic.schemas", "topic.schemas", "t=" + MEMORY));
    assertEquals(List.of(), validationErrors("reroute.topic", "schema", MEMORY));
  }

  @Test
  void reportsConfigMistakesAtConfigureTime() {
    assertThrows(ConfigException.class, () -> value(props()));
    assertThrows(ConfigException.class, () -> value(props("schema", "classpath:nope.json")));
    assertThrows(ConfigException.class, () -> value(props("schema", "{not json")));
    assertThrows(ConfigException.class, () -> value(props("schema", "{\"type\":17}")));
    assertThrows(ConfigException.class, () -> value(props("topic.schemas", "no-equals-sign")));
    assertThrows(ConfigException.class, () -> value(props("schema", MEMORY, "on.invalid", "x")));
    assertThrows(
        ConfigException.class,
        () -> value(props("schema", MEMORY, "reroute.topic", "bad-${value.tenant_id}")));
  }

  /**
   * A draft-07 schema as agent platforms write them: definitions with a $ref into them, a tuple
   * ("items" as an array) with "additionalItems", and "dependencies". Draft 2020-12 has none of
   * these forms, so checking it against the 2020-12 meta-schema refused it.
   */
  private static final String DRAFT_07 =
      """
      {"$schema": "http://json-schema.org/draft-07/schema#",
       "type": "object",
       "definitions": {"tenant": {"type": "string", "minLength": 1}},
       "properties": {
         "tenant_id": {"$ref": "#/definitions/tenant"},
         "point": {"type": "array",
                   "items": [{"type": "number"}, {"type": "number"}],
                   "additionalItems": false}},
       "dependencies": {"latitude": ["longitude"]}}
      """;

  @Test
  void validatesRecordsByTheRulesOfADraft07Schema(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("location.schema.json");
    Files.writeString(file, DRAFT_07);
    for (String schema : List.of(DRAFT_07, file.toString())) {
      assertEquals(List.of(), validationErrors("schema", "schema", schema));
      ValidateJsonSchema<SinkRecord> transform = value(props("schema", schema));
      SinkRecord good =
          TestRecords.value(
              TestRecords.map(
                  "tenant_id", "acme", "point", List.of(1, 2.5), "latitude", 1, "longitude", 2));
      assertSame(good, transform.apply(good));
      for (Map<String, Object> bad :
          List.of(
              TestRecords.map("tenant_id", ""),
              TestRecords.map("point", List.of(1, 2, 3)),
              TestRecords.map("point", List.of("north", 2)),
              TestRecords.map("latitude", 1))) {
        assertThrows(
            DataException.class, () -> transform.apply(TestRecords.value(bad)), bad.toString());
      }
    }
  }

  /**
   * A draft-07 schema split into files often declares "$schema" only in the main file: the files it
   * refers to are read by the same draft, not by draft 2020-12, which has no tuple "items".
   */
  @Test
  void readsReferencedFilesWithoutSchemaByTheDraftOfTheSchema(@TempDir Path dir) throws Exception {
    Files.writeString(
        dir.resolve("pair.schema.json"),
        "{\"type\": \"array\", \"items\": [{\"type\": \"string\"}], \"additionalItems\": false}");
    Path main = dir.resolve("main.schema.json");
    Files.writeString(
        main,
        "{\"$schema\": \"http://json-schema.org/draft-07/schema#\", \"type\": \"object\","
            + " \"properties\": {\"pair\": {\"$ref\": \"pair.schema.json\"}}}");
    ValidateJsonSchema<SinkRecord> transform = value(props("schema", main.toString()));
    SinkRecord good = TestRecords.value(TestRecords.map("pair", List.of("a")));
    assertSame(good, transform.apply(good));
    assertThrows(
        DataException.class,
        () -> transform.apply(TestRecords.value(TestRecords.map("pair", List.of("a", 1)))));
  }

  /** Each supported draft's own forms are accepted, and enforced, under that draft's rules. */
  @Test
  void acceptsDraft04And2019_09Schemas() {
    ValidateJsonSchema<SinkRecord> draft04 =
        value(
            props(
                "schema",
                "{\"$schema\": \"http://json-schema.org/draft-04/schema#\", \"type\": \"object\","
                    + " \"properties\": {\"n\": {\"type\": \"integer\", \"maximum\": 10,"
                    + " \"exclusiveMaximum\": true}}}"));
    SinkRecord nine = TestRecords.value(TestRecords.map("n", 9));
    assertSame(nine, draft04.apply(nine));
    assertThrows(
        DataException.class, () -> draft04.apply(TestRecords.value(TestRecords.map("n", 10))));

    ValidateJsonSchema<SinkRecord> draft201909 =
        value(
            props(
                "schema",
                "{\"$schema\": \"https://json-schema.org/draft/2019-09/schema\", \"type\":"
                    + " \"array\", \"items\": [{\"type\": \"string\"}], \"additionalItems\":"
                    + " false}"));
    SinkRecord one = TestRecords.value("[\"a\"]");
    assertSame(one, draft201909.apply(one));
    assertThrows(DataException.class, () -> draft201909.apply(TestRecords.value("[\"a\", 1]")));
  }

  /** A schema is checked against the meta-schema of the draft it declares, and named by it. */
  @Test
  void refusesASchemaThatBreaksTheRulesOfItsOwnDraft() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () ->
                value(
                    props(
                        "schema",
                        "{\"$schema\": \"http://json-schema.org/draft-07/schema#\","
                            + " \"type\": \"string\", \"minLength\": -1}")));
    assertTrue(e.getMessage().contains("draft-07"), e.getMessage());
  }

  /**
   * A "$schema" the transform knows no rules for (a custom or mistyped meta-schema) fails the
   * configuration saying which drafts are supported, rather than being fetched or guessed at.
   */
  @Test
  void refusesAnUnknownOrMalformedSchemaDeclaration() {
    for (String declared : List.of("\"http://example.com/my-meta-schema#\"", "7")) {
      String schema = "{\"$schema\": " + declared + ", \"type\": \"object\"}";
      List<String> errors = validationErrors("schema", "schema", schema);
      assertEquals(1, errors.size(), declared);
      assertTrue(errors.get(0).contains("$schema"), errors.get(0));
      assertTrue(errors.get(0).contains("draft-07"), errors.get(0));
      assertThrows(ConfigException.class, () -> value(props("schema", schema)));
    }
  }

  /**
   * A schema file is read in full before it is parsed: a huge file, or a device that never ends
   * such as /dev/zero, ran the worker out of memory while the config was validated.
   */
  @Test
  void refusesSchemaFilesThatAreTooLargeOrNotRegularFiles(@TempDir Path dir) throws Exception {
    Path huge = dir.resolve("huge.schema.json");
    Files.writeString(huge, "{\"type\": \"object\"" + " ".repeat(SchemaSource.MAX_BYTES) + "}");
    List<String> errors = validationErrors("schema", "schema", huge.toString());
    assertEquals(1, errors.size());
    assertTrue(errors.get(0).contains(SchemaSource.MAX_BYTES + " bytes"), errors.get(0));

    List<String> notFiles = new ArrayList<>(List.of(dir.toString()));
    if (Files.exists(Path.of("/dev/zero"))) {
      notFiles.add("/dev/zero");
    }
    for (String notAFile : notFiles) {
      errors = validationErrors("schema", "schema", notAFile);
      assertEquals(1, errors.size(), notAFile);
      assertTrue(errors.get(0).contains("not a regular file"), errors.get(0));
    }
  }

  /**
   * A schema file must be strict UTF-8: an overlong form, an encoded surrogate, a code point above
   * U+10FFFF or a cut sequence is refused, not read as replacement characters; UTF-8 text is read.
   */
  @Test
  void refusesSchemaFilesThatAreNotStrictUtf8(@TempDir Path dir) throws Exception {
    byte[] start = "{\"type\": \"object\", \"description\": \"".getBytes(StandardCharsets.UTF_8);
    byte[] end = "\"}".getBytes(StandardCharsets.UTF_8);
    List<byte[]> bad =
        List.of(
            new byte[] {(byte) 0xC0, (byte) 0xAF},
            new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
            new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
            new byte[] {(byte) 0xE2, (byte) 0x82});
    for (int i = 0; i < bad.size(); i++) {
      byte[] sequence = bad.get(i);
      Path file = dir.resolve("bad" + i + ".schema.json");
      Files.write(file, concat(start, sequence, end));
      List<String> errors = validationErrors("schema", "schema", file.toString());
      assertEquals(1, errors.size(), errors.toString());
      assertTrue(errors.get(0).contains("not UTF-8 text"), errors.get(0));
    }
    Path fine = dir.resolve("fine.schema.json");
    Files.write(fine, concat(start, "é € 😀".getBytes(StandardCharsets.UTF_8), end));
    assertEquals(List.of(), validationErrors("schema", "schema", fine.toString()));
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  @Test
  void refusesReferencedSchemaFilesThatAreTooLarge(@TempDir Path dir) throws Exception {
    Path huge = dir.resolve("defs.schema.json");
    Files.writeString(huge, "{\"type\": \"string\"" + " ".repeat(SchemaSource.MAX_BYTES) + "}");
    Path schema = dir.resolve("event.schema.json");
    Files.writeString(
        schema,
        "{\"type\": \"object\", \"properties\": {\"a\": {\"$ref\": \"defs.schema.json\"}}}");
    ConfigException e =
        assertThrows(ConfigException.class, () -> value(props("schema", schema.toString())));
    assertTrue(e.getMessage().contains(SchemaSource.MAX_BYTES + " bytes"), e.getMessage());
  }

  private static String nestedNots(int depth) {
    return "{\"not\":".repeat(depth) + "{}" + "}".repeat(depth);
  }

  /**
   * A schema nested deeper than the validator can walk threw StackOverflowError out of Connect's
   * validate call, which answered HTTP 500 with no word of why; it fails the option instead, inline
   * or as a file, naming the nesting limit.
   */
  @Test
  void refusesSchemasNestedTooDeeply(@TempDir Path dir) throws Exception {
    String deep = nestedNots(500);
    Path file = dir.resolve("deep.schema.json");
    Files.writeString(file, deep);
    for (String schema : List.of(deep, file.toString())) {
      List<String> errors = validationErrors("schema", "schema", schema);
      assertEquals(1, errors.size(), errors.toString());
      assertTrue(errors.get(0).contains(SchemaSource.MAX_DEPTH + " levels"), errors.get(0));
      ConfigException e = assertThrows(ConfigException.class, () -> value(props("schema", schema)));
      assertTrue(e.getMessage().contains(SchemaSource.MAX_DEPTH + " levels"), e.getMessage());
    }
  }

  /** A schema as deep as the limit allows compiles and validates records. */
  @Test
  void acceptsSchemasNestedUpToTheLimit() {
    // an even number of "not"s over the empty schema accepts every record
    int depth = SchemaSource.MAX_DEPTH - SchemaSource.MAX_DEPTH % 2 - 2;
    ValidateJsonSchema<SinkRecord> transform = value(props("schema", nestedNots(depth)));
    SinkRecord record = TestRecords.value(TestRecords.map("a", "b"));
    assertSame(record, transform.apply(record));
  }

  /** Kafka refuses such a topic when the first invalid record is rerouted to it. */
  @Test
  void refusesARerouteTopicWhoseTextNoTopicNameMayHold() {
    for (String topic : List.of("invalid/records", "${topic}/invalid", "bad topic")) {
      assertEquals(
          1,
          validationErrors("reroute.topic", "schema", MEMORY, "reroute.topic", topic).size(),
          topic);
      assertThrows(
          ConfigException.class,
          () -> value(props("schema", MEMORY, "on.invalid", "reroute", "reroute.topic", topic)));
    }
  }

  /**
   * Validating a config reads a schema file once, valid or not. Each option's rule used to build
   * the whole config again, running every validator: a schema file was read (and a broken one
   * compiled) once more per option the rule is on. Counted as the bytes this JVM reads, which on
   * Linux /proc/self/io tells; a file near the size limit outweighs all else read meanwhile.
   */
  @Test
  void validatingAConfigReadsItsSchemaFileOnce(@TempDir Path dir) throws IOException {
    Path io = Path.of("/proc/self/io");
    Assumptions.assumeTrue(Files.isReadable(io), "needs Linux /proc/self/io");
    String filler = "x".repeat(SchemaSource.MAX_BYTES - 1000);
    Path valid = dir.resolve("valid.schema.json");
    Path invalid = dir.resolve("invalid.schema.json");
    Files.writeString(valid, "{\"description\": \"" + filler + "\"}");
    Files.writeString(invalid, "{\"type\": 5, \"description\": \"" + filler + "\"}");
    for (Path schema : List.of(valid, invalid)) {
      Map<String, String> props = Map.of("schema", schema.toString());
      ValidateJsonSchema.CONFIG_DEF.validate(props); // loads the classes validation needs
      long before = bytesRead(io);
      ValidateJsonSchema.CONFIG_DEF.validate(props);
      long read = bytesRead(io) - before;
      assertTrue(read < 2 * Files.size(schema), schema + ": " + read + " bytes read");
    }
  }

  private static long bytesRead(Path io) throws IOException {
    return Files.readAllLines(io).stream()
        .filter(line -> line.startsWith("rchar:"))
        .mapToLong(line -> Long.parseLong(line.substring("rchar:".length()).trim()))
        .findFirst()
        .orElseThrow();
  }
}
