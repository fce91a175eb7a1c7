package io.somastack.connect.it.transforms;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.somastack.connect.testing.connect.ConnectHarness;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The transforms chained in real connectors from the packaged plugins: validate, key from
 * tenant_id, encrypt PII. Invalid events reach the dead-letter topic with their violations and
 * never the table; each record is keyed by its tenant; encrypted fields never appear in clear in
 * the database, and each ciphertext opens (with DecryptFields) only in its field and for its
 * tenant; the outbox relay keyed by tenant puts each tenant's records in one partition.
 */
class TransformChainIT {

  private static final String DB = "transform_chain";
  private static final List<String> TENANTS = List.of("acme", "globex", "initech");
  private static final String T = "io.somastack.connect.transforms.";
  private static final String PII_FIELDS = "payload.user_email,payload.user_name";
  private static final String KEYS = "pii:1:" + randomKey();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static ConnectHarness connect;
  private static PostgresServer postgres;
  private static String url;

  @BeforeAll
  static void start() {
    postgres = PostgresServer.shared();
    url = postgres.createDatabase(DB);
    connect = ConnectHarness.builder("transform-chain").exactlyOnceSource().start();
  }

  @AfterAll
  static void stop() {
    if (connect != null) {
      connect.close();
    }
  }

  @Test
  void validateKeyAndEncryptBeforeThePostgresSink() throws Exception {
    connect.createTopic("memory.events", 3);
    Map<String, String> config = sink("memory.events", "memory.dlq");
    // the table named from the record key: each row's table says what key tenantKey gave it
    config.put("table.name.format", "memory_${key}");
    config.put("write.mode", "upsert");
    config.put("key.fields", "namespace,id");
    config.put("transforms", "validate,tenantKey,encrypt");
    config.put("transforms.validate.type", T + "ValidateJsonSchema$Value");
    config.put("transforms.validate.schema", "classpath:schemas/memory-event.schema.json");
    config.put("transforms.tenantKey.type", T + "KeyFromField$Value");
    config.put("transforms.tenantKey.field", "tenant_id");
    config.put("transforms.encrypt.type", T + "EncryptFields$Value");
    config.put("transforms.encrypt.fields", PII_FIELDS);
    config.put("transforms.encrypt.keys", KEYS);
    config.put("transforms.encrypt.key.id", "pii");
    config.put("transforms.encrypt.tenant.field", "tenant_id");
    connect.deploy("memory-kv", config, 2);

    for (int i = 0; i < 30; i++) {
      connect.send("memory.events", null, memory("m" + i, TENANTS.get(i % 3), email(i)));
    }
    List<String> invalid =
        List.of(
            "{\"event_id\":\"" + UUID.randomUUID() + "\",\"namespace\":\"acme\"}",
            memory("m-bad-id", "acme", "x@mail.example")
                .replace("\"event_id\":\"", "\"event_id\":\"not-a-uuid-"),
            memory("m-extra", "acme", "y@mail.example")
                .replace("{\"event_id\"", "{\"surprise\":1,\"event_id\""));
    invalid.forEach(event -> connect.send("memory.events", "bad", event));
    connect.flush();

    // keyed by tenant: each tenant's ten memories, and only theirs, in the table of its key
    for (String tenant : TENANTS) {
      await().atMost(Duration.ofSeconds(60)).until(() -> rows(table(tenant)) == 10);
      assertEquals(10, rows(table(tenant) + " WHERE payload->>'tenant_id' = '" + tenant + "'"));
    }
    List<ConsumerRecord<String, String>> dead =
        connect.consume(3, Duration.ofSeconds(30), "memory.dlq");
    assertEquals(3, dead.size());
    for (ConsumerRecord<String, String> record : dead) {
      String reason = header(record, "__connect.errors.exception.message");
      assertTrue(
          reason.contains("does not match classpath:schemas/memory-event.schema.json"), reason);
      assertEquals("TRANSFORMATION", header(record, "__connect.errors.stage"));
    }
    String stored =
        "("
            + TENANTS.stream()
                .map(t -> "SELECT * FROM " + table(t))
                .collect(Collectors.joining(" UNION ALL "))
            + ") stored";
    assertEquals(0, rows(stored + " WHERE id LIKE 'm-%'"));
    // PII never in clear; each ciphertext bound to its field and tenant (below)
    assertEquals(0, rows(stored + " WHERE payload::text LIKE '%@mail.example%'"));
    assertEquals(30, rows(stored + " WHERE payload->'payload'->>'user_email' LIKE 'soma-enc:%'"));
    assertEquals(30, rows(stored + " WHERE payload->'payload'->>'text' = 'remember this'"));

    assertCiphertextsOpenOnlyForTheirFieldAndTenant(payloads(stored));
  }

  /**
   * The stored events sent through DecryptFields, the transform users decrypt with: as stored they
   * open to the original values; with the tenant changed, or the two fields' ciphertexts swapped,
   * each fails authentication and is dead-lettered.
   */
  private void assertCiphertextsOpenOnlyForTheirFieldAndTenant(List<ObjectNode> events)
      throws Exception {
    connect.createTopic("memory.sealed", 1);
    Map<String, String> config = sink("memory.sealed", "memory.sealed.dlq");
    config.put("table.name.format", "memory_opened");
    config.put("write.mode", "append");
    config.put("transforms", "decrypt");
    config.put("transforms.decrypt.type", T + "DecryptFields$Value");
    config.put("transforms.decrypt.fields", PII_FIELDS);
    config.put("transforms.decrypt.keys", KEYS);
    config.put("transforms.decrypt.tenant.field", "tenant_id");
    connect.deploy("memory-opened", config, 1);

    for (ObjectNode event : events) {
      connect.send("memory.sealed", null, event.toString());
      connect.send("memory.sealed", null, ofAnotherTenant(event).toString());
      connect.send("memory.sealed", null, withFieldsSwapped(event).toString());
    }
    connect.flush();

    Map<String, String> expected = new TreeMap<>();
    for (int i = 0; i < 30; i++) {
      expected.put("m" + i, email(i) + " Ada");
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> rows("memory_opened") == 30);
    List<ConsumerRecord<String, String>> dead =
        connect.consume(60, Duration.ofSeconds(60), "memory.sealed.dlq");
    assertEquals(60, dead.size());
    for (ConsumerRecord<String, String> record : dead) {
      String reason = header(record, "__connect.errors.exception.message");
      assertTrue(reason.contains("ciphertext failed authentication"), reason);
    }
    assertEquals(30, rows("memory_opened"));
    assertEquals(
        expected,
        pairs(
            "SELECT payload->>'id', (payload->'payload'->>'user_email') || ' '"
                + " || (payload->'payload'->>'user_name') FROM memory_opened"));
  }

  private static ObjectNode ofAnotherTenant(ObjectNode event) {
    int tenant = TENANTS.indexOf(event.get("tenant_id").asText());
    return forged(event).put("tenant_id", TENANTS.get((tenant + 1) % TENANTS.size()));
  }

  private static ObjectNode withFieldsSwapped(ObjectNode event) {
    ObjectNode swapped = forged(event);
    ObjectNode pii = (ObjectNode) swapped.get("payload");
    JsonNode email = pii.get("user_email");
    pii.set("user_email", pii.get("user_name"));
    pii.set("user_name", email);
    return swapped;
  }

  /** A copy of a stored event under a new event id, so that the sink could not drop it as seen. */
  private static ObjectNode forged(ObjectNode event) {
    return event.deepCopy().put("event_id", UUID.randomUUID().toString());
  }

  private static List<ObjectNode> payloads(String from) throws Exception {
    List<ObjectNode> payloads = new ArrayList<>();
    try (Connection c = postgres.connect(DB);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT payload::text FROM " + from)) {
      while (rs.next()) {
        payloads.add((ObjectNode) JSON.readTree(rs.getString(1)));
      }
    }
    return payloads;
  }

  private static String table(String tenant) {
    return "memory_" + tenant;
  }

  private static String email(int i) {
    return "user" + i + "@mail.example";
  }

  @Test
  void theOutboxRelayKeyedByTenantKeepsEachTenantInOnePartition() throws Exception {
    Map<String, String> config = new HashMap<>();
    config.put("connector.class", "io.somastack.connect.outbox.PostgresOutboxSourceConnector");
    config.put("tasks.max", "1");
    config.put("connection.url", url);
    config.put("connection.user", postgres.user());
    config.put("outbox.tables", "public.outbox");
    config.put("outbox.table.create", "true");
    config.put("value.format", "string");
    config.put("key.converter", "org.apache.kafka.connect.storage.StringConverter");
    config.put("value.converter", "org.apache.kafka.connect.storage.StringConverter");
    config.put("exactly.once.support", "required");
    config.put("topic.creation.default.partitions", "3");
    config.put("topic.creation.default.replication.factor", "1");
    config.put("transforms", "tenantKey");
    config.put("transforms.tenantKey.type", T + "KeyFromField$Value");
    config.put("transforms.tenantKey.field", "tenant_id");
    connect.deploy("outbox", config, 1);
    // the task creates the table on its first poll, which may come just after RUNNING
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> rows("pg_class WHERE relname = 'outbox'") == 1);

    try (Connection c = postgres.connect(DB);
        PreparedStatement insert =
            c.prepareStatement(
                "INSERT INTO outbox (topic, payload, dedupe_key) VALUES ('somastack.delegation', ?::jsonb, ?)")) {
      for (int i = 0; i < 60; i++) {
        insert.setString(
            1, "{\"task_id\":\"t" + i + "\",\"tenant_id\":\"" + TENANTS.get(i % 3) + "\"}");
        insert.setString(2, UUID.randomUUID().toString()); // a different aggregate each time
        insert.executeUpdate();
      }
    }
    List<ConsumerRecord<String, String>> records =
        connect.consume(60, Duration.ofSeconds(60), "somastack.delegation");
    assertEquals(60, records.size());
    Map<String, Set<Integer>> partitionsOfTenant =
        records.stream()
            .collect(
                Collectors.groupingBy(
                    ConsumerRecord::key,
                    Collectors.mapping(ConsumerRecord::partition, Collectors.toSet())));
    assertEquals(Set.copyOf(TENANTS), partitionsOfTenant.keySet());
    partitionsOfTenant.forEach((tenant, partitions) -> assertEquals(1, partitions.size(), tenant));
  }

  private Map<String, String> sink(String topics, String dlq) {
    Map<String, String> config = new HashMap<>();
    config.put("connector.class", "io.somastack.connect.postgres.PostgresMemorySinkConnector");
    config.put("topics", topics);
    config.put("tasks.max", "2");
    config.put("connection.url", url);
    config.put("connection.user", postgres.user());
    config.put("key.converter", "org.apache.kafka.connect.storage.StringConverter");
    config.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
    config.put("value.converter.schemas.enable", "false");
    config.put("errors.tolerance", "all");
    config.put("errors.deadletterqueue.topic.name", dlq);
    config.put("errors.deadletterqueue.topic.replication.factor", "1");
    config.put("errors.deadletterqueue.context.headers.enable", "true");
    return config;
  }

  private static String memory(String id, String tenant, String email) {
    return "{\"event_id\":\""
        + UUID.randomUUID()
        + "\",\"id\":\""
        + id
        + "\",\"namespace\":\""
        + tenant
        + ".agent0\",\"tenant_id\":\""
        + tenant
        + "\",\"timestamp\":\""
        + Instant.now()
        + "\","
        + "\"payload\":{\"text\":\"remember this\",\"user_email\":\""
        + email
        + "\",\"user_name\":\"Ada\"},"
        + "\"metadata\":{\"schema_version\":\"1.0\"}}";
  }

  private static String randomKey() {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return Base64.getEncoder().encodeToString(key);
  }

  private static String header(ConsumerRecord<?, ?> record, String name) {
    Header header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  /** The first column of each row mapped to the second. */
  private static Map<String, String> pairs(String sql) throws SQLException {
    Map<String, String> pairs = new TreeMap<>();
    try (Connection c = postgres.connect(DB);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        pairs.put(rs.getString(1), rs.getString(2));
      }
    }
    return pairs;
  }

  private static long rows(String from) throws SQLException {
    try (Connection c = postgres.connect(DB);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM " + from)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      if ("42P01".equals(e.getSQLState())) {
        return 0;
      }
      throw e;
    }
  }
}
