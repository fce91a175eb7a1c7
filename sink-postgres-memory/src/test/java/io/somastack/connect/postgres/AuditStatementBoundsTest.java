package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * An audit put is linked (its payloads made canonical by PostgreSQL, then hashed) in statements cut
 * as the writer cuts its inserts, by batch.max.records and batch.max.bytes: one statement over the
 * whole put held every payload several times over at once (the texts sent, the driver's encoding of
 * them, the texts read back), so a put of large events ran out of memory whatever batch.max.bytes
 * said. Measured on the wire, where no driver detail hides a statement's size.
 */
class AuditStatementBoundsTest {

  private static final TopicPartition ONE = new TopicPartition("audited", 0);
  private static final TopicPartition TWO = new TopicPartition("audited", 1);

  /**
   * Each record's JSON is this long, so that three make a statement of MAX_BYTES (a fourth not).
   */
  private static final int EVENT_BYTES = 20_000;

  private static final int MAX_BYTES = 65_536;

  /** Room for what a statement carries besides JSON: ids, positions, hashes, the SQL. */
  private static final int SLACK = 16_384;

  @Test
  void noStatementOrAnswerOfAnAuditPutGrowsBeyondBatchMaxBytes() throws Exception {
    String database = "audit_statement_bounds";
    metered(
        database,
        (task, meter) -> {
          task.put(records(ONE, 0, 1)); // creates the table and its partition
          meter.reset();
          task.put(records(ONE, 1, 30)); // 600 kB: ten statements' worth

          long largest = Collections.max(meter.statements());
          long largestReply = Collections.max(meter.replies());
          assertTrue(largest <= MAX_BYTES + SLACK, "a statement of " + largest + " bytes");
          assertTrue(largestReply <= MAX_BYTES + SLACK, "an answer of " + largestReply + " bytes");
        },
        "batch.max.bytes",
        String.valueOf(MAX_BYTES));
    assertEquals(31, LocalTasks.count(database, "SELECT count(*) FROM audited"));
    assertEquals(List.of(), problems(database));
  }

  /**
   * Cutting costs a round trip per statement and no more: each chunk of the put is linked in one
   * and written in one, the rest of the batch (offsets, chain locks and heads, commit) as before.
   */
  @Test
  void eachChunkOfAnAuditPutCostsTwoRoundTrips() throws Exception {
    String database = "audit_chunk_round_trips";
    metered(
        database,
        (task, meter) -> {
          task.put(records(ONE, 0, 1));
          meter.reset();
          task.put(records(ONE, 1, 3)); // one chunk
          int oneChunk = meter.statements().size();
          meter.reset();
          task.put(records(ONE, 4, 30)); // ten chunks
          int tenChunks = meter.statements().size();

          assertEquals(oneChunk + 2 * 9, tenChunks, "round trips of one chunk: " + oneChunk);
        },
        "batch.max.bytes",
        String.valueOf(MAX_BYTES));
    assertEquals(List.of(), problems(database));
  }

  /**
   * batch.max.bytes takes any long: at the largest, twice it (the bound of a reply of canonical
   * texts) overflowed to -2, and every reply then carried one row, a round trip per row of the put.
   */
  @Test
  void theLargestBatchMaxBytesCostsNoMoreRoundTripsThanTheDefault() throws Exception {
    int[] roundTrips = new int[2];
    String[][] options = {{}, {"batch.max.bytes", String.valueOf(Long.MAX_VALUE)}};
    for (int i = 0; i < 2; i++) {
      int run = i;
      metered(
          "audit_largest_batch_bytes_" + i,
          (task, meter) -> {
            task.put(records(ONE, 0, 1));
            meter.reset();
            task.put(records(ONE, 1, 30));
            roundTrips[run] = meter.statements().size();
          },
          options[i]);
    }
    assertEquals(roundTrips[0], roundTrips[1], "round trips, default then Long.MAX_VALUE");
  }

  /**
   * The chains are the same however the put is cut: rows of two partitions, interleaved, linked in
   * statements of a few rows each hash exactly as linked in one, and the check finds nothing.
   */
  @Test
  void chainsLinkedInChunksHashAsLinkedInOne() throws Exception {
    List<SinkRecord> records = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      records.addAll(records(i % 3 == 0 ? TWO : ONE, i, 1));
    }
    String whole = "audit_chunks_whole";
    String cut = "audit_chunks_cut";
    write(SERVER.createDatabase(whole), records, "batch.max.bytes", "16777216");
    write(
        SERVER.createDatabase(cut),
        records,
        "batch.max.bytes",
        String.valueOf(MAX_BYTES),
        "batch.max.records",
        "2");

    assertEquals(20, LocalTasks.count(cut, "SELECT count(*) FROM audited"));
    assertEquals(hashes(whole), hashes(cut));
    assertEquals(List.of(), problems(whole));
    assertEquals(List.of(), problems(cut));
  }

  /**
   * A payload only jsonb refuses (an escaped lone surrogate) is found in whichever statement holds
   * it and dead-lettered; the rest of the put, in its other statements and around it in its own, is
   * linked and written, and verifies.
   */
  @Test
  void aPayloadJsonbRefusesIsDeadLetteredFromItsStatement() throws Exception {
    String database = "audit_chunks_refused";
    HandRunTaskContext context = new HandRunTaskContext(ONE, TWO).deadLetterQueue(true);
    List<SinkRecord> records = new ArrayList<>(records(ONE, 0, 7));
    byte[] refused =
        "{\"event_id\":\"bad\",\"timestamp\":\"2026-12-01T00:00:00Z\",\"t\":\"\\ud800\"}"
            .getBytes(StandardCharsets.UTF_8);
    records.set(4, new SinkRecord(ONE.topic(), ONE.partition(), null, null, null, refused, 4));
    PostgresMemorySinkTask task =
        LocalTasks.started(
            SERVER.createDatabase(database),
            context,
            "write.mode",
            "audit",
            "table.name.format",
            "audited",
            "batch.max.bytes",
            String.valueOf(MAX_BYTES));
    try {
      task.put(records);
    } finally {
      task.stop();
    }

    assertEquals(1, context.deadLettered().size());
    assertEquals(4, context.deadLettered().get(0).getKey().kafkaOffset());
    assertEquals(6, LocalTasks.count(database, "SELECT count(*) FROM audited"));
    assertEquals(List.of(), problems(database));
  }

  /**
   * PostgreSQL writes a jsonb number out in full: the 9 bytes {@code 1e131071,} print as 131,075.
   * An event of a few kB of them, accepted by its size, made a reply of many MB (one byte[] in the
   * driver; a few hundred kB of them ran the worker out of memory, again at each redelivery). Its
   * text is not sent: the event is dead-lettered, saying why, and the rest of the put written.
   */
  @Test
  void anEventWhoseCanonicalTextIsHugeIsDeadLetteredUnread() throws Exception {
    String database = "audit_canonical_bomb";
    int recordMax = 32_768;
    HandRunTaskContext context = new HandRunTaskContext(ONE, TWO).deadLetterQueue(true);
    try (WireMeter meter = WireMeter.before(SERVER.createDatabase(database))) {
      PostgresMemorySinkTask task =
          LocalTasks.started(
              meter.jdbcUrl(database),
              context,
              "write.mode",
              "audit",
              "table.name.format",
              "audited",
              "batch.max.bytes",
              String.valueOf(MAX_BYTES),
              "record.max.bytes",
              String.valueOf(recordMax));
      try {
        task.put(small(ONE, 0, 1)); // creates the table and its partition
        meter.reset();
        List<SinkRecord> records = new ArrayList<>(small(ONE, 1, 6));
        String numbers = String.join(",", Collections.nCopies(200, "1e131071"));
        byte[] bomb =
            ("{\"event_id\":\"bomb\",\"timestamp\":\"2026-12-01T00:00:00Z\",\"n\":["
                    + numbers
                    + "]}")
                .getBytes(StandardCharsets.UTF_8);
        records.set(2, new SinkRecord(ONE.topic(), ONE.partition(), null, null, null, bomb, 3));
        task.put(records);

        long largestReply = Collections.max(meter.replies());
        assertTrue(largestReply <= 4L * recordMax, "an answer of " + largestReply + " bytes");
      } finally {
        task.stop();
      }
    }
    assertEquals(1, context.deadLettered().size());
    assertEquals(3, context.deadLettered().get(0).getKey().kafkaOffset());
    String reason = context.deadLettered().get(0).getValue().getMessage();
    assertTrue(
        reason.startsWith("its payload's canonical JSON text is 26214")
            && reason.contains("over 2 x record.max.bytes=" + recordMax),
        reason);
    assertEquals(6, LocalTasks.count(database, "SELECT count(*) FROM audited"));
    assertEquals(List.of(), problems(database));
  }

  /**
   * Rows each printing far longer than they came, none too long itself, make a chunk's texts many
   * times batch.max.bytes: the server sends them over several replies of about twice
   * batch.max.bytes each, and the chain is the one an uncut put makes.
   */
  @Test
  void textsLongerThanTheyCameComeOverSeveralReplies() throws Exception {
    String numbers = String.join(",", Collections.nCopies(30, "1e150"));
    List<SinkRecord> records = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      byte[] bytes =
          ("{\"event_id\":\"w"
                  + i
                  + "\",\"timestamp\":\"2026-12-01T00:00:00Z\",\"n\":["
                  + numbers
                  + "]}")
              .getBytes(StandardCharsets.UTF_8);
      TopicPartition partition = i % 3 == 0 ? TWO : ONE;
      records.add(
          new SinkRecord(partition.topic(), partition.partition(), null, null, null, bytes, i));
    }
    String whole = "audit_long_texts_whole";
    String cut = "audit_long_texts_cut";
    write(SERVER.createDatabase(whole), records, "batch.max.bytes", "16777216");
    int batchBytes = 4096; // ~16 events a statement, each ~4.5 kB as printed: ~70 kB of text
    metered(
        cut,
        (task, meter) -> {
          task.put(records);
          long largestReply = Collections.max(meter.replies());
          assertTrue(largestReply <= 4L * batchBytes, "an answer of " + largestReply + " bytes");
          // and not every reply's texts at once: rows are hashed as their reply comes
          long held = task.auditTextBytesHeldMost();
          assertTrue(held > 0 && held <= 4L * batchBytes, held + " bytes of text held at once");
        },
        "batch.max.bytes",
        String.valueOf(batchBytes));
    assertEquals(hashes(whole), hashes(cut));
    assertEquals(40, LocalTasks.count(cut, "SELECT count(*) FROM audited"));
    assertEquals(List.of(), problems(whole));
  }

  /** {@code count} small records of a partition from offset {@code first} on. */
  private static List<SinkRecord> small(TopicPartition partition, int first, int count) {
    List<SinkRecord> records = new ArrayList<>();
    for (int i = first; i < first + count; i++) {
      byte[] bytes =
          ("{\"event_id\":\"s" + i + "\",\"timestamp\":\"2026-12-01T00:00:00Z\",\"n\":1e3}")
              .getBytes(StandardCharsets.UTF_8);
      records.add(
          new SinkRecord(partition.topic(), partition.partition(), null, null, null, bytes, i));
    }
    return records;
  }

  /**
   * The hashes themselves are those the sink made before its statements were cut: a chain already
   * in a table goes on, and rows linked before and after the change verify alike.
   */
  @Test
  void hashesAreThoseOfTheUncutChain() throws Exception {
    String database = "audit_chunks_known_hashes";
    List<SinkRecord> records = new ArrayList<>(records(ONE, 0, 2));
    records.addAll(records(TWO, 0, 1));
    write(
        SERVER.createDatabase(database),
        records,
        "batch.max.bytes",
        String.valueOf(MAX_BYTES),
        "batch.max.records",
        "1");

    assertEquals(
        List.of(
            "0/0 null " + FIRST,
            "0/1 " + FIRST + " cb4cbfeb3800cf657328845dc5c4b4b87510db19e1fc60a077dbbf90806a75b0",
            "1/0 null 33078e09cab60575b2c1a4d6e50e8aa3010ac2b492ec9fd687b805dfe7505e54"),
        hashes(database));
  }

  /** The hash of partition 0's first row, as the sink linked it before cutting (commit 21a2ff1). */
  private static final String FIRST =
      "18a9329fc2eae3e731c831763ec3117a9cdbef2eaab3442e7c8d1f57e9b1b02f";

  private static PostgresMemorySinkTask started(String url, String... options) {
    List<String> keyValues =
        new ArrayList<>(List.of("write.mode", "audit", "table.name.format", "audited"));
    keyValues.addAll(List.of(options));
    return LocalTasks.started(
        url, new HandRunTaskContext(ONE, TWO), keyValues.toArray(new String[0]));
  }

  /** What a test does with an audit task that writes through a meter. */
  private interface Metered {
    void run(PostgresMemorySinkTask task, WireMeter meter) throws Exception;
  }

  /** Runs {@code body} with an audit task writing to a new database through a meter; stops it. */
  private static void metered(String database, Metered body, String... options) throws Exception {
    try (WireMeter meter = WireMeter.before(SERVER.createDatabase(database))) {
      PostgresMemorySinkTask task = started(meter.jdbcUrl(database), options);
      try {
        body.run(task, meter);
      } finally {
        task.stop();
      }
    }
  }

  private static void write(String url, List<SinkRecord> records, String... options) {
    PostgresMemorySinkTask task = started(url, options);
    try {
      task.put(records);
    } finally {
      task.stop();
    }
  }

  /**
   * {@code count} records of a partition from offset {@code first} on, each EVENT_BYTES of UTF-8
   * (as ByteArrayConverter hands them over), with text that PostgreSQL prints otherwise than it
   * came: escapes, characters beyond ASCII, numbers spelled long, keys out of order.
   */
  private static List<SinkRecord> records(TopicPartition partition, int first, int count) {
    List<SinkRecord> records = new ArrayList<>();
    for (int i = first; i < first + count; i++) {
      String head =
          "{\"timestamp\":\"2026-12-01T00:00:00Z\",  \"event_id\":\"p"
              + partition.partition()
              + "-"
              + i
              + "\",\"n\":1.50e1,\"z\":[1, {\"b\":2,\"a\":\"\\u00e9\\n\"}],\"text\":\"é😀 ";
      byte[] headBytes = head.getBytes(StandardCharsets.UTF_8);
      String json = head + "a".repeat(EVENT_BYTES - headBytes.length - 2) + "\"}";
      byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
      records.add(
          new SinkRecord(partition.topic(), partition.partition(), null, null, null, bytes, i));
    }
    return records;
  }

  /** Each row's partition/offset, previous hash and hash, in chain order. */
  private static List<String> hashes(String database) throws SQLException {
    List<String> hashes = new ArrayList<>();
    try (Connection c = SERVER.connect(database);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT kafka_partition, kafka_offset, encode(prev_hash, 'hex'),"
                    + " encode(row_hash, 'hex') FROM audited ORDER BY 1, 2")) {
      while (rs.next()) {
        hashes.add(
            rs.getInt(1) + "/" + rs.getLong(2) + " " + rs.getString(3) + " " + rs.getString(4));
      }
    }
    return hashes;
  }

  private static List<String> problems(String database) throws SQLException {
    List<String> problems = new ArrayList<>();
    try (Connection c = SERVER.connect(database);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT * FROM soma_audit_verify('audited')")) {
      while (rs.next()) {
        problems.add(rs.getLong(3) + ": " + rs.getString(4));
      }
    }
    return problems;
  }
}
