package io.somastack.connect.common.text;

/**
 * Text measured and cut in UTF-8 bytes, the unit of the limits it meets (PostgreSQL's 63-byte
 * identifiers, a Kafka header within the record's size), never between the bytes of one character.
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
