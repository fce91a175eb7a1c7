package io.somastack.connect.transforms.predicates;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.StackThreads;
import io.somastack.connect.transforms.TestRecords;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class FieldMatchesTest {

  private static FieldMatches<SinkRecord> value(String... pairs) {
    FieldMatches<SinkRecord> predicate = new FieldMatches.Value<>();
    predicate.configure(TestRecords.map((Object[]) pairs));
    return predicate;
  }

  @Test
  void matchesAnEqualValue() {
    SinkRecord record = TestRecords.value(TestRecords.example("agent-action"));
    assertTrue(value("field", "action_type", "equals", "tool_call").test(record));
    assertFalse(value("field", "action_type", "equals", "error").test(record));
    assertTrue(value("field", "debug_mode", "equals", "true").test(record));
    assertTrue(value("field", "action_details.lines_read", "equals", "150").test(record));
  }

  @Test
  void matchesAWholeRegex() {
    SinkRecord record = TestRecords.value(TestRecords.example("agent-action"));
    assertTrue(value("field", "agent_name", "pattern", "poly.*").test(record));
    assertFalse(value("field", "agent_name", "pattern", "poly").test(record));
  }

  @Test
  void neverMatchesMissingNullOrStructuredFields() {
    SinkRecord record =
        TestRecords.value(TestRecords.map("n", null, "list", List.of("a"), "obj", Map.of()));
    for (String field : new String[] {"missing", "n", "list", "obj", "n.deeper"}) {
      assertFalse(value("field", field, "pattern", ".*").test(record), field);
    }
    assertFalse(value("field", "n", "pattern", ".*").test(TestRecords.value(null)));
  }

  @Test
  void readsStructsJsonTextAndKeys() {
    Schema schema = SchemaBuilder.struct().field("tenant_id", Schema.STRING_SCHEMA).build();
    SinkRecord struct = TestRecords.value(schema, new Struct(schema).put("tenant_id", "acme"));
    assertTrue(value("field", "tenant_id", "equals", "acme").test(struct));
    SinkRecord json = TestRecords.value("{\"metadata\":{\"tenant_id\":\"acme\"}}");
    assertTrue(value("field", "metadata.tenant_id", "equals", "acme").test(json));

    FieldMatches<SinkRecord> key = new FieldMatches.Key<>();
    key.configure(Map.of("field", "tenant_id", "equals", "acme"));
    assertTrue(key.test(TestRecords.record(null, Map.of("tenant_id", "acme"), null, null)));
    assertFalse(key.test(TestRecords.value(Map.of("tenant_id", "acme"))));
  }

  /**
   * A Timestamp, Date or bytes field compares as the text its JSON has, as in JSON text of the same
   * event: Java's text of a Date depends on the worker's time zone, of an array on the record.
   */
  @Test
  void comparesLogicalTypesAndBytesAsTheirJsonText() {
    Schema schema =
        SchemaBuilder.struct()
            .field("at", Timestamp.SCHEMA)
            .field("day", org.apache.kafka.connect.data.Date.SCHEMA)
            .field("raw", Schema.BYTES_SCHEMA)
            .build();
    Struct struct =
        new Struct(schema)
            .put("at", Date.from(Instant.parse("2026-01-02T03:04:05Z")))
            .put("day", Date.from(Instant.parse("2026-01-02T00:00:00Z")))
            .put("raw", new byte[] {1, 2, 3});
    SinkRecord record = TestRecords.value(schema, struct);
    assertTrue(value("field", "at", "pattern", "2026-01-02T03:.*").test(record));
    assertTrue(value("field", "day", "equals", "2026-01-02").test(record));
    assertTrue(value("field", "raw", "equals", "AQID").test(record));
    SinkRecord json = TestRecords.value("{\"at\":\"2026-01-02T03:04:05Z\"}");
    assertTrue(value("field", "at", "pattern", "2026-01-02T03:.*").test(json));
    SinkRecord map =
        TestRecords.value(Map.of("at", Date.from(Instant.parse("2026-01-02T03:04:05Z"))));
    assertTrue(value("field", "at", "equals", "2026-01-02T03:04:05Z").test(map));
  }

  @Test
  void needsExactlyOneOfEqualsAndPattern() {
    assertThrows(ConfigException.class, () -> value("field", "a"));
    assertThrows(ConfigException.class, () -> value("field", "a", "equals", "x", "pattern", "x"));
    assertThrows(ConfigException.class, () -> value("field", "a", "pattern", "(unclosed"));
  }

  /**
   * A predicate that throws stops the task (unless errors.tolerance=all), and Kafka's own
   * predicates never throw on data: a key or value that is not a JSON object has no field, so it
   * does not match, whether it is plain text, numeric text, a number or bytes that are not JSON.
   */
  @Test
  void aKeyOrValueThatIsNotAJsonObjectNeverMatches() {
    FieldMatches<SinkRecord> key = new FieldMatches.Key<>();
    key.configure(Map.of("field", "tenant_id", "pattern", ".*"));
    Object[][] keys = {
      {Schema.STRING_SCHEMA, "acme"},
      {null, "42"},
      {Schema.INT64_SCHEMA, 42L},
      {Schema.BYTES_SCHEMA, new byte[] {(byte) 0xff, 0}},
      {null, "{\"tenant_id\":"}
    };
    for (Object[] k : keys) {
      assertFalse(key.test(TestRecords.record((Schema) k[0], k[1], null, "v")), k[1].toString());
    }
    assertFalse(value("field", "tenant_id", "pattern", ".*").test(TestRecords.value("plain")));
  }

  /**
   * java.util.regex recurses once per repetition of a group with alternatives: (a|b)* overflows the
   * default thread stack on a text of a few thousand characters. A StackOverflowError is not
   * tolerated by Connect and kills the task; the record fails as bad data instead, and not as "no
   * match", which would silently skip (or apply) the transform the predicate guards.
   */
  @Test
  void aTextTooLongForThePatternFailsTheRecordNotTheTask() throws Exception {
    FieldMatches<SinkRecord> predicate = value("field", "text", "pattern", "(a|b)*");
    SinkRecord record = TestRecords.value(TestRecords.map("text", "ab".repeat(50_000)));
    Throwable thrown = StackThreads.thrownOn(0, () -> predicate.test(record));
    assertTrue(thrown instanceof DataException, String.valueOf(thrown));
    assertTrue(thrown.getMessage().contains("offset 42"), thrown.getMessage());
    assertTrue(thrown.getMessage().contains("field 'text'"), thrown.getMessage());
    assertFalse(thrown.getMessage().contains("abab"), thrown.getMessage());
    assertTrue(predicate.test(TestRecords.value(TestRecords.map("text", "abba"))));
  }
}
