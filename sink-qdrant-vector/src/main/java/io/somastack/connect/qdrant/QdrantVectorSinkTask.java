package io.somastack.connect.qdrant;

import io.somastack.connect.common.config.Version;
import io.somastack.connect.common.retry.Backoff;
import io.somastack.connect.qdrant.embed.Embedder;
import io.somastack.connect.qdrant.mapping.PointMapper;
import io.somastack.connect.qdrant.mapping.PointMapper.Rejected;
import io.somastack.connect.qdrant.mapping.PointOp;
import io.somastack.connect.qdrant.mapping.WriteBatch;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each batch Connect delivers to Qdrant before {@link #put} returns: map, embed, collapse
 * per point id, write with {@code wait=true}. Only then are the batch's offsets acknowledged, and
 * {@link #preCommit} hands Connect nothing else. When Qdrant cannot take a batch, put throws {@link
 * RetriableException} and Connect delivers the same batch again after a backoff, so an outage loses
 * nothing and dead-letters nothing; upserts are idempotent, so the retry is safe.
 */
public class QdrantVectorSinkTask extends SinkTask {

  private static final Logger log = LoggerFactory.getLogger(QdrantVectorSinkTask.class);

  private QdrantSinkConfig config;
  private SinkMetrics metrics;
  private Embedder embedder;
  private PointMapper mapper;
  private QdrantWriter writer;
  private Backoff backoff;
  private ErrantRecordReporter reporter;
  private final Map<TopicPartition, OffsetAndMetadata> acknowledged = new HashMap<>();
  private int failedAttempts;
  private ConnectException failure;

  @Override
  public String version() {
    return Version.of(QdrantVectorSinkTask.class);
  }

  @Override
  public void start(Map<String, String> props) {
    config = new QdrantSinkConfig(props);
    metrics = new SinkMetrics(context.pluginMetrics());
    embedder = Embedder.create(config);
    mapper = new PointMapper(config, embedder, metrics::embedded);
    writer = QdrantWriter.open(config, metrics::written);
    backoff = new Backoff(config.retryBackoff(), config.retryBackoffMax());
    reporter = errantRecordReporter();
    log.info(
        "Qdrant sink task started: {} -> collection {} ({} embedder, {} dimensions)",
        config.qdrantUrl(),
        config.collection(),
        config.embedder().name().toLowerCase(Locale.ROOT),
        config.vectorSize());
  }

  private ErrantRecordReporter errantRecordReporter() {
    try {
      return context.errantRecordReporter();
    } catch (NoSuchMethodError | NoClassDefFoundError e) {
      return null; // a worker older than Kafka 2.6
    }
  }

  @Override
  public void put(Collection<SinkRecord> records) {
    if (failure != null) {
      throw failure; // a task that failed once stays failed: its batch was never acknowledged
    }
    if (records.isEmpty()) {
      return;
    }
    try {
      write(records);
      failedAttempts = 0;
    } catch (RetriableException e) {
      retryLater(records, e);
      throw e;
    } catch (ConnectException e) {
      failure = e;
      throw e;
    } catch (RuntimeException e) {
      failure = new ConnectException("Qdrant sink failed: " + e, e);
      throw failure;
    }
  }

  private void write(Collection<SinkRecord> records) {
    List<Rejected> rejected = new ArrayList<>();
    List<PointOp> ops = mapper.map(records, rejected);
    WriteBatch batch = WriteBatch.of(ops);
    batch.collections().forEach(writer::ensureCollection);
    rejected.addAll(writer.write(batch));
    // Reported only now, once the batch is written, so a retried batch never reports twice.
    rejected.forEach(this::deadLetter);
    acknowledge(records);
  }

  private void retryLater(Collection<SinkRecord> records, RetriableException e) {
    long wait = backoff.delayMs(failedAttempts++);
    metrics.retried();
    SinkRecord first = records.iterator().next();
    log.warn(
        "Qdrant cannot take {} record(s) from {}-{} at offset {} (attempt {}), retrying in {} ms:"
            + " {}",
        records.size(),
        first.topic(),
        first.kafkaPartition(),
        first.kafkaOffset(),
        failedAttempts,
        wait,
        e.getMessage());
    context.timeout(wait);
  }

  private void deadLetter(Rejected rejected) {
    SinkRecord record = rejected.record();
    if (reporter == null) {
      throw new DataException(
          "Record "
              + record.topic()
              + "-"
              + record.kafkaPartition()
              + "@"
              + record.kafkaOffset()
              + " cannot be written to Qdrant: "
              + rejected.reason()
              + ". Set errors.tolerance=all and errors.deadletterqueue.topic.name to route such"
              + " records to a dead letter queue.");
    }
    log.warn(
        "Sending record {}-{}@{} to the dead letter queue: {}",
        record.topic(),
        record.kafkaPartition(),
        record.kafkaOffset(),
        rejected.reason());
    reporter.report(record, new DataException(rejected.reason()));
    metrics.deadLettered();
  }

  /**
   * Records the next offset to commit per partition. A batch holds runs of records of one
   * partition, so each run is acknowledged once, with its highest offset, instead of once per
   * record.
   */
  private void acknowledge(Collection<SinkRecord> records) {
    String topic = null;
    int partition = 0;
    long highest = -1;
    for (SinkRecord record : records) {
      String recordTopic = record.originalTopic();
      int recordPartition = record.originalKafkaPartition();
      if (highest < 0 || !Objects.equals(recordTopic, topic) || recordPartition != partition) {
        acknowledge(topic, partition, highest);
        topic = recordTopic;
        partition = recordPartition;
        highest = record.originalKafkaOffset();
      }
      highest = Math.max(highest, record.originalKafkaOffset());
    }
    acknowledge(topic, partition, highest);
  }

  private void acknowledge(String topic, int partition, long highest) {
    if (highest < 0) {
      return; // no run yet
    }
    OffsetAndMetadata next = new OffsetAndMetadata(highest + 1);
    acknowledged.merge(
        new TopicPartition(topic, partition),
        next,
        (old, now) -> now.offset() > old.offset() ? now : old);
  }

  /** Only offsets whose records Qdrant acknowledged (or the DLQ took). */
  @Override
  public Map<TopicPartition, OffsetAndMetadata> preCommit(
      Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
    Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
    for (TopicPartition partition : currentOffsets.keySet()) {
      OffsetAndMetadata offset = acknowledged.get(partition);
      if (offset != null) {
        commit.put(partition, offset);
      }
    }
    return commit;
  }

  @Override
  public void close(Collection<TopicPartition> partitions) {
    partitions.forEach(acknowledged::remove);
  }

  @Override
  public void stop() {
    closeQuietly(writer);
    closeQuietly(embedder);
    closeQuietly(metrics);
  }

  private static void closeQuietly(AutoCloseable closeable) {
    if (closeable == null) {
      return;
    }
    try {
      closeable.close();
    } catch (Exception e) {
      log.warn("Failed to close {}", closeable.getClass().getSimpleName(), e);
    }
  }
}
