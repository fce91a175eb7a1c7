package io.somastack.connect.it.outbox;

import static io.somastack.connect.it.outbox.OutboxItSupport.count;
import static io.somastack.connect.it.outbox.OutboxItSupport.header;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.ConnectHarness;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Rows with a small payload but headers or a key too large for the producer, under exactly-once.
 * Kafka would refuse such a record, which fails the transaction and the task whatever
 * errors.tolerance says, on the same row after every restart. The relay counts the key and headers
 * towards payload.max.bytes and dead-letters the row instead; the rows after it keep flowing.
 */
class OutboxOversizedRowIT {

  private static final String DB = "outbox_oversized_it";
  private static final String CONNECTOR = "outbox-oversized";
  private static final String TOPIC = "somastack.tools";
  private static final int PAYLOAD_MAX_BYTES = 20_000;

  /** Above payload.max.bytes, as the docs advise, but below the oversized rows. */
  private static final int MAX_REQUEST_SIZE = 50_000;

  private static final int OVERSIZED = 60_000;

  /** The good rows share one key, so one partition, so their order is checked end to end. */
  private static final String AGGREGATE = "aggregate-1";

  private static PostgresServer pg;
  private static ConnectHarness harness;
  private static String url;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.shared();
    url = OutboxItSupport.createDatabase(pg, DB);
    try (Connection c = pg.connect(DB);
        Statement s = c.createStatement()) {
      s.execute("ALTER TABLE outbox ADD COLUMN key text");
    }
    harness = ConnectHarness.builder("outbox-oversized").exactlyOnceSource().start();
  }

  @AfterAll
  static void stop() {
    if (harness != null) {
      harness.close();
    }
  }

  @Test
  void largeHeadersOrKeyAreDeadLetteredAndLaterRowsArriveOnceInOrder() throws Exception {
    Map<String, String> config = new HashMap<>(OutboxItSupport.connectorConfig(pg, url));
    config.put("column.key", "key");
    config.put("payload.max.bytes", String.valueOf(PAYLOAD_MAX_BYTES));
    // the worker's default policy (All) lets the connector lower its producer's limit
    config.put("producer.override.max.request.size", String.valueOf(MAX_REQUEST_SIZE));
    harness.deploy(CONNECTOR, config, 1);

    List<String> good = new ArrayList<>();
    try (Connection c = pg.connect(DB)) {
      insertGood(c, good, 0, 10);
      // a tiny payload, headers far over payload.max.bytes and the producer's max.request.size
      insert(c, "bad-headers", AGGREGATE, "{\"trace\": \"" + "h".repeat(OVERSIZED) + "\"}");
      insertGood(c, good, 10, 20);
      insert(c, "bad-key", "k".repeat(OVERSIZED), null);
      insertGood(c, good, 20, 40);
    }

    await("both oversized rows dead-lettered and every row relayed")
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () ->
                taskNotFailed()
                    && count(pg, DB, "SELECT count(*) FROM dlq") == 2
                    && count(pg, DB, "SELECT count(*) FROM outbox") == 0);

    List<String> reasons =
        OutboxItSupport.strings(
            pg, DB, "SELECT (event->>'dedupe_key') || '|' || error FROM dlq ORDER BY id");
    assertEquals(2, reasons.size(), reasons.toString());
    String byteCounts =
        "\\|payload, key and headers as stored \\(their text, the headers' as JSON\\) are \\d+"
            + " bytes, over payload.max.bytes="
            + PAYLOAD_MAX_BYTES;
    // byte counts only: neither the headers nor the key are quoted
    assertTrue(reasons.get(0).matches("bad-headers" + byteCounts), reasons.get(0));
    assertTrue(reasons.get(1).matches("bad-key" + byteCounts), reasons.get(1));
    // the whole row is kept in the dead-letter table, for a person to look at
    assertEquals(
        OVERSIZED,
        count(
            pg,
            DB,
            "SELECT length(event->'headers'->>'trace') FROM dlq"
                + " WHERE event->>'dedupe_key' = 'bad-headers'"));

    List<ConsumerRecord<String, String>> records =
        OutboxItSupport.readCommitted(harness.bootstrapServers(), List.of(TOPIC));
    // exactly once, in insert order (one key, one partition)
    assertEquals(good, records.stream().map(r -> header(r, "id")).toList());
    assertTrue(records.stream().allMatch(r -> AGGREGATE.equals(r.key())));

    ConnectorStateInfo status = harness.status(CONNECTOR);
    assertEquals("RUNNING", status.connector().state());
    assertEquals(1, status.tasks().size());
    assertEquals("RUNNING", status.tasks().get(0).state(), status.tasks().get(0).trace());
  }

  /** Stops the wait at once when the task failed (a failed task is never restarted here). */
  private static boolean taskNotFailed() {
    for (ConnectorStateInfo.TaskState task : harness.status(CONNECTOR).tasks()) {
      if ("FAILED".equals(task.state())) {
        throw new AssertionError("task " + task.id() + " FAILED:\n" + task.trace());
      }
    }
    return true;
  }

  private static void insertGood(Connection c, List<String> good, int from, int to)
      throws Exception {
    for (String dedupe : IntStream.range(from, to).mapToObj(i -> "good-" + i).toList()) {
      insert(c, dedupe, AGGREGATE, "{\"trace\": \"t-" + dedupe + "\"}");
      good.add(dedupe);
    }
  }

  private static void insert(Connection c, String dedupeKey, String key, String headers)
      throws Exception {
    try (PreparedStatement s =
        c.prepareStatement(
            "INSERT INTO outbox(topic, payload, dedupe_key, key, headers)"
                + " VALUES (?, ?::jsonb, ?, ?, ?::jsonb)")) {
      s.setString(1, TOPIC);
      s.setString(2, "{\"n\": 1}");
      s.setString(3, dedupeKey);
      s.setString(4, key);
      s.setString(5, headers);
      s.executeUpdate();
    }
  }
}
