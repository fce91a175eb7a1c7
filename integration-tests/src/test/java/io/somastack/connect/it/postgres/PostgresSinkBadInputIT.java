package io.somastack.connect.it.postgres;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.ConnectHarness;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.connect.converters.ByteArrayConverter;
import org.apache.kafka.connect.storage.StringConverter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A mixed stream of good and bad records: every good one lands, every bad one is in the dead-letter
 * topic with its reason, and a dead_letter connector on that topic lands them in the dlq table with
 * the reason and the original position.
 */
class PostgresSinkBadInputIT {

  private static ConnectHarness connect;
  private static PostgresSinkFixture db;

  @BeforeAll
  static void start() {
    db = new PostgresSinkFixture("sink_bad_input");
    connect = ConnectHarness.builder("bad-input").start();
  }

  @AfterAll
  static void stop() {
    if (connect != null) {
      connect.close();
    }
  }

  @Test
  void goodRecordsLandAndEveryBadOneIsDeadLetteredWithItsReason() throws Exception {
    connect.createTopic("memory.wal", 1);
    connect.createTopic("memory.wal.dlq", 1);
    connect.deploy(
        "replica", replicaConfig("memory.wal", "memory_replica", StringConverter.class), 1);
    connect.deploy("dlq-archive", deadLetterArchive(), 1);

    Map<String, String> bad = badEvents();
    int good = 0;
    for (int i = 0; i < 300; i++) {
      connect.send(
          "memory.wal", "g" + i, PostgresSinkFixture.memoryEvent("good-" + i, "ns", "m" + i, i));
      good++;
      if (i == 150) {
        bad.forEach((key, value) -> connect.send("memory.wal", key, value));
      }
    }
    connect.flush();
    int goodCount = good;

    await().atMost(Duration.ofSeconds(60)).until(() -> db.countRows("memory_replica") == goodCount);
    assertEquals(
        0, db.count("SELECT count(*) FROM memory_replica WHERE event_id NOT LIKE 'good-%'"));

    List<ConsumerRecord<String, String>> dead =
        connect.consume(bad.size(), Duration.ofSeconds(30), "memory.wal.dlq");
    assertEquals(bad.size(), dead.size());
    Map<String, String> reasons = new HashMap<>();
    Map<String, Long> timestamps = new HashMap<>();
    for (ConsumerRecord<String, String> record : dead) {
      reasons.put(record.key(), header(record, "__connect.errors.exception.message"));
      timestamps.put(record.key(), record.timestamp());
      assertEquals("memory.wal", header(record, "__connect.errors.topic"));
      assertTrue(header(record, "__connect.errors.offset").matches("\\d+"));
    }
    assertEquals(bad.keySet(), reasons.keySet());
    assertReasons(reasons);

    // the dead-letter archive lands them all, with reason and origin
    await().atMost(Duration.ofSeconds(60)).until(() -> db.countRows("dlq") == bad.size());
    try (Connection c = db.server.connect(db.database);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT topic, error, source_offset, event FROM dlq WHERE error LIKE '%event_id%missing%'")) {
      assertTrue(rs.next());
      assertEquals("memory.wal", rs.getString(1));
      assertTrue(rs.getLong(3) >= 150);
      assertTrue(rs.getString(4).contains("\"namespace\""));
    }
    assertEquals(
        1, db.count("SELECT count(*) FROM dlq WHERE event = to_jsonb('this is not json'::text)"));
    // each row keeps the failed record's key and timestamp, which a replay needs
    Map<String, Long> landed = new HashMap<>();
    try (Connection c = db.server.connect(db.database);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT event_key, event_key_format,"
                    + " (extract(epoch FROM event_timestamp) * 1000)::bigint FROM dlq")) {
      while (rs.next()) {
        assertEquals("text", rs.getString(2), rs.getString(1));
        landed.put(rs.getString(1), rs.getLong(3));
      }
    }
    assertEquals(timestamps, landed);
  }

  @Test
  void recordsDeadLetteredBeforePutAreNotDeadLetteredAgainAfterARestart() throws Exception {
    connect.createTopic("memory.converted", 1);
    Map<String, String> config =
        db.sinkConfig("memory.converted", "append", "memory.converted.dlq");
    config.put("table.name.format", "memory_converted");
    config.put("tasks.max", "1");
    connect.deploy("converted", config, 1);
    connect.send("memory.converted", "g1", PostgresSinkFixture.memoryEvent("c-1", "ns", "m1", 1));
    connect.send("memory.converted", "bad", "{this is not json"); // fails in JsonConverter
    connect.flush();
    await().atMost(Duration.ofSeconds(60)).until(() -> db.countRows("memory_converted") == 1);
    assertEquals(1, connect.consume(1, Duration.ofSeconds(30), "memory.converted.dlq").size());
    // its position reaches the offsets table although put() never saw it
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                db.count(
                        "SELECT coalesce(max(next_offset), 0) FROM soma_connect_offsets WHERE connector = 'converted'")
                    == 2);

    connect.connect().restartConnectorAndTasks("converted", false, true, false);
    connect.awaitRunning("converted", 1);
    connect.send("memory.converted", "g2", PostgresSinkFixture.memoryEvent("c-2", "ns", "m2", 2));
    connect.flush();
    await().atMost(Duration.ofSeconds(60)).until(() -> db.countRows("memory_converted") == 2);
    // had the restarted task read the bad record again, it would have dead-lettered it again
    assertEquals(1, connect.consume(2, Duration.ofSeconds(5), "memory.converted.dlq").size());
  }

  /**
   * The same mixed stream read with ByteArrayConverter, whose JSON goes to COPY as the bytes it
   * came in (never decoded in Java): the same records land, the same ones are dead-lettered with
   * the same reasons, and bytes that are not UTF-8 are dead-lettered too.
   */
  @Test
  void jsonAsBytesLandsAndIsDeadLetteredLikeJsonAsText() throws Exception {
    connect.createTopic("memory.raw", 1);
    connect.createTopic("memory.raw.dlq", 1);
    connect.deploy("raw", replicaConfig("memory.raw", "memory_raw", ByteArrayConverter.class), 1);
    Map<String, String> bad = badEvents();
    for (int i = 0; i < 300; i++) {
      connect.send(
          "memory.raw", "g" + i, PostgresSinkFixture.memoryEvent("raw-" + i, "ns", "m" + i, i));
      if (i == 150) {
        bad.forEach((key, value) -> connect.send("memory.raw", key, value));
      }
    }
    connect.flush();
    byte[] notUtf8 = "{\"event_id\":\"u8\",\"text\":\"a ? b\"}".getBytes(StandardCharsets.UTF_8);
    notUtf8[notUtf8.length - 5] = (byte) 0xff; // the '?': a byte no UTF-8 text holds
    // an overlong "/" (C0 AF): Jackson alone would read it as "/", PostgreSQL refuses it
    byte[] overlong = "{\"event_id\":\"o??\"}".getBytes(StandardCharsets.UTF_8);
    overlong[overlong.length - 4] = (byte) 0xC0;
    overlong[overlong.length - 3] = (byte) 0xAF;
    try (KafkaProducer<byte[], byte[]> producer =
        connect.connect().kafka().createProducer(Map.of())) {
      producer.send(new ProducerRecord<>("memory.raw", utf8("b-not-utf8"), notUtf8)).get();
      producer.send(new ProducerRecord<>("memory.raw", utf8("b-overlong"), overlong)).get();
    }

    await().atMost(Duration.ofSeconds(60)).until(() -> db.countRows("memory_raw") == 300);
    assertEquals(0, db.count("SELECT count(*) FROM memory_raw WHERE event_id NOT LIKE 'raw-%'"));
    // stored exactly as the text path stores it: the event's own JSON, as jsonb
    assertEquals(
        1,
        db.count(
            "SELECT count(*) FROM memory_raw WHERE event_id = 'raw-7' AND payload->>'id' = 'm7'"));

    List<ConsumerRecord<String, String>> dead =
        connect.consume(bad.size() + 2, Duration.ofSeconds(30), "memory.raw.dlq");
    Map<String, String> reasons = new HashMap<>();
    for (ConsumerRecord<String, String> record : dead) {
      reasons.put(record.key(), header(record, "__connect.errors.exception.message"));
    }
    assertEquals(bad.size() + 2, reasons.size(), reasons.keySet().toString());
    assertReasons(reasons);
    assertTrue(reasons.get("b-not-utf8").contains("not valid UTF-8"), reasons.get("b-not-utf8"));
    assertTrue(reasons.get("b-overlong").contains("not valid UTF-8"), reasons.get("b-overlong"));
  }

  /**
   * Audit mode asks PostgreSQL for every payload's jsonb text before it writes (the hash chain
   * covers that text): a payload only the database refuses (a lone surrogate escape, which the JSON
   * parser takes) is dead-lettered at that step, and the rest land, chained and verifiable.
   */
  @Test
  void auditModeDeadLettersAPayloadOnlyTheDatabaseRefuses() throws Exception {
    connect.createTopic("audit.mixed", 1);
    connect.createTopic("audit.mixed.dlq", 1);
    Map<String, String> config = db.sinkConfig("audit.mixed", "audit", "audit.mixed.dlq");
    config.put("table.name.format", "audit_mixed");
    config.put("value.converter", StringConverter.class.getName());
    connect.deploy("audit-mixed", config, 1);
    for (int i = 0; i < 100; i++) {
      connect.send("audit.mixed", "g" + i, auditEvent("a-" + i, "fine"));
      if (i == 50) {
        connect.send("audit.mixed", "b-lone-surrogate", auditEvent("lone", "\\ud800"));
        connect.send("audit.mixed", "b-not-json", "{\"event_id\":");
      }
    }
    connect.flush();

    await().atMost(Duration.ofSeconds(60)).until(() -> db.countRows("audit_mixed") == 100);
    assertEquals(0, db.count("SELECT count(*) FROM audit_mixed WHERE event_id NOT LIKE 'a-%'"));
    Map<String, String> reasons = new HashMap<>();
    for (ConsumerRecord<String, String> record :
        connect.consume(2, Duration.ofSeconds(30), "audit.mixed.dlq")) {
      reasons.put(record.key(), header(record, "__connect.errors.exception.message"));
    }
    assertTrue(reasons.get("b-not-json").contains("not valid JSON"), reasons.get("b-not-json"));
    String lone = reasons.get("b-lone-surrogate");
    assertTrue(lone.contains("22P02") || lone.contains("22P05"), lone);
    assertEquals(0, db.count("SELECT count(*) FROM soma_audit_verify('audit_mixed')"));
  }

  private static String auditEvent(String eventId, String text) {
    return "{\"event_id\":\""
        + eventId
        + "\",\"timestamp\":\""
        + Instant.now()
        + "\",\"action\":\"tool.invoke\",\"text\":\""
        + text
        + "\"}";
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /** A table with a constraint the sink cannot check in Java: the database rejects one row. */
  private Map<String, String> replicaConfig(String topic, String table, Class<?> valueConverter)
      throws Exception {
    db.execute(
        "CREATE TABLE "
            + table
            + " (event_id text NOT NULL UNIQUE, payload jsonb NOT NULL,"
            + " kafka_topic text NOT NULL, kafka_partition integer NOT NULL, kafka_offset bigint NOT NULL,"
            + " version bigint CHECK (version >= 0), ingested_at timestamptz NOT NULL DEFAULT now())");
    Map<String, String> config = db.sinkConfig(topic, "append", topic + ".dlq");
    config.put("table.name.format", table);
    config.put("columns", "version:bigint:version");
    config.put("record.max.bytes", "2000");
    config.put("value.converter", valueConverter.getName());
    return config;
  }

  /** One of every kind of bad record, by key. */
  private static Map<String, String> badEvents() {
    Map<String, String> bad = new HashMap<>();
    bad.put("b-not-json", "this is not json");
    bad.put("b-no-id", "{\"id\":\"m1\",\"namespace\":\"ns\",\"version\":1}");
    bad.put("b-nul", "{\"event_id\":\"nul\",\"text\":\"a \\u0000 b\",\"version\":1}");
    bad.put("b-wrong-type", "{\"event_id\":\"wt\",\"version\":\"seven\"}");
    bad.put("b-array", "[1,2,3]");
    bad.put("b-too-big", "{\"event_id\":\"big\",\"text\":\"" + "x".repeat(3000) + "\"}");
    bad.put("b-check", "{\"event_id\":\"neg\",\"version\":-1}");
    return bad;
  }

  private static void assertReasons(Map<String, String> reasons) {
    assertTrue(reasons.get("b-not-json").contains("not valid JSON"), reasons.get("b-not-json"));
    assertTrue(reasons.get("b-no-id").contains("'event_id' is missing"), reasons.get("b-no-id"));
    assertTrue(reasons.get("b-nul").contains("\\u0000"), reasons.get("b-nul"));
    assertTrue(reasons.get("b-wrong-type").contains("'version'"), reasons.get("b-wrong-type"));
    assertTrue(reasons.get("b-array").contains("not an object"), reasons.get("b-array"));
    assertTrue(reasons.get("b-too-big").contains("record.max.bytes"), reasons.get("b-too-big"));
    assertTrue(reasons.get("b-check").contains("23514"), reasons.get("b-check"));
  }

  private Map<String, String> deadLetterArchive() {
    Map<String, String> config = db.sinkConfig("memory.wal.dlq", "dead_letter", "unused.dlq");
    config.put("table.name.format", "dlq");
    config.put("value.converter", "org.apache.kafka.connect.converters.ByteArrayConverter");
    config.put("errors.tolerance", "none");
    config.remove("errors.deadletterqueue.topic.name");
    config.remove("errors.deadletterqueue.topic.replication.factor");
    config.remove("errors.deadletterqueue.context.headers.enable");
    return config;
  }

  private static String header(ConsumerRecord<?, ?> record, String name) {
    Header header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }
}
