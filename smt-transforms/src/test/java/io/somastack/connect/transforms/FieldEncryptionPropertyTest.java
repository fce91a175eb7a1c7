package io.somastack.connect.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.somastack.connect.common.json.RecordJson;
import java.math.BigDecimal;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;

/** EncryptFields then DecryptFields gives back any JSON value, and only in its own place. */
class FieldEncryptionPropertyTest {

  private final EncryptFields<SinkRecord> encrypt = EncryptFieldsTest.encrypt();
  private final EncryptFields<SinkRecord> encryptDeterministic =
      EncryptFieldsTest.encrypt("mode", "deterministic");
  private final DecryptFields<SinkRecord> decrypt = DecryptFieldsTest.decrypt();

  @Provide
  Arbitrary<Object> json() {
    return jsonValue(3);
  }

  private Arbitrary<Object> jsonValue(int depth) {
    Arbitrary<Object> scalar =
        Arbitraries.oneOf(
            Arbitraries.strings().withCharRange('\u0000', '\ud7ff').ofMaxLength(30).map(s -> s),
            Arbitraries.integers().map(i -> i),
            Arbitraries.longs().map(l -> l),
            Arbitraries.of(true, false).map(b -> b),
            Arbitraries.doubles().between(-1e12, 1e12).map(d -> d),
            Arbitraries.bigDecimals().ofScale(3).map(d -> (BigDecimal) d));
    if (depth == 0) {
      return scalar;
    }
    Arbitrary<Object> list = jsonValue(depth - 1).list().ofMaxSize(4).map(l -> l);
    Arbitrary<Object> map =
        Arbitraries.maps(Arbitraries.strings().alpha().ofMaxLength(8), jsonValue(depth - 1))
            .ofMaxSize(4)
            .map(m -> m);
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(4, scalar),
        net.jqwik.api.Tuple.of(1, list),
        net.jqwik.api.Tuple.of(1, map));
  }

  private static SinkRecord event(Object content, Object score) {
    return TestRecords.value(
        TestRecords.map(
            "tenant_id", "acme", "payload", TestRecords.map("content", content, "score", score)));
  }

  /**
   * Equal as JSON: same structure and text, numbers by value (JSON has one number type, so 1.8E11
   * and 180000000000 are the same value).
   */
  private static JsonNode canonical(Object value) {
    return numbersByValue(RecordJson.parse(RecordJson.write(RecordJson.convert(value, null))));
  }

  private static JsonNode numbersByValue(JsonNode node) {
    if (node.isNumber()) {
      return DecimalNode.valueOf(node.decimalValue().stripTrailingZeros());
    }
    if (node.isObject()) {
      ObjectNode copy = JsonNodeFactory.instance.objectNode();
      node.fields().forEachRemaining(e -> copy.set(e.getKey(), numbersByValue(e.getValue())));
      return copy;
    }
    if (node.isArray()) {
      ArrayNode copy = JsonNodeFactory.instance.arrayNode();
      node.forEach(item -> copy.add(numbersByValue(item)));
      return copy;
    }
    return node;
  }

  @Property(tries = 300)
  void decryptOfEncryptIsIdentity(@ForAll("json") Object content, @ForAll("json") Object score) {
    for (EncryptFields<SinkRecord> transform :
        new EncryptFields[] {encrypt, encryptDeterministic}) {
      SinkRecord sealed = transform.apply(event(content, score));
      Map<String, Object> payload = EncryptFieldsTest.payload(decrypt.apply(sealed));
      assertEquals(canonical(content), canonical(payload.get("content")));
      assertEquals(canonical(score), canonical(payload.get("score")));
    }
  }

  @Property(tries = 100)
  void swappedFieldsAndTenantsAreDetected(
      @ForAll("json") Object content, @ForAll("json") Object score) {
    SinkRecord sealed = encrypt.apply(event(content, score));
    Map<String, Object> payload = EncryptFieldsTest.payload(sealed);
    SinkRecord swapped = event(payload.get("score"), payload.get("content"));
    assertThrows(DataException.class, () -> decrypt.apply(swapped));
    SinkRecord otherTenant =
        TestRecords.value(TestRecords.map("tenant_id", "acme2", "payload", payload));
    assertThrows(DataException.class, () -> decrypt.apply(otherTenant));
  }
}
