package io.somastack.connect.benchmarks.postgres;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Random;
import java.util.UUID;

/**
 * Deterministic, seed-like memory events of about 500 bytes (event i is the same in every run), in
 * the three shapes the peers read: schemaless JSON (ours), JsonConverter's schema envelope
 * (Debezium's JDBC sink needs a schema), and a COPY text line (the physical limit).
 */
final class MemoryEvents {

  static final int NAMESPACES = 40;
  static final int TENANTS = 12;

  private static final ObjectMapper JSON = new ObjectMapper();

  private static final String[] WORDS = {
    "user",
    "prefers",
    "dark",
    "mode",
    "and",
    "short",
    "answers",
    "meeting",
    "with",
    "the",
    "design",
    "team",
    "moved",
    "to",
    "thursday",
    "remember",
    "that",
    "project",
    "atlas",
    "ships",
    "in",
    "march",
    "budget",
    "approved",
    "for",
    "two",
    "more",
    "engineers",
    "allergic",
    "peanuts",
    "favourite",
    "editor",
    "is",
    "vim",
    "lives",
    "berlin",
    "timezone",
    "cet",
    "asked",
    "about",
    "invoice",
    "overdue",
    "since",
    "last",
    "week",
    "follow",
    "up",
    "on",
    "contract",
    "renewal"
  };

  /** The value schema Debezium's JDBC sink reads: flat (it refuses nested structs). */
  static final String VALUE_SCHEMA =
      "{\"type\":\"struct\",\"name\":\"memory.Event\",\"optional\":false,\"fields\":["
          + "{\"type\":\"string\",\"optional\":false,\"field\":\"event_id\"},"
          + "{\"type\":\"int64\",\"optional\":false,\"field\":\"version\"},"
          + "{\"type\":\"string\",\"optional\":false,\"field\":\"timestamp\"},"
          + "{\"type\":\"string\",\"optional\":false,\"field\":\"type\"},"
          + "{\"type\":\"string\",\"optional\":false,\"name\":\"io.debezium.data.Json\","
          + "\"field\":\"payload\"},"
          + "{\"type\":\"string\",\"optional\":false,\"name\":\"io.debezium.data.Json\","
          + "\"field\":\"metadata\"}]}";

  /**
   * The key schema: the upsert key (namespace, id) as a struct, for primary.key.mode=record_key.
   */
  static final String KEY_SCHEMA =
      "{\"type\":\"struct\",\"name\":\"memory.Key\",\"optional\":false,\"fields\":["
          + "{\"type\":\"string\",\"optional\":false,\"field\":\"namespace\"},"
          + "{\"type\":\"string\",\"optional\":false,\"field\":\"id\"}]}";

  private MemoryEvents() {}

  /** One event's parts; {@code sentAtMs} is 0 for pre-produced events. */
  record Event(
      String eventId,
      String id,
      String namespace,
      String timestamp,
      String payloadJson,
      String metadataJson) {

    /** The whole event as schemaless JSON: what our sink reads and stores as payload. */
    String json() {
      return "{\"event_id\":\""
          + eventId
          + "\",\"id\":\""
          + id
          + "\",\"namespace\":\""
          + namespace
          + "\",\"version\":1,\"timestamp\":\""
          + timestamp
          + "\",\"type\":\"memory.created\",\"payload\":"
          + payloadJson
          + ",\"metadata\":"
          + metadataJson
          + "}";
    }

    /** Our record key: the upsert key as text. */
    String plainKey() {
      return namespace + ":" + id;
    }

    /** JsonConverter envelope of the value, with its schema, for Debezium. */
    String schemaValue() {
      return "{\"schema\":"
          + VALUE_SCHEMA
          + ",\"payload\":{\"event_id\":\""
          + eventId
          + "\",\"version\":1,\"timestamp\":\""
          + timestamp
          + "\",\"type\":\"memory.created\",\"payload\":"
          + quote(payloadJson)
          + ",\"metadata\":"
          + quote(metadataJson)
          + "}}";
    }

    String schemaKey() {
      return "{\"schema\":"
          + KEY_SCHEMA
          + ",\"payload\":{\"namespace\":\""
          + namespace
          + "\",\"id\":\""
          + id
          + "\"}}";
    }
  }

  /** Event number {@code n} (ids are unique per n; {@code idBase} separates phases). */
  static Event event(long n, long sentAtMs) {
    Random rnd = new Random(0x5eed_0000L + n);
    long msb = (rnd.nextLong() & 0xffffffffffff0fffL) | 0x0000000000004000L;
    long lsb = (rnd.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L;
    String eventId = new UUID(msb, lsb).toString();
    String namespace = "agent-" + (n % NAMESPACES);
    String id = "mem-" + n;
    String timestamp = java.time.Instant.ofEpochMilli(1_795_000_000_000L + n * 37).toString();
    StringBuilder text = new StringBuilder(320);
    while (text.length() < 200) {
      if (text.length() > 0) {
        text.append(' ');
      }
      text.append(WORDS[rnd.nextInt(WORDS.length)]);
    }
    String payload =
        "{\"text\":\""
            + text
            + "\",\"importance\":0."
            + (10 + rnd.nextInt(89))
            + ",\"tags\":[\""
            + WORDS[rnd.nextInt(WORDS.length)]
            + "\",\""
            + WORDS[rnd.nextInt(WORDS.length)]
            + "\"]}";
    String metadata =
        "{\"tenant_id\":\"tenant-"
            + (n % TENANTS)
            + "\",\"schema_version\":\"1.0\",\"source\":\"seed\",\"sent_at_ms\":"
            + sentAtMs
            + "}";
    return new Event(eventId, id, namespace, timestamp, payload, metadata);
  }

  static String quote(String text) {
    try {
      return JSON.writeValueAsString(text);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Escapes a value for COPY's text format. */
  static void copyField(StringBuilder out, String value) {
    for (int i = 0; i < value.length(); i++) {
      char ch = value.charAt(i);
      switch (ch) {
        case '\\':
          out.append("\\\\");
          break;
        case '\t':
          out.append("\\t");
          break;
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        default:
          out.append(ch);
      }
    }
  }
}
