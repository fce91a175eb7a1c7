package io.somastack.connect.postgres.record;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.text.Utf8;
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
 * number) can only be stored as its JSON. A text key with an unpaired surrogate is stored as JSON
 * too (see {@link #fromText}).
 */
final class DeadLetterKey {

  /** The event_key column's text, and its event_key_format ({@link DeadLetterFormat}). */
  record Stored(String text, String format) {}

  private DeadLetterKey() {}

  static Stored of(Object key, Schema schema) {
    if (key == null) {
      return new Stored(null, DeadLetterFormat.NULL);
    }
    if (key instanceof byte[] bytes) {
      return fromBytes(bytes);
    }
    if (key instanceof ByteBuffer buffer) {
      return fromBytes(DeadLetterFormat.bytes(buffer));
    }
    if (key instanceof String text) {
      return fromText(text);
    }
    return converted(key, schema);
  }

  private static Stored fromBytes(byte[] bytes) {
    String text = DeadLetterFormat.utf8Text(bytes);
    return text == null ? base64(bytes) : fromText(text);
  }

  private static Stored fromText(String text) {
    if (Utf8.hasUnpairedSurrogate(text)) {
      // no UTF-8 holds it (pgjdbc would send "?"), so no bytes held it: a converter read it from a
      // JSON escape such as \ud800. That JSON, escaped again, is what such a key came from
      String json = isJson(text) ? text : RecordJson.write(JsonNodeFactory.instance.textNode(text));
      return new Stored(escapeLoneSurrogates(json), DeadLetterFormat.JSON);
    }
    if (text.indexOf('\0') >= 0) {
      return base64(text.getBytes(StandardCharsets.UTF_8));
    }
    return new Stored(text, isJson(text) ? DeadLetterFormat.JSON : DeadLetterFormat.TEXT);
  }

  private static boolean isJson(String text) {
    return DeadLetterFormat.parsedJson(text) != null;
  }

  /** A converter's value as JSON, or as its text when JSON has no form for it (a NaN). */
  private static Stored converted(Object key, Schema schema) {
    String json;
    try {
      json = RecordJson.write(RecordJson.convert(key, schema));
    } catch (DataException notJson) {
      return fromText(key.toString());
    }
    // JSON text escapes NUL, which the text column holds; Jackson leaves a lone surrogate as it is
    return new Stored(escapeLoneSurrogates(json), DeadLetterFormat.JSON);
  }

  /**
   * JSON text with each unpaired surrogate as its escape (\ud800): the same JSON, which UTF-8 can
   * hold. Outside a string JSON has no such character, so it stands in a string or a field name.
   */
  private static String escapeLoneSurrogates(String json) {
    if (!Utf8.hasUnpairedSurrogate(json)) {
      return json;
    }
    StringBuilder escaped = new StringBuilder(json.length() + 10);
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      boolean pair =
          Character.isHighSurrogate(c)
              && i + 1 < json.length()
              && Character.isLowSurrogate(json.charAt(i + 1));
      if (pair) {
        escaped.append(c).append(json.charAt(++i));
      } else if (Character.isSurrogate(c)) {
        escaped.append(String.format("\\u%04x", (int) c));
      } else {
        escaped.append(c);
      }
    }
    return escaped.toString();
  }

  private static Stored base64(byte[] bytes) {
    return new Stored(Base64.getEncoder().encodeToString(bytes), DeadLetterFormat.BASE64);
  }
}
