package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.apache.kafka.common.record.TimestampType.CREATE_TIME;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A number with an exponent beyond an int (1e99999999999: JSON, but beyond what Jackson reads and
 * what PostgreSQL's numeric holds) in a value is its record's fault: dead-lettered with a reason
 * that quotes none of it, and the records beside it land. As an upsert tombstone's whole key it is
 * the text it is, as any key that is not JSON: the row of that id is deleted (here none). Jackson
 * threw NumberFormatException for it, which failed every put with the value in the message.
 */
class UnreadableNumbersTest {

  private static final String DATABASE = "unreadable_numbers";
  private static final String NUMBER = "1e99999999999";

  private static String url;
  private PostgresMemorySinkTask task;

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("append_whole", false, new String[] {"write.mode", "append"}),
        Arguments.of(
            "append_column", false, new String[] {"write.mode", "append", "columns", "n:jsonb:n"}),
        Arguments.of(
            "upsert_key", true, new String[] {"write.mode", "upsert", "key.fields", "event_id"}),
        Arguments.of("audit", false, new String[] {"write.mode", "audit"}));
  }

  @BeforeAll
  static void createDatabase() {
    url = SERVER.createDatabase(DATABASE);
  }

  @AfterEach
  void stopTask() {
    if (task != null) {
      task.stop();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void aRecordWithAnUnreadableNumberFailsNoPutAndTheOthersLand(
      String table, boolean tombstone, String[] props) throws Exception {
    String bad = "{\"event_id\":\"bad\",\"secret\":\"s3cr3t\",\"n\":" + NUMBER + "}";
    List<SinkRecord> batch = new ArrayList<>();
    batch.add(record(table, null, Map.of("event_id", "before", "n", 1), 0));
    SinkRecord unreadable =
        tombstone
            ? record(table, NUMBER.getBytes(StandardCharsets.UTF_8), null, 1)
            : record(table, null, bad.getBytes(StandardCharsets.UTF_8), 1);
    batch.add(unreadable);
    batch.add(record(table, null, Map.of("event_id", "after", "n", 2), 2));
    HandRunTaskContext context =
        new HandRunTaskContext(new TopicPartition(table, 0)).deadLetterQueue(true);
    List<String> options = new ArrayList<>(List.of(props));
    options.addAll(List.of("table.name.format", table));
    task = LocalTasks.started(url, context, options.toArray(String[]::new));

    task.put(batch);

    assertEquals(
        2,
        LocalTasks.count(DATABASE, "SELECT count(*) FROM " + table),
        "the records beside it land");
    if (tombstone) {
      assertEquals(List.of(), context.deadLettered());
      return;
    }
    assertEquals(1, context.deadLettered().size(), table);
    Map.Entry<SinkRecord, Throwable> letter = context.deadLettered().get(0);
    assertSame(unreadable, letter.getKey());
    for (Throwable t = letter.getValue(); t != null; t = t.getCause()) {
      String reason = String.valueOf(t.getMessage());
      assertFalse(reason.contains("s3cr3t") || reason.contains("99999"), reason);
    }
  }

  private static SinkRecord record(String topic, Object key, Object value, long offset) {
    return new SinkRecord(
        topic, 0, null, key, null, value, offset, 1_700_000_000_000L, CREATE_TIME);
  }
}
