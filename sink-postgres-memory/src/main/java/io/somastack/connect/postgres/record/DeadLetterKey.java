package io.somastack.connect.postgres.record;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.json.RecordJson;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.DataException;

/**
 * A dead letter's key, kept so that the record can be replayed: the default partitioner hashes the
 * key's bytes, and a compacted topic or an upsert sink tells rows apart by it. Bytes (the shipped
 * archive's ByteArrayConverter) and strings are stored as they came, never re-spaced or re-ordered
 * as JSON, so the key's text is its very bytes; a key a converter parsed (a Struct, a Map, a
 * number) can only be stored as its JSON.
 */
final class DeadLetterKey {

  /** The key is JSON text: as it came, or as the sink writes a key a converter parsed. */
  static final String JSON = "json";

  /** The key is UTF-8 text that is not JSON, as it came. */
  static final String TEXT = "text";

  /** The key's bytes in base64: they are not UTF-8, or hold a NUL, which text cannot. */
  static final String BASE64 = "base64";

  /** The record has a null key: event_key is NULL. */
  static final String NULL = "null";

  /** The event_key column's text, and its event_key_format. */
  record Stored(String text, String format) {}

  private DeadLetterKey() {}

  static Stored of(Object key, Schema schema) {
    if (key == null) {
      return new Stored(null, NULL);
    }
    if (key instanceof byte[] bytes) {
      return fromBytes(bytes);
    }
    if (key instanceof ByteBuffer buffer) {
      byte[] bytes = new byte[buffer.remaining()];
      buffer.duplicate().get(bytes);
      return fromBytes(bytes);
    }
    if (key instanceof String text) {
      return fromText(text);
    }
    return converted(key, schema);
  }

  private static Stored fromBytes(byte[] bytes) {
    String text = DeadLetterHeaders.strictUtf8(bytes);
    return text == null || text.indexOf('\0') >= 0 ? base64(bytes) : fromText(text);
  }

  private static Stored fromText(String text) {
    if (text.indexOf('\0') >= 0) {
      return base64(text.getBytes(StandardCharsets.UTF_8));
    }
    return new Stored(text, isJson(text) ? JSON : TEXT);
  }

  private static boolean isJson(String text) {
    try {
      JsonNode parsed = RecordJson.parse(text);
      return parsed != null && !parsed.isMissingNode(); // blank text parses to nothing
    } catch (DataException notJson) {
      return false;
    }
  }

  /** A converter's value as JSON, or as its text when JSON has no form for it (a NaN). */
  private static Stored converted(Object key, Schema schema) {
    String json;
    try {
      json = RecordJson.write(RecordJson.convert(key, schema));
    } catch (DataException notJson) {
      String text = key.toString();
      return text.indexOf('\0') >= 0
          ? base64(text.getBytes(StandardCharsets.UTF_8))
          : new Stored(text, TEXT);
    }
    return new Stored(json, JSON); // JSON text escapes NUL: the text column holds it
  }

  private static Stored base64(byte[] bytes) {
    return new Stored(Base64.getEncoder().encodeToString(bytes), BASE64);
  }
}
