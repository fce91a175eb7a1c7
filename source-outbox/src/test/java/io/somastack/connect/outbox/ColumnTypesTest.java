package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.HandRunSourceContext.relayUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The relay reads the payload, the keys and the headers as their PostgreSQL text. For a bytea
 * column that text is hex ({@code \x7b7d} for the bytes of {@code {}}), so such a column would be
 * relayed mangled — or, with value.format=struct, every row dead-lettered — silently: a task
 * refuses it when it connects, naming the table, the column and its type. Types whose text is their
 * value (uuid, integer keys; text and json payloads) relay as before.
 */
class ColumnTypesTest {

  @RegisterExtension final RelayTask relay = new RelayTask("outbox_types_");

  @Test
  void aByteaPayloadColumnIsRefused() throws Exception {
    outbox("payload bytea, dedupe_key text");
    execute("INSERT INTO outbox(topic, payload) VALUES ('t', convert_to('{}', 'UTF8'))");

    String message = refused(Map.of());
    assertTrue(message.contains("public.outbox"), message);
    assertTrue(message.contains("payload") && message.contains("bytea"), message);
    assertTrue(message.contains("in its option, column.payload"), message);
  }

  @Test
  void aByteaKeyColumnIsRefused() throws Exception {
    outbox("payload jsonb, dedupe_key text, k bytea");
    execute("INSERT INTO outbox(topic, payload, k) VALUES ('t', '{}', '\\x6b')");

    String message = refused(Map.of("column.key", "k"));
    assertTrue(message.contains("k") && message.contains("bytea"), message);
    assertTrue(message.contains("in its option, column.key"), message);
  }

  @Test
  void aByteaDedupeKeyColumnIsRefused() throws Exception {
    outbox("payload jsonb, dedupe_key bytea");
    execute("INSERT INTO outbox(topic, payload, dedupe_key) VALUES ('t', '{}', '\\x6b')");

    String message = refused(Map.of());
    assertTrue(message.contains("dedupe_key") && message.contains("bytea"), message);
    assertTrue(message.contains("in its option, column.dedupe.key"), message);
  }

  @Test
  void aByteaHeadersColumnIsRefused() throws Exception {
    outbox("payload jsonb, dedupe_key text, headers bytea");
    execute("INSERT INTO outbox(topic, payload, headers) VALUES ('t', '{}', '\\x7b7d')");

    String message = refused(Map.of());
    assertTrue(message.contains("headers") && message.contains("bytea"), message);
    assertTrue(message.contains("in its option, column.headers"), message);
  }

  @Test
  void aByteaKeyBehindTwoDomainsIsRefused() throws Exception {
    relay.createDatabase();
    execute("CREATE DOMAIN raw AS bytea");
    execute("CREATE DOMAIN raw_key AS raw");
    execute(table("payload jsonb, dedupe_key raw_key"));
    execute(DefaultOutbox.script());

    String message = refused(Map.of());
    assertTrue(message.contains("dedupe_key") && message.contains("bytea"), message);
  }

  @Test
  void aByteaTopicColumnIsRefused() throws Exception {
    relay.createDatabase();
    execute(
        "CREATE TABLE outbox (id bigserial PRIMARY KEY, topic bytea, payload jsonb,"
            + " dedupe_key text, created_at timestamptz NOT NULL DEFAULT clock_timestamp())");
    execute(DefaultOutbox.script());
    execute("INSERT INTO outbox(topic, payload) VALUES (convert_to('t', 'UTF8'), '{}')");

    String message = refused(Map.of());
    assertTrue(message.contains("topic") && message.contains("bytea"), message);
    assertTrue(message.contains("in its option, column.topic"), message);
  }

  @Test
  void aByteaTopicColumnIsNotReadWithAFixedTopic() throws Exception {
    relay.createDatabase();
    execute(
        "CREATE TABLE outbox (id bigserial PRIMARY KEY, topic bytea, payload jsonb,"
            + " dedupe_key text, created_at timestamptz NOT NULL DEFAULT clock_timestamp())");
    execute(DefaultOutbox.script());
    execute("INSERT INTO outbox(topic, payload) VALUES ('\\x00', '{}')");

    assertEquals("fixed", relayed(Map.of("topic.mode", "fixed", "topic.fixed", "fixed")).topic());
  }

  @Test
  void uuidAndIntegerKeysAreRelayedAsTheirText() throws Exception {
    outbox("payload jsonb, dedupe_key uuid, k integer");
    execute(
        "INSERT INTO outbox(topic, payload, dedupe_key, k)"
            + " VALUES ('t', '{}', '6f1c2a3e-0000-4000-8000-000000000001', 42)");
    SourceRecord record = relayed(Map.of("column.key", "k"));
    assertEquals("42", record.key());
    assertEquals(
        "6f1c2a3e-0000-4000-8000-000000000001", record.headers().lastWithName("id").value());
  }

  @Test
  void textVarcharAndJsonPayloadsAreRelayedAsWritten() throws Exception {
    for (String type : List.of("text", "varchar(100)", "json")) {
      RelayTask one = new RelayTask("outbox_types_" + type.replaceAll("\\W", "") + "_");
      one.createDatabase();
      try (Connection c = one.connect();
          Statement s = c.createStatement()) {
        s.execute(table("payload " + type + ", dedupe_key text"));
        s.execute(DefaultOutbox.script());
        s.execute("INSERT INTO outbox(topic, payload) VALUES ('t', '{\"a\": 1}')");
      }
      try {
        List<SourceRecord> records = relayUntil(one.start(one.props()), 1);
        assertEquals("{\"a\": 1}", records.get(0).value(), type);
      } finally {
        one.afterEach(null);
      }
    }
  }

  private String refused(Map<String, String> extra) {
    Map<String, String> props = relay.props();
    props.putAll(extra);
    PostgresOutboxSourceTask task = relay.start(props);
    return assertThrows(ConnectException.class, task::poll).getMessage();
  }

  private SourceRecord relayed(Map<String, String> extra) throws InterruptedException {
    Map<String, String> props = relay.props();
    props.putAll(extra);
    List<SourceRecord> records = relayUntil(relay.start(props), 1);
    assertEquals(1, records.size());
    return records.get(0);
  }

  /** The outbox with the given payload and key columns, then the relay's DDL for the rest. */
  private void outbox(String columns) throws SQLException {
    relay.createDatabase();
    execute(table(columns));
    execute(DefaultOutbox.script());
  }

  private static String table(String columns) {
    return "CREATE TABLE outbox (id bigserial PRIMARY KEY, topic text, "
        + columns
        + ", created_at timestamptz NOT NULL DEFAULT clock_timestamp())";
  }

  private void execute(String sql) throws SQLException {
    try (Connection c = relay.connect();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}
