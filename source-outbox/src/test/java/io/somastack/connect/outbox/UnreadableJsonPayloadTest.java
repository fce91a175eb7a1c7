package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.HandRunSourceContext.ids;
import static io.somastack.connect.outbox.HandRunSourceContext.relayUntil;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.transforms.Transformation;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * With value.format string or bytes the relay passes the payload on as its text, and the first to
 * parse it is a transform, such as the shipped outbox-relay.json's KeyFromField, with Kafka
 * Connect's JSON limits (1000 levels, numbers of 1000 characters, no duplicate keys). PostgreSQL
 * stores deeper jsonb, longer numbers, and in a json or text column duplicate keys or no JSON at
 * all. Relayed, such a row failed the transform, and so the task, on every restart (or, with
 * errors.tolerance=all, was dropped and then deleted: lost). It is a bad row instead, dead-lettered
 * with a reason that never quotes it, and the rows around it are relayed in order.
 */
class UnreadableJsonPayloadTest {

  @RegisterExtension final RelayTask relay = new RelayTask("outbox_unreadable_");

  private String payloadType;

  static Stream<Arguments> cases() {
    List<Arguments> cases = new ArrayList<>();
    for (String format : List.of("string", "bytes")) {
      // the deepest and longest that Connect's JSON tooling reads are good rows
      cases.add(
          Arguments.of(
              format, "jsonb", nested(999), nested(1_500), "nested too deeply: more than 1000"));
      cases.add(
          Arguments.of(format, "jsonb", digits(1_000), digits(1_001), "a number longer than 1000"));
      cases.add(
          Arguments.of(
              format,
              "json",
              "{\"secret\":1,\"x\":{\"secret\":2}}",
              "{\"secret\":1,\"secret\":2}",
              "a duplicate key"));
      cases.add(Arguments.of(format, "text", "\"secret\"", "secret text", "is not valid JSON"));
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "value.format={0}, payload {1}: {4}")
  @MethodSource("cases")
  void aPayloadConnectCannotReadIsDeadLetteredAndTheOthersAreRelayedInOrder(
      String format, String columnType, String good, String bad, String reason) throws Exception {
    createOutbox(columnType);
    List<Long> goodIds = new ArrayList<>();
    List<Long> badIds = new ArrayList<>();
    goodIds.add(insert(tenant("t1", "1")));
    badIds.add(insert(bad));
    goodIds.add(insert(tenant("t2", good)));
    badIds.add(insert(bad));
    goodIds.add(insert(tenant("t3", "1")));

    Map<String, String> props = relay.props();
    props.put("outbox.table.create", "false");
    props.put("value.format", format);
    List<SourceRecord> relayed = relayUntil(relay.start(props), goodIds.size());

    assertEquals(goodIds, ids(relayed));
    Map<Long, String> dead = deadLetters();
    assertEquals(badIds, List.copyOf(dead.keySet()));
    for (String why : dead.values()) {
      assertTrue(why.contains(reason), why);
      assertFalse(why.contains("secret"), "the reason quotes the payload: " + why);
    }
    List<Transformation<SourceRecord>> chain = shippedTransforms();
    List<Object> keys = new ArrayList<>();
    for (SourceRecord record : relayed) {
      SourceRecord transformed = record;
      for (Transformation<SourceRecord> transform : chain) {
        transformed = transform.apply(transformed);
      }
      keys.add(transformed.key());
    }
    assertEquals(List.of("t1", "t2", "t3"), keys);
  }

  /** Each format's payloads that the check refuses, and an XML one, with their column types. */
  static Stream<Arguments> uncheckedCases() {
    List<Arguments> cases = new ArrayList<>();
    cases().forEach(c -> cases.add(Arguments.of(c.get()[0], c.get()[1], c.get()[3])));
    for (String format : List.of("string", "bytes")) {
      cases.add(Arguments.of(format, "text", "<event id=\"1\">secret</event>"));
    }
    return cases.stream();
  }

  /**
   * payload.json.check=false, for a deployment whose payloads are not all JSON (XML, plain text, a
   * json column with duplicate keys) and that reads none of them as JSON: each row is relayed as
   * stored, byte for byte, and none is dead-lettered.
   */
  @ParameterizedTest(name = "value.format={0}, payload {1}, unchecked")
  @MethodSource("uncheckedCases")
  void withTheCheckOffEveryPayloadIsRelayedAsStored(String format, String columnType, String bad)
      throws Exception {
    createOutbox(columnType);
    List<Long> ids = new ArrayList<>();
    ids.add(insert(tenant("t1", "1")));
    ids.add(insert(bad));
    ids.add(insert(tenant("t2", "2")));
    ids.add(insert(bad));
    Map<Long, String> stored = storedPayloads();

    Map<String, String> props = relay.props();
    props.put("outbox.table.create", "false");
    props.put("value.format", format);
    props.put("payload.json.check", "false");
    List<SourceRecord> relayed = relayUntil(relay.start(props), ids.size());

    assertEquals(ids, ids(relayed));
    for (SourceRecord record : relayed) {
      String text = stored.get(ids(List.of(record)).get(0));
      if (format.equals("string")) {
        assertEquals(text, record.value());
      } else {
        assertArrayEquals(text.getBytes(StandardCharsets.UTF_8), (byte[]) record.value());
      }
    }
    assertEquals(Map.of(), deadLetters());
  }

  /** {"a": {"a": ... "secret" ...}}, depth objects deep. */
  private static String nested(int depth) {
    return "{\"a\":".repeat(depth) + "\"secret\"" + "}".repeat(depth);
  }

  /** {"n": 1000...}, the number with this many digits. */
  private static String digits(int count) {
    return "{\"n\":1" + "0".repeat(count - 1) + "}";
  }

  /** A payload keyed by tenant_id (as outbox-relay.json's transform reads it), holding this. */
  private static String tenant(String tenant, String body) {
    return "{\"tenant_id\":\"" + tenant + "\",\"body\":" + body + "}";
  }

  /**
   * The transforms of connector-configs/outbox-relay.json, each configured with its own settings.
   * Their predicates (which topic each keys) are not built: every transform here reads every
   * record's JSON, which is what this test is about. DeployAllPipelinesIT checks the keys the
   * shipped chain gives each topic.
   */
  private static List<Transformation<SourceRecord>> shippedTransforms()
      throws IOException, ReflectiveOperationException {
    JsonNode config =
        new ObjectMapper()
            .readTree(Path.of("../connector-configs/outbox-relay.json").toFile())
            .get("config");
    List<Transformation<SourceRecord>> chain = new ArrayList<>();
    for (String alias : config.get("transforms").asText().split(",")) {
      String prefix = "transforms." + alias.trim() + ".";
      Map<String, String> settings = new HashMap<>();
      config
          .properties()
          .forEach(
              e -> {
                if (e.getKey().startsWith(prefix)) {
                  settings.put(e.getKey().substring(prefix.length()), e.getValue().asText());
                }
              });
      @SuppressWarnings("unchecked")
      Transformation<SourceRecord> transform =
          (Transformation<SourceRecord>)
              Class.forName(settings.remove("type")).getDeclaredConstructor().newInstance();
      transform.configure(settings);
      chain.add(transform);
    }
    assertFalse(chain.isEmpty(), "outbox-relay.json has transforms");
    return chain;
  }

  private void createOutbox(String payloadType) throws SQLException {
    this.payloadType = payloadType;
    relay.createDatabase();
    try (Connection c = relay.connect();
        Statement s = c.createStatement()) {
      s.execute(DefaultOutbox.script());
      s.execute(
          "ALTER TABLE outbox ALTER COLUMN payload TYPE "
              + payloadType
              + " USING payload::text::"
              + payloadType);
    }
  }

  private long insert(String payload) throws SQLException {
    try (Connection c = relay.connect();
        PreparedStatement s =
            c.prepareStatement(
                "INSERT INTO outbox(topic, payload) VALUES ('t', ?::"
                    + payloadType
                    + ")"
                    + " RETURNING id")) {
      s.setString(1, payload);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** Each outbox row's payload as PostgreSQL gives its text, by id. */
  private Map<Long, String> storedPayloads() throws SQLException {
    Map<Long, String> stored = new HashMap<>();
    try (Connection c = relay.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT id, payload::text FROM outbox")) {
      while (rs.next()) {
        stored.put(rs.getLong(1), rs.getString(2));
      }
    }
    return stored;
  }

  /** The dead letters' reasons by outbox id, in the order they were moved. */
  private Map<Long, String> deadLetters() throws SQLException {
    Map<Long, String> dead = new LinkedHashMap<>();
    try (Connection c = relay.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT (event->>'id')::bigint, error FROM dlq ORDER BY 1")) {
      while (rs.next()) {
        dead.put(rs.getLong(1), rs.getString(2));
      }
    }
    return dead;
  }
}
