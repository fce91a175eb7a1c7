package io.somastack.connect.transforms.util;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.json.RecordJson;
import java.io.IOException;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.DataException;

/** Field values to and from JSON bytes, so encrypted and hashed values keep their JSON type. */
public final class JsonValues {

  private JsonValues() {}

  /** Compact JSON of a Connect value (Map, List, Struct, primitive, logical type). */
  public static byte[] toBytes(Object value, Schema schema) {
    if (value instanceof String text) {
      return quoted(text);
    }
    return RecordJson.writeBytes(RecordJson.convert(value, schema));
  }

  private static byte[] quoted(String text) {
    try {
      return RecordJson.MAPPER.writeValueAsBytes(text);
    } catch (JsonProcessingException e) {
      throw new DataException("cannot write a string as JSON", e);
    }
  }

  /** Parses JSON bytes into schemaless Connect values: Map, List, String, Number, Boolean. */
  public static Object fromBytes(byte[] json) {
    try {
      return RecordJson.MAPPER.readValue(json, Object.class);
    } catch (IOException e) {
      // no cause: the parser's message quotes the token it stopped at, decrypted personal data
      throw new DataException("decrypted value is not JSON");
    }
  }

  /** The text form for a Struct string field: a JSON string's own text, anything else as JSON. */
  public static String toText(byte[] json) {
    JsonNode node = RecordJson.parse(json);
    return node.isTextual() ? node.textValue() : RecordJson.write(node);
  }
}
