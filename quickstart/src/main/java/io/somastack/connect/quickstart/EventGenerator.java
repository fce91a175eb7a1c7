package io.somastack.connect.quickstart;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.somastack.connect.common.sql.SqlIdentifier;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * A realistic stream of the seeds' events: memory writes (to memory.events and memory.wal), audit
 * events, tool invocations and results, delegated tasks, agent actions; and, on purpose, a few
 * malformed ones (not JSON, no event id, a NUL in the text) that must end up dead-lettered. Each
 * event is counted in {@link #expected} where connector-configs/ send it, as it is sent.
 */
final class EventGenerator {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> TENANTS = List.of("acme", "globex", "initech");
  private static final List<String> TOOLS = List.of("shell", "web_search", "code_exec", "calendar");

  private final KafkaProducer<String, String> producer;
  private final Random random = new Random(42);
  final AtomicLong sent = new AtomicLong();
  final AtomicLong malformed = new AtomicLong();
  private final Expected expected;

  EventGenerator(KafkaProducer<String, String> producer, Expected expected) {
    this.producer = producer;
    this.expected = expected;
  }

  /** Sends {@code rounds} rounds of one event per kind (and a malformed one every 100 rounds). */
  void send(int rounds) {
    for (int i = 0; i < rounds; i++) {
      String tenant = TENANTS.get(i % TENANTS.size());
      memory(tenant, i);
      audit(tenant, i);
      tool(tenant, i);
      agentAction(i);
      if (i % 100 == 0) {
        malformedEvents(i);
      }
    }
    producer.flush();
  }

  private void memory(String tenant, int i) {
    ObjectNode event = JSON.createObjectNode();
    event.put("event_id", UUID.randomUUID().toString());
    event.put("id", "mem-" + (i % 500)); // 500 memories per namespace, each written many times
    event.put("namespace", tenant + ".agent0");
    event.put("tenant_id", tenant);
    event.put("type", i % 3 == 0 ? "episodic" : "semantic");
    event.put("timestamp", Instant.now().toString());
    ObjectNode payload = event.putObject("payload");
    payload.put("text", "The user prefers concise answers about topic " + (i % 37));
    payload.put("importance", Math.round(random.nextDouble() * 100) / 100.0);
    payload.put("user_email", "user" + (i % 50) + "@" + tenant + ".example"); // PII: encrypted
    event.putObject("metadata").put("schema_version", "1.0").put("source", "quickstart");
    send("memory.events", tenant, event.toString());
    // memory-kv: an upsert keyed by namespace and id
    expected.upsert("memory_kv", tenant + ".agent0/mem-" + (i % 500));

    ObjectNode wal = JSON.createObjectNode();
    wal.put("event_id", UUID.randomUUID().toString());
    wal.put("session_id", "session-" + (i % 20));
    wal.put("persona_id", "agent0");
    wal.put("tenant", tenant);
    wal.put("role", i % 2 == 0 ? "user" : "assistant");
    wal.put("timestamp", Instant.now().toString());
    wal.putObject("payload").put("content", "message " + i);
    send("memory.wal", tenant, wal.toString());
    expected.row("memory_replica");
  }

  private void audit(String tenant, int i) {
    ObjectNode event = JSON.createObjectNode();
    event.put("event_id", UUID.randomUUID().toString());
    event.put("tenant_id", tenant);
    event.putObject("actor").put("type", "service").put("id", "gateway");
    event.put("action", List.of("session.create", "tool.invoke", "memory.write").get(i % 3));
    event.put("outcome", i % 25 == 0 ? "denied" : "success");
    event.put("timestamp", Instant.now().toString());
    event.putObject("details").put("request_id", "req-" + i);
    event.putObject("metadata").put("schema_version", "1.0");
    send(i % 2 == 0 ? "somastack.events.audit" : "memory.audit", tenant, event.toString());
    expected.row("audit_events"); // audit-archive: both audit topics
  }

  private void tool(String tenant, int i) {
    String taskId = UUID.randomUUID().toString();
    ObjectNode invocation = JSON.createObjectNode();
    invocation.put("event_id", UUID.randomUUID().toString());
    invocation.put("task_id", taskId);
    invocation.put("tenant_id", tenant);
    invocation.put("persona", "agent0");
    invocation.put("tool_name", TOOLS.get(i % TOOLS.size()));
    invocation.putObject("payload").put("command", "ls");
    invocation
        .putObject("metadata")
        .put("requested_by", "gateway")
        .put("timestamp", Instant.now().toString())
        .put("schema_version", "1.0");
    send("somastack.tools", tenant, invocation.toString());
    expected.row(topicTable("somastack.tools"));
    ObjectNode result = JSON.createObjectNode();
    result.put("event_id", UUID.randomUUID().toString());
    result.put("task_id", taskId);
    result.put("status", i % 10 == 0 ? "error" : "success");
    result.putObject("output").put("stdout", "...").put("stderr", "");
    result.putObject("metrics").put("duration_ms", 100 + random.nextInt(4000));
    result
        .putObject("metadata")
        .put("tenant_id", tenant)
        .put("correlation_id", UUID.randomUUID().toString())
        .put("schema_version", "1.0");
    send("somastack.tool_results", tenant, result.toString());
    expected.row(topicTable("somastack.tool_results"));
  }

  private void agentAction(int i) {
    ObjectNode event = JSON.createObjectNode();
    String correlation = UUID.randomUUID().toString();
    event.put("event_id", UUID.randomUUID().toString());
    event.put("correlation_id", correlation);
    event.put("agent_name", "agent-api-architect");
    event.put("action_type", List.of("tool_call", "decision", "error", "success").get(i % 4));
    event.put("action_name", "read_file");
    event.putObject("action_details").put("file_path", "/src/main.py");
    event.put("duration_ms", 10 + random.nextInt(500));
    event.put("timestamp", Instant.now().toString());
    send("agent-actions", correlation, event.toString());
    expected.row(topicTable("agent-actions"));
  }

  private void malformedEvents(int i) {
    for (Map.Entry<String, String> bad :
        Map.of(
                "not json at all " + i,
                "memory.wal",
                "{\"id\":\"mem-x\",\"namespace\":\"acme/agent0\",\"payload\":{}}",
                "memory.wal",
                "{\"event_id\":\"" + UUID.randomUUID() + "\",\"text\":\"nul \\u0000 inside\"}",
                "memory.wal")
            .entrySet()) {
      send(bad.getValue(), "bad", bad.getKey());
      malformed.incrementAndGet();
      expected.row(Expected.DEAD_LETTERS); // via memory.wal.dlq and dlq-archive
    }
    // valid JSON, but no memory id: the schema validation in memory-kv dead-letters it
    send(
        "memory.events",
        "bad",
        "{\"event_id\":\""
            + UUID.randomUUID()
            + "\",\"namespace\":\"acme.agent0\","
            + "\"payload\":{},\"timestamp\":\""
            + Instant.now()
            + "\","
            + "\"metadata\":{\"schema_version\":\"1.0\"}}");
    malformed.incrementAndGet();
    expected.row(Expected.DEAD_LETTERS); // via memory.dlq and dlq-archive
  }

  /** The table of a sink whose table.name.format is ${topic}. */
  static String topicTable(String topic) {
    return SqlIdentifier.sanitize(topic);
  }

  private void send(String topic, String key, String value) {
    producer.send(new ProducerRecord<>(topic, key, value));
    sent.incrementAndGet();
  }
}
