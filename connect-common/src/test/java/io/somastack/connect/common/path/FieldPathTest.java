package io.somastack.connect.common.path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.somastack.connect.common.json.RecordJson;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.junit.jupiter.api.Test;

class FieldPathTest {

  @Test
  void readsMapsStructsAndJsonTreesAlike() {
    FieldPath path = FieldPath.parse("metadata.tenant_id");
    assertEquals("acme", path.get(Map.of("metadata", Map.of("tenant_id", "acme"))));
    Schema meta = SchemaBuilder.struct().field("tenant_id", Schema.STRING_SCHEMA).build();
    Schema event = SchemaBuilder.struct().field("metadata", meta).build();
    Struct struct = new Struct(event).put("metadata", new Struct(meta).put("tenant_id", "acme"));
    assertEquals("acme", path.get(struct));
    assertEquals(
        "acme",
        ((com.fasterxml.jackson.databind.JsonNode)
                path.get(RecordJson.parse("{\"metadata\":{\"tenant_id\":\"acme\"}}")))
            .asText());
  }

  /** A key object holds a field flat under its last segment, a dot in it part of the name. */
  @Test
  void theLeafPathReadsTheLastSegmentAtTopLevelKeepingItsDots() {
    FieldPath leaf = FieldPath.parse("metadata.tenant\\.id").leafPath();
    assertEquals("acme", leaf.get(Map.of("tenant.id", "acme")));
    assertNull(leaf.get(Map.of("tenant", Map.of("id", "acme"))));
    assertEquals(FieldPath.parse("tenant\\.id"), leaf);
  }

  @Test
  void aMissingSegmentOrJsonNullIsNullNeverAnException() {
    FieldPath path = FieldPath.parse("a.b.c");
    assertNull(path.get(Map.of("a", Map.of())));
    assertNull(path.get(Map.of("a", "not a map")));
    assertNull(path.get(RecordJson.parse("{\"a\":{\"b\":{\"c\":null}}}")));
    assertNull(path.get(null));
  }

  @Test
  void escapedDotsStayInsideASegment() {
    FieldPath path = FieldPath.parse("labels.app\\.kubernetes\\.io/name");
    assertEquals(List.of("labels", "app.kubernetes.io/name"), path.segments());
    assertEquals("app.kubernetes.io/name", path.leaf());
    assertEquals(List.of("labels"), path.parent().segments());
  }

  @Test
  void emptyPathsAndSegmentsAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> FieldPath.parse(""));
    assertThrows(IllegalArgumentException.class, () -> FieldPath.parse("a..b"));
    assertThrows(IllegalArgumentException.class, () -> FieldPath.parse(".a"));
  }

  @Test
  void findsTheSchemaOfTheValueAtThePathThroughStructsAndMaps() {
    Schema meta =
        SchemaBuilder.struct()
            .field("at", org.apache.kafka.connect.data.Date.SCHEMA)
            .field("labels", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT32_SCHEMA).build())
            .build();
    Schema event = SchemaBuilder.struct().field("metadata", meta).build();
    assertEquals(
        org.apache.kafka.connect.data.Date.SCHEMA, FieldPath.parse("metadata.at").schemaIn(event));
    assertEquals(Schema.INT32_SCHEMA, FieldPath.parse("metadata.labels.app").schemaIn(event));
    assertNull(FieldPath.parse("metadata.missing").schemaIn(event));
    assertNull(FieldPath.parse("metadata.at.day").schemaIn(event));
    assertNull(FieldPath.parse("metadata.at").schemaIn(null));
  }

  /** A parent's text is a path that parses back to the same segments, escapes and all. */
  @Test
  void aParentsTextKeepsItsEscapes() {
    FieldPath parent = FieldPath.parse("labels.app\\.kubernetes\\.io/name.value").parent();
    assertEquals(List.of("labels", "app.kubernetes.io/name"), parent.segments());
    assertEquals("labels.app\\.kubernetes\\.io/name", parent.toString());
    assertEquals(parent, FieldPath.parse(parent.toString()));
  }

  /**
   * A sorted map keyed by numbers throws ClassCastException when asked for a text key, where a
   * HashMap of the same keys answers null: for every plugin reading it, the field is missing.
   */
  @Test
  void aSortedMapKeyedByNumbersHoldsNoNamedField() {
    java.util.TreeMap<Integer, Object> numbered = new java.util.TreeMap<>(Map.of(7, "seven"));
    assertNull(FieldPath.parse("tenant").get(numbered));
    assertNull(FieldPath.parse("meta.tenant").get(Map.of("meta", numbered)));
    assertEquals("x", FieldPath.parse("meta.t").get(Map.of("meta", Map.of("t", "x"))));
  }

  /** A field explicitly null reads as null, not as its schema default (see RecordJsonTest). */
  @Test
  void anOptionalStructFieldSetToNullIsNullNotItsDefault() {
    Schema meta =
        SchemaBuilder.struct()
            .field("status", SchemaBuilder.string().optional().defaultValue("active").build())
            .field("kind", SchemaBuilder.string().defaultValue("note").build())
            .build();
    Schema event = SchemaBuilder.struct().field("meta", meta).build();
    Struct struct = new Struct(event).put("meta", new Struct(meta).put("status", null));
    assertNull(FieldPath.parse("meta.status").get(struct));
    assertEquals("note", FieldPath.parse("meta.kind").get(struct));
  }
}
