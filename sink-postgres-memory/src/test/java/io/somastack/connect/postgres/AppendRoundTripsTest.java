package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * Round trips to the database are what a batch costs when PostgreSQL is on another host. An append
 * batch takes five: the offsets statement (which carries the transaction's BEGIN), the table's lock
 * and column types (binary COPY needs them unchanged), COPY's start, COPY's data, and the commit.
 * Counted from pgjdbc's protocol trace: a round trip starts each time the driver sends after it has
 * read a reply.
 */
class AppendRoundTripsTest {

  private static final TopicPartition PARTITION = new TopicPartition("events", 0);
  private static final int PUTS = 5;

  @Test
  void anAppendBatchCostsFiveRoundTrips() throws Exception {
    String url = SERVER.createDatabase("append_round_trips");
    PostgresMemorySinkTask task =
        LocalTasks.started(
            url,
            new HandRunTaskContext(PARTITION),
            "write.mode",
            "append",
            "table.name.format",
            "e");
    try {
      long offset = 0;
      task.put(records(offset, 500)); // creates the table and prepares the statements
      offset += 500;
      ProtocolTrace trace = ProtocolTrace.start();
      try {
        for (int put = 0; put < PUTS; put++) {
          task.put(records(offset, 500));
          offset += 500;
        }
      } finally {
        trace.stop();
      }
      assertEquals(5 * PUTS, trace.roundTrips(), "round trips for " + PUTS + " puts");
      assertEquals(3000, LocalTasks.count("append_round_trips", "SELECT count(*) FROM e"));
    } finally {
      task.stop();
    }
  }

  private static List<SinkRecord> records(long from, int count) {
    List<SinkRecord> records = new ArrayList<>();
    for (long o = from; o < from + count; o++) {
      String json = "{\"event_id\":\"e" + o + "\",\"text\":\"memory\"}";
      records.add(new SinkRecord(PARTITION.topic(), 0, null, null, null, json, o));
    }
    return records;
  }

  /**
   * pgjdbc's FINEST log of the messages it sends ("FE=>") and reads ("<=BE") on this thread, the
   * one that calls put(): another connection's traffic (a cleaner closing a leaked connection) is
   * not counted.
   */
  private static final class ProtocolTrace extends Handler {
    private final Logger logger = Logger.getLogger("org.postgresql");
    private final long thread = Thread.currentThread().getId();
    private final Level before = logger.getLevel();
    private int roundTrips;
    private boolean sending;

    static ProtocolTrace start() {
      ProtocolTrace trace = new ProtocolTrace();
      trace.setLevel(Level.FINEST);
      trace.logger.setLevel(Level.FINEST);
      trace.logger.addHandler(trace);
      return trace;
    }

    void stop() {
      logger.removeHandler(this);
      logger.setLevel(before);
    }

    synchronized int roundTrips() {
      return roundTrips;
    }

    @Override
    public synchronized void publish(LogRecord entry) {
      String message = entry.getMessage();
      if (message == null || entry.getLongThreadID() != thread) {
        return;
      }
      if (message.contains("FE=>")) {
        if (!sending) {
          roundTrips++;
        }
        sending = true;
      } else if (message.contains("<=BE")) {
        sending = false;
      }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }
}
