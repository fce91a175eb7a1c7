package io.somastack.connect.qdrant.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.qdrant.QdrantSinkConfig;
import java.math.BigDecimal;
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
}
