package io.somastack.connect.outbox;

import io.somastack.connect.common.sql.SqlIdentifier;

/**
 * The column names of an outbox table. {@code key} is the record-key column (the dedupe key column
 * unless configured); {@code headers} may be null (no headers column).
 */
public record OutboxColumns(
    String id,
    String txid,
    String topic,
    String payload,
    String dedupeKey,
    String key,
    String headers,
    String createdAt,
    String publishedAt,
    String error) {

  /** Seed 002's names plus the txid, headers and error columns of sql/outbox.sql. */
  public static OutboxColumns defaults() {
    return new OutboxColumns(
        "id",
        "txid",
        "topic",
        "payload",
        "dedupe_key",
        "dedupe_key",
        "headers",
        "created_at",
        "published_at",
        "error");
  }

  static String q(String column) {
    return SqlIdentifier.quote(column);
  }
}
