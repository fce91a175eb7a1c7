package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.OutboxColumns.q;

import io.somastack.connect.common.sql.SqlIdentifier;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The DDL an outbox table needs, with the configured names: the table (seed 002's columns plus
 * {@code txid}, {@code key}, {@code headers} and {@code error}), the relay index, the triggers that
 * keep {@code txid} the id of the transaction that made the row unpublished, the NOTIFY trigger,
 * and the dead-letter table. {@code sql/outbox.sql} is this output for the default names; a unit
 * test keeps the two in step. Every statement is idempotent.
 */
public final class OutboxDdl {

  private static final String RELAY_INDEX = "_relay_idx";

  /** The trigger functions of an outbox table. */
  static final List<String> FUNCTIONS = List.of("soma_outbox_txid", "soma_outbox_notify");

  /**
   * The search_path the trigger functions run with. They run as whoever inserts into (or updates)
   * the outbox, and their bodies call operators and functions ({@code ||}, {@code
   * jsonb_build_object}) by bare name: with the caller's search_path a role that may create objects
   * in one of its schemas (public, up to PostgreSQL 14) could shadow them with a closer match (an
   * operator {@code ||(name, name)}) and run its code as every writer (CVE-2018-1058). Their bodies
   * use only pg_catalog; pg_temp last, as it would otherwise come first.
   */
  static final String SEARCH_PATH = "pg_catalog, pg_temp";

  private static final String PINNED = " SET search_path = " + SEARCH_PATH;

  private OutboxDdl() {}

  /** The statements with the relay index's usual name, as sql/outbox.sql has them. */
  public static List<String> statements(
      OutboxTable table, OutboxColumns c, String notifyChannel, OutboxTable dlq) {
    return statements(table, c, notifyChannel, dlq, derivedName(table, RELAY_INDEX));
  }

  /**
   * The statements, the relay index named {@code relayIndex} (see {@link #relayIndexName}), or none
   * when that is null (the table has one).
   */
  static List<String> statements(
      OutboxTable table,
      OutboxColumns c,
      String notifyChannel,
      OutboxTable dlq,
      String relayIndex) {
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
    if (relayIndex != null) {
      sql.add(relayIndex(table, c, relayIndex));
    }
    sql.addAll(txidTriggers(table, c));
    if (notifyChannel != null) {
      String function = table.sqlSibling("soma_outbox_notify");
      sql.add(
          "CREATE OR REPLACE FUNCTION "
              + function
              + "() RETURNS trigger LANGUAGE plpgsql"
              + PINNED
              + " AS $$\n"
              + "BEGIN\n"
              + "  PERFORM pg_notify(TG_ARGV[0], TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);\n"
              + "  RETURN NULL;\n"
              + "END $$");
      sql.add(
          "CREATE OR REPLACE TRIGGER "
              + SqlIdentifier.quote(derivedName(table, "_notify"))
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

  /** The relay index, named {@code name}: it serves the relay's reads, deletes and marks. */
  static String relayIndex(OutboxTable table, OutboxColumns c, String name) {
    return "CREATE INDEX IF NOT EXISTS "
        + SqlIdentifier.quote(name)
        + " ON "
        + table.sql()
        + " ("
        + q(c.txid())
        + ", "
        + q(c.id())
        + ") WHERE "
        + q(c.publishedAt())
        + " IS NULL";
  }

  /**
   * Triggers that give a row the id of the transaction that makes it unpublished whenever that is
   * not the one it carries: an insert that sets txid itself (a dead letter inserted again whole, a
   * copied row), and an update that makes a published or flagged row unpublished again (a flagged
   * row fixed by clearing its error, a row set back to unpublished to send it again). Such a row
   * would otherwise sit behind the relay's position: never read, and taken out by the next
   * delete/mark as if it had been relayed. The WHEN clauses keep the ordinary insert and the
   * relay's own updates off the function.
   */
  private static List<String> txidTriggers(OutboxTable table, OutboxColumns c) {
    String function = table.sqlSibling("soma_outbox_txid");
    String call = " FOR EACH ROW";
    String execute = " EXECUTE FUNCTION " + function + "('" + c.txid().replace("'", "''") + "')";
    String unpublished =
        "NEW." + q(c.publishedAt()) + " IS NULL AND NEW." + q(c.error()) + " IS NULL";
    String wasOut =
        "OLD." + q(c.publishedAt()) + " IS NOT NULL OR OLD." + q(c.error()) + " IS NOT NULL";
    return List.of(
        "CREATE OR REPLACE FUNCTION "
            + function
            + "() RETURNS trigger LANGUAGE plpgsql"
            + PINNED
            + " AS $$\n"
            + "BEGIN\n"
            + "  NEW := jsonb_populate_record(NEW, jsonb_build_object(TG_ARGV[0],"
            + " pg_current_xact_id()));\n"
            + "  RETURN NEW;\n"
            + "END $$",
        "CREATE OR REPLACE TRIGGER "
            + SqlIdentifier.quote(derivedName(table, "_txid"))
            + " BEFORE INSERT ON "
            + table.sql()
            + call
            + " WHEN (NEW."
            + q(c.txid())
            + " IS DISTINCT FROM pg_current_xact_id())"
            + execute,
        "CREATE OR REPLACE TRIGGER "
            + SqlIdentifier.quote(derivedName(table, "_requeue"))
            + " BEFORE UPDATE OF "
            + q(c.publishedAt())
            + ", "
            + q(c.error())
            + " ON "
            + table.sql()
            + call
            + " WHEN ("
            + unpublished
            + " AND ("
            + wasOut
            + "))"
            + execute);
  }

  /**
   * The name of an object made for the table (its relay index, a trigger): the sanitised table name
   * and the suffix, cut to 63 bytes, as it has always been while the cut leaves two characters of
   * the suffix ("_t", "_r", "_n": three distinct triggers, an index not named as its table).
   * Existing deployments have objects of these names, and a new name would make a second set (a
   * second index built on a large table, every trigger run twice). Only a longer table name, whose
   * cut gave the three triggers one name (each replacing the one before, the txid trigger lost) and
   * could give the index the table's own name (never made), gets a shorter cut and a hash of the
   * configured table name before the suffix.
   */
  static String derivedName(OutboxTable table, String suffix) {
    String base = SqlIdentifier.sanitize(table.table()); // sanitize leaves ASCII: chars = bytes
    String plain = base + suffix;
    if (SqlIdentifier.MAX_BYTES - base.length() >= 2) {
      return plain.length() <= SqlIdentifier.MAX_BYTES
          ? plain
          : plain.substring(0, SqlIdentifier.MAX_BYTES);
    }
    return hashedName(table, suffix);
  }

  /**
   * The sanitised table name (cut short where it must be), a hash of the configured table name and
   * the suffix: apart from the names of every other table of the schema, whose configured names
   * differ even where their sanitised ones do not ("Orders" and "orders", "order-events" and
   * "order_events").
   */
  static String hashedName(OutboxTable table, String suffix) {
    String base = SqlIdentifier.sanitize(table.table());
    String hash = String.format("_%08x", table.table().hashCode());
    int room = SqlIdentifier.MAX_BYTES - hash.length() - suffix.length();
    return base.substring(0, Math.min(base.length(), room)) + hash + suffix;
  }

  /**
   * The name for a relay index of a table that has no usable one (the callers ask {@link
   * OutboxTableCheck}'s check first). An index shares the relations' namespace of its table's
   * schema, and tables whose names sanitise alike ("Orders" and "orders") derive one name: the
   * second table's CREATE INDEX IF NOT EXISTS would skip, leaving it without an index. So: the
   * derived name while no relation of the schema has it (another table's index, or an unusable one
   * of this table, invalid or a hash index), else the hashed one.
   *
   * <p>The schema is the one the index goes in: {@code made} (by the relay's DDL), a table named
   * without one is made, with its index, in current_schema(), even beside a table of that name
   * further down the search_path (CREATE TABLE IF NOT EXISTS looks only where it creates); an
   * existing table's index goes in that table's schema.
   */
  static String relayIndexName(Connection conn, OutboxTable table, boolean made)
      throws SQLException {
    String plain = derivedName(table, RELAY_INDEX);
    String hashed = hashedName(table, RELAY_INDEX);
    if (plain.equals(hashed)) {
      return plain; // a long name, hashed already
    }
    String schema =
        made
            ? "(SELECT oid FROM pg_namespace WHERE nspname = coalesce(?, current_schema()))"
            : "(SELECT relnamespace FROM pg_class WHERE oid = to_regclass(?))";
    try (PreparedStatement s =
        conn.prepareStatement(
            "SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = ? AND relnamespace = "
                + schema
                + ")")) {
      s.setString(1, plain);
      s.setString(2, made ? table.schema() : table.sql());
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() && rs.getBoolean(1) ? hashed : plain;
      }
    }
  }

  /**
   * The trigger functions of the table's triggers ({@link #FUNCTIONS}, qualified, with their empty
   * argument list) whose search_path is not pinned to pg_catalog and pg_temp: functions made by an
   * earlier version or its sql/outbox.sql, which a relay with outbox.table.create=false never
   * replaces, and with true the notify function where notify.channel has been cleared since (its
   * trigger stays). Each runs its body with the search_path of whoever writes to the table (see
   * {@link #SEARCH_PATH}). A search_path naming only pg_catalog and pg_temp, in any order, or none
   * (empty) counts as pinned.
   */
  static List<String> unpinnedFunctions(Connection conn, OutboxTable table) throws SQLException {
    List<String> unpinned = new ArrayList<>();
    try (PreparedStatement s =
        conn.prepareStatement(
            "SELECT DISTINCT n.nspname, p.proname, p.proconfig FROM pg_trigger t"
                + " JOIN pg_proc p ON p.oid = t.tgfoid"
                + " JOIN pg_namespace n ON n.oid = p.pronamespace"
                + " WHERE t.tgrelid = to_regclass(?) AND p.pronargs = 0"
                + " AND p.proname IN ('"
                + String.join("', '", FUNCTIONS)
                + "') ORDER BY 1, 2")) {
      s.setString(1, table.sql());
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          Array config = rs.getArray(3);
          if (!pinned(config == null ? null : (String[]) config.getArray())) {
            unpinned.add(SqlIdentifier.qualified(rs.getString(1), rs.getString(2)) + "()");
          }
        }
      }
    }
    return unpinned;
  }

  /** Whether a function's settings (pg_proc.proconfig) pin its search_path to pg_catalog. */
  static boolean pinned(String[] settings) {
    if (settings == null) {
      return false;
    }
    for (String setting : settings) {
      if (setting.startsWith("search_path=")) {
        for (String schema : setting.substring("search_path=".length()).split(",")) {
          String name = schema.strip().replace("\"", "");
          if (!name.isEmpty() && !name.equals("pg_catalog") && !name.equals("pg_temp")) {
            return false;
          }
        }
        return true;
      }
    }
    return false;
  }

  /** The statement that pins a trigger function's search_path (see {@link #SEARCH_PATH}). */
  static String pin(String function) {
    return "ALTER FUNCTION " + function + " SET search_path = " + SEARCH_PATH;
  }

  /** The statements as one script, as in sql/outbox.sql. */
  public static String script(
      OutboxTable table, OutboxColumns c, String notifyChannel, OutboxTable dlq) {
    return String.join(";\n\n", statements(table, c, notifyChannel, dlq)) + ";\n";
  }
}
