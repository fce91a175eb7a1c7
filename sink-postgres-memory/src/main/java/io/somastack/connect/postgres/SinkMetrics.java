package io.somastack.connect.postgres;

import io.somastack.connect.common.metrics.PluginMetricsGroup;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.common.metrics.Sensor;

/** What the sink reports through Connect's plugin metrics (JMX, tagged by connector and task). */
final class SinkMetrics implements AutoCloseable {

  private final PluginMetricsGroup group;
  final Sensor recordsWritten;
  final Sensor batches;
  final Sensor batchLatencyMs;
  final Sensor batchSize;
  final Sensor duplicatesSkipped;
  final Sensor staleRefused;
  final Sensor deadLettered;
  final Sensor tombstonesIgnored;
  final Sensor tombstonesWithoutTable;
  final Sensor retries;
  final Sensor batchesRewritten;
  final Sensor rowsCopiedBinary;
  final Sensor closedPartitionSkipped;

  SinkMetrics(PluginMetrics metrics) {
    group = new PluginMetricsGroup(metrics);
    recordsWritten = group.counter("records-written", "rows inserted, updated or deleted");
    batches = group.counter("batches", "transactions committed");
    batchLatencyMs =
        group.distribution("batch-latency-ms", "milliseconds to write and commit a batch");
    batchSize = group.distribution("batch-size", "records in a committed batch");
    duplicatesSkipped =
        group.counter(
            "duplicates-skipped", "records already written (replays, duplicates in a batch)");
    staleRefused =
        group.counter(
            "stale-updates-refused",
            "upserts and tombstones refused as older than the stored row (or than a higher"
                + " version of their key in the same batch)");
    deadLettered = group.counter("records-dead-lettered", "records sent to the dead-letter queue");
    tombstonesIgnored =
        group.counter(
            "tombstones-ignored", "tombstones skipped by the write mode or tombstones=ignore");
    tombstonesWithoutTable =
        group.counter(
            "tombstones-without-table",
            "upsert tombstones whose table, named from the record's key, does not exist"
                + " (auto.create=false) and no dead-letter queue takes them: nothing to delete,"
                + " so done");
    retries = group.counter("retries", "batches retried after a transient database error");
    batchesRewritten =
        group.counter(
            "batches-rewritten",
            "batches written a second time: append batches whose COPY met an event id already"
                + " stored, upsert batches holding keys that are one row of the table (a citext"
                + " key in two cases)");
    rowsCopiedBinary =
        group.counter(
            "rows-copied-binary",
            "append-mode rows committed through COPY's binary format; the others went through"
                + " text COPY (a table whose column types differ from the sink's own) or INSERT");
    closedPartitionSkipped =
        group.counter(
            "records-skipped-closed-partition",
            "records of partitions closed by a rebalance that Connect still delivered (after a"
                + " retried put, under a transform that renames topics): left to their new owner");
  }

  @Override
  public void close() {
    group.close();
  }
}
