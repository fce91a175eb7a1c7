package io.somastack.connect.common.text;

import java.nio.charset.StandardCharsets;

/**
 * Text measured and cut in UTF-8 bytes, the unit of the limits it meets (PostgreSQL's 63-byte
 * identifiers, a Kafka header within the record's size), never between the bytes of one character;
 * and bytes checked to be strict UTF-8.
 */
public final class Utf8 {

  private Utf8() {}

  /**
   * Whether the text holds a surrogate that is not half of a pair: UTF-8 has no form for it, and
   * Java (protobuf too) writes '?' in its place, silently. A JSON escape such as \ud800 decodes to
   * one; a Struct or Map from a converter may carry one.
   */
  public static boolean hasUnpairedSurrogate(CharSequence text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The text in UTF-8, or null when it holds an unpaired surrogate (see {@link
   * #hasUnpairedSurrogate}): one encoding by the JDK, and the scan for surrogates only when the
   * bytes could hide one. Java writes a lone surrogate as one '?' byte, so text that encodes to one
   * byte per char and holds no '?' has none: the common case of ASCII text is never scanned.
   */
  public static byte[] strictBytes(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    boolean couldHideOne = bytes.length != text.length() || indexOf(bytes, (byte) '?') >= 0;
    return couldHideOne && hasUnpairedSurrogate(text) ? null : bytes;
  }

  private static int indexOf(byte[] bytes, byte b) {
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == b) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Whether the text takes more than {@code maxBytes} in UTF-8, its bytes counted only when its
   * length leaves it in doubt: a char is 1 to 3 bytes (a surrogate pair 4 for its 2), so most texts
   * are measured without a pass over them, and none is encoded.
   */
  public static boolean longerThan(CharSequence text, long maxBytes) {
    if (3L * text.length() <= maxBytes) {
      return false;
    }
    return text.length() > maxBytes || length(text) > maxBytes;
  }

  /**
   * How many bytes the text takes in UTF-8 (an unpaired surrogate counts as '?', as Java writes
   * it).
   */
  public static int length(CharSequence text) {
    int bytes = 0;
    for (int i = 0; i < text.length(); ) {
      int codePoint = Character.codePointAt(text, i);
      bytes += bytesOf(codePoint);
      i += Character.charCount(codePoint);
    }
    return bytes;
  }

  /**
   * The longest start of the text within {@code maxBytes} of UTF-8 that ends between characters.
   */
  public static String prefix(String text, int maxBytes) {
    int bytes = 0;
    int end = 0;
    while (end < text.length()) {
      int codePoint = text.codePointAt(end);
      int size = bytesOf(codePoint);
      if (bytes + size > maxBytes) {
        break;
      }
      bytes += size;
      end += Character.charCount(codePoint);
    }
    return text.substring(0, end);
  }

  /**
   * The text itself when it fits {@code maxBytes} of UTF-8, else its longest start that fits with
   * {@code marker} (such as "...") after it.
   */
  public static String truncate(String text, int maxBytes, String marker) {
    if (length(text) <= maxBytes) {
      return text;
    }
    return prefix(text, Math.max(0, maxBytes - length(marker))) + marker;
  }

  /**
   * The index of the first byte that is not part of well-formed UTF-8 (RFC 3629, as the JDK's
   * strict decoder and PostgreSQL read it: no overlong forms, no surrogates, nothing above
   * U+10FFFF, no truncated sequence), or -1 when all are. NUL is well-formed UTF-8; a caller whose
   * text cannot hold one passes {@code nulAllowed} false to have it found in the same pass: this
   * runs on the PostgreSQL sink's per-record path, where a second scan for NUL made the check about
   * twice as slow on ASCII events.
   */
  public static int malformedAt(byte[] bytes, boolean nulAllowed) {
    int at = 0;
    while (at < bytes.length) {
      int lead = bytes[at];
      if (lead > 0 || (lead == 0 && nulAllowed)) {
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

  private static int bytesOf(int codePoint) {
    if (codePoint < 0x80) {
      return 1;
    }
    if (codePoint < 0x800) {
      return 2;
    }
    if (Character.isSurrogate((char) codePoint) && codePoint < 0x10000) {
      return 1; // unpaired: String.getBytes writes '?'
    }
    return codePoint < 0x10000 ? 3 : 4;
  }
}
