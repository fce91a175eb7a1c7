package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.OutboxColumns.q;

import io.somastack.connect.outbox.OutboxSourceConfig.BadRowAction;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Takes bad rows out of the relay, never silently: with {@code bad.row.action=dlq} one statement
 * moves them — the whole row as jsonb, with the reason — into the dead-letter table and deletes
 * them from the outbox, atomically; with {@code flag} it writes the reason into the error column,
 * which the relay then skips. The payload goes from table to table inside PostgreSQL and is never
 * logged.
 *
 * <p>A json (not jsonb) column — or a domain over json, or an array of either — goes into the jsonb
 * event as a JSON string of its text, exactly as written (an array: its array's text). Converted to
 * jsonb it would lose duplicate keys, often what made the row bad ({"a":1,"a":2} becomes {"a":2}),
 * and an escaped NUL (backslash u0000) or a lone surrogate escape, which json takes and jsonb
 * refuses, would fail the move, and the task with it, on every restart. Columns of other types
 * convert without loss (text as a string, bytea as "\\x..." hex). That takes the list of the
 * columns, which is read at each move, not kept from when the task connected (see {@link #move}).
 */
final class DeadLetterWriter {

  private static final String REASON = "soma_dead_letter_reason";

  /** The dead-letter table's columns the relay's INSERT fills; the others take their defaults. */
  static final List<String> COLUMNS = List.of("topic", "event", "error");

  private final BadRowAction action;
  private final OutboxColumns c;
  private final OutboxTable dlq;
  private final RelaySession session;

  DeadLetterWriter(OutboxSourceConfig config) {
    this(config, new RelaySession());
  }

  /**
   * @param session the relay's mark: the rows are moved or flagged in its session only
   */
  DeadLetterWriter(OutboxSourceConfig config, RelaySession session) {
    this.session = session;
    this.action = config.badRowAction();
    this.c = config.columns();
    this.dlq = config.dlqTable();
  }

  /** Moves or flags the rows; returns how many were handled. */
  int write(Connection connection, OutboxTable table, List<RowMapper.Bad> bad) throws SQLException {
    if (bad.isEmpty()) {
      return 0;
    }
    if (action == BadRowAction.DLQ) {
      return move(connection, table, bad);
    }
    if (session.mark() == null) {
      return execute(connection, flagSql(table), bad);
    }
    return Transaction.run(
        connection,
        () -> {
          requireOurSession(connection);
          return execute(connection, flagSql(table), bad);
        });
  }

  /**
   * In a transaction: fails unless it runs in the session carrying the relay's mark, which holds
   * the table's lock ({@link RelaySession}). Dead letters are rare: one more statement each time.
   */
  private void requireOurSession(Connection connection) throws SQLException {
    if (session.mark() == null) {
      return;
    }
    try (Statement s = connection.createStatement();
        ResultSet rs = s.executeQuery("SELECT " + RelaySession.CURRENT)) {
      rs.next();
      session.require(rs.getString(1));
    }
  }

  /**
   * Moves the rows in one transaction that first locks the table against ALTER TABLE (ROW
   * EXCLUSIVE, which the DELETE takes anyway), then reads its columns: a list kept from when the
   * task connected would miss a column added since (ALTER TABLE ... ADD COLUMN while the task
   * runs), whose value would be deleted with the row and never reach the dead letter; none added
   * before the move commits can be missing from the event. Dead letters are rare, one catalog read
   * each is cheap.
   */
  private int move(Connection connection, OutboxTable table, List<RowMapper.Bad> bad)
      throws SQLException {
    return Transaction.run(
        connection,
        () -> {
          requireOurSession(connection);
          try (Statement lock = connection.createStatement()) {
            lock.execute("LOCK TABLE " + table.sql() + " IN ROW EXCLUSIVE MODE");
          }
          String sql = moveSql(table, OutboxTableCheck.columns(connection, table));
          return execute(connection, sql, bad);
        });
  }

  private static int execute(Connection connection, String sql, List<RowMapper.Bad> bad)
      throws SQLException {
    Long[] ids = bad.stream().map(b -> b.row().id()).toArray(Long[]::new);
    String[] topics = bad.stream().map(RowMapper.Bad::topic).toArray(String[]::new);
    String[] reasons = bad.stream().map(RowMapper.Bad::reason).toArray(String[]::new);
    try (PreparedStatement s = connection.prepareStatement(sql)) {
      s.setArray(1, connection.createArrayOf("bigint", ids));
      s.setArray(2, connection.createArrayOf("text", topics));
      s.setArray(3, connection.createArrayOf("text", reasons));
      return s.executeUpdate();
    }
  }

  private String moveSql(OutboxTable table, List<OutboxTableCheck.Column> columns) {
    return "WITH bad AS (SELECT * FROM unnest(?::bigint[], ?::text[], ?::text[])"
        + " AS b(id, topic, reason)),"
        + " moved AS (DELETE FROM "
        + table.sql()
        + " o USING bad WHERE o."
        + q(c.id())
        + " = bad.id RETURNING "
        + event(columns)
        + " AS soma_dead_letter_event, bad.topic AS soma_dead_letter_topic, bad.reason AS "
        + REASON
        + ") INSERT INTO "
        + dlq.sql()
        + " ("
        + String.join(", ", COLUMNS.stream().map(OutboxColumns::q).toList())
        + ") SELECT soma_dead_letter_topic, soma_dead_letter_event, "
        + REASON
        + " FROM moved";
  }

  private String flagSql(OutboxTable table) {
    return "UPDATE "
        + table.sql()
        + " o SET "
        + q(c.error())
        + " = b.reason FROM unnest(?::bigint[], ?::text[], ?::text[]) AS b(id, topic,"
        + " reason) WHERE o."
        + q(c.id())
        + " = b.id";
  }

  /**
   * The dead letter's event: the outbox row {@code o} as jsonb, its json columns as the text they
   * hold, cast to text in a row of all the columns, in the table's order. The whole row never goes
   * through to_jsonb, which would parse them; nor are they nulled in it, which a NOT NULL domain
   * refuses.
   */
  private static String event(List<OutboxTableCheck.Column> columns) {
    List<String> values = new ArrayList<>();
    for (OutboxTableCheck.Column column : columns) {
      String value = "o." + q(column.name());
      values.add(column.json() ? value + "::text AS " + q(column.name()) : value);
    }
    return "(SELECT to_jsonb(soma_dead_letter_row.*) FROM (SELECT "
        + String.join(", ", values)
        + ") soma_dead_letter_row)";
  }
}
