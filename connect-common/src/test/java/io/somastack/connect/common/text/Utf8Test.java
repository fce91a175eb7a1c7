package io.somastack.connect.common.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class Utf8Test {

  private static final List<String> SAMPLES =
      List.of("", "plain", "été", "नमस्ते", "emoji 😀 end", "lone \uD800 surrogate", "€uro");

  @Test
  void lengthIsWhatJavaWritesInUtf8() {
    for (String text : SAMPLES) {
      assertEquals(text.getBytes(StandardCharsets.UTF_8).length, Utf8.length(text), text);
    }
  }

  /** Every cut ends between characters, within the bytes, and as long as it can be. */
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
}
