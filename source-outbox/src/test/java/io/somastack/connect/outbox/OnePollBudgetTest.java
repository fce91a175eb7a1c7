package io.somastack.connect.outbox;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * poll.max.bytes and poll.max.rows bound one poll of a task, over all the tables it relays. Each
 * table had a budget of its own: a task relaying 20 backlogged tables read 20 times poll.max.bytes
 * into the worker in one poll. With one budget, the tables take turns at going first, so a table
 * with a backlog that fills the budget alone does not hold the others back.
 */
class OnePollBudgetTest {

  private static final List<String> TABLES = List.of("public.a", "public.b", "public.c");

  @RegisterExtension final RelayTask relay = new RelayTask("outbox_pollbudget_");

  @Test
  void aPollReadsPollMaxBytesOverAllItsTablesAndEachTableTakesItsTurn() throws Exception {
    PostgresOutboxSourceTask task = started("poll.max.bytes", "1000000");
    for (String table : TABLES) {
      insertPadded(table, 6, 400_000); // two of a table's rows fill a poll's budget alone
    }

    List<List<SourceRecord>> polls = pollUntil(task, 18);
    for (List<SourceRecord> poll : polls) {
      long bytes = poll.stream().mapToLong(r -> utf8(r.value().toString())).sum();
      assertTrue(
          bytes <= 1_000_000 || poll.size() == 1,
          poll.size() + " rows of " + bytes + " bytes in one poll");
    }
    assertEachTableWithinTheFirstPolls(polls);
    assertInOrder(polls, 6);
    // every poll but the last ended at the bytes with rows left: the metric says which budget
    assertEquals(polls.size() - 1.0, relay.context().metric("polls-full-by-bytes-total"));
    assertEquals(0.0, relay.context().metric("polls-full-by-rows-total"));
  }

  @Test
  void aPollReadsPollMaxRowsOverAllItsTables() throws Exception {
    PostgresOutboxSourceTask task = started("poll.max.rows", "5");
    for (String table : TABLES) {
      insertPadded(table, 7, 10);
    }

    List<List<SourceRecord>> polls = pollUntil(task, 21);
    for (List<SourceRecord> poll : polls) {
      assertTrue(poll.size() <= 5, poll.size() + " rows in one poll");
    }
    assertEachTableWithinTheFirstPolls(polls);
    assertInOrder(polls, 7);
    assertEquals(4.0, relay.context().metric("polls-full-by-rows-total"), "21 rows, 5 a poll");
    assertEquals(0.0, relay.context().metric("polls-full-by-bytes-total"));
  }

  /** Each poll takes one row over the budget, the first table's; the tables take turns at it. */
  @Test
  void rowsEachOverPollMaxBytesComeOneAPollFromEachTableInTurn() throws Exception {
    PostgresOutboxSourceTask task = started("poll.max.bytes", "1000");
    for (String table : TABLES) {
      insertPadded(table, 2, 5000);
    }

    List<List<SourceRecord>> polls = pollUntil(task, 6);
    assertEquals(6, polls.size(), "one row a poll");
    assertEachTableWithinTheFirstPolls(polls);
    assertInOrder(polls, 2);
  }

  /**
   * A table's scan is limited by its last rows' sizes (twice what fits in poll.max.bytes): after
   * large rows, a poll of small ones ends at that limit with both budgets almost unused. It was
   * counted as full by bytes, pointing operators at raising poll.max.bytes; it counts as neither.
   */
  @Test
  void aPollEndedByTheScanLimitCountsAsFullByNeitherBudget() throws Exception {
    PostgresOutboxSourceTask task =
        startedAlone("poll.max.bytes", "100000", "poll.max.rows", "1000");
    insertPadded("public.a", 3, 40_000);
    List<List<SourceRecord>> large = pollUntil(task, 3);
    double byBytes = relay.context().metric("polls-full-by-bytes-total");
    assertEquals(large.size() - 1.0, byBytes, "the large rows' polls ended at the bytes");

    insertPadded("public.a", 100, 1);
    List<List<SourceRecord>> small = pollUntil(task, 100);
    assertTrue(small.size() > 1, "the first poll of small rows ended at its scan limit");
    assertEquals(byBytes, relay.context().metric("polls-full-by-bytes-total"));
    assertEquals(0.0, relay.context().metric("polls-full-by-rows-total"));
  }

  /**
   * A backlog of exactly twice poll.max.rows: the second poll reads its last rows, and leaves none.
   * A batch that read as many rows as it asked for was taken as full, so that poll counted too.
   */
  @Test
  void aPollThatReadsTheLastPollMaxRowsRowsIsNotFull() throws Exception {
    PostgresOutboxSourceTask task = startedAlone("poll.max.rows", "5");
    insertPadded("public.a", 10, 1);

    List<List<SourceRecord>> polls = pollUntil(task, 10);
    assertEquals(List.of(5, 5), polls.stream().map(List::size).toList());
    assertEquals(1.0, relay.context().metric("polls-full-by-rows-total"), "rows left after one");
    assertEquals(0.0, relay.context().metric("polls-full-by-bytes-total"));
  }

  /**
   * Each poll drains one table with exactly poll.max.rows, leaving the others unread: it is full
   * while an unread table has rows, and not once they have none (the last poll), though it left
   * tables unread.
   */
  @Test
  void aPollLeavingOnlyEmptyTablesUnreadIsNotFull() throws Exception {
    PostgresOutboxSourceTask task = started("poll.max.rows", "5");
    for (String table : TABLES) {
      insertPadded(table, 5, 1);
    }

    List<List<SourceRecord>> polls = pollUntil(task, 15);
    assertEquals(List.of(5, 5, 5), polls.stream().map(List::size).toList());
    assertEquals(2.0, relay.context().metric("polls-full-by-rows-total"), "15 rows, 5 a poll");
    assertEquals(0.0, relay.context().metric("polls-full-by-bytes-total"));
  }

  /** The last of rows each over poll.max.bytes comes alone, and leaves none: not full. */
  @Test
  void aPollOfTheLastRowAloneOverPollMaxBytesIsNotFull() throws Exception {
    PostgresOutboxSourceTask task = startedAlone("poll.max.bytes", "1000");
    insertPadded("public.a", 2, 5000);

    List<List<SourceRecord>> polls = pollUntil(task, 2);
    assertEquals(2, polls.size(), "one row a poll");
    assertEquals(1.0, relay.context().metric("polls-full-by-bytes-total"), "a row left after one");
    assertEquals(0.0, relay.context().metric("polls-full-by-rows-total"));
  }

  /** A task of table public.a alone. */
  private PostgresOutboxSourceTask startedAlone(String... options) {
    return startedOn("public.a", options);
  }

  private PostgresOutboxSourceTask started(String... options) {
    return startedOn(String.join(",", TABLES), options);
  }

  /** A task of {@code tables} with {@code options} (name, value, ...), its tables created. */
  private PostgresOutboxSourceTask startedOn(String tables, String... options) {
    relay.createDatabase();
    Map<String, String> props = relay.props();
    props.put("outbox.tables", tables);
    for (int i = 0; i < options.length; i += 2) {
      props.put(options[i], options[i + 1]);
    }
    PostgresOutboxSourceTask task = relay.start(props);
    try {
      assertNull(task.poll(), "creates the tables");
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    return task;
  }

  /** The non-empty polls, until {@code count} records came. */
  private static List<List<SourceRecord>> pollUntil(PostgresOutboxSourceTask task, int count) {
    List<List<SourceRecord>> polls = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              List<SourceRecord> records = task.poll();
              if (records != null && !records.isEmpty()) {
                polls.add(records);
              }
              return polls.stream().mapToInt(List::size).sum() >= count;
            });
    return polls;
  }

  /** Every table relayed some of its rows in the first as many polls as there are tables. */
  private static void assertEachTableWithinTheFirstPolls(List<List<SourceRecord>> polls) {
    Set<String> seen = new LinkedHashSet<>();
    polls.stream()
        .limit(TABLES.size())
        .flatMap(List::stream)
        .forEach(r -> seen.add(r.sourcePartition().get("table").toString()));
    assertEquals(
        Set.copyOf(TABLES), seen, "tables relayed in the first " + TABLES.size() + " polls");
  }

  /** Each table's rows came once each, in order. */
  private static void assertInOrder(List<List<SourceRecord>> polls, int perTable) {
    for (String table : TABLES) {
      List<Integer> numbers =
          polls.stream()
              .flatMap(List::stream)
              .filter(r -> r.sourcePartition().get("table").equals(table))
              .map(r -> number(r.value().toString()))
              .toList();
      assertEquals(
          java.util.stream.IntStream.rangeClosed(1, perTable).boxed().toList(), numbers, table);
    }
  }

  private static int number(String payload) {
    // {"i": 3, "pad": "..."}
    return Integer.parseInt(
        payload.substring(payload.indexOf(':') + 1, payload.indexOf(',')).trim());
  }

  private static long utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8).length;
  }

  private void insertPadded(String table, int rows, int pad) throws SQLException {
    try (Connection c = relay.connect();
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO "
              + table
              + "(topic, payload) SELECT 't', jsonb_build_object('i', g, 'pad', repeat('x', "
              + pad
              + ")) FROM generate_series(1, "
              + rows
              + ") g");
    }
  }
}
