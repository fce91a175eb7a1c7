package io.somastack.connect.postgres.record;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class JsonBytesTest {

  /**
   * Upsert and audit statements bind a payload's text, and the row stays in its batch until the
   * commit: a text kept inside the JsonBytes once decoded held every payload of the put twice
   * (UTF-16 up to three times) however small batch.max.bytes cut the statements. Each statement
   * decodes the text it sends, and lets it go.
   */
  @Test
  void theDecodedTextIsNotKept() {
    String text = "{\"event_id\":\"e1\",\"text\":\"été 😀\"}";
    JsonBytes json = new JsonBytes(text.getBytes(StandardCharsets.UTF_8));

    String first = json.toString();

    assertEquals(text, first);
    assertNotSame(first, json.toString());
  }
}
