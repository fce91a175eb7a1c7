package io.somastack.connect.quickstart;

import io.somastack.connect.common.postgres.SqlStates;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads where things stand: rows each table gained since the run started (its baseline: with
 * SOMA_PG_URL the tables may hold earlier rows), records dead-lettered, and consumer lag.
 */
final class ProgressReporter {

  /**
   * A snapshot of the pipelines: {@code landedPerTable} holds the rows each table gained since the
   * baseline; {@code uncounted} the tables whose count timed out (a lock held on them), which show
   * their last count: no progress that reading.
   */
  record Progress(
      Map<String, Long> landedPerTable,
      long outboxBacklog,
      long deadLettered,
      Map<String, Long> lagPerConnector,
      Set<String> uncounted) {
    long lag() {
      return lagPerConnector.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Rows landed by the sinks this run (the outbox table holds what is still to be relayed). */
    long rows() {
      return landedPerTable.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  private static final String OUTBOX = "outbox";

  /** The longest a count may take: a table locked by someone else must not hold up --timeout. */
  static final Duration STATEMENT_TIMEOUT = Duration.ofSeconds(2);

  /** SQLSTATE query_canceled: what a statement_timeout ends a statement with. */
  private final Admin admin;

  private final PostgresServer postgres;
  private final String database;
  private final Duration statementTimeout;
  private final Map<String, Long> baseline = new TreeMap<>();
  private final Map<String, Long> lastCount = new TreeMap<>();
  private final Set<String> unknownBaseline = new TreeSet<>();

  ProgressReporter(Admin admin, PostgresServer postgres, String database) {
    this(admin, postgres, database, STATEMENT_TIMEOUT);
  }

  ProgressReporter(
      Admin admin, PostgresServer postgres, String database, Duration statementTimeout) {
    this.admin = admin;
    this.postgres = postgres;
    this.database = database;
    this.statementTimeout = statementTimeout;
  }

  /**
   * Counts the rows the tables hold before this run writes any: what is landed is counted from
   * there (a table created later starts from 0). Returns the tables whose count timed out: what
   * they land is not known, so they are left out of what is landed, and fall short.
   */
  Set<String> takeBaseline() throws SQLException {
    baseline.clear();
    lastCount.clear();
    unknownBaseline.clear();
    Set<String> uncounted = new TreeSet<>();
    baseline.putAll(countRows(uncounted));
    unknownBaseline.addAll(uncounted);
    return uncounted;
  }

  Progress read() throws SQLException, ExecutionException, InterruptedException {
    Set<String> uncounted = new TreeSet<>();
    Map<String, Long> counts = countRows(uncounted);
    return new Progress(
        landed(counts),
        counts.getOrDefault(OUTBOX, 0L),
        deadLettered(),
        lagPerConnector(),
        uncounted);
  }

  /** Rows gained since the baseline, per sink table (without the outbox). */
  Map<String, Long> landed(Map<String, Long> counts) {
    Map<String, Long> landed = new TreeMap<>();
    counts.forEach(
        (table, count) -> {
          if (!table.equals(OUTBOX) && !unknownBaseline.contains(table)) {
            landed.put(table, count - baseline.getOrDefault(table, 0L));
          }
        });
    return landed;
  }

  void print(PrintStream out, long elapsedSeconds, long sent, Progress p) {
    String tables =
        p.landedPerTable().entrySet().stream()
            .map(e -> e.getKey() + " " + e.getValue())
            .collect(Collectors.joining(" | "));
    out.printf(
        "[%3ds] sent %d | landed %d (%s) | dead-lettered %d | lag %d %s| outbox backlog %d%s%n",
        elapsedSeconds,
        sent,
        p.rows(),
        tables,
        p.deadLettered(),
        p.lag(),
        p.lagPerConnector().isEmpty() ? "" : p.lagPerConnector() + " ",
        p.outboxBacklog(),
        p.uncounted().isEmpty()
            ? ""
            : " | not counted within "
                + statementTimeout.toSeconds()
                + " s (locked?): "
                + String.join(", ", p.uncounted()));
  }

  /**
   * The rows of each table, each count ended by the statement timeout: a table whose count timed
   * out keeps its last count (or its baseline) and is added to {@code uncounted}.
   */
  Map<String, Long> countRows(Set<String> uncounted) throws SQLException {
    Map<String, Long> rows = new TreeMap<>();
    try (Connection c = postgres.connect(database);
        Statement s = c.createStatement()) {
      s.execute("SET statement_timeout = " + Math.max(1, statementTimeout.toMillis()));
      List<String> tables = new ArrayList<>();
      try (ResultSet rs =
          s.executeQuery(
              "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
                  + " AND relkind IN ('r', 'p') AND NOT relispartition"
                  + " AND relname NOT LIKE 'soma\\_%' ORDER BY relname")) {
        while (rs.next()) {
          tables.add(rs.getString(1));
        }
      }
      for (String table : tables) {
        try (ResultSet rs =
            s.executeQuery("SELECT count(*) FROM \"" + table.replace("\"", "\"\"") + "\"")) {
          rs.next();
          rows.put(table, rs.getLong(1));
          lastCount.put(table, rs.getLong(1));
        } catch (SQLException e) {
          if (!SqlStates.QUERY_CANCELED.equals(e.getSQLState())) {
            throw e;
          }
          uncounted.add(table);
          rows.put(table, lastCount.getOrDefault(table, baseline.getOrDefault(table, 0L)));
        }
      }
    }
    return rows;
  }

  private long deadLettered() throws ExecutionException, InterruptedException {
    List<String> dlqTopics =
        admin.listTopics().names().get().stream().filter(t -> t.endsWith(".dlq")).toList();
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    admin
        .describeTopics(dlqTopics)
        .allTopicNames()
        .get()
        .forEach(
            (name, description) ->
                description
                    .partitions()
                    .forEach(
                        p ->
                            request.put(
                                new TopicPartition(name, p.partition()), OffsetSpec.latest())));
    return admin.listOffsets(request).all().get().values().stream()
        .mapToLong(o -> o.offset())
        .sum();
  }

  /** Records not yet durably written by each sink connector (its group's committed offsets). */
  private Map<String, Long> lagPerConnector() throws ExecutionException, InterruptedException {
    Map<String, Long> lagPerConnector = new TreeMap<>();
    for (ConsumerGroupListing group : admin.listConsumerGroups().all().get()) {
      if (!group.groupId().startsWith("connect-")) {
        continue;
      }
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin.listConsumerGroupOffsets(group.groupId()).partitionsToOffsetAndMetadata().get();
      Map<TopicPartition, OffsetSpec> request = new HashMap<>();
      committed.keySet().forEach(tp -> request.put(tp, OffsetSpec.latest()));
      var ends = admin.listOffsets(request).all().get();
      long lag = 0;
      for (var e : committed.entrySet()) {
        if (e.getValue() != null) {
          lag += Math.max(0, ends.get(e.getKey()).offset() - e.getValue().offset());
        }
      }
      if (lag > 0) {
        lagPerConnector.put(group.groupId().substring("connect-".length()), lag);
      }
    }
    return lagPerConnector;
  }
}
