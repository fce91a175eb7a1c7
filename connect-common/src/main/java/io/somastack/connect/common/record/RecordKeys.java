package io.somastack.connect.common.record;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.text.Utf8;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.connect.errors.DataException;

/**
 * A record key read as the sinks read a key's id, whatever converter made it: bytes
 * (ByteArrayConverter) as the text StringConverter would have made of them, text that is a JSON
 * object as that object, and the text a JSON serializer writes for a string ("acme" with its
 * quotes) as that string.
 */
public final class RecordKeys {

  private RecordKeys() {}

  /**
   * The key's text when it is bytes: their UTF-8 text, or null when they are no UTF-8 (decoded,
   * each malformed sequence would be U+FFFD, and keys that differ only there would read alike). Any
   * other key as it is.
   */
  public static Object text(Object key) {
    if (key instanceof byte[] bytes) {
      return Utf8.malformedAt(bytes, true) < 0 ? new String(bytes, StandardCharsets.UTF_8) : null;
    }
    return key;
  }

  /**
   * The JSON object the text holds, or null when it holds none (plain text, a JSON single value or
   * array, no JSON). Text that does not start with '{' is not parsed, so a plain key costs nothing.
   */
  public static ObjectNode jsonObjectOrNull(String text) {
    if (!startsAnObject(text)) {
      return null;
    }
    try {
      return RecordJson.parse(text, "key") instanceof ObjectNode object ? object : null;
    } catch (DataException notJson) {
      return null;
    }
  }

  private static boolean startsAnObject(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return c == '{';
      }
    }
    return false;
  }

  /**
   * The string of text a JSON serializer wrote for one ("acme" with its quotes); any other text,
   * JSON or not, as it is.
   */
  public static String unquoted(String text) {
    if (!text.strip().startsWith("\"")) {
      return text; // JSON may have white space around the string, as the key columns read it
    }
    try {
      JsonNode parsed = RecordJson.parse(text, "key");
      return parsed.isTextual() ? parsed.textValue() : text;
    } catch (DataException notJson) {
      return text;
    }
  }
}
