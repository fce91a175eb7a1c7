package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.HandRunSourceContext.ids;
import static io.somastack.connect.outbox.HandRunSourceContext.relayUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.errors.ConnectException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A connection.user that may not run DDL (no CREATE on the schema, as PostgreSQL 15 gives ordinary
 * roles on public), with the tables made beforehand by their owner as the README says, and granted
 * what connection.user's documentation names, or less. Less stops the task when it first connects,
 * naming what is missing and the GRANT that gives it, instead of a raw SQL error later: after rows
 * were relayed (the delete), or at the first bad row (the dead letter).
 */
class LeastPrivilegeRoleTest {

  /** The columns of sql/outbox.sql's table, all of which the relay reads. */
  private static final String RELAYED_COLUMNS =
      "id, txid, topic, payload, dedupe_key, headers, created_at, published_at, error";

  private final PostgresServer pg = PostgresServer.shared();
  private final String db = "outbox_least_privilege_" + System.nanoTime();
  private final String role = "soma_outbox_relay_" + System.nanoTime();
  private PostgresOutboxSourceTask task;

  @BeforeEach
  void createTables() throws SQLException {
    pg.createDatabase(db);
    execute(
        "CREATE ROLE "
            + role
            + " LOGIN PASSWORD '"
            + role
            + "'; REVOKE CREATE ON SCHEMA public FROM PUBLIC; "
            + OutboxDdl.script(
                OutboxTable.parse("public.outbox"),
                new OutboxSourceConfig(props("delete", "dlq")).columns(),
                "soma_outbox",
                OutboxTable.parse("public.dlq")));
  }

  @AfterEach
  void dropRole() throws SQLException {
    if (task != null) {
      task.stop();
    }
    try (Connection c = pg.connect("postgres");
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE \"" + db + "\" WITH (FORCE)");
      s.execute("DROP ROLE " + role);
    }
  }

  @Test
  void relaysAndDeadLettersWithTheDocumentedGrants() throws Exception {
    grant("SELECT, DELETE ON outbox; GRANT INSERT ON dlq; GRANT USAGE ON SEQUENCE dlq_id_seq");
    task = start(props("delete", "dlq"));
    execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{}'), (NULL, '{}'), ('t', '{}')");

    assertEquals(List.of(1L, 3L), ids(relayUntil(task, 2)));
    assertEquals(
        0, count("SELECT count(*) FROM outbox"), "relayed rows deleted, the bad one moved");
    assertEquals(1, count("SELECT count(*) FROM dlq"));
  }

  @Test
  void marksAndFlagsWithColumnGrants() throws Exception {
    marksAndFlagsWith("SELECT, UPDATE (published_at, error) ON outbox");
  }

  /** Marks one good row published and flags a bad one, with only these grants. */
  private void marksAndFlagsWith(String grants) throws Exception {
    grant(grants);
    task = start(props("mark", "flag"));
    execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{}'), (NULL, '{}')");

    assertEquals(List.of(1L), ids(relayUntil(task, 1)));
    assertEquals(1, count("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL"));
    assertEquals(1, count("SELECT count(*) FROM outbox WHERE error IS NOT NULL"));
  }

  @Test
  void aMissingDeleteStopsTheTaskBeforeItRelays() throws Exception {
    grant("SELECT, UPDATE (error) ON outbox");
    task = start(props("delete", "flag"));
    execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{}')");

    String message = assertThrows(ConnectException.class, task::poll).getMessage();
    assertTrue(message.contains("DELETE on \"public\".\"outbox\""), message);
    assertTrue(
        message.contains("GRANT DELETE ON \"public\".\"outbox\" TO \"" + role + "\""), message);
    assertEquals(1, count("SELECT count(*) FROM outbox"));
  }

  @Test
  void missingDeadLetterPrivilegesAreNamedAtStart() throws Exception {
    grant("SELECT, DELETE ON outbox");
    task = start(props("delete", "dlq"));

    String message = assertThrows(ConnectException.class, task::poll).getMessage();
    assertTrue(message.contains("GRANT INSERT ON \"public\".\"dlq\" TO \"" + role + "\""), message);
    assertTrue(
        message.contains("GRANT USAGE ON SEQUENCE public.dlq_id_seq TO \"" + role + "\""), message);
  }

  @Test
  void aMissingDeadLetterTableIsNamedAtStart() throws Exception {
    execute("DROP TABLE dlq");
    grant("SELECT, DELETE ON outbox");
    task = start(props("delete", "dlq"));

    String message = assertThrows(ConnectException.class, task::poll).getMessage();
    assertTrue(message.contains("\"public\".\"dlq\", which does not exist"), message);
    assertTrue(message.contains("sql/outbox.sql"), message);
  }

  @Test
  void tableCreateWithoutTheRightToCreateSaysWhatToDo() throws Exception {
    grant("SELECT, DELETE ON outbox; GRANT INSERT ON dlq; GRANT USAGE ON SEQUENCE dlq_id_seq");
    Map<String, String> props = props("delete", "dlq");
    props.put("outbox.table.create", "true");
    task = start(props);

    String message = assertThrows(ConnectException.class, task::poll).getMessage();
    assertTrue(message.contains("CREATE on schema \"public\""), message);
    assertTrue(message.contains("ownership of table \"public\".\"outbox\""), message);
    assertTrue(message.contains("outbox.table.create=false"), message);
  }

  /** A dead letter table whose id is an identity column, or that has no id, needs no sequence. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, topic text, event jsonb NOT NULL,"
            + " error text NOT NULL",
        "topic text, event jsonb, error text"
      })
  void aDeadLetterTableWithoutASerialIdNeedsNoSequenceGrant(String columns) throws Exception {
    execute("DROP TABLE dlq; CREATE TABLE dlq (" + columns + ")");
    grant("SELECT, DELETE ON outbox; GRANT INSERT ON dlq");
    task = start(props("delete", "dlq"));
    execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{}'), (NULL, '{}')");

    assertEquals(List.of(1L), ids(relayUntil(task, 1)));
    assertEquals(1, count("SELECT count(*) FROM dlq"));
  }

  /** Any default the dead letter's INSERT runs draws from a sequence, not only an id's. */
  @Test
  void theSequenceOfAnyDefaultOfTheDeadLetterTableIsNamed() throws Exception {
    execute(
        "DROP TABLE dlq; CREATE TABLE dlq (letter bigserial, topic text, event jsonb,"
            + " error text)");
    grant("SELECT, DELETE ON outbox; GRANT INSERT ON dlq");
    task = start(props("delete", "dlq"));

    String message = assertThrows(ConnectException.class, task::poll).getMessage();
    assertTrue(
        message.contains("GRANT USAGE ON SEQUENCE public.dlq_letter_seq TO \"" + role + "\""),
        message);
  }

  /** Column grants on what the relay reads and writes suffice; whole rows move to the dlq. */
  @Test
  void relaysAndDeadLettersWithColumnGrants() throws Exception {
    execute("ALTER TABLE outbox ADD COLUMN customer_email text");
    grant(
        "SELECT ("
            + RELAYED_COLUMNS
            + ", customer_email), DELETE ON outbox; GRANT INSERT (topic, event, error) ON dlq;"
            + " GRANT USAGE ON SEQUENCE dlq_id_seq");
    task = start(props("delete", "dlq"));
    execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{}'), (NULL, '{}'), ('t', '{}')");

    assertEquals(List.of(1L, 3L), ids(relayUntil(task, 2)));
    assertEquals(0, count("SELECT count(*) FROM outbox"));
    assertEquals(1, count("SELECT count(*) FROM dlq"));
  }

  @Test
  void marksAndFlagsWithColumnGrantsOnTheColumnsItReads() throws Exception {
    execute("ALTER TABLE outbox ADD COLUMN customer_email text");
    marksAndFlagsWith("SELECT (" + RELAYED_COLUMNS + "), UPDATE (published_at, error) ON outbox");
  }

  @Test
  void missingColumnGrantsAreNamedAtStart() throws Exception {
    execute("ALTER TABLE outbox ADD COLUMN customer_email text");
    grant("SELECT (" + RELAYED_COLUMNS + "), DELETE ON outbox; GRANT INSERT (topic) ON dlq");
    task = start(props("delete", "dlq"));

    String message = assertThrows(ConnectException.class, task::poll).getMessage();
    assertTrue(
        message.contains(
            "GRANT SELECT (\"customer_email\") ON \"public\".\"outbox\" TO \"" + role + "\""),
        message);
    assertTrue(
        message.contains(
            "GRANT INSERT (\"event\", \"error\") ON \"public\".\"dlq\" TO \"" + role + "\""),
        message);
  }

  /**
   * A table named without its schema is made in current_schema(), and so are its trigger functions:
   * functions of that name further down the search_path, someone else's, are not replaced and need
   * not be owned.
   */
  @Test
  void tableCreateInTheRolesOwnSchemaReplacesNoOtherSchemasFunctions() throws Exception {
    roleSchemaFirst();
    Map<String, String> props = props("mark", "dlq");
    props.put("outbox.table.create", "true");
    props.put("outbox.tables", "relay_outbox");
    props.put("dlq.table", "relay_dlq");
    task = start(props);
    task.poll(); // creates the tables
    execute("INSERT INTO relay.relay_outbox(topic, payload) VALUES ('t', '{}')");

    assertEquals(List.of(1L), ids(relayUntil(task, 1)));
    assertEquals(
        2,
        count(
            "SELECT count(*) FROM pg_proc WHERE pronamespace = 'relay'::regnamespace"
                + " AND proname IN ('soma_outbox_txid', 'soma_outbox_notify')"),
        "the functions made in the role's schema");
  }

  /**
   * A bare name that would be shadowed (the role's own schema first in its search_path, the table
   * in public, another role's) is refused as shadowed before privileges are checked: asking the
   * role to own public.outbox would send the operator the wrong way.
   */
  @Test
  void aShadowedTableIsRefusedAsSuchNotForItsOwner() throws Exception {
    roleSchemaFirst();
    Map<String, String> props = props("delete", "dlq");
    props.put("outbox.table.create", "true");
    props.put("outbox.tables", "outbox");
    props.put("dlq.table", "relay.dlq");
    task = start(props);
    ConnectException refused = assertThrows(ConnectException.class, () -> task.poll());
    assertTrue(refused.getMessage().contains("public.outbox"), refused.getMessage());
    assertTrue(refused.getMessage().contains("new, empty one"), refused.getMessage());
  }

  /** A schema relay the role owns, first in its search_path (as "$user", public does). */
  private void roleSchemaFirst() throws SQLException {
    execute(
        "CREATE SCHEMA relay AUTHORIZATION "
            + role
            + "; ALTER ROLE "
            + role
            + " IN DATABASE \""
            + db
            + "\" SET search_path = relay, public");
  }

  private Map<String, String> props(String afterPublish, String badRowAction) {
    Map<String, String> props = HandRunSourceContext.relayProps(pg.jdbcUrl(db), role);
    props.put("connection.password", role);
    props.put("outbox.table.create", "false");
    props.put("after.publish", afterPublish);
    props.put("bad.row.action", badRowAction);
    return props;
  }

  private PostgresOutboxSourceTask start(Map<String, String> props) {
    return HandRunSourceContext.startedTask(props, Map.of());
  }

  private void grant(String privileges) throws SQLException {
    execute("GRANT " + privileges.replace(";", " TO " + role + ";") + " TO " + role);
  }

  private void execute(String sql) throws SQLException {
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private long count(String sql) throws SQLException {
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
