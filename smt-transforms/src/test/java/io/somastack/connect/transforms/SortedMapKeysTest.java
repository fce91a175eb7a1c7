package io.somastack.connect.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.transforms.predicates.FieldMatches;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

/**
 * A schemaless Map need not be keyed by text: a converter or an earlier transform may hand over a
 * TreeMap keyed by numbers, whose get("name") throws ClassCastException while comparing the name
 * with its keys. Such a map holds no key a field path (text) names, so every transform reads it as
 * the same keys in a HashMap: the field is missing. Nothing may escape as a ClassCastException,
 * which names neither the record nor the problem.
 */
class SortedMapKeysTest {

  private static final String SECRET = "123-45-6789";

  /** A map keyed by numbers, as a sorted map: its get(String) cannot compare a String key. */
  private static TreeMap<Integer, Object> byNumber() {
    TreeMap<Integer, Object> map = new TreeMap<>();
    map.put(7, SECRET);
    return map;
  }

  private static SinkRecord nested() {
    return TestRecords.value(TestRecords.map("meta", byNumber()));
  }

  @Test
  void keyFromFieldFindsNoFieldInIt() {
    KeyFromField<SinkRecord> fail = new KeyFromField.Value<>();
    fail.configure(Map.of("field", "meta.tenant_id"));
    DataException e = assertThrows(DataException.class, () -> fail.apply(nested()));
    assertTrue(e.getMessage().contains("'meta.tenant_id' is missing"), e.getMessage());
    assertTrue(e.getMessage().contains("offset 42"), e.getMessage());

    KeyFromField<SinkRecord> keep = new KeyFromField.Value<>();
    keep.configure(Map.of("field", "tenant_id", "on.missing", "keep"));
    SinkRecord topLevel = TestRecords.value(byNumber());
    assertSame(topLevel, keep.apply(topLevel));
  }

  @Test
  void routeByFieldSendsItToTheFallbackTopic() {
    RouteByField<SinkRecord> route = new RouteByField<>();
    route.configure(Map.of("topic.template", "agent-${value.meta.type}", "fallback.topic", "x"));
    assertEquals("x", route.apply(nested()).topic());
  }

  @Test
  void fieldMatchesDoesNotMatchIt() {
    FieldMatches<SinkRecord> predicate = new FieldMatches.Value<>();
    predicate.configure(Map.of("field", "meta.type", "equals", "a"));
    assertFalse(predicate.test(nested()));
  }

  @Test
  void redactFieldsLeavesAMissingFieldAloneAndRefusesANumberKeyItCannotName() {
    RedactFields<SinkRecord> missing = new RedactFields.Value<>();
    missing.configure(Map.of("fields", "meta.email", "with", "mask"));
    assertEquals(TestRecords.map("meta", byNumber()), missing.apply(nested()).value());

    RedactFields<SinkRecord> number = new RedactFields.Value<>();
    number.configure(Map.of("fields", "meta.7", "with", "mask"));
    DataException e = assertThrows(DataException.class, () -> number.apply(nested()));
    assertTrue(e.getMessage().contains("keys of type Integer"), e.getMessage());
    assertFalse(e.getMessage().contains(SECRET), e.getMessage());
  }

  @Test
  void encryptFieldsFindsNoTenantInIt() {
    EncryptFields<SinkRecord> encrypt = EncryptFieldsTest.encrypt("tenant.field", "meta.tenant");
    DataException e = assertThrows(DataException.class, () -> encrypt.apply(nested()));
    assertTrue(e.getMessage().contains("'meta.tenant' is missing"), e.getMessage());
  }

  @Test
  void stampEnvelopeAddsItsFieldsBesideTheNumberKeys() {
    StampEnvelope<SinkRecord> stamp = new StampEnvelope<>();
    stamp.configure(Map.of("event.id.field", "meta.event_id"));
    Map<?, ?> meta = (Map<?, ?>) ((Map<?, ?>) stamp.apply(nested()).value()).get("meta");
    assertEquals(SECRET, meta.get(7));
    UUID.fromString((String) meta.get("event_id"));

    StampEnvelope<SinkRecord> headers = new StampEnvelope<>();
    headers.configure(Map.of("stamp.to", "headers", "event.id.field", "meta.event_id"));
    Object id = headers.apply(nested()).headers().lastWithName("soma.event_id").value();
    UUID.fromString((String) id);
  }

  /**
   * A connector's source partition is typed Map&lt;String, ?&gt;, but nothing at run time stops
   * other keys: sorting them by their natural order threw ClassCastException while an event id or
   * an error message was being made.
   */
  @Test
  void sourcePartitionsWithKeysOfMixedTypesStillNameTheRecord() {
    Map<Object, Object> partition = new HashMap<>();
    partition.put("table", "outbox");
    partition.put(1, "shard");
    @SuppressWarnings({"unchecked", "rawtypes"})
    Map<String, ?> typed = (Map) partition;
    SourceRecord record = new SourceRecord(typed, Map.of("id", 5), "t", null, Map.of("a", 1));
    StampEnvelope<SourceRecord> stamp = new StampEnvelope<>();
    stamp.configure(Map.of("ingest.timestamp.field", ""));
    Object first = ((Map<?, ?>) stamp.apply(record).value()).get("event_id");
    Object again = ((Map<?, ?>) stamp.apply(record).value()).get("event_id");
    assertEquals(first, again);

    KeyFromField<SourceRecord> key = new KeyFromField.Value<>();
    key.configure(Map.of("field", "tenant_id"));
    DataException e = assertThrows(DataException.class, () -> key.apply(record));
    assertTrue(e.getMessage().contains("source partition {1=shard, table=outbox}"), e.getMessage());
  }
}
