package io.somastack.connect.it.transforms;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * never the table; encrypted fields never appear in clear in the database; the outbox relay keyed
 * by tenant puts each tenant's records in one partition.
 */
class TransformChainIT {

  private static final String DB = "transform_chain";
  private static final List<String> TENANTS = List.of("acme", "globex", "initech");
  private static final String T = "io.somastack.connect.transforms.";
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
    config.put("table.name.format", "memory_kv");
    config.put("write.mode", "upsert");
    config.put("key.fields", "namespace,id");
    config.put("transforms", "validate,tenantKey,encrypt");
    config.put("transforms.validate.type", T + "ValidateJsonSchema$Value");
    config.put("transforms.validate.schema", "classpath:schemas/memory-event.schema.json");
    config.put("transforms.tenantKey.type", T + "KeyFromField$Value");
    config.put("transforms.tenantKey.field", "tenant_id");
    config.put("transforms.encrypt.type", T + "EncryptFields$Value");
    config.put("transforms.encrypt.fields", "payload.user_email,payload.user_name");
    config.put("transforms.encrypt.keys", "pii:1:" + randomKey());
    config.put("transforms.encrypt.key.id", "pii");
    config.put("transforms.encrypt.tenant.field", "tenant_id");
    connect.deploy("memory-kv", config, 2);

    for (int i = 0; i < 30; i++) {
      connect.send(
          "memory.events", null, memory("m" + i, TENANTS.get(i % 3), "user" + i + "@mail.example"));
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

    await().atMost(Duration.ofSeconds(60)).until(() -> rows("memory_kv") == 30);
    List<ConsumerRecord<String, String>> dead =
        connect.consume(3, Duration.ofSeconds(30), "memory.dlq");
    assertEquals(3, dead.size());
    for (ConsumerRecord<String, String> record : dead) {
      String reason = header(record, "__connect.errors.exception.message");
      assertTrue(
          reason.contains("does not match classpath:schemas/memory-event.schema.json"), reason);
      assertEquals("TRANSFORMATION", header(record, "__connect.errors.stage"));
    }
    assertEquals(0, rows("memory_kv WHERE id LIKE 'm-%'"));
    // PII never in clear; each ciphertext bound to its field and tenant
    assertEquals(0, rows("memory_kv WHERE payload::text LIKE '%@mail.example%'"));
    assertEquals(30, rows("memory_kv WHERE payload->'payload'->>'user_email' LIKE 'soma-enc:%'"));
    assertEquals(30, rows("memory_kv WHERE payload->'payload'->>'text' = 'remember this'"));
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
