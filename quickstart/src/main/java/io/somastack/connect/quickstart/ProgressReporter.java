package io.somastack.connect.quickstart;

import io.somastack.connect.testing.postgres.PostgresServer;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/** Reads where things stand: rows per table, records dead-lettered, and consumer lag. */
final class ProgressReporter {

  /** A snapshot of the pipelines. */
  record Progress(
      Map<String, Long> rowsPerTable, long deadLettered, Map<String, Long> lagPerConnector) {
    long lag() {
      return lagPerConnector.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Rows landed by the sinks (the outbox table holds what is still to be relayed). */
    long rows() {
      return rowsPerTable.entrySet().stream()
          .filter(e -> !e.getKey().equals(OUTBOX))
          .mapToLong(Map.Entry::getValue)
          .sum();
    }

    long outboxBacklog() {
      return rowsPerTable.getOrDefault(OUTBOX, 0L);
    }
  }

  private static final String OUTBOX = "outbox";

  private final Admin admin;
  private final PostgresServer postgres;
  private final String database;

  ProgressReporter(Admin admin, PostgresServer postgres, String database) {
    this.admin = admin;
    this.postgres = postgres;
    this.database = database;
  }

  Progress read() throws SQLException, ExecutionException, InterruptedException {
    return new Progress(rowsPerTable(), deadLettered(), lagPerConnector());
  }

  void print(PrintStream out, long elapsedSeconds, long sent, Progress p) {
    String tables =
        p.rowsPerTable().entrySet().stream()
            .filter(e -> !e.getKey().equals(OUTBOX))
            .map(e -> e.getKey() + " " + e.getValue())
            .collect(Collectors.joining(" | "));
    out.printf(
        "[%3ds] sent %d | landed %d (%s) | dead-lettered %d | lag %d %s| outbox backlog %d%n",
        elapsedSeconds,
        sent,
        p.rows(),
        tables,
        p.deadLettered(),
        p.lag(),
        p.lagPerConnector().isEmpty() ? "" : p.lagPerConnector() + " ",
        p.outboxBacklog());
  }

  private Map<String, Long> rowsPerTable() throws SQLException {
    Map<String, Long> rows = new TreeMap<>();
    try (Connection c = postgres.connect(database);
        Statement s = c.createStatement()) {
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
