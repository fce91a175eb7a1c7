package io.somastack.connect.common.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Utf8Test {

  private static final List<String> SAMPLES =
      List.of("", "plain", "été", "नमस्ते", "emoji 😀 end", "lone \uD800 surrogate", "€uro");

  /**
   * Strict bytes are Java's UTF-8 when the text has no lone surrogate, and null when it has one,
   * including where ASCII and the '?' Java writes for a lone surrogate make as many bytes as chars.
   */
  @Test
  void strictBytesAreUtf8OrNullForALoneSurrogate() {
    for (String text :
        List.of("", "plain", "what?", "été", "emoji 😀 end", "a?\u00e9", "\uD83D\uDE00?")) {
      assertArrayEquals(text.getBytes(StandardCharsets.UTF_8), Utf8.strictBytes(text), text);
    }
    for (String text :
        List.of(
            "\uD800",
            "a\uD800",
            "a\uDC00b",
            "ab?\uD800",
            "été \uD800",
            "\uDE00\uD83D",
            "😀\uD83D",
            "end \uD83D")) {
      assertNull(Utf8.strictBytes(text), text);
    }
  }

  @Test
  void lengthIsWhatJavaWritesInUtf8() {
    for (String text : SAMPLES) {
      assertEquals(text.getBytes(StandardCharsets.UTF_8).length, Utf8.length(text), text);
    }
  }

  /** Every cut ends between characters, within the bytes, and as long as it can be. */
  /** Decided by the length alone where it settles it, else by the bytes counted. */
  @Test
  void longerThanCountsUtf8BytesOnlyWhenTheLengthLeavesItInDoubt() {
    assertFalse(Utf8.longerThan("abc", 9)); // at most 9 bytes whatever the chars
    assertTrue(Utf8.longerThan("abcdefghij", 9)); // at least 10
    assertFalse(Utf8.longerThan("abcd", 4));
    assertTrue(Utf8.longerThan("\u00e9\u00e9\u00e9", 5)); // 6 bytes in 3 chars
    assertFalse(Utf8.longerThan("\u00e9\u00e9\u00e9", 6));
    assertTrue(Utf8.longerThan("\ud83d\ude00a", 4)); // a pair is 4 bytes, then 1
    assertFalse(Utf8.longerThan("\ud83d\ude00a", 5));
  }

  @Test
  void prefixNeverSplitsACharacterAndIsTheLongestThatFits() {
    for (String text : SAMPLES) {
      for (int max = 0; max <= Utf8.length(text) + 1; max++) {
        String cut = Utf8.prefix(text, max);
        assertTrue(text.startsWith(cut), text);
        assertTrue(Utf8.length(cut) <= max, text + " at " + max);
        if (cut.length() < text.length()) {
          int next = text.codePointAt(cut.length());
          String longer = text.substring(0, cut.length() + Character.charCount(next));
          assertTrue(Utf8.length(longer) > max, text + " at " + max);
          assertFalse(Character.isLowSurrogate(text.charAt(cut.length())), text);
        }
      }
    }
    assertEquals("emoji ", Utf8.prefix("emoji 😀 end", 9));
    assertEquals("emoji 😀", Utf8.prefix("emoji 😀 end", 10));
  }

  @Test
  void truncateKeepsWhatFitsAndMarksACut() {
    assertEquals("short", Utf8.truncate("short", 5, "..."));
    assertEquals("été...", Utf8.truncate("étéétéété", 8, "..."));
    assertTrue(Utf8.length(Utf8.truncate("x".repeat(5000), 1024, "...")) <= 1024);
  }

  @Test
  void unpairedSurrogatesAreFoundAndPairsAreNot() {
    assertFalse(Utf8.hasUnpairedSurrogate("plain é 中"));
    assertFalse(Utf8.hasUnpairedSurrogate("a pair: \ud83d\ude00"));
    assertTrue(Utf8.hasUnpairedSurrogate("high alone \ud800 here"));
    assertTrue(Utf8.hasUnpairedSurrogate("at the end \ud83d"));
    assertTrue(Utf8.hasUnpairedSurrogate("\ude00 low first"));
    assertTrue(Utf8.hasUnpairedSurrogate("reversed \ude00\ud83d"));
  }

  @Test
  void wellFormedUtf8HasNoMalformedByte() {
    for (String text : List.of("", "plain", "été", "नमस्ते", "emoji 😀 end", "€uro")) {
      assertEquals(-1, Utf8.malformedAt(text.getBytes(StandardCharsets.UTF_8), false), text);
    }
    // the edges of each range: U+007F, U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF, U+10000,
    // U+10FFFF
    assertWellFormed("7F", "C280", "DFBF", "E0A080", "ED9FBF", "EE8080", "EFBFBF", "F0908080");
    assertWellFormed("F48FBFBF");
  }

  /** Each ill-formed sequence is found at its first byte, after a well-formed "é" and "a". */
  @Test
  void illFormedSequencesAreFoundWhereTheyStart() {
    for (String bad :
        List.of(
            "C0AF",
            "C1BF",
            "E080AF",
            "F08080AF", // overlong forms ("/" and U+007F, U+07FF)
            "EDA080",
            "EDBFBF", // surrogates U+D800 and U+DFFF encoded in UTF-8
            "F4908080",
            "F5808080",
            "FF", // above U+10FFFF, and leads no UTF-8 has
            "80",
            "BF", // a continuation byte with no lead
            "C3",
            "E282",
            "F09F98", // truncated at the end
            "C341",
            "E28241",
            "F09F9841")) { // cut short by an ASCII byte
      byte[] bytes = HexFormat.of().parseHex("C3A961" + bad);
      assertEquals(3, Utf8.malformedAt(bytes, true), bad);
      assertEquals(3, Utf8.malformedAt(bytes, false), bad);
    }
  }

  /** NUL is well-formed UTF-8; a caller whose text cannot hold one has it found like a bad byte. */
  @Test
  void nulIsMalformedOnlyWhenNotAllowed() {
    byte[] bytes = HexFormat.of().parseHex("610062FF");
    assertEquals(3, Utf8.malformedAt(bytes, true));
    assertEquals(1, Utf8.malformedAt(bytes, false));
    assertEquals(-1, Utf8.malformedAt(new byte[] {0}, true));
    assertEquals(0, Utf8.malformedAt(new byte[] {0}, false));
  }

  /**
   * The check agrees with the JDK's strict decoder, byte for byte, on random strings that are
   * mostly non-ASCII (where the decisions are): NUL allowed, the same verdict and index; NUL
   * refused, the first NUL when it comes earlier.
   */
  @Test
  void malformedBytesAreFoundExactlyWhereTheJdkDecoderRefuses() {
    Random random = new Random(42);
    for (int round = 0; round < 200_000; round++) {
      byte[] b = new byte[1 + random.nextInt(6)];
      for (int i = 0; i < b.length; i++) {
        b[i] = (byte) (random.nextInt(4) == 0 ? random.nextInt(0x80) : 0x80 + random.nextInt(0x80));
      }
      int jdk = jdkMalformedAt(b);
      assertEquals(jdk, Utf8.malformedAt(b, true), HexFormat.of().formatHex(b));
      int nul = indexOfNul(b);
      int refusingNul = nul >= 0 && (jdk < 0 || nul < jdk) ? nul : jdk;
      assertEquals(refusingNul, Utf8.malformedAt(b, false), HexFormat.of().formatHex(b));
    }
  }

  private static void assertWellFormed(String... hex) {
    for (String sequence : hex) {
      byte[] bytes = HexFormat.of().parseHex(sequence);
      assertEquals(-1, Utf8.malformedAt(bytes, false), sequence);
    }
  }

  /** Where the JDK's strict decoder stops on malformed input, or -1 when it decodes it all. */
  private static int jdkMalformedAt(byte[] b) {
    ByteBuffer in = ByteBuffer.wrap(b);
    CoderResult result =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(in, CharBuffer.allocate(b.length * 2), true);
    return result.isError() ? in.position() : -1;
  }

  private static int indexOfNul(byte[] b) {
    for (int i = 0; i < b.length; i++) {
      if (b[i] == 0) {
        return i;
      }
    }
    return -1;
  }
}
