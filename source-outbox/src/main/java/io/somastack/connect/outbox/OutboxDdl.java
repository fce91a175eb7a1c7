package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.OutboxColumns.q;

import io.somastack.connect.common.sql.SqlIdentifier;
import java.util.ArrayList;
import java.util.List;

/**
 * The DDL an outbox table needs, with the configured names: the table (seed 002's columns plus
 * {@code txid}, {@code key}, {@code headers} and {@code error}), the relay index, the NOTIFY
 * trigger, and the dead-letter table. {@code sql/outbox.sql} is this output for the default names;
 * a unit test keeps the two in step. Every statement is idempotent.
 */
public final class OutboxDdl {

  private OutboxDdl() {}

  public static List<String> statements(
      OutboxTable table, OutboxColumns c, String notifyChannel, OutboxTable dlq) {
    List<String> sql = new ArrayList<>();
    String t = table.sql();
    sql.add(
        "CREATE TABLE IF NOT EXISTS "
            + t
            + " (\n"
            + "  "
            + q(c.id())
            + " bigserial PRIMARY KEY,\n"
            + "  "
            + q(c.topic())
            + " text,\n"
            + "  "
            + q(c.payload())
            + " jsonb,\n"
            + "  "
            + q(c.dedupeKey())
            + " text,\n"
            + (c.key().equals(c.dedupeKey()) ? "" : "  " + q(c.key()) + " text,\n")
            + (c.headers() == null ? "" : "  " + q(c.headers()) + " jsonb,\n")
            + "  "
            + q(c.createdAt())
            + " timestamptz NOT NULL DEFAULT clock_timestamp(),\n"
            + "  "
            + q(c.publishedAt())
            + " timestamptz,\n"
            + "  "
            + q(c.error())
            + " text,\n"
            + "  "
            + q(c.txid())
            + " xid8 NOT NULL DEFAULT pg_current_xact_id()\n"
            + ")");
    // an existing (seed) table gets the columns the relay needs; existing rows get the id of this
    // transaction, which is below every later one, so they are relayed first, in id order
    sql.add(
        "ALTER TABLE "
            + t
            + " ADD COLUMN IF NOT EXISTS "
            + q(c.txid())
            + " xid8 NOT NULL DEFAULT pg_current_xact_id()");
    sql.add(
        "ALTER TABLE " + t + " ADD COLUMN IF NOT EXISTS " + q(c.publishedAt()) + " timestamptz");
    sql.add("ALTER TABLE " + t + " ADD COLUMN IF NOT EXISTS " + q(c.error()) + " text");
    sql.add(
        "CREATE INDEX IF NOT EXISTS "
            + SqlIdentifier.quote(SqlIdentifier.sanitize(table.table() + "_relay_idx"))
            + " ON "
            + t
            + " ("
            + q(c.txid())
            + ", "
            + q(c.id())
            + ") WHERE "
            + q(c.publishedAt())
            + " IS NULL");
    if (notifyChannel != null) {
      String function = table.sqlSibling("soma_outbox_notify");
      sql.add(
          "CREATE OR REPLACE FUNCTION "
              + function
              + "() RETURNS trigger LANGUAGE plpgsql AS $$\n"
              + "BEGIN\n"
              + "  PERFORM pg_notify(TG_ARGV[0], TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);\n"
              + "  RETURN NULL;\n"
              + "END $$");
      sql.add(
          "CREATE OR REPLACE TRIGGER "
              + SqlIdentifier.quote(SqlIdentifier.sanitize(table.table() + "_notify"))
              + " AFTER INSERT ON "
              + t
              + " FOR EACH STATEMENT EXECUTE FUNCTION "
              + function
              + "('"
              + notifyChannel.replace("'", "''")
              + "')");
    }
    sql.add(
        "CREATE TABLE IF NOT EXISTS "
            + dlq.sql()
            + " (\n"
            + "  \"id\" bigserial PRIMARY KEY,\n"
            + "  \"topic\" text,\n"
            + "  \"event\" jsonb NOT NULL,\n"
            + "  \"error\" text NOT NULL,\n"
            + "  \"created_at\" timestamptz NOT NULL DEFAULT now()\n"
            + ")");
    return sql;
  }

  /** The statements as one script, as in sql/outbox.sql. */
  public static String script(
      OutboxTable table, OutboxColumns c, String notifyChannel, OutboxTable dlq) {
    return String.join(";\n\n", statements(table, c, notifyChannel, dlq)) + ";\n";
  }
}
