package io.somastack.connect.outbox;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * One outbox row as read for relaying. {@code payload} and {@code headers} are JSON text; never log
 * them. {@code payloadBytes} is the payload's length as the database measured it, {@code
 * storedBytes} the payload's, the key's and the headers' together. A row whose stored bytes are
 * over payload.max.bytes is not read at all (payload, key and headers null here): these lengths are
 * all the relay knows of it.
 */
public record OutboxRow(
    OutboxTable table,
    long id,
    long txid,
    String topic,
    String payload,
    String dedupeKey,
    String key,
    String headers,
    Instant createdAt,
    long payloadBytes,
    long storedBytes) {

  /** A row whose payload, key and headers were read, measured in UTF-8. */
  public OutboxRow(
      OutboxTable table,
      long id,
      long txid,
      String topic,
      String payload,
      String dedupeKey,
      String key,
      String headers,
      Instant createdAt) {
    this(
        table,
        id,
        txid,
        topic,
        payload,
        dedupeKey,
        key,
        headers,
        createdAt,
        utf8Length(payload),
        utf8Length(payload) + utf8Length(key) + utf8Length(headers));
  }

  private static long utf8Length(String text) {
    return text == null ? 0 : text.getBytes(StandardCharsets.UTF_8).length;
  }

  public OutboxCursor cursor() {
    return new OutboxCursor(txid, id);
  }

  @Override
  public String toString() {
    // no payload, headers or topic: they are the row's data and may hold personal data
    return table.name() + "#" + id;
  }
}
