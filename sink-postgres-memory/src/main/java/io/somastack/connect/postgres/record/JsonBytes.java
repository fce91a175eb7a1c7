package io.somastack.connect.postgres.record;

import java.nio.charset.StandardCharsets;

/**
 * A JSON document kept as the UTF-8 bytes it arrived in (ByteArrayConverter), so that COPY can send
 * it as it is: decoding every event into a String and encoding it back was pure overhead on the
 * sink's fastest path. Statements that bind text get the decoded {@link #toString()}, made once.
 */
public final class JsonBytes {

  private final byte[] utf8;
  private String text;

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

  @Override
  public String toString() {
    if (text == null) {
      text = new String(utf8, StandardCharsets.UTF_8);
    }
    return text;
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
   * The index of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlong forms,
   * no surrogates, nothing above U+10FFFF, no truncated sequence), or -1 when all are. Jackson's
   * byte parser is laxer (it decodes an overlong "/" as "/"), and PostgreSQL is strict, so an event
   * must be checked here for the parse, the key and the stored text to agree. A NUL byte counts as
   * malformed too: JSON text never holds one raw, and it is how UTF-16 and UTF-32 text (which
   * Jackson would detect and decode) look as bytes.
   */
  static int malformedUtf8At(byte[] bytes) {
    int at = 0;
    while (at < bytes.length) {
      int lead = bytes[at];
      if (lead > 0) {
        at++; // ASCII, the common case
        continue;
      }
      int length = sequenceLength(lead & 0xFF);
      if (length == 0
          || at + length > bytes.length
          || !secondByteFits(lead & 0xFF, bytes[at + 1])) {
        return at;
      }
      for (int next = at + 2; next < at + length; next++) {
        if ((bytes[next] & 0xC0) != 0x80) {
          return at;
        }
      }
      at += length;
    }
    return -1;
  }

  /** Bytes in the sequence a lead byte starts; 0 for NUL, a continuation byte or a bad lead. */
  private static int sequenceLength(int lead) {
    if (lead >= 0xC2 && lead <= 0xDF) {
      return 2;
    }
    if (lead >= 0xE0 && lead <= 0xEF) {
      return 3;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
      return 4;
    }
    return 0;
  }

  /**
   * The second byte's range depends on the lead (Unicode's table of well-formed sequences): E0
   * needs A0-BF (else overlong), ED 80-9F (else a surrogate), F0 90-BF (overlong), F4 80-8F (above
   * U+10FFFF); every other lead takes any continuation byte.
   */
  private static boolean secondByteFits(int lead, byte second) {
    int b = second & 0xFF;
    return switch (lead) {
      case 0xE0 -> b >= 0xA0 && b <= 0xBF;
      case 0xED -> b >= 0x80 && b <= 0x9F;
      case 0xF0 -> b >= 0x90 && b <= 0xBF;
      case 0xF4 -> b >= 0x80 && b <= 0x8F;
      default -> b >= 0x80 && b <= 0xBF;
    };
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
