package io.somastack.connect.qdrant.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.qdrant.QdrantSinkConfig;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.connect.errors.DataException;
import org.junit.jupiter.api.Test;

class PointIdsTest {

  private final PointIds ids = new PointIds(UUID.fromString(QdrantSinkConfig.DEFAULT_NAMESPACE));
  private final JsonNodeFactory json = JsonNodeFactory.instance;

  @Test
  void unsignedIntegersStayNumbers() {
    assertEquals(42L, ids.of(json.numberNode(42L)).getNum());
    // above Long.MAX_VALUE: the uint64's bits
    assertEquals(
        "18446744073709551615",
        PointIds.describe(ids.of(RecordJson.parse("18446744073709551615"))));
  }

  @Test
  void uuidStringsStayThatUuid() {
    String uuid = "8F0C9E3A-1B2C-4D5E-8F60-718293A4B5C6";
    assertEquals(uuid.toLowerCase(), ids.of(json.textNode(uuid)).getUuid());
  }

  @Test
  void otherStringsBecomeUuidV5LikePython() {
    // python3 -c "import uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, 'mem-1'))"
    assertEquals("c8ca989b-f9d2-5ecb-8560-ad1541525126", ids.of(json.textNode("mem-1")).getUuid());
    assertEquals(ids.of("mem-1"), ids.of("mem-1"));
  }

  /**
   * A whole number written as a decimal is that number: a Struct's Decimal of scale 0 (JDBC sources
   * map NUMBER keys to it) or 7.0 in JSON text must name the point the integer 7 names.
   */
  @Test
  void wholeDecimalsAreThatInteger() {
    assertEquals(ids.of(json.numberNode(123L)), ids.of(json.numberNode(new BigDecimal("123"))));
    assertEquals(7L, ids.of(RecordJson.parse("7.0")).getNum());
    assertEquals(1000L, ids.of(RecordJson.parse("1e3")).getNum());
    assertEquals(7L, ids.of(json.numberNode(7.0d)).getNum());
    assertEquals(
        "18446744073709551615",
        PointIds.describe(ids.of(json.numberNode(new BigDecimal("18446744073709551615.00")))));
    assertThrows(DataException.class, () -> ids.of(RecordJson.parse("7.5")));
    assertThrows(DataException.class, () -> ids.of(RecordJson.parse("-3.0")));
    assertThrows(DataException.class, () -> ids.of(RecordJson.parse("18446744073709551616.0")));
    // an exponent far out of range is refused without building its billion digits
    assertThrows(DataException.class, () -> ids.of(RecordJson.parse("1e1000000000")));
  }

  /**
   * 1e-100000000 parses cheaply to a scale of a hundred million; toBigIntegerExact would compute 10
   * to that power (over a minute of CPU; 1e-1000000000 only overflows BigInteger's range). A
   * fraction is told from its precision and scale, as a single id and as a part of one, and without
   * quoting it. The timeout only ends a test that would otherwise hang for that minute: the
   * refusals take milliseconds, and the assertions are on what they say.
   */
  @Test
  void aTinyFractionIsRefusedWithoutComputingItsDigits() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          for (String text : List.of("1e-100000000", "1e-1000000000")) {
            JsonNode tiny = RecordJson.parse(text);
            DataException single = assertThrows(DataException.class, () -> ids.of(tiny));
            assertTrue(single.getMessage().contains("whole"), single.getMessage());
            DataException part =
                assertThrows(DataException.class, () -> of(json.textNode("a"), tiny));
            assertTrue(part.getMessage().contains("not whole"), part.getMessage());
            assertFalse(part.getMessage().contains("1E"), part.getMessage());
          }
          // zero however written is the id 0
          assertEquals(0L, ids.of(RecordJson.parse("0e-100000000")).getNum());
        });
  }

  @Test
  void badIdsSayWhy() {
    assertThrows(DataException.class, () -> ids.of(json.numberNode(-1L)));
    assertThrows(DataException.class, () -> ids.of(json.numberNode(1.5)));
    assertThrows(DataException.class, () -> ids.of(json.textNode("")));
    assertThrows(DataException.class, () -> ids.of(json.booleanNode(true)));
    assertThrows(DataException.class, () -> ids.of(json.nullNode()));
  }

  /**
   * An id is record data (a customer number, a phone number): the reason, which is logged and goes
   * into the dead letter's headers, says why the number is no point id but never quotes it.
   */
  @Test
  void numericIdsOutOfRangeAreRefusedWithoutQuotingThem() {
    DataException negative =
        assertThrows(DataException.class, () -> ids.of(json.numberNode(-4155550123L)));
    assertFalse(negative.getMessage().contains("4155550123"), negative.getMessage());
    assertTrue(negative.getMessage().contains("negative"), negative.getMessage());
    DataException tooLarge =
        assertThrows(DataException.class, () -> ids.of(RecordJson.parse("44155550123441555501")));
    assertFalse(tooLarge.getMessage().contains("44155550123441555501"), tooLarge.getMessage());
    assertTrue(tooLarge.getMessage().contains("too large"), tooLarge.getMessage());
    DataException decimal =
        assertThrows(DataException.class, () -> ids.of(RecordJson.parse("-4155550123.0")));
    assertFalse(decimal.getMessage().contains("4155550123"), decimal.getMessage());
  }

  private static final List<FieldPath> NAMESPACE_ID =
      List.of(FieldPath.parse("namespace"), FieldPath.parse("id"));

  private String of(JsonNode... values) {
    return ids.of(NAMESPACE_ID, List.of(values)).getUuid();
  }

  /**
   * Python agrees: uuid.uuid5(uuid.NAMESPACE_URL, json.dumps(values, separators=(",", ":"),
   * ensure_ascii=False)). The JSON array keeps values apart that a comma-joined text would merge.
   */
  @Test
  void idsOfSeveralFieldsAreTheUuidV5OfTheirJsonArrayLikePython() {
    assertEquals(
        "78333939-ee42-5a23-9f2a-15a88c0200b0",
        of(json.textNode("acme.agent0"), json.textNode("mem-5")));
    assertEquals(
        "d303d5a3-93c4-5efb-a4bd-ab6f79c35a05", of(json.textNode("a,b"), json.textNode("c")));
    assertEquals(
        "d581648a-511a-5c5e-b8f0-596cf220b5b2", of(json.textNode("a"), json.textNode("b,c")));
    List<FieldPath> three =
        List.of(FieldPath.parse("t"), FieldPath.parse("n"), FieldPath.parse("b"));
    assertEquals(
        "94e62691-7ff5-55b8-859e-e14a4eefbafc",
        ids.of(three, List.of(json.textNode("t1"), json.numberNode(7L), json.booleanNode(true)))
            .getUuid());
    assertEquals(
        ids.of(three, List.of(json.textNode("t1"), json.numberNode(7L), json.booleanNode(true))),
        ids.of(
            three, List.of(json.textNode("t1"), RecordJson.parse("7.0"), json.booleanNode(true))));
    // a number and its text are different values, as for a single id
    assertFalse(
        of(json.textNode("t"), json.numberNode(7L))
            .equals(of(json.textNode("t"), json.textNode("7"))));
  }

  @Test
  void textIsWrittenAsPythonsJsonDumpsWritesIt() {
    // a quote, a backslash, a new line, U+0001 (\\u0001 in lower case), é and an emoji as UTF-8
    assertEquals(
        "943e29bc-a48f-5f9c-b6db-f26fbbefb194",
        of(json.textNode("q\"\\\n\u0001é😀"), json.textNode("x")));
  }

  @Test
  void aUuidPartNamesOnePointHoweverItIsSpelled() {
    String uuid = "8f0c9e3a-1b2c-4d5e-8f60-718293a4b5c6";
    assertEquals(
        of(json.textNode("acme"), json.textNode(uuid)),
        of(json.textNode("acme"), json.textNode(uuid.toUpperCase())));
  }

  @Test
  void aPartThatIsNoIdIsRefusedNamingTheFieldNotTheValue() {
    List<JsonNode> bad =
        List.of(
            json.nullNode(),
            json.textNode(""),
            json.textNode("  "),
            json.numberNode(1.5),
            json.objectNode().put("secret", "s"),
            json.arrayNode().add("secret"),
            RecordJson.parse("1e1000000000"));
    for (JsonNode part : bad) {
      DataException e =
          assertThrows(
              DataException.class, () -> of(json.textNode("secret"), part), part::toString);
      assertTrue(e.getMessage().contains("'id'"), e.getMessage());
      assertFalse(e.getMessage().contains("secret"), e.getMessage());
    }
    assertThrows(
        DataException.class,
        () -> ids.of(NAMESPACE_ID, java.util.Arrays.asList(json.textNode("a"), null)));
  }

  /**
   * UTF-8 has no form for a lone surrogate: encoded, it became '?', so "a\ud800", "a\udc00" and
   * "a?" named one point and wrote over each other. Such an id is refused, naming no value.
   */
  @Test
  void anIdWithALoneSurrogateIsRefusedNotMadeIntoAnothersPoint() {
    for (String text : List.of("a\ud800", "a\udc00", "\udc00\ud800b")) {
      DataException single =
          assertThrows(DataException.class, () -> ids.of(json.textNode(text)), text);
      assertTrue(single.getMessage().contains("surrogate"), single.getMessage());
      DataException part =
          assertThrows(DataException.class, () -> of(json.textNode(text), json.textNode("x")));
      assertTrue(part.getMessage().contains("'namespace'"), part.getMessage());
      assertTrue(part.getMessage().contains("surrogate"), part.getMessage());
    }
    // a pair is one character, and its own point
    assertFalse(ids.of("a\ud83d\ude00").equals(ids.of("a?")));
  }
}
