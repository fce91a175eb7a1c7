package io.somastack.connect.it.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.deploy.ConnectRestClient;
import io.somastack.connect.deploy.PipelineDeployer;
import io.somastack.connect.deploy.PipelineFile;
import io.somastack.connect.deploy.topics.TopicFile;
import io.somastack.connect.deploy.topics.TopicProvisioner;
import io.somastack.connect.testing.connect.ConnectHarness;
import io.somastack.connect.testing.connect.EnvOverlayConfigProvider;
import io.somastack.connect.testing.connect.PackagedPlugins;
import io.somastack.connect.testing.postgres.PostgresServer;
import io.somastack.connect.testing.qdrant.QdrantGrpcStandIn;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every file of connector-configs/, deployed unchanged into a real Connect cluster with the
 * packaged plugins, through the deploy code users run: zero validation errors, everything RUNNING,
 * and one event per pipeline landing where it should.
 */
class DeployAllPipelinesIT {

  private static final String DB = "deploy_all";
  private static final String TENANT = "acme";
  private static ConnectHarness connect;
  private static QdrantGrpcStandIn qdrant;
  private static PostgresServer postgres;

  @BeforeAll
  static void start() throws Exception {
    postgres = PostgresServer.shared();
    String url = postgres.createDatabase(DB);
    qdrant = QdrantGrpcStandIn.startOnFreePort();
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    EnvOverlayConfigProvider.set("SOMA_PG_URL", url);
    EnvOverlayConfigProvider.set("SOMA_PG_USER", postgres.user());
    EnvOverlayConfigProvider.set(
        "SOMA_PG_PASSWORD", postgres.password() == null ? "" : postgres.password());
    // as every documented deployment sets them: empty without TLS to PostgreSQL
    EnvOverlayConfigProvider.set("SOMA_PG_SSLROOTCERT", "");
    EnvOverlayConfigProvider.set("SOMA_PG_SSLPASSWORD", "");
    EnvOverlayConfigProvider.set("SOMA_QDRANT_URL", qdrant.url());
    EnvOverlayConfigProvider.set("SOMA_QDRANT_API_KEY", "");
    EnvOverlayConfigProvider.set(
        "SOMA_ENCRYPTION_KEYS", "memory:1:" + Base64.getEncoder().encodeToString(key));
    EnvOverlayConfigProvider.set("SOMA_ENCRYPTION_KEY_ID", "memory");
    connect = ConnectHarness.builder("deploy-all").exactlyOnceSource().start();
    try (Admin admin = connect.connect().kafka().createAdminClient()) {
      TopicProvisioner.provision(
          admin,
          TopicFile.read(PackagedPlugins.projectRoot().resolve("connector-configs/topics.json")));
    }
  }

  @AfterAll
  static void stop() {
    if (connect != null) {
      connect.close();
    }
    if (qdrant != null) {
      qdrant.close();
    }
  }

  @Test
  void everyPipelineValidatesDeploysRunsAndMovesAnEvent() throws Exception {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PipelineDeployer deployer =
        new PipelineDeployer(
            new ConnectRestClient(restUri(), null, null),
            new PrintStream(log, true, StandardCharsets.UTF_8),
            Duration.ofSeconds(90));
    List<Path> files =
        PipelineFile.list(PackagedPlugins.projectRoot().resolve("connector-configs"));
    assertEquals(12, files.size(), files.toString());
    for (Path file : files) {
      PipelineFile pipeline = PipelineFile.read(file);
      assertEquals(List.of(), deployer.validate(pipeline), file + " has validation errors");
      assertTrue(
          deployer.deploy(pipeline, false).ok(),
          file + ":\n" + log.toString(StandardCharsets.UTF_8));
    }

    String memoryId = "mem-" + UUID.randomUUID();
    connect.send("memory.events", TENANT, Events.memory(memoryId, "ada@example.com"));
    connect.send("memory.wal", TENANT, Events.wal());
    connect.send("memory.wal", TENANT, "{not json");
    connect.send("somastack.events.audit", TENANT, Events.audit());
    connect.send("agent-actions", "c1", Events.agentAction());
    connect.send("somastack.tools", TENANT, Events.toolInvocation());
    Map<String, String> landings = sendAgentEvents();
    connect.flush();
    String delegated = UUID.randomUUID().toString();
    // the relay creates its table on its first poll, which may come just after RUNNING
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> rows("pg_class WHERE relname = 'outbox'") == 1);
    insertOutboxRow("somastack.delegation", Events.delegatedTask(delegated));
    Map<String, String> relayedKeys = relayOneRowPerKeyField();

    await()
        .atMost(Duration.ofSeconds(90))
        .until(() -> rows("memory_kv WHERE id = '" + memoryId + "'") == 1);
    // the PII field named by the config is encrypted in the database, never in clear
    assertEquals(0, rows("memory_kv WHERE payload::text LIKE '%ada@example.com%'"));
    assertEquals(
        1,
        rows(
            "memory_kv WHERE id = '"
                + memoryId
                + "' AND payload->'payload'->>'user_email' LIKE 'soma-enc:%'"));
    // the event sent and the one relayed from the outbox
    await().atMost(Duration.ofSeconds(60)).until(() -> rows("memory_replica") == 2);
    await().atMost(Duration.ofSeconds(60)).until(() -> rows("audit_events") == 1);
    assertEquals(0, rows("soma_audit_verify('audit_events')"));
    await().atMost(Duration.ofSeconds(60)).until(() -> rows("agent_actions") == 1);
    await().atMost(Duration.ofSeconds(60)).until(() -> rows("somastack_tools") == 1);
    for (Map.Entry<String, String> landing : landings.entrySet()) {
      String from = landing.getKey() + " WHERE " + landing.getValue();
      await(from).atMost(Duration.ofSeconds(60)).until(() -> rows(from) == 1);
    }
    // outbox row -> Kafka (exactly once, keyed by tenant) -> somastack-events sink -> table
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> rows("somastack_delegation WHERE task_id = '" + delegated + "'") == 1);
    // the malformed event: dead-lettered, then archived with its reason
    await().atMost(Duration.ofSeconds(60)).until(() -> rows("dlq WHERE topic = 'memory.wal'") == 1);
    // and the memory became a point in Qdrant
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                qdrant.operations().stream()
                    .anyMatch(
                        op -> op.kind().equals("upsert") && op.collection().equals("memories")));
    assertFalse(connect.status("outbox-relay").tasks().isEmpty());
    assertRelayedKeys(relayedKeys);
  }

  /**
   * Outbox rows of the topics whose events hold the tenant elsewhere than in tenant_id, and memory
   * events with and without one; returns, per marker (an id in the row's payload), the Kafka key
   * the relay must give its record: the tenant (seed 000's partition key), and for a memory its
   * namespace, whether or not it names its tenant, so that one memory's writes stay in one
   * partition, in order.
   */
  private static Map<String, String> relayOneRowPerKeyField() throws SQLException {
    Map<String, String> keys = new LinkedHashMap<>();
    String toolTask = UUID.randomUUID().toString();
    insertOutboxRow("somastack.tool_results", Events.toolResult(toolTask));
    keys.put(toolTask, TENANT); // metadata.tenant_id
    String walEvent = UUID.randomUUID().toString();
    insertOutboxRow("memory.wal", Events.wal(walEvent));
    keys.put(walEvent, TENANT); // tenant
    String memoryId = "mem-" + UUID.randomUUID();
    insertOutboxRow("memory.events", Events.memoryWithoutTenant(memoryId));
    keys.put(memoryId, "acme.agent0"); // namespace
    String tenantMemoryId = "mem-" + UUID.randomUUID();
    insertOutboxRow("memory.events", Events.memory(tenantMemoryId, "bob@example.com"));
    keys.put(tenantMemoryId, "acme.agent0"); // namespace too: one memory, one partition
    return keys;
  }

  private static void assertRelayedKeys(Map<String, String> expected) {
    // sent: 1 memory.events, 2 memory.wal, 1 tool result; relayed: 2 memory events, one of each
    // other
    List<ConsumerRecord<String, String>> records =
        connect.consume(
            8, Duration.ofSeconds(60), "somastack.tool_results", "memory.wal", "memory.events");
    Map<String, String> keys = new LinkedHashMap<>();
    for (Map.Entry<String, String> marker : expected.entrySet()) {
      records.stream()
          .filter(r -> r.value() != null && r.value().contains(marker.getKey()))
          .forEach(r -> keys.put(marker.getKey(), r.key()));
    }
    assertEquals(expected, keys);
  }

  /**
   * One event on each topic of the tool-result, routing, transformation, task-execution, metrics
   * and pattern pipelines; returns, per table, the row each must make there (its configured columns
   * filled from the event).
   */
  private static Map<String, String> sendAgentEvents() {
    String toolTask = UUID.randomUUID().toString();
    String request = UUID.randomUUID().toString(); // one request's trace, the agents' partition key
    connect.send("somastack.tool_results", TENANT, Events.toolResult(toolTask));
    connect.send("agent-routing-decisions", request, Events.routingDecision(request));
    connect.send("agent-transformation-events", request, Events.transformation(request));
    connect.send("task-executions", request, Events.taskExecution(request));
    connect.send("router-performance-metrics", request, Events.routerMetric(request));
    connect.send("code-quality-metrics", request, Events.codeQualityMetric(request));
    connect.send("success-patterns", request, Events.successPattern(request));
    connect.send("failure-patterns", request, Events.failurePattern(request));
    String trace = "correlation_id = '" + request + "'";
    Map<String, String> landings = new LinkedHashMap<>();
    landings.put("somastack_tool_results", "task_id = '" + toolTask + "' AND tenant = 'acme'");
    landings.put("agent_routing_decisions", trace + " AND agent_name = 'agent-api-architect'");
    landings.put(
        "agent_transformation_events",
        trace + " AND source_agent = 'agent-router' AND agent_name = 'agent-api-architect'");
    landings.put("task_executions", trace + " AND agent_name = 'agent-api-architect'");
    for (String table :
        List.of(
            "router_performance_metrics",
            "code_quality_metrics",
            "success_patterns",
            "failure_patterns")) {
      landings.put(table, trace + " AND occurred_at IS NOT NULL");
    }
    return landings;
  }

  private static java.net.URI restUri() {
    return connect.connect().workers().iterator().next().url();
  }

  private static void insertOutboxRow(String topic, String payload) throws SQLException {
    try (Connection c = postgres.connect(DB);
        var ps =
            c.prepareStatement(
                "INSERT INTO outbox (topic, payload, dedupe_key) VALUES (?, ?::jsonb, ?)")) {
      ps.setString(1, topic);
      ps.setString(2, payload);
      ps.setString(3, UUID.randomUUID().toString());
      ps.executeUpdate();
    }
  }

  private static long rows(String from) throws SQLException {
    try (Connection c = postgres.connect(DB);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM " + from)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      if ("42P01".equals(e.getSQLState())) {
        return 0; // the connector creates the table with its first batch
      }
      throw e;
    }
  }
}
