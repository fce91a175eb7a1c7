package io.somastack.connect.postgres.record;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.json.RecordJson;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.connect.errors.DataException;

/**
 * How a dead letter's value (event_format) and key (event_key_format) are stored: the words both
 * columns share mean the same for each, so a replay decodes them alike.
 */
final class DeadLetterFormat {

  /** JSON text: as it came, or as the sink writes what a converter parsed. */
  static final String JSON = "json";

  /** UTF-8 text that is not JSON, as it came (the value as a JSON string of that text). */
  static final String TEXT = "text";

  /**
   * The bytes in base64 (the value's in a JSON string): they are not UTF-8, or hold what the column
   * cannot (a NUL; for the value also what jsonb refuses).
   */
  static final String BASE64 = "base64";

  /** The value is null (a tombstone): event is JSON null. */
  static final String TOMBSTONE = "tombstone";

  /** The key is null: event_key is NULL. */
  static final String NULL = "null";

  private DeadLetterFormat() {}

  /**
   * The bytes' text when they are well-formed UTF-8 without a NUL, which a text column can hold as
   * they are; else null (stored as base64).
   */
  static String utf8Text(byte[] bytes) {
    return JsonBytes.malformedUtf8At(bytes) < 0 ? new String(bytes, StandardCharsets.UTF_8) : null;
  }

  /** A ByteBuffer's remaining bytes, which are stored as a byte[]'s would be. */
  static byte[] bytes(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.remaining()];
    buffer.duplicate().get(bytes);
    return bytes;
  }

  /**
   * The text parsed as JSON, or null when it is not JSON here: blank text parses to nothing, and a
   * number whose exponent is beyond an int is refused as unreadable (RecordJson), which must not
   * fail the archive.
   */
  static JsonNode parsedJson(String text) {
    try {
      JsonNode parsed = RecordJson.parse(text);
      return parsed == null || parsed.isMissingNode() ? null : parsed;
    } catch (DataException notJson) {
      return null;
    }
  }
}
