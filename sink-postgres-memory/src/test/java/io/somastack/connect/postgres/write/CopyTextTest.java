package io.somastack.connect.postgres.write;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.postgres.record.EventRow;
import io.somastack.connect.postgres.record.JsonBytes;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class CopyTextTest {

  private static String copyText(Object[]... rows) {
    List<EventRow> eventRows =
        Arrays.stream(rows)
            .map(values -> new EventRow(null, "t", EventRow.Kind.WRITE, "id", values))
            .toList();
    CopyWriter.CopyText text = CopyWriter.CopyText.of(eventRows);
    return new String(text.bytes(), 0, text.length(), StandardCharsets.UTF_8);
  }

  @Test
  void columnsAreTabSeparatedRowsEndInNewlineAndNullIsBackslashN() {
    assertEquals("e1\t\\N\t3\t42\tt\n", copyText(new Object[] {"e1", null, 3, 42L, true}));
    assertEquals("a\tf\nb\tt\n", copyText(new Object[] {"a", false}, new Object[] {"b", true}));
  }

  @Test
  void theFourSpecialCharactersAreEscapedWhereverTheyAre() {
    assertEquals(
        "\\\\start mid\\tdle\\r\\nend\\\\\n", copyText(new Object[] {"\\start mid\tdle\r\nend\\"}));
    // JSON text's own escapes are backslashes too: a stored "\n" escape must stay two characters
    assertEquals("{\"t\":\"a\\\\nb\"}\n", copyText(new Object[] {"{\"t\":\"a\\nb\"}"}));
  }

  @Test
  void aStringRepeatedDownAColumnIsWrittenOnEveryRow() {
    String topic = "memory.events";
    assertEquals(
        "memory.events\ta\nmemory.events\tb\nother\tmemory.events\n",
        copyText(
            new Object[] {topic, "a"}, new Object[] {topic, "b"}, new Object[] {"other", topic}));
  }

  @Test
  void integersAreWrittenAsTheirDecimalText() {
    long[] samples = {0, 7, 10, 99, 100, -1, -10, 999_999_999_999_999_999L, Long.MAX_VALUE};
    for (long n : samples) {
      assertEquals(n + "\n", copyText(new Object[] {n}));
    }
    assertEquals(Long.MIN_VALUE + "\n", copyText(new Object[] {Long.MIN_VALUE}));
    assertEquals(
        "2147483647\t-2147483648\n", copyText(new Object[] {Integer.MAX_VALUE, Integer.MIN_VALUE}));
  }

  @Test
  void jsonBytesAreEscapedExactlyAsTheSameText() {
    for (String json :
        List.of("{\"t\":\"a\\nb\\\\c\"}", "{\"t\":\"tab\there\"}", "{\"日本\":\"😀\"}")) {
      JsonBytes bytes = new JsonBytes(json.getBytes(StandardCharsets.UTF_8));
      assertEquals(copyText(new Object[] {json, 1}), copyText(new Object[] {bytes, 1}));
    }
  }

  @Test
  void multiByteCharactersPassThroughAsUtf8() {
    assertEquals("日本語\té\t😀\n", copyText(new Object[] {"日本語", "é", "😀"}));
  }

  @Test
  void aReusedBufferHoldsOnlyTheLatestRows() {
    CopyWriter.CopyText text = new CopyWriter.CopyText();
    EventRow long1 =
        new EventRow(null, "t", EventRow.Kind.WRITE, "a", new Object[] {"a".repeat(100)});
    EventRow short1 = new EventRow(null, "t", EventRow.Kind.WRITE, "b", new Object[] {"b"});
    text.fill(List.of(long1));
    text.fill(List.of(short1));
    assertEquals("b\n", new String(text.bytes(), 0, text.length(), StandardCharsets.UTF_8));
  }

  @Test
  void aBufferGrownPastTheKeptSizeIsDroppedOnceSent() {
    CopyWriter.CopyText text = new CopyWriter.CopyText();
    text.fill(
        List.of(
            new EventRow(
                null, "t", EventRow.Kind.WRITE, "a", new Object[] {"x".repeat(20 << 20)})));
    assertEquals((20 << 20) + 1, text.length());
    text.trim();
    assertEquals(0, text.length());
    assertEquals(64 << 10, text.bytes().length);
  }

  @Test
  void aBufferThatMustGrowKeepsEverything() {
    String big = "x\t".repeat(50_000);
    String expected = "x\\t".repeat(50_000) + "\n";
    assertEquals(expected, copyText(new Object[] {big}));
  }
}
