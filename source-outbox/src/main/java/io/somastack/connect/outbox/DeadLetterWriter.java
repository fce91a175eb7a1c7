package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.OutboxColumns.q;

import io.somastack.connect.outbox.OutboxSourceConfig.BadRowAction;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

/**
 * Takes bad rows out of the relay, never silently: with {@code bad.row.action=dlq} one statement
 * moves them — the whole row as jsonb, with the reason — into the dead-letter table and deletes
 * them from the outbox, atomically; with {@code flag} it writes the reason into the error column,
 * which the relay then skips. The payload goes from table to table inside PostgreSQL and is never
 * logged.
 */
final class DeadLetterWriter {

  private static final String REASON = "soma_dead_letter_reason";

  /** The dead-letter table's columns the relay's INSERT fills; the others take their defaults. */
  static final List<String> COLUMNS = List.of("topic", "event", "error");

  private final BadRowAction action;
  private final OutboxColumns c;
  private final OutboxTable dlq;

  DeadLetterWriter(OutboxSourceConfig config) {
    this.action = config.badRowAction();
    this.c = config.columns();
    this.dlq = config.dlqTable();
  }

  /** Moves or flags the rows; returns how many were handled. */
  int write(Connection connection, OutboxTable table, List<RowMapper.Bad> bad) throws SQLException {
    if (bad.isEmpty()) {
      return 0;
    }
    Long[] ids = bad.stream().map(b -> b.row().id()).toArray(Long[]::new);
    String[] topics = bad.stream().map(RowMapper.Bad::topic).toArray(String[]::new);
    String[] reasons = bad.stream().map(RowMapper.Bad::reason).toArray(String[]::new);
    String sql =
        action == BadRowAction.DLQ
            ? "WITH bad AS (SELECT * FROM unnest(?::bigint[], ?::text[], ?::text[])"
                + " AS b(id, topic, reason)),"
                + " moved AS (DELETE FROM "
                + table.sql()
                + " o USING bad WHERE o."
                + q(c.id())
                + " = bad.id RETURNING o.*, bad.topic AS soma_dead_letter_topic, bad.reason AS "
                + REASON
                + ") INSERT INTO "
                + dlq.sql()
                + " ("
                + String.join(", ", COLUMNS.stream().map(OutboxColumns::q).toList())
                + ") SELECT soma_dead_letter_topic,"
                + " to_jsonb(moved) - 'soma_dead_letter_topic' - '"
                + REASON
                + "', "
                + REASON
                + " FROM moved"
            : "UPDATE "
                + table.sql()
                + " o SET "
                + q(c.error())
                + " = b.reason FROM unnest(?::bigint[], ?::text[], ?::text[]) AS b(id, topic,"
                + " reason) WHERE o."
                + q(c.id())
                + " = b.id";
    try (PreparedStatement s = connection.prepareStatement(sql)) {
      Array idArray = connection.createArrayOf("bigint", ids);
      s.setArray(1, idArray);
      s.setArray(2, connection.createArrayOf("text", topics));
      s.setArray(3, connection.createArrayOf("text", reasons));
      return s.executeUpdate();
    }
  }
}
