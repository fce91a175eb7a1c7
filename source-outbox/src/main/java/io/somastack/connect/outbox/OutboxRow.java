package io.somastack.connect.outbox;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * One outbox row as read for relaying. {@code payload} and {@code headers} are JSON text; never log
 * them. {@code payloadBytes} is the payload's length as the database measured it; a payload over
 * payload.max.bytes is not read at all (null here), and this length is all the relay knows of it.
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
    long payloadBytes) {

  /** A row whose payload was read, measured in UTF-8. */
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
        payload == null ? 0 : payload.getBytes(StandardCharsets.UTF_8).length);
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
