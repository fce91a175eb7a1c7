package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.HandRunSourceContext.pollUntil;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A poll read up to poll.max.rows rows of a table whatever their size, all held in memory at once
 * (pgjdbc reads a whole result), and read a payload over payload.max.bytes in full before finding
 * it too large: a backlog of large rows, or a few huge ones meant to be dead-lettered, ran the
 * worker out of memory, and the restarted task met the same rows again.
 */
class PollMemoryBoundTest {

  private static final int ROW_PAD = 400_000;
  private final PostgresServer pg = PostgresServer.shared();
  private final String db = "outbox_membound_" + System.nanoTime();
  private PostgresOutboxSourceTask task;
  private HandRunSourceContext context;
  private OutboxReader reader;

  @BeforeEach
  void createDatabase() {
    pg.createDatabase(db);
  }

  @AfterEach
  void stop() {
    if (task != null) {
      task.stop();
    }
    if (reader != null) {
      reader.close();
    }
  }

  @Test
  void aPollReadsNoMoreThanPollMaxBytesAndEveryRowArrivesInOrder() throws Exception {
    task = started(Map.of("poll.max.bytes", "1000000"));
    assertNull(task.poll(), "creates the table");
    insertPadded(10, ROW_PAD);

    List<SourceRecord> relayed = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              List<SourceRecord> records = task.poll();
              if (records != null) {
                assertTrue(records.size() <= 2, records.size() + " rows of 400 kB in one poll");
                relayed.addAll(records);
              }
              return relayed.size() >= 10;
            });
    assertEquals(10, relayed.size());
    for (int i = 0; i < 10; i++) {
      assertTrue(
          relayed.get(i).value().toString().startsWith("{\"i\": " + (i + 1) + ","),
          "row " + (i + 1) + " in its place");
    }
  }

  @Test
  void aRowOverPollMaxBytesAloneIsStillRelayed() throws Exception {
    task = started(Map.of("poll.max.bytes", "1000"));
    assertNull(task.poll(), "creates the table");
    insertPadded(2, 5000);

    assertEquals(1, pollUntil(task, 1).size(), "one row a poll, each over poll.max.bytes");
    assertEquals(1, pollUntil(task, 1).size());
  }

  /**
   * A first row over poll.max.bytes comes alone, with no marker row after it: the batch must still
   * say that more may be read at once, not leave the task waiting as for rows held back.
   */
  @Test
  void aFirstRowOverPollMaxBytesStillMarksItsBatchFull() throws Exception {
    OutboxTable table = readerOf(readerConfig("poll.max.bytes", "1000"));
    insertPadded(2, 5000);

    OutboxReader.Batch batch = reader.fetchBatch(table, OutboxCursor.START, 100);
    assertEquals(1, batch.rows().size());
    assertTrue(batch.full(), "a batch cut by poll.max.bytes is full");
  }

  /**
   * A table read after others in a poll scanned as many rows as poll.max.bytes (twice that) would
   * hold, and the query wrote out and measured every one of them, however little of the budget was
   * left: with 20 backlogged tables of 100 KB rows, each poll wrote out 17 MB of text for each of
   * the 19 tables read after the first, only to find that not one row fitted. Now the scan is sized
   * by the bytes left and the table's last measured row (the row that did not fit counts too); a
   * table read first still scans for the whole budget.
   */
  @Test
  void aTableReadLaterInAPollScansOnlyWhatTheBudgetLeftCanHold() throws Exception {
    OutboxTable table = readerOf(readerConfig("poll.max.bytes", "1000000"));
    insertPadded(50, 10_000);

    OutboxReader.Batch unknown = reader.fetchBatch(table, OutboxCursor.START, 500, 5_000, false);
    assertTrue(unknown.rows().isEmpty() && unknown.full(), "10 kB rows do not fit in 5 kB");
    assertEquals(500, unknown.scanned(), "no row measured yet: the whole scan");

    OutboxReader.Batch again = reader.fetchBatch(table, OutboxCursor.START, 500, 5_000, false);
    assertTrue(again.rows().isEmpty() && again.full());
    assertEquals(1, again.scanned(), "a row of 10 kB measured: one row may fit in 5 kB");

    OutboxReader.Batch first = reader.fetchBatch(table, OutboxCursor.START, 500);
    assertEquals(50, first.rows().size(), "read first, the table scans for the whole budget");

    insertPadded(50, 10_000);
    OutboxCursor after = first.rows().get(49).cursor();
    OutboxReader.Batch later = reader.fetchBatch(table, after, 500, 25_000, false);
    assertEquals(2, later.rows().size());
    assertTrue(later.full());
    assertTrue(later.scanned() <= 5, later.scanned() + " rows scanned for 25 kB of 10 kB rows");
  }

  /** The reader hands over only the size of a payload over payload.max.bytes, never its bytes. */
  @Test
  void aPayloadOverPayloadMaxBytesIsNeverRead() throws Exception {
    OutboxSourceConfig config = readerConfig("payload.max.bytes", "1000");
    OutboxTable table = readerOf(config);
    insertPadded(1, 5000);
    insertPadded(1, 10);

    List<OutboxRow> rows = reader.fetch(table, OutboxCursor.START, 100);
    assertEquals(2, rows.size());
    assertTrue(rows.get(0).payload() == null, "the payload stayed in the database");
    assertEquals(payloadBytes(rows.get(0).id()), rows.get(0).payloadBytes());
    assertEquals(
        "payload is " + rows.get(0).payloadBytes() + " bytes, over payload.max.bytes=1000",
        ((RowMapper.Bad) new RowMapper(config).map(rows.get(0))).reason());
    assertTrue(new RowMapper(config).map(rows.get(1)) instanceof RowMapper.Good);
  }

  @Test
  void aPayloadOverPayloadMaxBytesIsDeadLetteredByItsSizeAndTheRelayGoesOn() throws Exception {
    task = started(Map.of("payload.max.bytes", "1000", "after.publish", "delete"));
    assertNull(task.poll(), "creates the table");
    insertPadded(1, 5000);
    long big = lastId();
    insertPadded(1, 10);
    long bigBytes = payloadBytes(big);

    List<SourceRecord> records = pollUntil(task, 1);
    assertEquals(1, records.size());
    assertTrue(records.get(0).value().toString().startsWith("{\"i\": 2,"));
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT error, octet_length((event->'payload')::text) FROM dlq")) {
      assertTrue(rs.next(), "dead-lettered");
      assertEquals(
          "payload is " + bigBytes + " bytes, over payload.max.bytes=1000", rs.getString(1));
      assertEquals(bigBytes, rs.getLong(2), "the payload kept whole in the dead-letter row");
    }
    assertEquals(1.0, context.metric("bad-rows-total"));
    assertEquals(1.0, context.metric("rows-relayed-total"));
  }

  @Test
  void aPayloadOverPayloadMaxBytesIsFlaggedByItsSize() throws Exception {
    task = started(Map.of("payload.max.bytes", "1000", "bad.row.action", "flag"));
    assertNull(task.poll(), "creates the table");
    insertPadded(1, 5000);
    long big = lastId();
    insertPadded(1, 10);

    assertEquals(1, pollUntil(task, 1).size());
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT error FROM outbox WHERE id = " + big)) {
      assertTrue(rs.next());
      assertEquals(
          "payload is " + payloadBytes(big) + " bytes, over payload.max.bytes=1000",
          rs.getString(1));
    }
  }

  /**
   * Headers (or a key) of a few MB with a small payload: only the payload was left in the database,
   * so the reader read the rest whole into the worker before the mapper found the row too large.
   * Now payload, key, headers and dedupe key of a row over payload.max.bytes as stored all stay
   * there, and the mapper says why by the sizes the database measured.
   */
  @Test
  void hugeHeadersOrKeyOfARowOverPayloadMaxBytesAreNeverRead() throws Exception {
    OutboxSourceConfig config = readerConfig("payload.max.bytes", "1000000");
    OutboxTable table = readerOf(config);
    execute(
        "INSERT INTO outbox(topic, payload, headers) VALUES ('t', '{\"i\": 1}',"
            + " jsonb_build_object('h', repeat('y', 3000000)))");
    execute(
        "INSERT INTO outbox(topic, payload, dedupe_key) VALUES ('t', '{\"i\": 2}',"
            + " repeat('k', 3000000))");
    execute("INSERT INTO outbox(topic, payload, dedupe_key) VALUES ('t', '{\"i\": 3}', 'k3')");

    List<OutboxRow> rows = reader.fetch(table, OutboxCursor.START, 100);
    assertEquals(3, rows.size());
    for (OutboxRow row : rows.subList(0, 2)) {
      assertNull(row.headers(), "the headers stayed in the database");
      assertNull(row.key(), "the key stayed in the database");
      assertNull(row.payload(), "the payload stayed in the database");
      assertNull(row.dedupeKey(), "the dedupe key (the key's column) stayed in the database");
      assertEquals(storedBytes(row.id()), row.storedBytes());
      assertEquals(
          "payload, key and headers as stored (their text, the headers' as JSON) are "
              + row.storedBytes()
              + " bytes, over payload.max.bytes=1000000",
          ((RowMapper.Bad) new RowMapper(config).map(row)).reason());
    }
    assertEquals("k3", rows.get(2).key(), "a row within the limit is read whole");
    assertTrue(new RowMapper(config).map(rows.get(2)) instanceof RowMapper.Good);
  }

  /**
   * The check in the query counts the headers as their JSON text, the record's check their names
   * and values (and the dedupe header): a row with many short headers is over the limit as stored
   * while its record would be under it. It is a bad row, and its reason says by which measure, so
   * that its number is not looked for among the names and values.
   */
  @Test
  void aRowOverTheLimitOnlyByItsHeadersJsonTextIsABadRowAsStored() throws Exception {
    OutboxSourceConfig config = readerConfig("payload.max.bytes", "1000");
    OutboxTable table = readerOf(config);
    execute(
        "INSERT INTO outbox(topic, payload, headers) SELECT 't', '{\"i\": 1}',"
            + " jsonb_object_agg('h' || g, 'v') FROM generate_series(1, 100) g");
    long id = lastId();
    long stored = storedBytes(id);
    long namesAndValues =
        query(
            "SELECT sum(octet_length(key) + octet_length(value)) FROM outbox, jsonb_each_text(headers)");
    assertTrue(stored > 1000, stored + " bytes as stored");
    assertTrue(namesAndValues < 500, namesAndValues + " bytes of names and values");

    OutboxRow row = reader.fetch(table, OutboxCursor.START, 100).get(0);
    assertNull(row.headers(), "over the limit as stored: not read");
    assertEquals(
        "payload, key and headers as stored (their text, the headers' as JSON) are "
            + stored
            + " bytes, over payload.max.bytes=1000",
        ((RowMapper.Bad) new RowMapper(config).map(row)).reason());
    OutboxRow whole =
        new OutboxRow(
            table,
            id,
            row.txid(),
            "t",
            "{\"i\": 1}",
            null,
            null,
            text("SELECT headers::text FROM outbox"),
            null);
    assertTrue(
        new RowMapper(config).map(whole) instanceof RowMapper.Good,
        "as a record (names and values, the dedupe header) it is within the limit");
  }

  @Test
  void aRowWithHugeHeadersIsDeadLetteredWholeByItsSize() throws Exception {
    task = started(Map.of("after.publish", "delete"));
    assertNull(task.poll(), "creates the table");
    execute(
        "INSERT INTO outbox(topic, payload, headers) VALUES ('t', '{\"i\": 1}',"
            + " jsonb_build_object('h', repeat('y', 3000000)))");
    long big = lastId();
    long bigBytes = storedBytes(big);
    long headerBytes = query("SELECT octet_length(headers::text) FROM outbox");
    insertPadded(1, 10);

    List<SourceRecord> records = pollUntil(task, 1);
    assertEquals(1, records.size());
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT error, octet_length((event->'headers')::text), (event->>'id')::bigint"
                    + " FROM dlq")) {
      assertTrue(rs.next(), "dead-lettered");
      assertEquals(
          "payload, key and headers as stored (their text, the headers' as JSON) are "
              + bigBytes
              + " bytes, over payload.max.bytes=1000000",
          rs.getString(1));
      assertEquals(headerBytes, rs.getLong(2), "the headers kept whole in the dead-letter row");
      assertEquals(big, rs.getLong(3));
    }
  }

  private void execute(String sql) throws SQLException {
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  /** The row's payload, key and headers as the database measures their text. */
  private long storedBytes(long id) throws SQLException {
    return query(
        "SELECT octet_length(payload::text) + coalesce(octet_length(dedupe_key), 0)"
            + " + coalesce(octet_length(headers::text), 0) FROM outbox WHERE id = "
            + id);
  }

  private PostgresOutboxSourceTask started(Map<String, String> extra) {
    Map<String, String> props = HandRunSourceContext.relayProps(pg.jdbcUrl(db), pg.user());
    props.putAll(extra);
    context = new HandRunSourceContext(props, Map.of());
    PostgresOutboxSourceTask started = new PostgresOutboxSourceTask();
    started.initialize(context);
    started.start(props);
    return started;
  }

  private OutboxSourceConfig readerConfig(String option, String value) {
    return new OutboxSourceConfig(
        Map.of(
            "connection.url",
            pg.jdbcUrl(db),
            "connection.user",
            pg.user(),
            "outbox.table.create",
            "true",
            option,
            value));
  }

  /** A reader of public.outbox (made if missing), closed after the test. */
  private OutboxTable readerOf(OutboxSourceConfig config) throws SQLException {
    reader = new OutboxReader(config, new NotifyListener(config.notifyChannel()));
    OutboxTable table = OutboxTable.parse("public.outbox");
    reader.connection(List.of(table));
    return table;
  }

  /** Rows numbered on from the last, with a payload padded to about {@code pad} bytes. */
  private void insertPadded(int rows, int pad) throws SQLException {
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement()) {
      for (int i = 0; i < rows; i++) {
        s.execute(
            "INSERT INTO outbox(topic, payload) SELECT 't', jsonb_build_object('i',"
                + " (SELECT count(*) + 1 FROM outbox), 'pad', repeat('x', "
                + pad
                + "))");
      }
    }
  }

  private long lastId() throws SQLException {
    return query("SELECT max(id) FROM outbox");
  }

  private long payloadBytes(long id) throws SQLException {
    return query("SELECT octet_length(payload::text) FROM outbox WHERE id = " + id);
  }

  private String text(String sql) throws SQLException {
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private long query(String sql) throws SQLException {
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
