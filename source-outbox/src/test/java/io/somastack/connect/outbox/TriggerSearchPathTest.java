package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.CapturedStderr;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The outbox's trigger functions run as whoever writes to the outbox. With the writer's search_path
 * a role allowed to create objects in a schema of it (public, up to PostgreSQL 14) could shadow an
 * operator or function their bodies call with a closer match and run its code as every writer, a
 * superuser among them (CVE-2018-1058). They run with search_path pg_catalog, pg_temp; functions an
 * earlier version made are replaced (outbox.table.create=true) or warned of with the fix (false).
 */
class TriggerSearchPathTest {

  /** The DDL of an earlier version: the same functions, with the writer's search_path. */
  private static final String UNPINNED_SCRIPT =
      DefaultOutbox.script().replace(" SET search_path = pg_catalog, pg_temp", "");

  private static final String PIN_TXID =
      "ALTER FUNCTION \"public\".\"soma_outbox_txid\"() SET search_path = pg_catalog, pg_temp";
  private static final String PIN_NOTIFY =
      "ALTER FUNCTION \"public\".\"soma_outbox_notify\"() SET search_path = pg_catalog, pg_temp";

  private final PostgresServer pg = PostgresServer.shared();
  private final long suffix = System.nanoTime();
  private final String db = "outbox_search_path_" + suffix;
  private final String attacker = "soma_outbox_attacker_" + suffix;
  private final String writer = "soma_outbox_writer_" + suffix;
  private PostgresOutboxSourceTask task;

  @BeforeEach
  void createRoles() throws SQLException {
    pg.createDatabase(db);
    execute(
        "CREATE ROLE "
            + attacker
            + "; CREATE ROLE "
            + writer
            + " LOGIN PASSWORD '"
            + writer
            + "'; GRANT CREATE ON SCHEMA public TO "
            + attacker);
  }

  @AfterEach
  void dropRoles() throws SQLException {
    if (task != null) {
      task.stop();
    }
    try (Connection c = pg.connect("postgres");
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE \"" + db + "\" WITH (FORCE)");
      s.execute("DROP ROLE " + attacker);
      s.execute("DROP ROLE " + writer);
    }
  }

  @Test
  void aShadowingOperatorOrFunctionInPublicDoesNotRunAsTheWriter() throws Exception {
    execute(DefaultOutbox.script());
    shadow();

    insertAs(writer);
    insertAsSuperuser();

    assertEquals(0, count("SELECT count(*) FROM public.shadow_ran"), "the shadows ran");
    assertEquals(
        0,
        count("SELECT count(*) FROM public.outbox WHERE txid = '1'"),
        "the txid trigger still gives each row its transaction's id");
  }

  /** A deployment made by an earlier version gets its functions replaced when the relay starts. */
  @Test
  void tableCreateReplacesTheFunctionsOfAnEarlierVersion() throws Exception {
    execute(UNPINNED_SCRIPT);
    shadow();

    String logged = CapturedStderr.ofWork(() -> relay(true, "soma_outbox"));

    assertFalse(logged.contains("has no fixed search_path"), logged);
    assertEquals(
        2,
        count(
            "SELECT count(*) FROM pg_proc WHERE proname IN ('soma_outbox_txid',"
                + " 'soma_outbox_notify') AND proconfig = '{\"search_path=pg_catalog, pg_temp\"}'"));
    insertAs(writer);
    assertEquals(0, count("SELECT count(*) FROM public.shadow_ran"), "the shadows ran");
  }

  /**
   * With outbox.table.create=false the relay replaces nothing: the functions the owner made with an
   * earlier sql/outbox.sql are warned of, each once, with the statement that fixes it; once run, no
   * more.
   */
  @Test
  void withoutTableCreateTheFunctionsOfAnEarlierVersionAreWarnedOfWithTheFix() throws Exception {
    execute(UNPINNED_SCRIPT);

    String logged = CapturedStderr.ofWork(() -> relay(false, "soma_outbox"));
    assertTrue(logged.contains(PIN_TXID), logged);
    assertTrue(logged.contains(PIN_NOTIFY), logged);
    assertEquals(1, logged.split("soma_outbox_txid\"\\(\\) \\(of table", -1).length - 1, logged);

    execute(PIN_TXID + "; " + PIN_NOTIFY);
    task.stop();
    logged = CapturedStderr.ofWork(() -> relay(false, "soma_outbox"));
    assertFalse(logged.contains("has no fixed search_path"), logged);
  }

  /**
   * With notify.channel cleared the relay's DDL leaves the notify trigger of an earlier start, and
   * its function, alone: warned of.
   */
  @Test
  void aNotifyTriggerLeftBehindIsWarnedOf() throws Exception {
    execute(UNPINNED_SCRIPT);

    String logged = CapturedStderr.ofWork(() -> relay(true, ""));

    assertTrue(logged.contains(PIN_NOTIFY), logged);
    assertFalse(logged.contains(PIN_TXID), logged);
  }

  /** What counts as a pinned search_path, as pg_proc.proconfig holds it. */
  @Test
  void onlyASearchPathOfPgCatalogAndPgTempIsPinned() {
    assertTrue(OutboxDdl.pinned(new String[] {"search_path=pg_catalog, pg_temp"}));
    assertTrue(OutboxDdl.pinned(new String[] {"work_mem=64kB", "search_path=pg_catalog"}));
    assertTrue(OutboxDdl.pinned(new String[] {"search_path=\"\""}));
    assertFalse(OutboxDdl.pinned(null));
    assertFalse(OutboxDdl.pinned(new String[] {"work_mem=64kB"}));
    assertFalse(OutboxDdl.pinned(new String[] {"search_path=\"$user\", public"}));
    assertFalse(OutboxDdl.pinned(new String[] {"search_path=pg_catalog, public"}));
  }

  /**
   * The attacker, allowed to create objects in public: an operator ||(name, name), which the notify
   * function's TG_TABLE_SCHEMA || '.' matches more closely than the built-in ones, and a
   * jsonb_build_object(text, xid8), closer than the built-in variadic one the txid function calls.
   * Both record who ran them.
   */
  private void shadow() throws SQLException {
    execute(
        "SET ROLE "
            + attacker
            + "; CREATE TABLE public.shadow_ran (who text);"
            + " GRANT INSERT ON public.shadow_ran TO PUBLIC;"
            + " CREATE FUNCTION public.shadow_concat(name, name) RETURNS text LANGUAGE plpgsql AS $$"
            + " BEGIN INSERT INTO public.shadow_ran VALUES (current_user);"
            + " RETURN pg_catalog.textcat($1::text, $2::text); END $$;"
            + " CREATE OPERATOR public.|| (LEFTARG = name, RIGHTARG = name,"
            + " FUNCTION = public.shadow_concat);"
            + " CREATE FUNCTION public.jsonb_build_object(text, xid8) RETURNS jsonb"
            + " LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.shadow_ran VALUES (current_user);"
            + " RETURN pg_catalog.jsonb_build_object($1, $2); END $$;"
            + " RESET ROLE");
    execute(
        "GRANT INSERT ON public.outbox TO "
            + writer
            + "; GRANT USAGE ON SEQUENCE public.outbox_id_seq TO "
            + writer);
  }

  /** An insert that fires both functions: the notify trigger, and the txid one (its own txid). */
  private static final String INSERT =
      "INSERT INTO public.outbox(topic, payload, txid) VALUES ('t', '{}', '1')";

  private void insertAs(String role) throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", role);
    props.setProperty("password", role);
    try (Connection c = DriverManager.getConnection(pg.jdbcUrl(db), props);
        Statement s = c.createStatement()) {
      s.execute(INSERT);
    }
  }

  private void insertAsSuperuser() throws SQLException {
    execute(INSERT);
  }

  private void relay(boolean create, String channel) throws InterruptedException {
    Map<String, String> props = HandRunSourceContext.relayProps(pg.jdbcUrl(db), pg.user());
    if (pg.password() != null) {
      props.put("connection.password", pg.password());
    }
    props.put("outbox.tables", "public.outbox");
    props.put("dlq.table", "public.dlq");
    props.put("outbox.table.create", String.valueOf(create));
    props.put("notify.channel", channel);
    task = HandRunSourceContext.startedTask(props, Map.of());
    task.poll(); // connects (and with create, runs the DDL)
  }

  private void execute(String sql) throws SQLException {
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private long count(String sql) throws SQLException {
    try (Connection c = pg.connect(db);
        PreparedStatement s = c.prepareStatement(sql);
        ResultSet rs = s.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
