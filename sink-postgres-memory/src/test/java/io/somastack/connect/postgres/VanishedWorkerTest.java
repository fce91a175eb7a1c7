package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.common.postgres.DeadClientSettings;
import io.somastack.connect.postgres.config.PostgresSinkConfig;
import io.somastack.connect.postgres.write.PostgresSession;
import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A worker whose host loses power, or is cut off, mid-put leaves its session's transaction open on
 * the server, holding the partition's offsets row lock (its new owner blocks on it until it gives
 * up) and pinning the xmin horizon (holding back every outbox relay on the database), until the
 * server notices the client is gone: by the operating system's TCP keepalive defaults, over two
 * hours. The task's session asks the server to notice within about a minute, and keeps asking after
 * a transaction of it rolled back. (The tests connect over TCP; over a Unix socket the server
 * ignores keepalives.)
 */
class VanishedWorkerTest {

  private static final TopicPartition PARTITION = new TopicPartition("vanished", 0);

  private PostgresMemorySinkTask task;
  private PostgresSession session;

  @AfterEach
  void stop() {
    if (task != null) {
      task.stop();
    }
    if (session != null) {
      session.close();
    }
  }

  /** The session's settings, its first transaction rolled back. */
  @Test
  void theSessionHasTheServerNoticeAVanishedWorkerAfterARollbackToo() throws SQLException {
    String url = SERVER.createDatabase("vanished_worker_session");
    session =
        new PostgresSession(
            new PostgresSinkConfig(
                Map.of("connection.url", url, "connection.user", SERVER.user())));
    Connection c = session.connection();
    try (Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t (n int)");
      s.execute("INSERT INTO t VALUES (1)");
    }
    c.rollback();

    assertEquals(expected(), settings(c));
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT to_regclass('t') IS NULL")) {
      rs.next();
      assertTrue(rs.getBoolean(1), "the transaction was rolled back");
    }
  }

  /**
   * The task's own session, seen by a trigger in it: its first batch transaction is rolled back (a
   * table changed under the task), and the batch written again in the next.
   */
  @Test
  void theTasksSessionKeepsTheSettingsThroughARolledBackBatch() throws Exception {
    String database = "vanished_worker_task";
    String url = SERVER.createDatabase(database);
    LocalTasks.execute(
        database,
        "CREATE TABLE e (event_id text PRIMARY KEY, payload jsonb);"
            + " CREATE TABLE seen (setting text); CREATE SEQUENCE tries;"
            + " CREATE FUNCTION see() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            + "   IF nextval('tries') = 1 THEN"
            + "     RAISE EXCEPTION 'changed under the task' USING ERRCODE = '42703';"
            + "   END IF;"
            + "   INSERT INTO seen SELECT current_setting(n) FROM unnest(ARRAY["
            + "     'tcp_keepalives_idle', 'tcp_keepalives_interval', 'tcp_keepalives_count',"
            + "     'tcp_user_timeout']) WITH ORDINALITY AS u(n, i) ORDER BY i;"
            + "   RETURN NEW;"
            + " END $$;"
            + " CREATE TRIGGER see BEFORE INSERT ON e FOR EACH STATEMENT EXECUTE FUNCTION see()");

    task = LocalTasks.started(url, new HandRunTaskContext(PARTITION), "table.name.format", "e");
    task.put(List.of(record(0)));

    assertEquals(1, LocalTasks.count(database, "SELECT count(*) FROM e"), "written again");
    assertEquals(2, LocalTasks.count(database, "SELECT last_value FROM tries"), "rolled back once");
    assertEquals(expected(), LocalTasks.strings(database, "SELECT setting FROM seen"));
  }

  private static List<String> expected() {
    return List.of(
        String.valueOf(DeadClientSettings.KEEPALIVE_IDLE_S),
        String.valueOf(DeadClientSettings.KEEPALIVE_INTERVAL_S),
        String.valueOf(DeadClientSettings.KEEPALIVE_COUNT),
        // tcp_user_timeout in milliseconds, as SHOW and current_setting print it
        String.valueOf(DeadClientSettings.USER_TIMEOUT_MS));
  }

  private static List<String> settings(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT current_setting(n) FROM unnest(ARRAY['tcp_keepalives_idle',"
                    + " 'tcp_keepalives_interval', 'tcp_keepalives_count', 'tcp_user_timeout'])"
                    + " WITH ORDINALITY AS u(n, i) ORDER BY i")) {
      List<String> out = new java.util.ArrayList<>();
      while (rs.next()) {
        out.add(rs.getString(1));
      }
      return out;
    }
  }

  private static SinkRecord record(long offset) {
    String json = "{\"event_id\":\"e" + offset + "\"}";
    return new SinkRecord(PARTITION.topic(), PARTITION.partition(), null, null, null, json, offset);
  }
}
