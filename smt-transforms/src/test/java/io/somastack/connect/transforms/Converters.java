package io.somastack.connect.transforms;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.storage.StringConverter;

/** Kafka's own converters, configured as a worker would, for checks that records serialise. */
final class Converters {

  private Converters() {}

  static JsonConverter json(boolean schemas, boolean forKey) {
    JsonConverter converter = new JsonConverter();
    converter.configure(Map.of("schemas.enable", schemas), forKey);
    return converter;
  }

  static StringConverter string(boolean forKey) {
    StringConverter converter = new StringConverter();
    converter.configure(Map.of(), forKey);
    return converter;
  }

  /** What JsonConverter with schemas.enable=true makes of an envelope on the wire. */
  static SchemaAndValue readEnvelope(String envelope) {
    return json(true, false).toConnectData("t", envelope.getBytes(StandardCharsets.UTF_8));
  }

  /** A payload as JsonConverter with schemas.enable=true reads it with a map-of-strings schema. */
  static SchemaAndValue readStringMap(String payload) {
    return readEnvelope(
        "{\"schema\":{\"type\":\"map\",\"keys\":{\"type\":\"string\"},"
            + "\"values\":{\"type\":\"string\",\"optional\":true}},\"payload\":"
            + payload
            + "}");
  }

  /** The value written by JsonConverter with schemas.enable=true, and read back. */
  static SchemaAndValue roundTrip(Schema schema, Object value) {
    JsonConverter converter = json(true, false);
    return converter.toConnectData("t", converter.fromConnectData("t", schema, value));
  }

  static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
