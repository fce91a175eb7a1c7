package io.somastack.connect.it.postgres;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.testing.connect.ConnectHarness;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Upsert mode: the latest state per key, tombstones, stale writes refused, Struct input. */
class PostgresSinkUpsertIT {

  private static ConnectHarness connect;
  private static PostgresSinkFixture db;

  @BeforeAll
  static void start() {
    db = new PostgresSinkFixture("sink_upsert");
    connect = ConnectHarness.builder("upsert").start();
  }

  @AfterAll
  static void stop() {
    if (connect != null) {
      connect.close();
    }
  }

  @Test
  void keepsTheLatestStatePerKeyAndDeletesOnTombstones() throws Exception {
    connect.createTopic("memory.events", 3);
    Map<String, String> config = db.sinkConfig("memory.events", "upsert", "memory.dlq");
    config.put("table.name.format", "memory_kv");
    config.put("key.fields", "namespace,id");
    connect.deploy("kv", config, 2);

    // 200 memories, each written 5 times, in order, on the partition of its key
    for (int version = 1; version <= 5; version++) {
      for (int m = 0; m < 200; m++) {
        String key = "{\"namespace\":\"ns\",\"id\":\"m" + m + "\"}";
        connect.send(
            "memory.events",
            key,
            PostgresSinkFixture.memoryEvent("e" + m + "-" + version, "ns", "m" + m, version));
      }
    }
    // tombstones for the first 20 memories, keyed like the events
    for (int m = 0; m < 20; m++) {
      connect.send("memory.events", "{\"namespace\":\"ns\",\"id\":\"m" + m + "\"}", null);
    }
    connect.flush();

    awaitDone("kv", 200 * 5 + 20);

    // m20..m199 hold their last version; m0..m19 were deleted
    Map<String, String> expected = new TreeMap<>();
    for (int m = 20; m < 200; m++) {
      expected.put("m" + m, "5");
    }
    assertEquals(expected, db.pairs("SELECT id, payload->>'version' FROM memory_kv"));
  }

  @Test
  void aReplayOfOlderVersionsNeverOverwritesNewerData() throws Exception {
    connect.createTopic("memory.versions", 3);
    Map<String, String> config = db.sinkConfig("memory.versions", "upsert", "memory.dlq");
    config.put("table.name.format", "memory_versions");
    config.put("key.fields", "namespace,id");
    config.put("version.field", "version");
    connect.deploy("versions", config, 2);

    // version 9 first, then older versions 1..8 arrive later (a replay from another system)
    for (int m = 0; m < 50; m++) {
      connect.send(
          "memory.versions",
          "m" + m,
          PostgresSinkFixture.memoryEvent("e" + m + "-9", "ns", "m" + m, 9));
    }
    connect.flush();
    awaitDone("versions", 50);
    for (int version = 1; version <= 8; version++) {
      for (int m = 0; m < 50; m++) {
        connect.send(
            "memory.versions",
            "m" + m,
            PostgresSinkFixture.memoryEvent("e" + m + "-" + version, "ns", "m" + m, version));
      }
    }
    // and one genuinely newer version for m0, after the replay
    connect.send("memory.versions", "m0", PostgresSinkFixture.memoryEvent("e0-10", "ns", "m0", 10));
    connect.flush();
    awaitDone("versions", 50 + 8 * 50 + 1);

    // every replayed version refused, on every partition: the stored version and the payload
    Map<String, String> expected = new TreeMap<>();
    for (int m = 0; m < 50; m++) {
      expected.put("m" + m, m == 0 ? "10" : "9");
    }
    assertEquals(expected, db.pairs("SELECT id, event_version::text FROM memory_versions"));
    assertEquals(expected, db.pairs("SELECT id, payload->>'version' FROM memory_versions"));
  }

  /** Waits until the connector has written all {@code sent} records, not just some rows. */
  private static void awaitDone(String connector, long sent) {
    await(connector + " done with " + sent + " records")
        .atMost(Duration.ofSeconds(90))
        .until(() -> db.recordsDone(connector) == sent);
  }

  @Test
  void structValuesWithSchemasAreStoredAsJsonb() throws Exception {
    connect.createTopic("memory.structs", 1);
    Map<String, String> config = db.sinkConfig("memory.structs", "upsert", "memory.dlq");
    config.put("table.name.format", "memory_structs");
    config.put("key.fields", "id");
    config.put("value.converter.schemas.enable", "true");
    config.put("columns", "importance:double:importance");
    connect.deploy("structs", config, 1);

    String schema =
        "{\"type\":\"struct\",\"fields\":[{\"field\":\"id\",\"type\":\"string\"},"
            + "{\"field\":\"importance\",\"type\":\"double\"},"
            + "{\"field\":\"tags\",\"type\":\"array\",\"items\":{\"type\":\"string\"}}]}";
    for (int i = 0; i < 10; i++) {
      String payload = "{\"id\":\"s" + i + "\",\"importance\":0." + i + ",\"tags\":[\"a\",\"b\"]}";
      connect.send(
          "memory.structs", "s" + i, "{\"schema\":" + schema + ",\"payload\":" + payload + "}");
    }
    connect.flush();

    await().atMost(Duration.ofSeconds(60)).until(() -> db.countRows("memory_structs") == 10);
    assertEquals(
        10,
        db.count(
            "SELECT count(*) FROM memory_structs WHERE jsonb_array_length(payload->'tags') = 2"));
    assertEquals(
        1, db.count("SELECT count(*) FROM memory_structs WHERE importance = 0.3 AND id = 's3'"));
  }
}
