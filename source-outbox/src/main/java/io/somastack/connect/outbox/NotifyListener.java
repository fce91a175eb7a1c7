package io.somastack.connect.outbox;

import io.somastack.connect.common.sql.SqlIdentifier;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.core.BaseConnection;

/**
 * Waits for the outbox trigger's NOTIFY on the task's own connection (pgjdbc queues notifications
 * that arrive while a query runs, so none is missed between a read and the next wait). A wait
 * without a notification simply times out: the caller then reads the tables anyway, which is the
 * polling fallback for lost connections, a missing trigger, or rows held back by the horizon.
 */
final class NotifyListener {

  private final String channel;

  NotifyListener(String channel) {
    this.channel = channel;
  }

  boolean enabled() {
    return channel != null;
  }

  void listen(Connection connection) throws SQLException {
    if (channel == null) {
      return;
    }
    try (Statement s = connection.createStatement()) {
      s.execute("LISTEN " + SqlIdentifier.quote(channel));
    }
  }

  /**
   * Throws away the notifications pgjdbc has queued. Under constant load every poll reads at once
   * and never waits, so nothing else would take them: the queue, one entry per writing transaction,
   * would grow for as long as the load lasts. A read covers every row they announce.
   *
   * <p>This takes pgjdbc's in-memory queue only. {@code PGConnection.getNotifications()} would also
   * read the socket for as long as more keep coming, which under 1,000 commits/s held reads back
   * for tens of milliseconds (steady pickups 10 -> 36 ms p50, 42 -> 247 ms p99).
   */
  void drain(Connection connection) throws SQLException {
    if (channel != null) {
      connection.unwrap(BaseConnection.class).getQueryExecutor().getNotifications();
    }
  }

  /**
   * Waits up to {@code timeoutMs} for a notification; true when one (or more) arrived. Without a
   * channel this just sleeps.
   */
  boolean await(Connection connection, long timeoutMs) throws SQLException, InterruptedException {
    if (timeoutMs <= 0) {
      return false;
    }
    if (channel == null) {
      Thread.sleep(timeoutMs);
      return false;
    }
    // 0 would mean "wait for ever"
    int timeout = (int) Math.max(1, Math.min(timeoutMs, Integer.MAX_VALUE));
    PGNotification[] notifications =
        connection.unwrap(PGConnection.class).getNotifications(timeout);
    return notifications != null && notifications.length > 0;
  }
}
