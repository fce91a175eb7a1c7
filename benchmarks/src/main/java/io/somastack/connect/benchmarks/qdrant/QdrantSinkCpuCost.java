package io.somastack.connect.benchmarks.qdrant;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * CPU time per point of {@link QdrantSinkThroughputBenchmark}'s four ways of writing (and of the
 * connector's mapping alone), for a shared machine where points/s mostly measures what the other
 * processes leave over. Process CPU counts every thread in the JVM (the caller, gRPC on both sides,
 * the stand-in storing the points); the caller's CPU is the thread that calls put or upsertAsync.
 * When the cores are saturated, throughput goes as 1 / process CPU per point. The connector runs on
 * fresh records (made anew, untimed, before every round, as in the JMH benchmark) and on records
 * made once and reused (the benchmark as it was).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar \
 *   io.somastack.connect.benchmarks.qdrant.QdrantSinkCpuCost [inFlight] [seconds per side]
 * </pre>
 */
public final class QdrantSinkCpuCost {

  private interface Round {
    void run(List<List<SinkRecord>> polls) throws Exception;
  }

  /** Stands for records made anew (untimed) before every round. */
  private static final List<List<SinkRecord>> FRESH = List.of();

  public static void main(String[] args) throws Exception {
    int inFlight = args.length > 0 ? Integer.parseInt(args[0]) : 1;
    double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 20;
    QdrantSinkThroughputBenchmark bench = new QdrantSinkThroughputBenchmark();
    bench.inFlight = inFlight;
    bench.setUp();
    bench.freshCollections();
    try {
      for (int pass = 1; pass <= 2; pass++) { // the first pass warms up the JIT
        boolean report = pass == 2;
        measure("clientDirect", bench, polls -> bench.clientDirect(), null, seconds, report);
        measure("clientRecords", bench, bench::fromRecords, FRESH, seconds, report);
        measure("clientEncoded", bench, bench::encodedFromRecords, FRESH, seconds, report);
        measure("connectorTask", bench, bench::put, FRESH, seconds, report);
        measure("mapOnly", bench, bench::map, FRESH, seconds, report);
        measure("connectorTask", bench, bench::put, bench.reusedPolls, seconds, report);
        measure("mapOnly", bench, bench::map, bench.reusedPolls, seconds, report);
      }
    } finally {
      bench.tearDown();
    }
  }

  private static void measure(
      String name,
      QdrantSinkThroughputBenchmark bench,
      Round round,
      List<List<SinkRecord>> records,
      double seconds,
      boolean report)
      throws Exception {
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    System.gc();
    long rounds = 0;
    long wall = 0;
    long process = 0;
    long caller = 0;
    Map<String, Long> groups = new TreeMap<>();
    long end = System.nanoTime() + (long) (seconds * 1e9);
    while (System.nanoTime() < end) {
      List<List<SinkRecord>> polls =
          records == FRESH
              ? QdrantSinkThroughputBenchmark.polls(QdrantSinkThroughputBenchmark.records())
              : records;
      long wall0 = System.nanoTime();
      long process0 = os.getProcessCpuTime();
      long caller0 = threads.getCurrentThreadCpuTime();
      Map<Long, long[]> threads0 = threadCpu(threads);
      round.run(polls);
      wall += System.nanoTime() - wall0;
      long processRound = os.getProcessCpuTime() - process0;
      process += processRound;
      caller += threads.getCurrentThreadCpuTime() - caller0;
      long javaThreads = 0;
      for (Map.Entry<Long, long[]> now : threadCpu(threads).entrySet()) {
        long[] before = threads0.get(now.getKey());
        long used = now.getValue()[0] - (before == null ? 0 : before[0]);
        javaThreads += used;
        groups.merge(group(threads, now.getKey()), used, Long::sum);
      }
      groups.merge("vm (gc, jit, exited threads)", processRound - javaThreads, Long::sum);
      rounds++;
      if (rounds % 50 == 0) {
        bench.checkRequests(); // empties the stand-in's log of writes
        bench.freshCollections();
      }
    }
    double points = rounds * (double) QdrantSinkThroughputBenchmark.POINTS;
    if (report) {
      System.out.printf(
          Locale.ROOT,
          "%-14s %-7s inFlight=%d  %,10.0f points/s  process CPU %6.2f us/point  caller CPU %6.2f"
              + " us/point%n",
          name,
          records == null ? "" : records == FRESH ? "fresh" : "reused",
          bench.inFlight,
          points / (wall / 1e9),
          process / 1e3 / points,
          caller / 1e3 / points);
      StringBuilder split = new StringBuilder("    CPU us/point by thread:");
      groups.forEach(
          (group, nanos) ->
              split.append(String.format(Locale.ROOT, "  %s %.2f", group, nanos / 1e3 / points)));
      System.out.println(split);
    }
  }

  /** CPU time of every live thread, by id: where the process CPU goes, thread by thread. */
  private static Map<Long, long[]> threadCpu(ThreadMXBean threads) {
    Map<Long, long[]> cpu = new HashMap<>();
    for (long id : threads.getAllThreadIds()) {
      long nanos = threads.getThreadCpuTime(id);
      if (nanos >= 0) {
        cpu.put(id, new long[] {nanos});
      }
    }
    return cpu;
  }

  /** The thread's name without its number: threads of one pool count as one. */
  private static String group(ThreadMXBean threads, long id) {
    if (id == Thread.currentThread().getId()) {
      return "caller";
    }
    var info = threads.getThreadInfo(id);
    return info == null ? "exited" : info.getThreadName().replaceAll("[0-9]+", "N");
  }
}
