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

  static String wal() {
    return "{\"event_id\":\""
        + id()
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
}
