package io.somastack.connect.benchmarks.postgres;

import io.somastack.connect.benchmarks.BenchSupport;
import io.somastack.connect.postgres.PostgresMemorySinkTask;
import io.somastack.connect.testing.connect.HandRunTaskContext;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * How long soma_audit_verify takes on one long chain (a Kafka partition's audit rows), against the
 * floor of reading the same table once ({@code SELECT count(*), sum(length(payload::text))}, which
 * the check must do at least). The chain is written by the sink's own task (audit mode, ~500-byte
 * memory events), grown in steps; each step's check and read run {@code repeats} times, and the
 * median is printed. A check that grows faster than the read (a join comparing each row with its
 * whole partition) shows as a ratio that climbs with the rows. At steps of at most {@code
 * mergeJoinUpTo} rows the check also runs once as it ran before 2026-12-07, with merge joins
 * allowed (ALTER FUNCTION ... SET enable_mergejoin = on, reset afterwards): the planner then
 * merge-joined each row with every row of its partition.
 *
 * <p>Run: {@code java -cp benchmarks/target/benchmarks.jar
 * io.somastack.connect.benchmarks.postgres.AuditVerifyBenchmark [rows,rows,...] [repeats]
 * [mergeJoinUpTo]}
 */
public final class AuditVerifyBenchmark {

  private static final String DB = "audit_verify_bench";
  private static final TopicPartition PARTITION = new TopicPartition("memory.audit", 0);
  private static final int BATCH = 5_000;

  private AuditVerifyBenchmark() {}

  public static void main(String[] args) throws Exception {
    long[] steps =
        Arrays.stream((args.length > 0 ? args[0] : "30000,100000,300000,900000").split(","))
            .mapToLong(Long::parseLong)
            .toArray();
    int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    long mergeJoinUpTo = args.length > 2 ? Long.parseLong(args[2]) : 10_000;
    PostgresServer pg = PostgresServer.shared();
    String url = pg.createDatabase(DB);
    HandRunTaskContext context = new HandRunTaskContext(PARTITION);
    PostgresMemorySinkTask task = new PostgresMemorySinkTask();
    task.initialize(context);
    task.start(config(pg, url));
    task.open(context.assignment());
    long written = 0;
    try {
      for (long rows : steps) {
        while (written < rows) {
          List<SinkRecord> batch = new ArrayList<>(BATCH);
          for (int i = 0; i < BATCH && written < rows; i++, written++) {
            String json = MemoryEvents.event(written, 0).json();
            batch.add(new SinkRecord(PARTITION.topic(), 0, null, null, null, json, written));
          }
          task.put(batch);
        }
        measure(pg, rows, repeats);
        if (rows <= mergeJoinUpTo) {
          measureMergeJoins(pg, rows);
        }
      }
    } finally {
      task.stop();
      pg.close();
    }
  }

  private static Map<String, String> config(PostgresServer pg, String url) {
    Map<String, String> props = new HashMap<>();
    props.put("name", "audit-verify-bench");
    props.put("connection.url", url);
    props.put("connection.user", pg.user());
    if (pg.password() != null) {
      props.put("connection.password", pg.password());
    }
    props.put("write.mode", "audit");
    props.put("table.name.format", "audit_events");
    return props;
  }

  private static void measure(PostgresServer pg, long rows, int repeats) throws SQLException {
    try (Connection c = pg.connect(DB);
        Statement s = c.createStatement()) {
      s.execute("VACUUM ANALYZE audit_events");
      long[] verify = new long[repeats];
      long[] read = new long[repeats];
      long problems = -1;
      for (int i = 0; i < repeats; i++) {
        long started = System.nanoTime();
        try (ResultSet rs =
            s.executeQuery("SELECT count(*), sum(length(payload::text)) FROM audit_events")) {
          rs.next();
        }
        read[i] = System.nanoTime() - started;
        started = System.nanoTime();
        try (ResultSet rs =
            s.executeQuery("SELECT count(*) FROM soma_audit_verify('audit_events')")) {
          rs.next();
          problems = rs.getLong(1);
        }
        verify[i] = System.nanoTime() - started;
      }
      long verifyMs = median(verify) / 1_000_000;
      long readMs = Math.max(1, median(read) / 1_000_000);
      System.out.printf(
          "RESULT rows=%d problems=%d verify_ms=%d read_ms=%d verify_per_read=%.1f"
              + " verify_us_per_row=%.2f load=[%s]%n",
          rows,
          problems,
          verifyMs,
          readMs,
          (double) verifyMs / readMs,
          verifyMs * 1000.0 / rows,
          BenchSupport.load());
    }
  }

  /** The check once with merge joins allowed, as it ran before they were turned off. */
  private static void measureMergeJoins(PostgresServer pg, long rows) throws SQLException {
    try (Connection c = pg.connect(DB);
        Statement s = c.createStatement()) {
      s.execute("ALTER FUNCTION soma_audit_verify(regclass) SET enable_mergejoin = on");
      try {
        long started = System.nanoTime();
        try (ResultSet rs =
            s.executeQuery("SELECT count(*) FROM soma_audit_verify('audit_events')")) {
          rs.next();
        }
        System.out.printf(
            "RESULT rows=%d peer=merge-joins-allowed verify_ms=%d load=[%s]%n",
            rows, (System.nanoTime() - started) / 1_000_000, BenchSupport.load());
      } finally {
        s.execute("ALTER FUNCTION soma_audit_verify(regclass) SET enable_mergejoin = off");
      }
    }
  }

  private static long median(long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
