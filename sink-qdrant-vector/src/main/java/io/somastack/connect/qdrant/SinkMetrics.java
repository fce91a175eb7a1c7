package io.somastack.connect.qdrant;

import io.somastack.connect.common.metrics.PluginMetricsGroup;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.common.metrics.Sensor;

/** The sink task's metrics, tagged by Connect with the connector and task. */
final class SinkMetrics implements QdrantWriter.Listener, AutoCloseable {

  private final PluginMetricsGroup group;
  private final Sensor upserted;
  private final Sensor deleted;
  private final Sensor tombstonesIgnored;
  private final Sensor embeddingLatency;
  private final Sensor embeddingBatch;
  private final Sensor requestLatency;
  private final Sensor requestsFailed;
  private final Sensor retries;
  private final Sensor deadLettered;
  private final Sensor skippedClosedPartition;

  SinkMetrics(PluginMetrics metrics) {
    group = new PluginMetricsGroup(metrics);
    // per acknowledged request: a batch sent again after a transient failure counts again the
    // requests Qdrant had acknowledged before it (each was applied, idempotently)
    upserted =
        group.counter(
            "points-upserted",
            "points in upsert requests Qdrant acknowledged (a batch sent again after a transient"
                + " failure counts again)");
    deleted =
        group.counter(
            "points-deleted",
            "points in delete requests Qdrant acknowledged (a batch sent again after a transient"
                + " failure counts again)");
    tombstonesIgnored =
        group.counter(
            "tombstones-ignored", "tombstones skipped, deleting nothing, as delete.enabled=false");
    embeddingLatency = group.distribution("embedding-latency-ms", "time to embed a batch (ms)");
    embeddingBatch = group.distribution("embedding-batch-size", "values embedded per batch");
    requestLatency =
        group.distribution(
            "request-latency-ms", "time of a Qdrant write request, failed ones included (ms)");
    requestsFailed =
        group.counter(
            "requests-failed",
            "Qdrant write requests that failed: refused (bad points, then found by splitting),"
                + " timed out, unanswered or locked");
    retries = group.counter("retries", "batches handed back to Connect for a retry");
    deadLettered = group.counter("records-dead-lettered", "records sent to the dead-letter queue");
    skippedClosedPartition =
        group.counter(
            "records-skipped-closed-partition",
            "records of partitions closed by a rebalance, left to their new owner: delivered after"
                + " close, or in batches kept to be sent again");
  }

  void embedded(int values, long nanos) {
    embeddingBatch.record(values);
    embeddingLatency.record(millis(nanos));
  }

  @Override
  public void written(boolean upsert, int points, long nanos) {
    requestLatency.record(millis(nanos));
    (upsert ? upserted : deleted).record(points);
  }

  void tombstonesIgnored(int count) {
    tombstonesIgnored.record(count);
  }

  @Override
  public void failed(long nanos) {
    requestLatency.record(millis(nanos));
    requestsFailed.record();
  }

  void retried() {
    retries.record();
  }

  void deadLettered() {
    deadLettered.record();
  }

  void skippedClosedPartition(int records) {
    skippedClosedPartition.record(records);
  }

  private static double millis(long nanos) {
    return nanos / (double) TimeUnit.MILLISECONDS.toNanos(1);
  }

  @Override
  public void close() {
    group.close();
  }
}
