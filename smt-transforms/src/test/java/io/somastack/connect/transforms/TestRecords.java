package io.somastack.connect.transforms;

import io.somastack.connect.common.json.RecordJson;
import java.io.IOException;
import java.io.InputStream;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.sink.SinkRecord;

/** Records and keys for the transform tests. */
public final class TestRecords {

  public static final String TOPIC = "memory.events";

  private TestRecords() {}

  public static SinkRecord value(Object value) {
    return value(null, value);
  }

  public static SinkRecord value(Schema schema, Object value) {
    return new SinkRecord(TOPIC, 2, null, null, schema, value, 42L);
  }

  public static SinkRecord record(Schema keySchema, Object key, Schema schema, Object value) {
    return new SinkRecord(TOPIC, 2, keySchema, key, schema, value, 42L);
  }

  public static SinkRecord at(String topic, int partition, long offset, Object value) {
    return new SinkRecord(topic, partition, null, null, null, value, offset);
  }

  /** A seed example payload from src/test/resources/examples as a schemaless Map. */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> example(String name) {
    try (InputStream in = TestRecords.class.getResourceAsStream("/examples/" + name + ".json")) {
      return RecordJson.MAPPER.readValue(in, LinkedHashMap.class);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A deterministic 32-byte key, base64, distinct per seed. */
  public static String key(int seed) {
    byte[] key = new byte[32];
    for (int i = 0; i < key.length; i++) {
      key[i] = (byte) (seed * 31 + i * 7);
    }
    return Base64.getEncoder().encodeToString(key);
  }

  public static Map<String, Object> map(Object... pairs) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      map.put((String) pairs[i], pairs[i + 1]);
    }
    return map;
  }
}
