package io.somastack.connect.outbox;

import java.time.Instant;

/**
 * One outbox row as read for relaying. {@code payload} and {@code headers} are JSON text; never log
 * them.
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
    Instant createdAt) {

  public OutboxCursor cursor() {
    return new OutboxCursor(txid, id);
  }

  @Override
  public String toString() {
    // no payload, no headers: they may hold personal data
    return table.name() + "#" + id + " (topic " + topic + ")";
  }
}
