package io.somastack.connect.it.outbox;

import static io.somastack.connect.it.outbox.OutboxItSupport.TOPICS;
import static io.somastack.connect.it.outbox.OutboxItSupport.count;
import static io.somastack.connect.it.outbox.OutboxItSupport.header;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.ConnectHarness;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bad rows go to the dlq table with their reason; the good rows around them still flow. */
class OutboxBadRowsIT {

  private static final String DB = "outbox_bad_rows_it";
  private static PostgresServer pg;
  private static ConnectHarness harness;
  private static String url;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.shared();
    url = OutboxItSupport.createDatabase(pg, DB);
    harness = ConnectHarness.builder("outbox-bad-rows").exactlyOnceSource().start();
  }

  @AfterAll
  static void stop() {
    if (harness != null) {
      harness.close();
    }
  }

  @Test
  void badRowsAreDeadLetteredAndGoodRowsFlow() throws Exception {
    Map<String, String> config = new HashMap<>(OutboxItSupport.connectorConfig(pg, url));
    config.put("topic.allow.regex", "somastack\\..*");
    config.put("payload.max.bytes", "200");
    harness.deploy("outbox-bad-rows", config, 1);

    try (Connection c = pg.connect(DB)) {
      insert(c, "somastack.tools", "{}", "good-1", null);
      insert(c, null, "{}", "bad-null-topic", null);
      insert(c, "somastack.tools", "{}", "good-2", "{\"trace\": \"abc\"}");
      insert(c, "bad topic!", "{}", "bad-illegal-topic", null);
      insert(c, "somastack.delegation", "{}", "good-3", null);
      insert(c, "other.topic", "{}", "bad-not-allowed", null);
      insert(c, "somastack.tools", "{\"big\": \"" + "x".repeat(300) + "\"}", "bad-too-big", null);
      insert(c, "somastack.events.audit", "{}", "good-4", null);
      insert(c, "somastack.tools", "{}", "bad-headers", "[1, 2]");
      insert(c, "somastack.tools", "{}", "good-5", null);
    }

    await("bad rows in the dlq")
        .atMost(Duration.ofSeconds(30))
        .until(() -> count(pg, DB, "SELECT count(*) FROM dlq") == 5);
    Map<String, String> reasons = new HashMap<>();
    for (String line :
        OutboxItSupport.strings(
            pg, DB, "SELECT (event->>'dedupe_key') || '|' || error FROM dlq ORDER BY id")) {
      String[] parts = line.split("\\|", 2);
      reasons.put(parts[0], parts[1]);
    }
    assertTrue(reasons.get("bad-null-topic").contains("topic is null"), reasons.toString());
    assertTrue(reasons.get("bad-illegal-topic").contains("not a legal Kafka topic"));
    assertTrue(reasons.get("bad-not-allowed").contains("topic.allow.regex"));
    assertTrue(reasons.get("bad-too-big").contains("payload.max.bytes=200"));
    assertTrue(reasons.get("bad-headers").contains("headers must be a JSON object"));
    // the whole row is kept, payload included
    assertEquals(
        1, count(pg, DB, "SELECT count(*) FROM dlq WHERE event->'payload'->>'big' IS NOT NULL"));

    // delete mode: a good row leaves the table once Kafka committed its record
    await("outbox empty")
        .atMost(Duration.ofSeconds(30))
        .until(() -> count(pg, DB, "SELECT count(*) FROM outbox") == 0);
    List<ConsumerRecord<String, String>> records =
        OutboxItSupport.readCommitted(harness.bootstrapServers(), TOPICS);
    assertEquals(
        List.of("good-1", "good-2", "good-3", "good-4", "good-5"),
        records.stream().map(r -> header(r, "id")).sorted().toList());
    ConsumerRecord<String, String> withHeaders =
        records.stream().filter(r -> "good-2".equals(r.key())).findFirst().orElseThrow();
    assertEquals("abc", header(withHeaders, "trace"));

    assertEquals("RUNNING", harness.status("outbox-bad-rows").tasks().get(0).state());
  }

  private static void insert(Connection c, String topic, String payload, String key, String headers)
      throws Exception {
    try (PreparedStatement s =
        c.prepareStatement(
            "INSERT INTO outbox(topic, payload, dedupe_key, headers) VALUES (?, ?::jsonb, ?,"
                + " ?::jsonb)")) {
      s.setString(1, topic);
      s.setString(2, payload);
      s.setString(3, key);
      s.setString(4, headers);
      s.executeUpdate();
    }
  }
}
