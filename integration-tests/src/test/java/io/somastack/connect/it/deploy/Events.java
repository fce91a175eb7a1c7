package io.somastack.connect.it.deploy;

import java.time.Instant;
import java.util.UUID;

/** One valid event of each kind the seeds describe, as their producers send them. */
final class Events {

  private Events() {}

  private static String id() {
    return UUID.randomUUID().toString();
  }

  static String memory(String memoryId, String email) {
    return "{\"event_id\":\""
        + id()
        + "\",\"id\":\""
        + memoryId
        + "\",\"namespace\":\"acme.agent0\","
        + "\"tenant_id\":\"acme\",\"type\":\"semantic\",\"timestamp\":\""
        + Instant.now()
        + "\","
        + "\"payload\":{\"text\":\"prefers concise answers\",\"user_email\":\""
        + email
        + "\"},"
        + "\"metadata\":{\"schema_version\":\"1.0\"}}";
  }

  /**
   * A memory as seed 004's build_memory_event(namespace, payload) makes it: no tenant_id, the
   * namespace alone says whose it is.
   */
  static String memoryWithoutTenant(String memoryId) {
    return "{\"event_id\":\""
        + id()
        + "\",\"id\":\""
        + memoryId
        + "\",\"namespace\":\"acme.agent0\",\"type\":\"semantic\",\"timestamp\":\""
        + Instant.now()
        + "\",\"payload\":{\"text\":\"likes tables\"},"
        + "\"metadata\":{\"schema_version\":\"1.0\"}}";
  }

  static String wal() {
    return wal(id());
  }

  static String wal(String eventId) {
    return "{\"event_id\":\""
        + eventId
        + "\",\"session_id\":\"s1\",\"persona_id\":\"agent0\","
        + "\"tenant\":\"acme\",\"role\":\"user\",\"timestamp\":\""
        + Instant.now()
        + "\","
        + "\"payload\":{\"content\":\"hello\"}}";
  }

  static String audit() {
    return "{\"event_id\":\""
        + id()
        + "\",\"tenant_id\":\"acme\",\"actor\":{\"type\":\"service\",\"id\":\"gateway\"},"
        + "\"action\":\"tool.invoke\",\"outcome\":\"success\",\"timestamp\":\""
        + Instant.now()
        + "\","
        + "\"metadata\":{\"schema_version\":\"1.0\"}}";
  }

  static String agentAction() {
    return "{\"event_id\":\""
        + id()
        + "\",\"correlation_id\":\""
        + id()
        + "\","
        + "\"agent_name\":\"agent-api-architect\",\"action_type\":\"tool_call\","
        + "\"action_name\":\"read_file\",\"timestamp\":\""
        + Instant.now()
        + "\","
        + "\"metadata\":{\"schema_version\":\"1.0\"}}";
  }

  static String toolInvocation() {
    return "{\"event_id\":\""
        + id()
        + "\",\"task_id\":\""
        + id()
        + "\",\"tenant_id\":\"acme\","
        + "\"persona\":\"agent0\",\"tool_name\":\"shell\",\"payload\":{\"command\":\"ls\"},"
        + "\"metadata\":{\"requested_by\":\"gateway\",\"timestamp\":\""
        + Instant.now()
        + "\","
        + "\"schema_version\":\"1.0\"}}";
  }

  static String delegatedTask(String taskId) {
    return "{\"event_id\":\""
        + id()
        + "\",\"task_id\":\""
        + taskId
        + "\",\"type\":\"schedule:run\","
        + "\"payload\":{\"cron\":\"0 9 * * *\",\"job\":\"daily_report\"},\"tenant_id\":\"acme\","
        + "\"priority\":5,\"metadata\":{\"schema_version\":\"1.0\"}}";
  }

  static String toolResult(String taskId) {
    return "{\"event_id\":\""
        + id()
        + "\",\"task_id\":\""
        + taskId
        + "\",\"status\":\"success\","
        + "\"output\":{\"stdout\":\"ok\"},\"metrics\":{\"duration_ms\":12},"
        + "\"metadata\":{\"schema_version\":\"1.0\",\"tenant_id\":\"acme\"}}";
  }

  static String routingDecision(String correlationId) {
    return "{\"event_id\":\""
        + id()
        + "\",\"correlation_id\":\""
        + correlationId
        + "\",\"user_request\":\"add an endpoint\",\"selected_agent\":\"agent-api-architect\","
        + "\"confidence_score\":0.9,\"routing_strategy\":\"fuzzy\",\"routing_time_ms\":7,"
        + stamped();
  }

  static String transformation(String correlationId) {
    return "{\"event_id\":\""
        + id()
        + "\",\"correlation_id\":\""
        + correlationId
        + "\",\"source_agent\":\"agent-router\",\"target_agent\":\"agent-api-architect\","
        + "\"success\":true,"
        + stamped();
  }

  static String taskExecution(String correlationId) {
    return "{\"event_id\":\""
        + id()
        + "\",\"correlation_id\":\""
        + correlationId
        + "\",\"fingerprint_id\":\""
        + id()
        + "\",\"task_hash\":\""
        + "ab".repeat(32)
        + "\",\"task_type\":\"feature\",\"agent_name\":\"agent-api-architect\","
        + "\"success\":true,\"total_duration_ms\":1200,"
        + stamped();
  }

  static String routerMetric(String correlationId) {
    return "{\"event_id\":\""
        + id()
        + "\",\"correlation_id\":\""
        + correlationId
        + "\",\"query_text\":\"add an endpoint\",\"routing_duration_ms\":5,"
        + "\"cache_hit\":false,\"candidates_evaluated\":3,"
        + stamped();
  }

  static String codeQualityMetric(String correlationId) {
    return "{\"event_id\":\""
        + id()
        + "\",\"correlation_id\":\""
        + correlationId
        + "\",\"path_id\":\""
        + id()
        + "\",\"file_path\":\"src/api.py\",\"artifact_type\":\"module\","
        + "\"language\":\"python\",\"quality_score\":0.8,"
        + stamped();
  }

  static String successPattern(String correlationId) {
    return "{\"event_id\":\""
        + id()
        + "\",\"correlation_id\":\""
        + correlationId
        + "\",\"pattern_id\":\""
        + id()
        + "\",\"pattern_name\":\"crud endpoint\",\"pattern_type\":\"code\","
        + "\"pattern_template\":{\"steps\":[{\"action\":\"write the test\"}]},"
        + stamped();
  }

  static String failurePattern(String correlationId) {
    return "{\"event_id\":\""
        + id()
        + "\",\"correlation_id\":\""
        + correlationId
        + "\",\"failure_id\":\""
        + id()
        + "\",\"failure_type\":\"test\",\"error_category\":\"assertion\","
        + "\"error_message\":\"expected 2\","
        + stamped();
  }

  /** The timestamp and metadata that close the agent events. */
  private static String stamped() {
    return "\"timestamp\":\"" + Instant.now() + "\",\"metadata\":{\"schema_version\":\"1.0\"}}";
  }
}
