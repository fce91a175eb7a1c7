package io.somastack.connect.common.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;
import org.junit.jupiter.api.Test;

class ConnectJsonTest {

  /** Plain Java values, so that any two walks can be compared with equals. */
  private static final JsonBuilder<Object> JAVA =
      new JsonBuilder<>() {
        @Override
        public Object nullValue() {
          return "null";
        }

        @Override
        public Object text(String value) {
          return "text:" + value;
        }

        @Override
        public Object bool(boolean value) {
          return value;
        }

        @Override
        public Object integer(long value) {
          return value;
        }

        @Override
        public Object floating(double value) {
          return value;
        }

        @Override
        public Object decimal(BigDecimal value) {
          return value;
        }

        @Override
        public Container<Object> object(int size) {
          Map<String, Object> object = new HashMap<>();
          return Container.of(object::put, () -> object);
        }

        @Override
        public Container<Object> array(int size) {
          List<Object> array = new ArrayList<>();
          return Container.of((name, value) -> array.add(value), () -> array);
        }
      };

  @Test
  void aParsedTreeWalksAsTheSameJsonAsTheConnectValue() {
    Map<String, Object> value = new HashMap<>();
    value.put("id", 7);
    value.put("big", Long.MAX_VALUE);
    value.put("tags", List.of("a", "b"));
    value.put("meta", Map.of("ok", true));
    value.put("note", null);
    String text =
        "{\"id\":7,\"big\":9223372036854775807,\"tags\":[\"a\",\"b\"],"
            + "\"meta\":{\"ok\":true},\"note\":null}";
    assertEquals(
        ConnectJson.convert(value, null, JAVA),
        ConnectJson.convert(RecordJson.parse(text), null, JAVA));
  }

  @Test
  void fractionsStayExactFromTextAndDoublesFromMaps() {
    // the parser reads fractions as exact decimals, JsonConverter's Maps hold doubles
    assertEquals(
        Map.of("w", new BigDecimal("0.25"), "huge", new BigDecimal("18446744073709551615")),
        ConnectJson.convert(
            RecordJson.parse("{\"w\":0.25,\"huge\":18446744073709551615}"), null, JAVA));
    assertEquals(Map.of("w", 0.25), ConnectJson.convert(Map.of("w", 0.25), null, JAVA));
  }

  @Test
  void logicalTypesBytesAndNonFiniteNumbers() {
    Schema schema =
        SchemaBuilder.struct()
            .field("day", org.apache.kafka.connect.data.Date.SCHEMA)
            .field("time", Time.SCHEMA)
            .field("blob", Schema.BYTES_SCHEMA)
            .build();
    Struct struct =
        new Struct(schema)
            .put("day", new Date(86_400_000L))
            .put("time", new Date(3_600_000L))
            .put("blob", new byte[] {1, 2, 3});
    assertEquals(
        Map.of("day", "text:1970-01-02", "time", "text:01:00:00Z", "blob", "text:AQID"),
        ConnectJson.convert(struct, schema, JAVA));
    // RFC 3339's full-time, as JSON Schema's "time" format asks: seconds always, and the offset
    // (Connect's Time counts milliseconds since midnight UTC)
    assertEquals(
        "text:23:59:59.123Z", ConnectJson.convert(new Date(86_399_123L), Time.SCHEMA, JAVA));
    assertEquals(
        Arrays.asList("text:1970-01-02T00:00:00Z"),
        ConnectJson.convert(List.of(new Date(86_400_000L)), null, JAVA));
    assertThrows(DataException.class, () -> ConnectJson.convert(Float.NaN, null, JAVA));
    assertThrows(
        DataException.class, () -> ConnectJson.convert(Double.POSITIVE_INFINITY, null, JAVA));
  }

  /** A FLOAT32 of 0.1 is 0.1 in JSON, as JsonConverter writes it, not 0.10000000149011612. */
  @Test
  void aFloatKeepsTheDigitsItWasWrittenWith() {
    assertEquals(0.1, ConnectJson.convert(0.1f, Schema.FLOAT32_SCHEMA, JAVA));
    assertEquals("{\"w\":0.1}", RecordJson.write(RecordJson.convert(Map.of("w", 0.1f), null)));
    assertEquals(
        "[3.4028235E38]", RecordJson.write(RecordJson.convert(List.of(Float.MAX_VALUE), null)));
  }

  /**
   * A tree may be built by code rather than parsed (a transform's output): NaN in it has no JSON
   * either, and Jackson would otherwise write it as the string "NaN".
   */
  @Test
  void nonFiniteNumbersInATreeAreRefusedToo() {
    assertThrows(
        DataException.class,
        () -> ConnectJson.convert(Map.of("x", DoubleNode.valueOf(Double.NaN)), null, JAVA));
    assertThrows(
        DataException.class,
        () ->
            RecordJson.convert(
                JsonNodeFactory.instance.objectNode().put("x", Double.POSITIVE_INFINITY), null));
  }

  /**
   * A map key that is a Date or bytes names its field with the JSON text it has as a value: Java's
   * text of a Date depends on the worker's time zone, and of an array changes with every record.
   */
  @Test
  void dateAndBytesMapKeysReadAsTheirJsonText() {
    Schema byTime = SchemaBuilder.map(Timestamp.SCHEMA, Schema.INT32_SCHEMA).build();
    assertEquals(
        Map.of("1970-01-01T00:00:01Z", 1L),
        ConnectJson.convert(Map.of(new Date(1_000L), 1), byTime, JAVA));
    Schema byDay =
        SchemaBuilder.map(org.apache.kafka.connect.data.Date.SCHEMA, Schema.INT32_SCHEMA).build();
    assertEquals(
        Map.of("1970-01-02", 1L),
        ConnectJson.convert(Map.of(new Date(86_400_000L), 1), byDay, JAVA));
    assertEquals(
        Map.of("AQID", 1L), ConnectJson.convert(Map.of(new byte[] {1, 2, 3}, 1), null, JAVA));
    assertEquals(Map.of("7", 1L), ConnectJson.convert(Map.of(7, 1), null, JAVA));
  }

  /** A value JSON has no form for names where it sits, not what it is, in a Map, Struct or tree. */
  @Test
  void aValueWithoutJsonNamesItsPathNotItself() {
    Schema inner = SchemaBuilder.struct().field("b", SchemaBuilder.array(Schema.FLOAT64_SCHEMA));
    Schema outer = SchemaBuilder.struct().field("a", inner).build();
    Struct struct =
        new Struct(outer).put("a", new Struct(inner).put("b", List.of(1.0, Double.NaN)));
    JsonValueException fromStruct =
        assertThrows(JsonValueException.class, () -> ConnectJson.convert(struct, outer, JAVA));
    assertEquals("a.b[1]", fromStruct.path());
    assertEquals("a.b[1]", fromStruct.loggedPath());
    assertEquals("JSON has no representation for NaN", fromStruct.getMessage());

    // a map key (or a schemaless object's member name) is record data: not in the logged path
    Map<String, Object> map = Map.of("a", Map.of("b", List.of(1.0, Double.NaN)));
    JsonValueException fromMap =
        assertThrows(JsonValueException.class, () -> ConnectJson.convert(map, null, JAVA));
    assertEquals("a.b[1]", fromMap.path());
    assertEquals("[key][key][1]", fromMap.loggedPath());
    var tree = JsonNodeFactory.instance.objectNode();
    tree.putObject("a").putArray("b").add(1.0).add(Double.NaN);
    JsonValueException fromTree =
        assertThrows(JsonValueException.class, () -> ConnectJson.convert(tree, null, JAVA));
    assertEquals("a.b[1]", fromTree.path());
    assertEquals("[key][key][1]", fromTree.loggedPath());
  }

  /**
   * A JSON object holds a name once: a map two of whose keys have the same text (1 and "1", 1 and
   * 1L, a null key and "null", two byte arrays alike) would lose an entry, so it is refused, naming
   * where it sits but neither its keys nor its values.
   */
  @Test
  void mapKeysOfTheSameTextAreRefusedNotMerged() {
    List<Map<Object, Object>> colliding = new ArrayList<>();
    colliding.add(mapOf(1, "int one", "1", "string one"));
    colliding.add(mapOf(1, "int one", 1L, "long one"));
    colliding.add(mapOf(null, "null key", "null", "string null"));
    colliding.add(mapOf(new byte[] {1}, "bytes", new byte[] {1}, "same bytes"));
    for (Map<Object, Object> map : colliding) {
      DataException top =
          assertThrows(DataException.class, () -> ConnectJson.convert(map, null, JAVA));
      assertEquals(ConnectJson.DUPLICATE_NAME, top.getMessage());
      assertThrows(DataException.class, () -> RecordJson.convert(map, null));
      JsonValueException inside =
          assertThrows(
              JsonValueException.class,
              () -> ConnectJson.convert(Map.of("k", List.of(map)), null, JAVA));
      assertEquals("[key][0]", inside.loggedPath());
      assertEquals(ConnectJson.DUPLICATE_NAME, inside.getMessage());
      assertTrue(ConnectJson.isDuplicateName(top));
      assertTrue(ConnectJson.isDuplicateName(inside));
    }
    // a message alike is not the failure: it is told by its type, through any wrapping
    assertFalse(ConnectJson.isDuplicateName(new DataException(ConnectJson.DUPLICATE_NAME)));
    assertFalse(ConnectJson.isDuplicateName(new DataException("no JSON for NaN")));
    assertFalse(ConnectJson.isDuplicateName(null));
    assertTrue(
        ConnectJson.isDuplicateName(
            new DataException(
                "wrapped", JsonValueException.under("f", ConnectJson.duplicateName()))));
    assertEquals(
        Map.of("1", "text:a", "2", "text:b"),
        ConnectJson.convert(mapOf(1, "a", "2", "b"), null, JAVA));
    Schema intKeys = SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).build();
    assertEquals(
        Map.of("1", "text:a", "2", "text:b"),
        ConnectJson.convert(mapOf(1, "a", 2, "b"), intKeys, JAVA));
  }

  /** Distinct Strings are distinct names: a map of String keys makes no set and is not checked. */
  @Test
  void onlyAMapWithAKeyOtherThanAStringHasItsNamesChecked() {
    assertNull(MapNames.seen(Map.of("a", 1, "b", 2)));
    MapNames.add(null, "a");
    MapNames.add(null, "a");
    Set<String> seen = MapNames.seen(mapOf(1, "a", "2", "b"));
    MapNames.add(seen, "1");
    MapNames.add(seen, "2");
    DataException twice = assertThrows(DataException.class, () -> MapNames.add(seen, "1"));
    assertTrue(ConnectJson.isDuplicateName(twice));
    assertEquals(ConnectJson.DUPLICATE_NAME, twice.getMessage());
  }

  private static Map<Object, Object> mapOf(Object k1, Object v1, Object k2, Object v2) {
    Map<Object, Object> map = new java.util.LinkedHashMap<>();
    map.put(k1, v1);
    map.put(k2, v2);
    return map;
  }
}
