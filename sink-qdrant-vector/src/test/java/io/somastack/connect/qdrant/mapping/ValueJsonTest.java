package io.somastack.connect.qdrant.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.somastack.connect.common.json.ConnectJson;
import io.somastack.connect.common.path.FieldPath;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.errors.DataException;
import org.junit.jupiter.api.Test;

class ValueJsonTest {

  @Test
  void leavesOutTheVectorFieldAndKeepsTheRest() {
    Map<Object, Object> value = new LinkedHashMap<>();
    value.put("tenant_id", "acme");
    value.put("vector", List.of(0.5, 0.25));
    assertEquals(
        "{\"tenant_id\":\"acme\"}",
        ValueJson.toJsonWithout(value, null, FieldPath.parse("vector")).toString());
  }

  @Test
  void refusesAMapWithTwoKeysOfOneText() {
    Map<Object, Object> value = new LinkedHashMap<>();
    value.put(1L, "one as a number");
    value.put("1", "one as text");
    value.put("vector", List.of(0.5, 0.25));
    DataException e =
        assertThrows(
            DataException.class,
            () -> ValueJson.toJsonWithout(value, null, FieldPath.parse("vector")));
    assertEquals(ConnectJson.DUPLICATE_NAME, e.getMessage());
  }

  @Test
  void namesABytesKeyByItsBase64AndRefusesTwoOfTheSameBytes() {
    Map<Object, Object> value = new LinkedHashMap<>();
    value.put(new byte[] {1, 2, 3}, "bytes");
    value.put("vector", List.of(0.5, 0.25));
    assertEquals(
        "{\"AQID\":\"bytes\"}",
        ValueJson.toJsonWithout(value, null, FieldPath.parse("vector")).toString());
    value.put(new byte[] {1, 2, 3}, "the same bytes");
    assertThrows(
        DataException.class, () -> ValueJson.toJsonWithout(value, null, FieldPath.parse("vector")));
  }
}
