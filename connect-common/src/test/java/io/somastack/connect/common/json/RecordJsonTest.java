package io.somastack.connect.common.json;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.path.FieldPath;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;
import org.junit.jupiter.api.Test;

class RecordJsonTest {

  /**
   * JSON nested deeper than Jackson reads or writes (1000 levels, as Kafka's JsonConverter) is
   * valid JSON all the same (PostgreSQL's jsonb takes it): the reason names the nesting, never
   * calls it invalid, and quotes nothing of it.
   */
  @Test
  void jsonNestedBeyondTheLimitIsRefusedForItsNesting() {
    String deep = "[".repeat(1_001) + "\"leaf-secret\"" + "]".repeat(1_001);
    String object = "{\"a\":" + deep + "}";
    List<Runnable> reads =
        List.of(
            () -> RecordJson.parse(deep),
            () -> RecordJson.parse(deep.getBytes(StandardCharsets.UTF_8)),
            () -> new JsonPathReader(List.of(FieldPath.parse("a"))).read(object),
            () -> new JsonPathReader(List.of(FieldPath.parse("b"))).read(object),
            () -> RecordJson.write(RecordJson.convert(nestedLists(1_001), null)));
    for (Runnable read : reads) {
      DataException e = assertThrows(DataException.class, read::run);
      assertEquals(
          "value is nested too deeply: more than 1000 levels of JSON objects and arrays",
          e.getMessage());
    }
    // the limit itself is still read
    assertTrue(RecordJson.parse("[".repeat(1_000) + "]".repeat(1_000)).isArray());
  }

  /**
   * A number whose exponent is beyond an int (1e99999999999) is read by Jackson as a BigDecimal,
   * which throws NumberFormatException: not a parse error, so it escaped as one, failing the task
   * where a bad record belongs in the dead letter queue. It is refused as not readable, quoting
   * nothing of the value.
   */
  @Test
  void aNumberWithAnExponentBeyondAnIntIsABadValue() {
    String text = "{\"secret\":\"s3cr3t\",\"n\":1e99999999999}";
    List<Runnable> reads =
        List.of(
            () -> RecordJson.parse(text),
            () -> RecordJson.parse(text.getBytes(StandardCharsets.UTF_8)),
            () -> RecordJson.toJson("1e99999999999", null),
            () -> new JsonPathReader(List.of(FieldPath.parse("n"))).read(text));
    for (Runnable read : reads) {
      DataException e = assertThrows(DataException.class, read::run);
      assertFalse(
          e.getMessage().contains("s3cr3t") || e.getMessage().contains("9999"), e.getMessage());
      assertTrue(e.getMessage().contains("number"), e.getMessage());
    }
  }

  private static Object nestedLists(int depth) {
    Object node = "leaf-secret";
    for (int i = 0; i < depth; i++) {
      node = List.of(node);
    }
    return node;
  }

  @Test
  void everyConverterOutputReadsAsTheSameTree() {
    String text = "{\"id\":\"m1\",\"n\":2,\"tags\":[\"a\"]}";
    assertEquals(RecordJson.parse(text), RecordJson.toJson(text, null));
    assertEquals(
        RecordJson.parse(text), RecordJson.toJson(text.getBytes(StandardCharsets.UTF_8), null));
    assertEquals(
        RecordJson.parse(text),
        RecordJson.toJson(Map.of("id", "m1", "n", 2, "tags", List.of("a")), null));
    assertNull(RecordJson.toJson(null, null));
  }

  @Test
  void structsKeepTheirLogicalTypes() {
    Schema schema =
        SchemaBuilder.struct()
            .field("amount", Decimal.schema(2))
            .field("at", Timestamp.SCHEMA)
            .build();
    Struct struct = new Struct(schema).put("amount", new BigDecimal("1.50")).put("at", new Date(0));
    String json = RecordJson.write(RecordJson.toJson(struct, schema));
    assertEquals("{\"amount\":1.50,\"at\":\"1970-01-01T00:00:00Z\"}", json);
  }

  @Test
  void decimalsInTextKeepTheirDigits() {
    // 12.50 is an amount with cents, 100.0 is not 1E+2: a field extracted or written back from
    // JSON text must read as the text wrote it
    String text = "{\"amount\":12.50,\"count\":100.0,\"tiny\":0.000}";
    assertEquals(text, RecordJson.write(RecordJson.parse(text)));
    assertEquals(text, RecordJson.write(RecordJson.parse(text.getBytes(StandardCharsets.UTF_8))));
    assertEquals(new BigDecimal("12.50"), RecordJson.parse(text).get("amount").decimalValue());
  }

  @Test
  void textThatIsNotJsonSaysWhereButNeverWhat() {
    DataException e =
        assertThrows(
            DataException.class, () -> RecordJson.parse("{\"email\":\"ada@example.com\" oops"));
    assertTrue(
        e.getMessage().startsWith("value is not valid JSON (line 1, column"), e.getMessage());
    assertFalse(e.getMessage().contains("ada@example.com"));
    assertFalse(e.getMessage().contains("oops"));
    assertThrows(DataException.class, () -> RecordJson.parse("{\"a\":1,\"a\":2}"));
    assertThrows(DataException.class, () -> RecordJson.parse("{} {}"));
  }

  /**
   * Valid JSON beyond what the parser takes, and a duplicate key, are named as such: all were "not
   * valid JSON", which sends a user looking for a syntax error that is not there. The reason is
   * said of its subject, and never quotes the text.
   */
  @Test
  void aDuplicateKeyOrATooLongNumberIsNamedNeverQuoted() {
    String duplicate = "{\"secret\":1,\"secret\":2}";
    assertEquals(
        "value has a duplicate key (line 1, column 21)",
        assertThrows(DataException.class, () -> RecordJson.parse(duplicate)).getMessage());
    assertEquals(
        "key has a duplicate key (line 1, column 21)",
        assertThrows(DataException.class, () -> RecordJson.parse(duplicate, "key")).getMessage());
    String number = "[" + "7".repeat(1_001) + "]";
    assertEquals(
        "value holds a number longer than 1000 characters",
        assertThrows(
                DataException.class,
                () -> RecordJson.parse(number.getBytes(StandardCharsets.UTF_8)))
            .getMessage());
    assertEquals(
        "payload holds a number that cannot be read: its exponent is too large",
        RecordJson.reason(new NumberFormatException("1e99999999999"), "payload"));
  }

  @Test
  void valuesJsonCannotHoldAreRejected() {
    assertThrows(DataException.class, () -> RecordJson.toJson(Map.of("x", Double.NaN), null));
    assertThrows(DataException.class, () -> RecordJson.toJson(42, null));
  }

  /**
   * An optional field explicitly null (JsonConverter with replace.null.with.default=false, Avro) is
   * null in the JSON, not its schema default: Struct.get would hand over the default, a value
   * nobody sent. A required field left unset still reads as its default, the value the schema
   * promises for it.
   */
  @Test
  void anOptionalFieldSetToNullIsNullNotItsDefault() {
    Schema schema =
        SchemaBuilder.struct()
            .field("status", SchemaBuilder.string().optional().defaultValue("active").build())
            .field("kind", SchemaBuilder.string().defaultValue("note").build())
            .build();
    Struct event = new Struct(schema).put("status", null);
    assertEquals(
        "{\"status\":null,\"kind\":\"note\"}", RecordJson.toJson(event, schema).toString());
  }

  /**
   * The UTF-8 of a tree is its text's bytes, exactly as before lone surrogates were escaped, for
   * any text without one: digests (source event ids), hashes (RedactFields) and deterministic
   * ciphertexts (EncryptFields) of such values stay what they were.
   */
  @Test
  void bytesOfTextWithoutALoneSurrogateAreItsUtf8AsBefore() {
    List<Object> values =
        List.of(
            Map.of("ascii", "plain?", "n", 1.5, "list", List.of(1, "two", true)),
            Map.of("accents", "é ü ß", "cjk", "漢字", "emoji", "a\uD83D\uDE00b"),
            Map.of("controls", "tab\tnl\nquote\"back\\slash\u0001", "\uD83D\uDE00", "key"),
            List.of("\uFFFF\uFFFE", "?", ""));
    for (Object value : values) {
      JsonNode tree = RecordJson.convert(value, null);
      assertArrayEquals(
          RecordJson.write(tree).getBytes(StandardCharsets.UTF_8), RecordJson.writeBytes(tree));
    }
    Random random = new Random(7);
    for (int i = 0; i < 10_000; i++) {
      StringBuilder text = new StringBuilder();
      for (int c = random.nextInt(12); c > 0; c--) {
        int codePoint = random.nextInt(Character.MAX_CODE_POINT + 1);
        if (codePoint < Character.MIN_SURROGATE || codePoint > Character.MAX_SURROGATE) {
          text.appendCodePoint(codePoint);
        }
      }
      JsonNode tree = RecordJson.convert(Map.of(text.toString(), List.of(text.toString())), null);
      assertArrayEquals(
          RecordJson.write(tree).getBytes(StandardCharsets.UTF_8), RecordJson.writeBytes(tree));
    }
  }

  /**
   * A lone surrogate (which a Struct or Map may carry, and a JSON escape decodes to) is written as
   * its escape, as Jackson's UTF-8 writer writes a string alone, and reads back as itself: not '?'.
   */
  @Test
  void aLoneSurrogateIsWrittenAsItsEscapeAndReadsBack() throws Exception {
    String lone = "a\uD800b\uDFFF";
    JsonNode tree = RecordJson.convert(Map.of(lone, List.of(lone, "\uD83D\uDE00")), null);
    byte[] bytes = RecordJson.writeBytes(tree);
    assertEquals(
        "{\"a\\uD800b\\uDFFF\":[\"a\\uD800b\\uDFFF\",\"\uD83D\uDE00\"]}",
        new String(bytes, StandardCharsets.UTF_8));
    // Jackson's byte parser refuses an escaped lone surrogate in a name, its char parser does not
    assertEquals(tree, RecordJson.parse(new String(bytes, StandardCharsets.UTF_8)));
    JsonNode values = RecordJson.convert(List.of(lone, Map.of("k", lone)), null);
    assertEquals(values, RecordJson.parse(RecordJson.writeBytes(values)));
    assertArrayEquals(
        RecordJson.MAPPER.writeValueAsBytes(lone),
        RecordJson.writeBytes(RecordJson.MAPPER.getNodeFactory().textNode(lone)));
  }

  /**
   * Bytes read as their text reads: a name holding a lone surrogate, written as its escape, is
   * refused by Jackson's byte parser (its char parser reads it), so refused bytes are read again as
   * text. Malformed UTF-8 is not (decoding would put U+FFFD where nobody sent it), and what fails
   * both ways is reported as the bytes failed, quoting nothing.
   */
  @Test
  void bytesWithALoneSurrogateInANameReadBackAsTheirTextDoes() {
    JsonNode tree = RecordJson.convert(Map.of("\uD800", 1), null);
    byte[] bytes = RecordJson.writeBytes(tree);
    assertEquals("{\"\\uD800\":1}", new String(bytes, StandardCharsets.UTF_8));
    assertEquals(tree, RecordJson.parse(bytes));
    assertEquals(tree, RecordJson.parse(bytes, "key"));

    byte[] malformed = {
      '{', '"', '\\', 'u', 'D', '8', '0', '0', '"', ':', '"', (byte) 0xC3, '"', '}'
    };
    DataException e = assertThrows(DataException.class, () -> RecordJson.parse(malformed, "key"));
    assertTrue(e.getMessage().startsWith("key is not valid JSON"), e.getMessage());
    DataException invalid =
        assertThrows(
            DataException.class,
            () -> RecordJson.parse("{\"secret\":}".getBytes(StandardCharsets.UTF_8), "key"));
    assertEquals("key is not valid JSON (line 1, column 11)", invalid.getMessage());
  }
}
