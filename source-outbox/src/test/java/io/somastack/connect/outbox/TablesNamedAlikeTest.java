package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.HandRunSourceContext.relayUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.CapturedStderr;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.apache.kafka.connect.errors.ConnectException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Outbox tables whose names derive the same object names: "Orders" and "orders" (quoted names that
 * differ in case only) in one schema, and outbox in two schemas. An index lives in its table's
 * schema, among the relations, so the first two would share one relay index name, and the second
 * table's CREATE INDEX IF NOT EXISTS would skip, leaving it without one. Triggers are per table,
 * and the trigger functions are made per schema, alike for every table (the column and channel are
 * their arguments), so those are shared on purpose.
 */
class TablesNamedAlikeTest {

  private final PostgresServer pg = PostgresServer.shared();
  private final String db = "outbox_named_alike_" + System.nanoTime();
  private PostgresOutboxSourceTask task;

  @AfterEach
  void dropDatabase() throws SQLException {
    if (task != null) {
      task.stop();
    }
    try (Connection c = pg.connect("postgres");
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS \"" + db + "\" WITH (FORCE)");
    }
  }

  @Test
  void tablesWhoseNamesDifferInCaseOnlyEachGetARelayIndex() throws Exception {
    pg.createDatabase(db);
    relay("Orders,orders");

    for (String table : new String[] {"\"Orders\"", "orders"}) {
      assertEquals(1, relayIndexes(table), "the relay index of " + table);
      assertEquals(3, triggers(table), "the txid, requeue and notify triggers of " + table);
    }
    execute("INSERT INTO \"Orders\"(topic, payload) VALUES ('t', '{}')");
    execute("INSERT INTO orders(topic, payload) VALUES ('t', '{}'), ('t', '{}')");
    assertEquals(3, relayUntil(task, 3).size());
  }

  @Test
  void tablesOfOneNameInTwoSchemasEachGetTheirObjects() throws Exception {
    pg.createDatabase(db);
    execute("CREATE SCHEMA a; CREATE SCHEMA b");
    relay("a.outbox,b.outbox");

    for (String schema : new String[] {"a", "b"}) {
      String table = schema + ".outbox";
      assertEquals(1, relayIndexes(table), "the relay index of " + table);
      assertEquals(3, triggers(table), "the triggers of " + table);
      assertEquals(
          3,
          count(
              "SELECT count(*) FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
                  + " WHERE t.tgrelid = ?::regclass AND NOT t.tgisinternal"
                  + " AND p.pronamespace = '"
                  + schema
                  + "'::regnamespace",
              table),
          "the trigger functions of " + table + " are its schema's");
    }
  }

  /**
   * A deployment whose table kept its plain index name (no table named alike) keeps it: an upgrade
   * that renamed it would build a second index on a possibly large table. A table named alike added
   * later gets a name of its own, and keeps it after the other is dropped.
   */
  @Test
  void existingRelayIndexesKeepTheirNames() throws Exception {
    pg.createDatabase(db);
    relay("Orders");
    task.stop();
    assertEquals(1, relayIndexes("\"Orders\""));

    relay("Orders,orders");
    task.stop();
    assertEquals(1, relayIndexes("\"Orders\""), "no second index on the first table");
    assertEquals(
        1,
        count(
            "SELECT count(*) FROM pg_index WHERE indrelid = ?::regclass"
                + " AND indexrelid = 'orders_relay_idx'::regclass",
            "\"Orders\""),
        "the first table's index keeps its name");
    assertEquals(1, relayIndexes("orders"), "the second table has its own");

    execute("DROP TABLE \"Orders\"");
    relay("orders");
    assertEquals(1, relayIndexes("orders"), "no second index once the name is free");
  }

  /**
   * The owner's script (outbox.table.create=false) gives every table the plain index name, so the
   * second of two tables named alike is left without a relay index. The task says so when it
   * starts, with the statement that makes it under a name of its own.
   */
  @Test
  void aTableTheScriptLeftWithoutARelayIndexIsNamedWithItsStatement() throws Exception {
    pg.createDatabase(db);
    OutboxColumns columns = OutboxColumns.defaults();
    OutboxTable dlq = OutboxTable.parse("public.dlq");
    execute(
        OutboxDdl.script(OutboxTable.parse("orders"), columns, null, dlq)
            + OutboxDdl.script(OutboxTable.parse("Orders"), columns, null, dlq));
    assertEquals(0, relayIndexes("\"Orders\""), "the script's index name was taken");
    String statement =
        "CREATE INDEX IF NOT EXISTS \""
            + OutboxDdl.hashedName(OutboxTable.parse("Orders"), "_relay_idx")
            + "\" ON \"Orders\" (\"txid\", \"id\") WHERE \"published_at\" IS NULL";

    String logged = CapturedStderr.ofWork(() -> relayMadeTables("Orders,orders"));
    assertTrue(logged.contains("Orders has no relay index"), logged);
    assertTrue(logged.contains(statement), logged);
    assertFalse(logged.contains("orders has no relay index"), logged);

    execute(statement);
    assertEquals(1, relayIndexes("\"Orders\""));
    assertFalse(
        CapturedStderr.ofWork(() -> relayMadeTables("Orders,orders")).contains("no relay index"));
  }

  /**
   * A bare name found further down the search_path (public.outbox, the connector's own schema
   * first, as with the default "$user", public): outbox.table.create=true would make a new, empty
   * outbox in the first schema (CREATE TABLE IF NOT EXISTS looks only there) and relay from it,
   * never from the table services write. The task stops instead, naming both, before making any.
   */
  @Test
  void aBareNameFoundFurtherDownTheSearchPathIsNotShadowedByANewTable() throws Exception {
    pg.createDatabase(db);
    execute(
        "CREATE SCHEMA app; ALTER DATABASE \""
            + db
            + "\" SET search_path = app, public;"
            + " CREATE TABLE public.outbox (id bigserial PRIMARY KEY, topic text, payload jsonb)");
    ConnectException refused = assertThrows(ConnectException.class, () -> relay("outbox"));
    assertTrue(refused.getMessage().contains("public.outbox"), refused.getMessage());
    assertTrue(refused.getMessage().contains("app"), refused.getMessage());
    assertEquals(
        0,
        count(
            "SELECT count(*) FROM pg_class WHERE relname = ? AND relnamespace ="
                + " 'app'::regnamespace",
            "outbox"),
        "no table made in app");
  }

  /**
   * A deployment an earlier version shadowed already (its table made in the first schema, another
   * of that name further down the search_path): both may be meant, so it runs, with a warning that
   * names the other table.
   */
  @Test
  void aTableShadowingAnotherOfItsNameIsWarnedOf() throws Exception {
    pg.createDatabase(db);
    execute(
        "CREATE SCHEMA app; ALTER DATABASE \""
            + db
            + "\" SET search_path = app, public;"
            + " CREATE TABLE public.outbox (id bigserial PRIMARY KEY, topic text, payload jsonb);"
            + " CREATE TABLE app.outbox (id bigserial PRIMARY KEY, topic text, payload jsonb)");
    String logged = CapturedStderr.ofWork(() -> relay("outbox"));
    assertTrue(logged.contains("while the search_path also has public.outbox"), logged);
    execute("INSERT INTO app.outbox(topic, payload) VALUES ('t', '{}')");
    assertEquals(1, relayUntil(task, 1).size(), "the table in app is relayed");
  }

  /**
   * An index left invalid (a CREATE INDEX CONCURRENTLY that failed) serves no read: a table with
   * only such an index on txid is warned of as having no relay index.
   */
  @Test
  void anInvalidIndexIsNoRelayIndex() throws Exception {
    ordersWithAnInvalidIndex("orders_txid");
    assertEquals(1, relayIndexes("orders"), "the invalid index is there");
    String logged = CapturedStderr.ofWork(() -> relayMadeTables("orders"));
    assertTrue(logged.contains("orders has no relay index"), logged);
  }

  /**
   * Indexes on txid the relay's reads cannot use, a hash index (no ranges, no order) or one partial
   * on other rows, are no relay index: the relay makes its own.
   */
  @Test
  void aHashOrOtherwisePartialTxidIndexIsNoRelayIndex() throws Exception {
    pg.createDatabase(db);
    execute(
        ordersScript()
            + "; DROP INDEX orders_relay_idx; CREATE INDEX hashed_txid ON orders USING hash (txid);"
            + " CREATE INDEX published_txid ON orders (txid) WHERE published_at IS NOT NULL");
    relay("orders");
    assertEquals(3, relayIndexes("orders"), "the two, and the relay's own");
  }

  /**
   * The table's own relay index left invalid (a CREATE INDEX CONCURRENTLY that failed) holds the
   * usual name: the relay makes a usable one under the hashed name, not a CREATE INDEX IF NOT
   * EXISTS that the invalid one would skip.
   */
  @Test
  void anInvalidRelayIndexOfTheUsualNameGetsAUsableOneBeside() throws Exception {
    ordersWithAnInvalidIndex("orders_relay_idx");
    relay("orders");
    assertEquals(
        1,
        count(
            "SELECT count(*) FROM pg_index WHERE indrelid = ?::regclass AND indisvalid"
                + " AND NOT indisprimary",
            "orders"),
        "a usable relay index beside the invalid one");
  }

  /** A table whose txid index a DBA made under another name gets no second one beside it. */
  @Test
  void aTableWithATxidIndexOfAnotherNameGetsNoSecond() throws Exception {
    pg.createDatabase(db);
    execute(
        ordersScript()
            + "; DROP INDEX orders_relay_idx; CREATE INDEX dba_orders_txid ON orders (txid, id)");
    relay("orders");
    assertEquals(1, relayIndexes("orders"), "the DBA's index alone");
  }

  /**
   * A table orders made by sql/outbox.sql, without its relay index, and with an index of this name
   * on txid left invalid by a CREATE INDEX CONCURRENTLY that failed.
   */
  private void ordersWithAnInvalidIndex(String name) throws SQLException {
    pg.createDatabase(db);
    execute(
        ordersScript()
            + "; DROP INDEX orders_relay_idx;"
            // one statement, one transaction: both rows get its txid
            + " INSERT INTO orders(topic, payload) VALUES ('t', '{}'), ('t', '{}')");
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      assertThrows(
          SQLException.class,
          () -> s.execute("CREATE UNIQUE INDEX CONCURRENTLY " + name + " ON orders (txid)"),
          "two rows share a txid: the index is left invalid");
    }
  }

  /** sql/outbox.sql for a table orders, as its owner would run it. */
  private static String ordersScript() {
    return OutboxDdl.script(
        OutboxTable.parse("orders"),
        OutboxColumns.defaults(),
        null,
        OutboxTable.parse("public.dlq"));
  }

  private void relayMadeTables(String tables) throws InterruptedException {
    if (task != null) {
      task.stop();
    }
    Map<String, String> props = HandRunSourceContext.relayProps(pg.jdbcUrl(db), pg.user());
    props.put("outbox.tables", tables);
    props.put("outbox.table.create", "false");
    task = HandRunSourceContext.startedTask(props, Map.of());
    task.poll(); // connects
  }

  private void relay(String tables) throws InterruptedException {
    Map<String, String> props = HandRunSourceContext.relayProps(pg.jdbcUrl(db), pg.user());
    props.put("outbox.tables", tables);
    task = HandRunSourceContext.startedTask(props, Map.of());
    task.poll(); // creates the tables
  }

  private long relayIndexes(String table) throws SQLException {
    return count(
        "SELECT count(*) FROM pg_index WHERE indrelid = ?::regclass AND NOT indisprimary", table);
  }

  private long triggers(String table) throws SQLException {
    return count(
        "SELECT count(*) FROM pg_trigger WHERE tgrelid = ?::regclass AND NOT tgisinternal", table);
  }

  private void execute(String sql) throws SQLException {
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private long count(String sql, String table) throws SQLException {
    try (Connection c = pg.connect(db);
        PreparedStatement s = c.prepareStatement(sql)) {
      s.setString(1, table);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
