package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.HandRunSourceContext.ids;
import static io.somastack.connect.outbox.HandRunSourceContext.relayUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A dead letter keeps a json (not jsonb) column's text as written. Moved as to_jsonb(row), a json
 * payload {"a":1,"a":2} refused for its duplicate key was stored as {"a":2}, the outbox row deleted
 * with it: what made it bad was gone. And a json payload or headers holding an escaped NUL
 * (backslash u0000) or a lone surrogate escape, which json takes and jsonb refuses, failed the
 * move, so the task failed on that batch after every restart.
 */
class DeadLetteredJsonTest {

  @RegisterExtension final RelayTask relay = new RelayTask("outbox_dlqjson_");

  @BeforeEach
  void createOutbox() throws SQLException {
    relay.createDatabase();
    execute(
        "CREATE TABLE outbox (id bigserial PRIMARY KEY, topic text, payload json,"
            + " dedupe_key text, headers json,"
            + " created_at timestamptz NOT NULL DEFAULT clock_timestamp())");
    execute(DefaultOutbox.script());
  }

  @Test
  void aPayloadRefusedForADuplicateKeyIsDeadLetteredAsWritten() throws Exception {
    insert("t", "{\"a\":1,\"a\":2}", null);

    assertEquals(
        List.of(), ids(relayUntil(relay.start(props(Map.of("value.format", "struct"))), 0)));
    List<String> dead = deadLetter("event->>'payload', error");
    assertEquals("{\"a\":1,\"a\":2}", dead.get(0));
    assertTrue(dead.get(1).startsWith("cannot serialise"), dead.get(1)); // the duplicate key
  }

  @Test
  void jsonThatJsonbRefusesIsDeadLetteredAsWritten() throws Exception {
    String payload = "{\"s\": \"\\u0000\"}";
    String headers = " {\"h\": \"\\ud800\"} ";
    insert(null, payload, headers); // bad: no topic
    insert("t", "{}", null);

    assertEquals(List.of(2L), ids(relayUntil(relay.start(props(Map.of())), 1)));
    assertEquals(
        List.of(payload, headers, "topic is null or empty"),
        deadLetter("event->>'payload', event->>'headers', error"));
  }

  /**
   * A domain over json (the README's "a domain over one") is json to to_jsonb too: parsed, it lost
   * duplicate keys and failed on an escaped NUL, the task with it. A NOT NULL domain cannot be
   * nulled in the row either, and a domain over a domain, or an array of one, is json all the same.
   */
  @Test
  void domainsOverJsonAreDeadLetteredAsWritten() throws Exception {
    execute("CREATE DOMAIN required_json AS json NOT NULL");
    execute("CREATE DOMAIN some_json AS json");
    execute("CREATE DOMAIN more_json AS some_json");
    execute("ALTER TABLE outbox ALTER COLUMN payload TYPE required_json");
    execute("ALTER TABLE outbox ALTER COLUMN headers TYPE more_json");
    execute(
        "ALTER TABLE outbox ADD COLUMN extra some_json[] DEFAULT ARRAY['{\"b\":1,\"b\":2}'::some_json]");
    String payload = "{\"a\":1,\"a\":2,\"s\":\"\\u0000\"}";
    String headers = "{\"h\": \"\\ud800\"}";
    insert(null, payload, headers); // bad: no topic
    insert("t", "{}", null);

    assertEquals(List.of(2L), ids(relayUntil(relay.start(props(Map.of())), 1)));
    assertEquals(
        List.of(payload, headers, "{\"{\\\"b\\\":1,\\\"b\\\":2}\"}", "1", "topic is null or empty"),
        deadLetter("event->>'payload', event->>'headers', event->>'extra', event->>'id', error"));
  }

  @Test
  void aJsonbColumnStaysJsonInTheDeadLetter() throws Exception {
    execute("ALTER TABLE outbox ALTER COLUMN payload TYPE jsonb");
    insert(null, "{\"a\": 1}", null);

    relayUntil(relay.start(props(Map.of())), 0);
    assertEquals(List.of("1", "1"), deadLetter("event->'payload'->>'a', event->>'id'"));
  }

  /** The statement's alias for the outbox row is o: to_jsonb(o) took a column named o for it. */
  @Test
  void aColumnNamedLikeTheRowsAliasStaysAColumnOfTheEvent() throws Exception {
    execute("ALTER TABLE outbox ALTER COLUMN payload TYPE jsonb");
    execute("ALTER TABLE outbox ALTER COLUMN headers TYPE jsonb");
    execute("ALTER TABLE outbox ADD COLUMN o integer DEFAULT 7");
    insert(null, "{}", null);

    relayUntil(relay.start(props(Map.of())), 0);
    assertEquals(List.of("1", "7"), deadLetter("event->>'id', event->>'o'"));
  }

  /**
   * With a json column the event lists the columns rather than to_jsonb(o.*): a column added while
   * the task ran was missing from the list found when it connected, so its value was deleted with
   * the outbox row and never reached the dead letter.
   */
  @Test
  void aColumnAddedWhileTheTaskRunsIsInTheDeadLetter() throws Exception {
    insert("t", "{}", null);
    PostgresOutboxSourceTask task = relay.start(props(Map.of()));
    assertEquals(List.of(1L), ids(relayUntil(task, 1))); // connected

    execute("ALTER TABLE outbox ADD COLUMN tenant text DEFAULT 'acme'");
    insert(null, "{\"a\":1,\"a\":2}", null); // bad: no topic
    insert("t", "{}", null);

    assertEquals(List.of(3L), ids(relayUntil(task, 1)));
    assertEquals(
        List.of("acme", "{\"a\":1,\"a\":2}", "topic is null or empty"),
        deadLetter("event->>'tenant', event->>'payload', error"));
  }

  @Test
  void aDeadLetterIsInsertedAgainWithItsJsonAsWritten() throws Exception {
    // jsonb would give {"a": 2.50, "b": 1} back; a duplicate key would make a bad row again
    String payload = "{\"b\": 1,  \"a\": 2.50}";
    insert(null, payload, "{\"h\":\"\\u0000\"}");
    PostgresOutboxSourceTask task = relay.start(props(Map.of()));
    relayUntil(task, 0);

    // the README's statement for json columns (fixed: a topic), which takes their text as it is
    execute(
        "INSERT INTO outbox (id, topic, payload, dedupe_key, headers, created_at)"
            + " SELECT (event->>'id')::bigint, 't', (event->>'payload')::json,"
            + " event->>'dedupe_key', (event->>'headers')::json,"
            + " (event->>'created_at')::timestamptz FROM dlq");
    List<SourceRecord> records = relayUntil(task, 1);
    assertEquals(List.of(1L), ids(records));
    assertEquals(payload, records.get(0).value());
  }

  private Map<String, String> props(Map<String, String> extra) {
    Map<String, String> props = relay.props();
    props.putAll(extra);
    props.put("outbox.table.create", "false");
    return props;
  }

  private void insert(String topic, String payload, String headers) throws SQLException {
    try (Connection c = relay.connect();
        PreparedStatement s =
            c.prepareStatement(
                "INSERT INTO outbox(topic, payload, headers) VALUES (?, ?::json, ?::json)")) {
      s.setString(1, topic);
      s.setString(2, payload);
      s.setString(3, headers);
      s.execute();
    }
  }

  /** The dead-letter table's one row: the given columns, as text. */
  private List<String> deadLetter(String columns) throws SQLException {
    List<String> row = new ArrayList<>();
    try (Connection c = relay.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT " + columns + " FROM dlq")) {
      assertTrue(rs.next(), "dead-lettered");
      for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
        row.add(rs.getString(i));
      }
      assertFalse(rs.next(), "one dead letter");
    }
    return row;
  }

  private void execute(String sql) throws SQLException {
    try (Connection c = relay.connect();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}
