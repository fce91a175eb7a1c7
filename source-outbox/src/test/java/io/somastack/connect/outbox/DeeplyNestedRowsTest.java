package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.StackThreads;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A row whose payload or headers jsonb is nested deeper than the relay can read is a bad row, taken
 * out of the relay as any other (dead-lettered, or flagged) with a reason that names the problem,
 * never its contents, and the rows beside it are relayed. PostgreSQL's jsonb takes JSON nested far
 * deeper than Jackson reads (1000 levels), and reading a payload into a Struct recurses per level:
 * a StackOverflowError, which Connect does not tolerate, would stop the relay at that row on every
 * restart. Each case polls on a thread with the JVM's default stack (as Connect's task threads
 * have) and on one of 512 KB.
 */
class DeeplyNestedRowsTest {

  @RegisterExtension final RelayTask relay = new RelayTask("outbox_deep_");

  static Stream<Arguments> cases() {
    List<Arguments> cases = new ArrayList<>();
    // each bad row action once per stack: the value format decides what is read, not the action
    Map<String, String> actions =
        Map.of("struct exact", "dlq", "struct double", "flag", "string", "dlq");
    for (String format : List.of("struct exact", "struct double", "string")) {
      for (long stack : List.of(0L, 512L * 1024)) {
        cases.add(Arguments.of(format, actions.get(format), stack));
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "value.format={0}, bad.row.action={1}, stack {2}")
  @MethodSource("cases")
  void aDeeplyNestedRowIsRelayedOrABadRow(String format, String action, long stack)
      throws Exception {
    Map<String, String> props = relay.props();
    props.put("value.format", format.split(" ")[0]);
    if (format.startsWith("struct")) {
      props.put("value.struct.numbers", format.split(" ")[1]);
    }
    props.put("bad.row.action", action);
    relay.createDatabase();
    PostgresOutboxSourceTask task = relay.start(props);
    assertNull(StackThreads.thrownOn(stack, () -> task.poll())); // creates the tables

    List<Long> plain = new ArrayList<>();
    List<Long> deep = new ArrayList<>();
    try (Connection c = relay.connect();
        PreparedStatement insert =
            c.prepareStatement(
                "INSERT INTO outbox(topic, payload, headers) VALUES ('t', ?::jsonb, ?::jsonb)"
                    + " RETURNING id")) {
      // 999 under the payload's own object: the deepest JSON Jackson reads (1000 levels)
      for (int depth : List.of(999, 1_000, 10_000)) {
        deep.add(insert(insert, "{\"deep\":" + nested(depth) + "}", null));
        plain.add(insert(insert, "{\"plain\":1}", null));
        deep.add(insert(insert, "{\"deep\":" + nestedArrays(depth) + "}", null));
        deep.add(insert(insert, "{\"plain\":1}", "{\"h\":" + nested(depth) + "}"));
        plain.add(insert(insert, "{\"plain\":1}", "{\"h\":1}"));
      }
    }

    List<Long> relayed = new ArrayList<>();
    Throwable thrown = StackThreads.thrownOn(stack, () -> relayed.addAll(relayUntil(plain.size())));

    assertNull(thrown, () -> "the relay stopped: " + thrown);
    assertTrue(relayed.containsAll(plain), "every plain row is relayed");
    Map<Long, String> bad = badRows(action);
    for (long id : relayed) {
      assertFalse(bad.containsKey(id), "a row relayed and taken out as bad");
    }
    assertEquals(plain.size() + deep.size(), relayed.size() + bad.size(), "every row once");
    for (String reason : bad.values()) {
      assertTrue(reason.contains("nested too deeply"), reason);
      assertFalse(reason.contains("leaf-secret"), reason);
    }
  }

  /** {"a": {"a": ... "leaf-secret" ...}}, depth objects deep. */
  private static String nested(int depth) {
    return "{\"a\":".repeat(depth) + "\"leaf-secret\"" + "}".repeat(depth);
  }

  /** [[... 1.5 ...]], depth arrays deep. */
  private static String nestedArrays(int depth) {
    return "[".repeat(depth) + "1.5" + "]".repeat(depth);
  }

  private static long insert(PreparedStatement insert, String payload, String headers)
      throws SQLException {
    insert.setString(1, payload);
    insert.setString(2, headers);
    try (ResultSet rs = insert.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** The bad rows by id, with their reasons: in the dead-letter table, or flagged in place. */
  private Map<Long, String> badRows(String action) throws SQLException {
    String sql =
        action.equals("dlq")
            ? "SELECT (event->>'id')::bigint, error FROM dlq"
            : "SELECT id, error FROM outbox WHERE error IS NOT NULL";
    Map<Long, String> bad = new HashMap<>();
    try (Connection c = relay.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        bad.put(rs.getLong(1), rs.getString(2));
      }
    }
    return bad;
  }

  /**
   * Polls, acknowledging every record as Kafka would, until {@code count} records came and a poll
   * after them returned nothing; ids of the rows relayed. Records are not printed or compared:
   * their toString and equals recurse too.
   */
  private List<Long> relayUntil(int count) throws InterruptedException {
    PostgresOutboxSourceTask task = relay.task();
    List<Long> relayed = new ArrayList<>();
    for (int poll = 0; poll < 100; poll++) {
      List<SourceRecord> records = task.poll();
      if (records != null) {
        for (SourceRecord record : records) {
          relayed.add(OutboxCursor.fromOffset(record.sourceOffset()).id());
          task.commitRecord(record, null);
        }
      } else if (relayed.size() >= count && poll > 0) {
        break;
      }
    }
    return relayed;
  }
}
