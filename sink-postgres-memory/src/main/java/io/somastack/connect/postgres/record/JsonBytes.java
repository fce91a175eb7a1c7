package io.somastack.connect.postgres.record;

import io.somastack.connect.common.text.Utf8;
import java.nio.charset.StandardCharsets;

/**
 * A JSON document kept as the UTF-8 bytes it arrived in (ByteArrayConverter), so that COPY can send
 * it as it is: decoding every event into a String and encoding it back was pure overhead on the
 * sink's fastest path. Statements that bind text get the decoded {@link #toString()}, made anew for
 * each: a row stays in its batch until the commit, and a copy kept here would hold every payload of
 * the put twice over (UTF-16: up to three times) however small the statements are cut.
 */
public final class JsonBytes {

  private final byte[] utf8;

  public JsonBytes(byte[] utf8) {
    this.utf8 = utf8;
  }

  /** The bytes themselves, not a copy: callers must not change them. */
  public byte[] utf8() {
    return utf8;
  }

  public int length() {
    return utf8.length;
  }

  /** The text, decoded at each call and kept by the caller only as long as it needs it. */
  @Override
  public String toString() {
    return new String(utf8, StandardCharsets.UTF_8);
  }

  /** The text of a payload value: a String as it is, JsonBytes decoded. */
  public static String text(Object payload) {
    return payload == null ? null : payload.toString();
  }

  /**
   * Whether JSON text holds the escape for the NUL character (which jsonb cannot store): a
   * backslash and "u0000", where the backslash is not itself escaped (it ends an odd run of
   * backslashes).
   */
  static boolean hasNulEscape(String json) {
    for (int at = json.indexOf("\\u0000"); at >= 0; at = json.indexOf("\\u0000", at + 1)) {
      int backslashes = 1;
      while (at - backslashes >= 0 && json.charAt(at - backslashes) == '\\') {
        backslashes++;
      }
      if (backslashes % 2 == 1) {
        return true;
      }
    }
    return false;
  }

  /**
   * The index of the first byte that is not well-formed UTF-8 ({@link Utf8#malformedAt}) or is NUL,
   * or -1 when there is none. Jackson's byte parser is laxer (it decodes an overlong "/" as "/"),
   * and PostgreSQL is strict, so an event must be checked here for the parse, the key and the
   * stored text to agree. A NUL byte counts as malformed too: JSON text never holds one raw, a text
   * column cannot, and it is how UTF-16 and UTF-32 text (which Jackson would detect and decode)
   * look as bytes.
   */
  static int malformedUtf8At(byte[] bytes) {
    return Utf8.malformedAt(bytes, false);
  }

  /** Whether the bytes start with UTF-8's byte order mark, which JSON text must not carry. */
  static boolean startsWithByteOrderMark(byte[] bytes) {
    return bytes.length >= 3
        && bytes[0] == (byte) 0xEF
        && bytes[1] == (byte) 0xBB
        && bytes[2] == (byte) 0xBF;
  }

  /** {@link #hasNulEscape(String)} over UTF-8 bytes. */
  static boolean hasNulEscape(byte[] json) {
    for (int at = 0; at + 6 <= json.length; at++) {
      if (json[at] == '\\' && json[at + 1] == 'u') {
        if (json[at + 2] == '0'
            && json[at + 3] == '0'
            && json[at + 4] == '0'
            && json[at + 5] == '0') {
          return true;
        }
      } else if (json[at] == '\\') {
        at++; // an escaped character (often a backslash): skip it so it starts nothing
      }
    }
    return false;
  }
}
