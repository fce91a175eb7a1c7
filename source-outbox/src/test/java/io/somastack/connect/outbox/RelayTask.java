package io.somastack.connect.outbox;

import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A relay task run by hand on a database of its own (the prefix and a timestamp), stopped after
 * each test. Register it on an instance field, so that each test gets a database name of its own.
 */
final class RelayTask implements AfterEachCallback {
  private final PostgresServer pg = PostgresServer.shared();
  private final String db;
  private PostgresOutboxSourceTask task;
  private HandRunSourceContext context;

  RelayTask(String prefix) {
    this.db = prefix + System.nanoTime();
  }

  @Override
  public void afterEach(ExtensionContext extension) {
    if (task != null) {
      task.stop();
    }
  }

  PostgresServer pg() {
    return pg;
  }

  String db() {
    return db;
  }

  /** Makes the database, empty (dropping one of its name). */
  void createDatabase() {
    pg.createDatabase(db);
  }

  Connection connect() throws SQLException {
    return pg.connect(db);
  }

  /** {@link HandRunSourceContext#relayProps} for this database; mutable. */
  Map<String, String> props() {
    return HandRunSourceContext.relayProps(pg.jdbcUrl(db), pg.user());
  }

  /** Starts a task with the settings and no stored offsets; it becomes the one stopped. */
  PostgresOutboxSourceTask start(Map<String, String> props) {
    return start(props, Map.of());
  }

  /**
   * Starts a task with the settings, finding these stored offsets; it becomes the one stopped after
   * the test (a task it replaces is the test's to stop).
   */
  PostgresOutboxSourceTask start(
      Map<String, String> props, Map<Map<String, ?>, Map<String, Object>> offsets) {
    HandRunSourceContext started = new HandRunSourceContext(props, offsets);
    PostgresOutboxSourceTask starting = new PostgresOutboxSourceTask();
    starting.initialize(started);
    starting.start(props);
    context = started;
    task = starting;
    return task;
  }

  /** The task started last. */
  PostgresOutboxSourceTask task() {
    return task;
  }

  /** The context of the task started last. */
  HandRunSourceContext context() {
    return context;
  }
}
