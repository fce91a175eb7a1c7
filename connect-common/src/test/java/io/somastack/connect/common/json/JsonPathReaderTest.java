package io.somastack.connect.common.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.somastack.connect.common.path.FieldPath;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.apache.kafka.connect.errors.DataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonPathReaderTest {

  private static final String EVENT =
      "{\"event_id\":\"e-1\",\"id\":42,\"score\":0.125,\"ok\":true,\"gone\":null,"
          + "\"body\":{\"text\":\"hello\",\"deep\":{\"n\":[1,{\"x\":2}]}},"
          + "\"metadata\":{\"tenant_id\":\"t1\",\"tags\":[\"a\",\"b\"],\"ts\":\"2026-12-01T00:00:00Z\"},"
          + "\"big\":123456789012345678901234567890,\"skip\":{\"a\":[{\"b\":\"\\u00e9\\n\"}]}}";

  private static final List<FieldPath> PATHS =
      Stream.of(
              "event_id",
              "id",
              "score",
              "ok",
              "gone",
              "big",
              "metadata.tenant_id",
              "metadata.tags",
              "body.deep",
              "body.deep.n",
              "missing",
              "metadata.missing.deeper",
              "event_id.not_an_object")
          .map(FieldPath::parse)
          .toList();

  @Test
  void everyWantedPathReadsAsInTheFullTree() {
    JsonNode full = RecordJson.parse(EVENT);
    JsonPathReader reader = new JsonPathReader(PATHS);
    for (ObjectNode sparse :
        List.of(reader.read(EVENT), reader.read(EVENT.getBytes(StandardCharsets.UTF_8)))) {
      for (FieldPath path : PATHS) {
        assertEquals(path.get(full), path.get(sparse), path.toString());
      }
    }
  }

  @Test
  void fieldsNobodyAskedForAreNotKept() {
    ObjectNode sparse =
        new JsonPathReader(List.of(FieldPath.parse("metadata.tenant_id"))).read(EVENT);
    assertEquals("{\"metadata\":{\"tenant_id\":\"t1\"}}", sparse.toString());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"id\":\"a\",\"skip\":{\"x\":[1,2}}", // broken inside a skipped subtree
        "{\"id\":\"a\",\"skip\":\"unterminated}",
        "{\"id\":\"a\",\"id\":\"b\"}", // a duplicate on a wanted path is ambiguous
        "{\"id\":\"a\"} {\"id\":\"b\"}", // trailing content
        "{\"id\":\"a\",}",
        "{\"id\":\"a\" /* comment */}",
        "{\"id\":\"a\",\"skip\":\"tab\tinside\"}" // unescaped control character
      })
  void invalidJsonAnywhereIsRejectedAsTheTreeParserRejectsIt(String text) {
    assertThrows(DataException.class, () -> RecordJson.parse(text));
    JsonPathReader reader = new JsonPathReader(List.of(FieldPath.parse("id")));
    assertThrows(DataException.class, () -> reader.read(text));
    assertThrows(DataException.class, () -> reader.read(text.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void duplicatesOnWantedPathsAreRefusedAndElsewhereTheLastWinsAsInJsonb() {
    JsonPathReader reader = new JsonPathReader(List.of(FieldPath.parse("meta.tenant")));
    assertThrows(
        DataException.class, () -> reader.read("{\"meta\":{\"tenant\":\"a\",\"tenant\":\"b\"}}"));
    assertThrows(
        DataException.class,
        () -> reader.read("{\"meta\":{\"tenant\":\"a\"},\"meta\":{\"tenant\":\"b\"}}"));
    ObjectNode read = reader.read("{\"meta\":{\"tenant\":\"a\",\"x\":1,\"x\":2},\"y\":1,\"y\":2}");
    assertEquals("a", FieldPath.parse("meta.tenant").get(read).toString().replace("\"", ""));
  }

  @Test
  void aValueThatIsNotAnObjectSaysWhatItIs() {
    JsonPathReader reader = new JsonPathReader(List.of(FieldPath.parse("id")));
    assertEquals(
        "array",
        assertThrows(JsonPathReader.NotAnObjectException.class, () -> reader.read("[1]")).kind());
    assertEquals(
        "string",
        assertThrows(JsonPathReader.NotAnObjectException.class, () -> reader.read("\"x\"")).kind());
    assertEquals(
        "empty",
        assertThrows(JsonPathReader.NotAnObjectException.class, () -> reader.read("  ")).kind());
  }

  @Test
  void errorsNeverQuoteTheRecord() {
    String secret = "{\"id\":\"a\",\"ssn\":\"123-45-6789\" oops}";
    DataException error =
        assertThrows(
            DataException.class,
            () -> new JsonPathReader(List.of(FieldPath.parse("id"))).read(secret));
    assertTrue(error.getMessage().startsWith("value is not valid JSON"), error.getMessage());
    assertTrue(!error.getMessage().contains("123-45"), error.getMessage());
  }

  @Test
  void noPathsStillValidatesTheWholeDocument() {
    JsonPathReader reader = new JsonPathReader(List.of());
    assertEquals(0, reader.read(EVENT).size());
    assertThrows(DataException.class, () -> reader.read("{\"a\":[}"));
    assertNull(FieldPath.parse("a").get(reader.read("{\"a\":1}")));
  }

  /**
   * A duplicate on a mapped path is refused whichever occurrence comes first: a scalar, array or
   * null before the object used to be skipped unnoticed, and the object after it read as the value.
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"meta\":1,\"meta\":{\"tenant\":\"a\"}}",
        "{\"meta\":null,\"meta\":{\"tenant\":\"a\"}}",
        "{\"meta\":[],\"meta\":{\"tenant\":\"a\"}}",
        "{\"meta\":{\"tenant\":\"a\"},\"meta\":1}"
      })
  void aDuplicateOnAMappedPathIsRefusedWhicheverComesFirst(String text) {
    JsonPathReader reader = new JsonPathReader(List.of(FieldPath.parse("meta.tenant")));
    assertThrows(DataException.class, () -> reader.read(text));
    assertThrows(DataException.class, () -> reader.read(text.getBytes(StandardCharsets.UTF_8)));
  }
}
