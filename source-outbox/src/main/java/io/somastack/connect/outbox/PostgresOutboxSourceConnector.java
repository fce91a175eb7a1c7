package io.somastack.connect.outbox;

import io.somastack.connect.common.config.OptionConflict;
import io.somastack.connect.common.config.Version;
import io.somastack.connect.common.postgres.PostgresConnectionConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.source.ConnectorTransactionBoundaries;
import org.apache.kafka.connect.source.ExactlyOnceSupport;
import org.apache.kafka.connect.source.SourceConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relays PostgreSQL transactional-outbox tables to Kafka — the seed's Outbox Sync service as a
 * Kafka Connect source — without logical decoding, losing nothing when transactions commit out of
 * id order, and exactly once with Connect's exactly-once source support (KIP-618). Tables are
 * spread over the tasks; each table belongs to exactly one task. See source-outbox/README.md.
 */
public final class PostgresOutboxSourceConnector extends SourceConnector {

  private static final Logger log = LoggerFactory.getLogger(PostgresOutboxSourceConnector.class);

  private Map<String, String> props;
  private OutboxSourceConfig config;

  @Override
  public String version() {
    return Version.of(PostgresOutboxSourceConnector.class);
  }

  @Override
  public void start(Map<String, String> props) {
    this.props = new HashMap<>(props);
    this.config = new OutboxSourceConfig(props);
    warnOfErrorsToleranceAll();
    for (String ignored : config.ignoredOptions()) {
      log.warn("outbox relay: {}", ignored);
    }
    refuseTwoNamesForOneTable();
  }

  /** Connect's option, in the connector's configuration, that makes it drop failed records. */
  static final String ERRORS_TOLERANCE = "errors.tolerance";

  /**
   * With errors.tolerance=all Connect counts a record it drops as done, and the relay then deletes
   * or marks its row like any relayed one: every transform or converter failure, and without the
   * worker's exactly-once support every failed send (Kafka 4.3's WorkerSourceTask commits the
   * record of a failed send as if it had been written), whatever the cause: a record over
   * max.request.size, Kafka unreachable for longer than delivery.timeout.ms, a topic that does not
   * exist while auto-creation is off. The connector cannot see the worker's
   * exactly.once.source.support (the connector's exactly.once.support does not say it), so the
   * warning says what each case does rather than which applies.
   */
  private void warnOfErrorsToleranceAll() {
    String tolerance = props.get(ERRORS_TOLERANCE);
    if (tolerance == null || !tolerance.trim().equalsIgnoreCase("all")) {
      return;
    }
    log.warn(
        "outbox relay: {}=all: every record Connect drops counts as relayed, and its row is {}"
            + " without having reached Kafka, shown only by Connect's ERROR log line. Connect"
            + " drops a record on a transform or converter failure and, unless the worker runs with"
            + " exactly.once.source.support=enabled (which this connector cannot see), on every"
            + " failed send: a record over max.request.size, Kafka unreachable for longer than"
            + " delivery.timeout.ms, a topic that does not exist while topic auto-creation is off."
            + " Set {}=none where every row must reach Kafka.",
        ERRORS_TOLERANCE,
        config.afterPublish() == OutboxSourceConfig.AfterPublish.DELETE
            ? "deleted"
            : "marked published",
        ERRORS_TOLERANCE);
  }

  /**
   * Two names for one table ({@code outbox} and {@code public.outbox}, or names that differ by the
   * search_path) are two source partitions with positions of their own, and every row would be
   * relayed twice; so are a table and one of its partitions (or a table inheriting from it), for
   * the rows of the partition. The names are compared by the tables they resolve to now. A database
   * that cannot be reached now is no reason to fail: each task checks all the connector's names
   * when it connects (two tasks that got one name each fail, rather than one waiting for ever for
   * the other's lock).
   */
  private void refuseTwoNamesForOneTable() {
    List<OutboxTable> tables = config.tables().stream().map(OutboxTable::parse).toList();
    if (tables.size() < 2) {
      return;
    }
    String same;
    try (Connection c = DriverManager.getConnection(config.url(), config.connectionProperties())) {
      same = OutboxLocks.overlap(c, OutboxLocks.oids(c, tables));
    } catch (SQLException e) {
      log.warn(
          "outbox relay: cannot check now that the outbox tables are distinct (SQLState {}): {};"
              + " the tasks check it when they connect",
          e.getSQLState(),
          // never the URL in a log: it may carry a password
          PostgresConnectionConfig.withoutUrl(e, config.url()).getMessage());
      return;
    }
    if (same != null) {
      throw new OptionConflict(
          OutboxSourceConfig.TABLES, props.get(OutboxSourceConfig.TABLES), same);
    }
  }

  @Override
  public Class<? extends Task> taskClass() {
    return PostgresOutboxSourceTask.class;
  }

  @Override
  public List<Map<String, String>> taskConfigs(int maxTasks) {
    return spread(config.tables(), maxTasks, props);
  }

  /** Round-robin: table i goes to task i mod n, with n = min(maxTasks, tables). */
  static List<Map<String, String>> spread(
      List<String> tables, int maxTasks, Map<String, String> props) {
    int tasks = Math.max(1, Math.min(maxTasks, tables.size()));
    List<List<String>> assigned = new ArrayList<>();
    for (int i = 0; i < tasks; i++) {
      assigned.add(new ArrayList<>());
    }
    for (int i = 0; i < tables.size(); i++) {
      assigned.get(i % tasks).add(tables.get(i));
    }
    List<Map<String, String>> configs = new ArrayList<>();
    for (List<String> mine : assigned) {
      Map<String, String> task = new HashMap<>(props);
      task.put(OutboxSourceConfig.TASK_TABLES, String.join(",", mine));
      configs.add(task);
    }
    return configs;
  }

  @Override
  public void stop() {}

  @Override
  public ConfigDef config() {
    return OutboxSourceConfig.CONFIG_DEF;
  }

  @Override
  public Config validate(Map<String, String> connectorConfigs) {
    // anything that names no option is shown on the tables
    return OptionConflict.explain(
        super.validate(connectorConfigs),
        connectorConfigs,
        OutboxSourceConfig::new,
        OutboxSourceConfig.TABLES);
  }

  /** Offsets are written with the records in one transaction: see the task's class comment. */
  @Override
  public ExactlyOnceSupport exactlyOnceSupport(Map<String, String> connectorConfig) {
    return ExactlyOnceSupport.SUPPORTED;
  }

  /** With transaction.boundary=connector each poll batch is one transaction. */
  @Override
  public ConnectorTransactionBoundaries canDefineTransactionBoundaries(
      Map<String, String> connectorConfig) {
    return ConnectorTransactionBoundaries.SUPPORTED;
  }

  /** Offsets may be reset or altered (KIP-875) as long as they are well-formed cursors. */
  @Override
  public boolean alterOffsets(
      Map<String, String> connectorConfig, Map<Map<String, ?>, Map<String, ?>> offsets) {
    for (Map.Entry<Map<String, ?>, Map<String, ?>> entry : offsets.entrySet()) {
      if (!(entry.getKey().get("table") instanceof String)) {
        throw new org.apache.kafka.connect.errors.ConnectException(
            "an outbox source partition is {\"table\": \"schema.table\"}");
      }
      if (entry.getValue() != null) {
        try {
          OutboxCursor.fromOffset(entry.getValue());
        } catch (IllegalArgumentException e) {
          throw new org.apache.kafka.connect.errors.ConnectException(
              "an outbox offset is {\"txid\": <xid8 as number>, \"id\": <row id>}");
        }
      }
    }
    return true;
  }
}
