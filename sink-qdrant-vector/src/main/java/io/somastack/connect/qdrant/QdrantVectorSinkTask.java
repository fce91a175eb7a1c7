package io.somastack.connect.qdrant;

import com.google.common.util.concurrent.Uninterruptibles;
import io.grpc.Status;
import io.somastack.connect.common.config.DeadLetterQueue;
import io.somastack.connect.common.config.Version;
import io.somastack.connect.common.record.ClosedPartitions;
import io.somastack.connect.common.record.OffsetRanges;
import io.somastack.connect.common.record.Positions;
import io.somastack.connect.common.retry.Backoff;
import io.somastack.connect.common.retry.RetryClock;
import io.somastack.connect.common.retry.RetryTimeout;
import io.somastack.connect.qdrant.embed.Embedder;
import io.somastack.connect.qdrant.mapping.PointMapper;
import io.somastack.connect.qdrant.mapping.PointMapper.Rejected;
import io.somastack.connect.qdrant.mapping.PointOp;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
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
 * Writes the batches Connect delivers to Qdrant with several batches in flight behind the caller,
 * so that mapping a put's records (embedding, collapsing per point id) overlaps the earlier puts'
 * requests instead of adding to their round trips. A put maps its records, acknowledges the batches
 * that are done, sends its own and returns. A batch that writes a point an unacknowledged batch
 * also writes waits until that one is acknowledged, so writes to one id land in put order; batches
 * on different points cannot change each other's outcome, whichever Qdrant applies first.
 *
 * <p>Offsets are acknowledged only once Qdrant acknowledged the batch's writes ({@code wait=true})
 * and the dead letter queue took its rejects, and only oldest batch first, so a partition's offset
 * never passes a batch that is not written; {@link #preCommit} waits for the batches in flight and
 * hands Connect nothing else (a partition with none of its records left unacknowledged goes as far
 * as Connect consumed it, past the records it filtered before put). When Qdrant cannot take a
 * batch, it (and every later batch not written) is kept, and the next put sends the kept batches
 * again, all together (they write different points), before it maps its records; put throws {@link
 * RetriableException} so Connect delivers that put's records (never sent) again after a backoff,
 * and a batch it had mapped of them already is sent when they come, not embedded again: an outage
 * loses nothing and dead-letters nothing; upserts and deletes by id are idempotent, so sending a
 * batch again is safe. A run of such failures is retried until {@code retry.timeout.ms} has passed
 * since its first one; then the task fails, and what it had not acknowledged is never committed,
 * for a restarted task to write.
 */
public class QdrantVectorSinkTask extends SinkTask {

  private static final Logger log = LoggerFactory.getLogger(QdrantVectorSinkTask.class);

  /** Connect's own option (ConnectorConfig), not the sink's: read, never defined, here. */
  static final String ERRORS_LOG_ENABLE = "errors.log.enable";

  private QdrantSinkConfig config;
  private SinkMetrics metrics;
  private Embedder embedder;
  private PointMapper mapper;
  private QdrantWriter writer;
  private Backoff backoff;
  private ErrantRecordReporter reporter;

  /**
   * Connect's errors.log.enable, which the connector copies into the task's config with the rest of
   * its own: when on, Connect logs every reported record's exception at ERROR, so a dead letter's
   * reason is then one the log may hold (see {@link #deadLetter}).
   */
  private boolean errorsLogged;

  /**
   * Runs the writes of the batches in flight (one thread each) while the task maps the next; see
   * {@link PendingBatch} for what those threads touch.
   */
  private ExecutorService sender;

  /**
   * Batches in flight at most: the requests in flight are bounded apart (by the writer), so one
   * batch more than requests keeps a batch ready for every request slot that frees up.
   */
  private int maxBatchesInFlight;

  /**
   * Batches sent and not yet acknowledged, oldest first, or kept after a transient failure to be
   * sent again, all together, before anything else (acknowledged still oldest first). Nothing in
   * flight is behind a kept batch: a failure waits for every batch in flight before it keeps them,
   * and a resend that stops at a batch it cannot send keeps the ones after it.
   */
  private final Deque<PendingBatch> unacknowledged = new ArrayDeque<>();

  private final Map<TopicPartition, OffsetAndMetadata> acknowledged = new HashMap<>();

  /**
   * The batch a put mapped and then did not send, as a transient failure after the mapping (a
   * collection's check, a batch before it) made the put throw {@link RetriableException}: Connect
   * delivers those records again, and they are sent as mapped then instead of being embedded (an
   * embedding service bills per call) again on every retry. Null when there is none.
   */
  private MappedNotSent mappedNotSent;

  /** Partitions closed and not opened again: their offsets are no longer this task's to report. */
  private final ClosedPartitions closedPartitions = new ClosedPartitions();

  /** The run of transient failures going on: retried until retry.timeout.ms has passed. */
  private RetryClock retries;

  /**
   * When the first write found failed (and not yet followed by a written batch) was sent: a run of
   * failures starts there, not a commit interval and a request deadline later, when a put hands the
   * failure to {@link #retryLater}.
   */
  private OptionalLong failedWriteSent = OptionalLong.empty();

  private ConnectException failure;

  /**
   * Whether failed records go to a dead letter queue (not only to the errant record reporter, which
   * Connect also makes for errors.log.enable alone).
   */
  private boolean deadLetterQueue;

  /** Reads the time for retry.timeout.ms: System::nanoTime, or a test's hand-moved clock. */
  private final LongSupplier nanoTime;

  public QdrantVectorSinkTask() {
    this(System::nanoTime);
  }

  QdrantVectorSinkTask(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
  }

  @Override
  public String version() {
    return Version.of(QdrantVectorSinkTask.class);
  }

  @Override
  public void start(Map<String, String> props) {
    config = new QdrantSinkConfig(props);
    metrics = new SinkMetrics(context.pluginMetrics());
    embedder = Embedder.create(config);
    mapper = new PointMapper(config, embedder, metrics::embedded, metrics::tombstonesIgnored);
    writer = QdrantWriter.open(config, metrics);
    backoff = new Backoff(config.retryBackoff(), config.retryBackoffMax());
    retries = RetryTimeout.clock(config.retryTimeoutMs(), nanoTime);
    reporter = errantRecordReporter();
    errorsLogged = Boolean.parseBoolean(props.getOrDefault(ERRORS_LOG_ENABLE, "false").trim());
    deadLetterQueue = DeadLetterQueue.configured(props);
    maxBatchesInFlight = config.maxInFlight() + 1;
    AtomicInteger threads = new AtomicInteger();
    sender =
        Executors.newFixedThreadPool(
            maxBatchesInFlight,
            runnable -> {
              Thread thread =
                  new Thread(runnable, "qdrant-sink-writer-" + threads.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            });
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

  /**
   * Maps the records while earlier batches are in flight, acknowledges those that are done
   * (offsets, dead letters), waits for the oldest ones while the records' batch shares a point with
   * one of them or too many are in flight, then sends it and returns without waiting for it. An
   * empty put only acknowledges what is done and sends kept batches again.
   */
  @Override
  public void put(Collection<SinkRecord> delivered) {
    if (failure != null) {
      throw failure; // a task that failed once stays failed: its batch was never acknowledged
    }
    Collection<SinkRecord> records = withoutClosedPartitions(delivered);
    PendingBatch next = null;
    try {
      if (unacknowledged.stream().anyMatch(PendingBatch::kept)) {
        // Kept batches go again first, before these records are mapped: while Qdrant keeps
        // failing, the records need not be mapped at all. Not only a kept head: closing a
        // partition can remove the kept batch before a written one, leaving a kept one behind.
        resendKept();
        while (!unacknowledged.isEmpty()) {
          settleOldest();
        }
      }
      next = records.isEmpty() ? null : mappedBatchOf(records);
      while (!unacknowledged.isEmpty() && unacknowledged.peekFirst().sent.isDone()) {
        settleOldest();
      }
      if (next != null) {
        while (!unacknowledged.isEmpty()
            && (unacknowledged.size() >= maxBatchesInFlight
                || bytesInFlight() + next.bytes > config.maxInFlightBytes()
                || sharesAPointInFlight(next))) {
          settleOldest();
        }
        unacknowledged.addLast(submit(next));
      }
      retries.reset();
      closedPartitions.putDone();
    } catch (RetriableException e) {
      closedPartitions.putFailed(delivered);
      // Nothing of these records was sent: Connect delivers them again, to find them mapped
      if (next != null) {
        mappedNotSent = new MappedNotSent(List.copyOf(records), next);
      }
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

  /**
   * The records less those of partitions closed and not opened again, which Connect can deliver
   * after close (see {@link ClosedPartitions}). The partition's new owner writes them; written here
   * too, late, they could undo its newer write.
   */
  private Collection<SinkRecord> withoutClosedPartitions(Collection<SinkRecord> records) {
    return closedPartitions.own(records, metrics::skippedClosedPartition);
  }

  /**
   * The batch {@link #mappedNotSent} holds when Connect delivers its records again, else the
   * records mapped now. Only those very records (by position) take it: after a rebalance Connect
   * delivers fewer (see {@link #withoutClosedPartitions}), and the closed partitions' records must
   * not be written.
   */
  private PendingBatch mappedBatchOf(Collection<SinkRecord> records) {
    MappedNotSent mapped = mappedNotSent;
    mappedNotSent = null;
    return mapped != null && mapped.isOf(records) ? mapped.batch() : map(records);
  }

  private PendingBatch map(Collection<SinkRecord> records) {
    List<Rejected> rejected = new ArrayList<>();
    List<PointOp> ops = mapper.map(records, rejected);
    if (reporter == null && !rejected.isEmpty()) {
      // without a dead letter queue the batch can never be acknowledged: fail before sending it
      throw cannotWrite(rejected.get(0));
    }
    return new PendingBatch(ops, rejected, records);
  }

  /** Bytes of the points of every batch between put and acknowledgement. */
  private long bytesInFlight() {
    long bytes = 0;
    for (PendingBatch batch : unacknowledged) {
      bytes += batch.bytes;
    }
    return bytes;
  }

  private boolean sharesAPointInFlight(PendingBatch next) {
    for (PendingBatch batch : unacknowledged) {
      if (batch.writes.sharesAPointWith(next.writes)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Sends every kept batch again at once. They were in flight together, so they write different
   * points (a batch is sent only once no batch before it shares a point, and closing partitions
   * only takes points away), and one after another up to max.in.flight + 1 deadlines could outlast
   * the consumer's max.poll.interval.ms. A batch that cannot be sent (its collection gone) stays
   * kept, in its place, and so do those after it.
   */
  private void resendKept() {
    List<PendingBatch> batches = new ArrayList<>(unacknowledged);
    try {
      for (int i = 0; i < batches.size(); i++) {
        if (batches.get(i).kept()) {
          batches.set(i, submit(batches.get(i)));
        }
      }
    } finally {
      unacknowledged.clear();
      unacknowledged.addAll(batches);
    }
  }

  /**
   * Checks the batch's collections here, so a configuration error fails this put, then sends what
   * is left of the batch (see {@link #withoutMissingCollections}) and returns that.
   */
  private PendingBatch submit(PendingBatch batch) {
    PendingBatch sending = withoutMissingCollections(batch);
    sending.sentNanos = retries.now();
    sending.sent = sender.submit(() -> writer.write(sending.writes));
    return sending;
  }

  /**
   * The batch without its operations on collections that are not there (collection.create=false) or
   * made for other vectors or payload indexes than configured. A fixed collection that is missing
   * or wrong is a configuration error, thrown, and so is one a template makes from the topic and
   * partition alone (the default ${topic}): every record of that topic would go to the dead letter
   * queue. One a template made from a record's key or value (a tenant's) is that record's problem:
   * their records go to the dead letter queue, deletes with upserts in their order, so that a
   * replay once the collection is there and right ends as the stream would have; without one, an
   * upsert fails the task naming the first of them, and a delete of a missing collection is done
   * (nothing to delete). The rest of the batch is written. Such a collection is not remembered, so
   * one made or fixed later is written to from the next batch on.
   *
   * <p>A collection the batch only deletes from is checked but never created: a tenant's dropped to
   * offboard the tenant must not come back, empty, for a tombstone. When it is missing its deletes
   * are done.
   */
  private PendingBatch withoutMissingCollections(PendingBatch batch) {
    Map<String, QdrantWriter.UnusableCollectionException> unusable = new HashMap<>();
    Set<String> absent = new HashSet<>();
    Map<String, SinkRecord> collections = new LinkedHashMap<>();
    for (String collection : batch.writes.collections()) {
      collections.put(collection, batch.writes.recordOf(collection));
    }
    Set<String> checkOnly = config.createCollections() ? batch.onlyDeletedFrom() : Set.of();
    RuntimeException failed = null;
    // checked several at once (a burst of new tenants), each outcome sorted as it always was
    for (Map.Entry<String, Object> found :
        writer.ensureCollections(collections, checkOnly).entrySet()) {
      if (found.getValue() == QdrantWriter.Found.ABSENT) {
        absent.add(found.getKey());
      } else if (found.getValue() instanceof QdrantWriter.UnusableCollectionException e
          && config.collectionFromRecordData()) {
        unusable.put(found.getKey(), e);
      } else if (found.getValue() instanceof RuntimeException e) {
        // the first that is not retriable, else the first: as one by one, but every check done
        if (failed == null
            || failed instanceof RetriableException && !(e instanceof RetriableException)) {
          failed = e;
        }
      }
    }
    if (failed != null) {
      throw failed;
    }
    if (unusable.isEmpty() && absent.isEmpty()) {
      return batch;
    }
    PendingBatch left = batch.withoutCollections(unusable, absent, !deadLetterQueue);
    int refused = left.rejected.size() - batch.rejected.size();
    if (reporter == null && refused > 0) {
      throw cannotWrite(left.rejected.get(batch.rejected.size()));
    }
    // counted, not named: the names come from record values (a tenant's); each dead letter's
    // reason header names its collection
    if (!unusable.isEmpty()) {
      log.warn(
          "{} Qdrant collection(s) named by records do not exist (and collection.create is false)"
              + " or are made for other vectors or payload indexes than configured; of the records"
              + " {}, {} go to the errant record reporter (the dead letter queue, whose reason"
              + " header names the collection, when one is configured)",
          unusable.size(),
          batch,
          refused);
    }
    int deletesDone = batch.ops.size() - left.ops.size() - refused;
    if (deletesDone > 0) {
      log.info(
          "{} tombstone(s) of the records {} have nothing to delete: their Qdrant collection(s)"
              + " do not exist ({} of them, not created for deletes alone)",
          deletesDone,
          batch,
          absent.size() + (int) unusable.values().stream().filter(this::missing).count());
    }
    return left;
  }

  private boolean missing(QdrantWriter.UnusableCollectionException e) {
    return e instanceof QdrantWriter.MissingCollectionException;
  }

  /**
   * Waits for the oldest batch, which was sent (put sends kept batches again before it settles
   * them; preCommit and close stop at a kept one), and acknowledges it. A transient failure keeps
   * it and every later batch not written, and throws {@link RetriableException}; any other failure
   * drops them all and throws {@link ConnectException}. The wait is bounded by the requests'
   * deadlines (qdrant.timeout.ms each), so it ignores interrupts.
   */
  private void settleOldest() {
    PendingBatch batch = unacknowledged.peekFirst();
    if (batch.kept()) {
      throw new IllegalStateException("a kept batch is sent again by put before it is settled");
    }
    List<Rejected> refused;
    try {
      refused = Uninterruptibles.getUninterruptibly(batch.sent);
    } catch (ExecutionException e) {
      throw failed(batch, e.getCause());
    }
    unacknowledged.removeFirst();
    failedWriteSent = OptionalLong.empty(); // a write went through: a later failure starts a run
    try {
      reportDeadLetters(batch, refused);
    } catch (RuntimeException e) {
      dropAll(); // the later batches' offsets must not pass this batch's records
      // never retriable, whatever the reporter threw: "sent again later" would be untrue, the
      // batches are forgotten, and preCommit would hand Connect offsets past them
      throw e instanceof ConnectException && !(e instanceof RetriableException)
          ? e
          : new ConnectException("The dead letter queue did not take a record: " + e, e);
    }
    batch.offsets.forEach(this::acknowledge);
  }

  /** Moves a partition's acknowledged position forward, never back. */
  private void acknowledge(TopicPartition partition, OffsetAndMetadata next) {
    closedPartitions.written(partition, next.offset());
    acknowledged.merge(partition, next, (old, now) -> now.offset() > old.offset() ? now : old);
  }

  private void reportDeadLetters(PendingBatch batch, List<Rejected> refused) {
    List<Future<Void>> reports = new ArrayList<>();
    batch.deadLetters(refused).forEach(r -> reports.add(deadLetter(r)));
    // Connect waits for reported records before it calls preCommit, but a batch settled inside
    // preCommit reports after that wait: an offset must not be committed before the DLQ has them.
    for (Future<Void> report : reports) {
      try {
        Uninterruptibles.getUninterruptibly(report);
        metrics.deadLettered(); // counted once the DLQ topic has it
      } catch (ExecutionException e) {
        throw new ConnectException(
            "The dead letter queue did not take a record: " + e.getCause(), e.getCause());
      }
    }
  }

  /** Waits for every batch in flight and forgets them all: a failure ends their acknowledgement. */
  private void dropAll() {
    unacknowledged.forEach(PendingBatch::written);
    unacknowledged.clear();
  }

  /**
   * What a failure of the batch leaves: every batch in flight is waited for (no request of the
   * failed one is running any more: the writer saw to that), so that nothing races the batches sent
   * again. After a transient failure, the batches not written are kept, in order; the others are
   * acknowledged in turn when the kept ones before them are written.
   */
  private RuntimeException failed(PendingBatch batch, Throwable cause) {
    if (cause instanceof RetriableException retriable) {
      if (failedWriteSent.isEmpty()) {
        failedWriteSent = OptionalLong.of(batch.sentNanos);
      }
      for (PendingBatch other : unacknowledged) {
        if (!other.written()) {
          other.sent = null;
        }
      }
      return retriable;
    }
    dropAll();
    // named by offsets: the failure surfaces a put later, with other records in hand
    return new ConnectException(
        "Writing the records " + batch + " to Qdrant failed: " + cause, cause);
  }

  /**
   * Settles the batches in flight for preCommit, flush and close, which hand Connect what is
   * acknowledged and must not throw for Qdrant's sake (a throwing preCommit rewinds the consumer):
   * kept batches go again with the next put, a failure is thrown by the next put.
   */
  private void settleQuietly() {
    try {
      while (!unacknowledged.isEmpty() && !unacknowledged.peekFirst().kept()) {
        settleOldest();
      }
    } catch (RetriableException e) {
      log.warn(
          "Qdrant could not take a batch in flight; the next put sends it again: {}",
          e.getMessage());
    } catch (ConnectException e) {
      log.error("Qdrant sink failed; the next put fails the task", e);
      failure = failure == null ? e : failure;
    } catch (RuntimeException e) {
      log.error("Qdrant sink failed; the next put fails the task", e);
      failure = failure == null ? new ConnectException("Qdrant sink failed: " + e, e) : failure;
    }
  }

  /**
   * Asks Connect to deliver the records again after a backoff, or, once retry.timeout.ms has passed
   * since the first failure of this run, fails the task for good. A failed write counts from when
   * it was sent, however much later it is found.
   */
  private void retryLater(Collection<SinkRecord> records, RetriableException e) {
    retries.failed(failedWriteSent.orElseGet(retries::now));
    failedWriteSent = OptionalLong.empty();
    if (retries.expired()) {
      giveUp(records, e);
    }
    int failedAttempts = retries.failures();
    long wait = backoff.delayMs(failedAttempts - 1);
    metrics.retried();
    if (records.isEmpty()) {
      log.warn(
          "Qdrant cannot take the pending batch (attempt {}), retrying in {} ms: {}",
          failedAttempts,
          wait,
          e.getMessage());
    } else {
      SinkRecord first = records.iterator().next();
      log.warn(
          "Qdrant cannot take records now (attempt {}); {} record(s) from {} come again in {} ms:"
              + " {}",
          failedAttempts,
          records.size(),
          Positions.of(first),
          wait,
          e.getMessage());
    }
    context.timeout(wait);
  }

  /**
   * Fails the task: a fault that looked transient outlasted retry.timeout.ms. Only batches already
   * in flight can still be acknowledged (preCommit waits for them); kept ones never are, nor is a
   * partition reported past them ({@link #isSettled}), so a restarted task gets those records
   * again. Named by gRPC status and positions, never by contents.
   */
  private void giveUp(Collection<SinkRecord> records, RetriableException e) {
    OffsetRanges pending = new OffsetRanges();
    unacknowledged.forEach(batch -> pending.addAll(batch.ranges));
    pending.addAll(OffsetRanges.of(records));
    failure =
        new ConnectException(
            RetryTimeout.gaveUp(
                retries,
                config.retryTimeoutMs(),
                "transient failures",
                lastError(e),
                pending.toString(),
                "Their offsets are not committed: a restarted task gets them again."),
            e);
    log.error(failure.getMessage());
    throw failure;
  }

  /**
   * The gRPC status of a failed call (with the collection and its limit for a full collection),
   * else (an embedding request) the failure's own summary.
   */
  private static String lastError(RetriableException e) {
    if (e instanceof QdrantWriter.CollectionLimitException) {
      return e.getMessage(); // names the collection and Qdrant's limit, no record data
    }
    Status.Code code = Status.fromThrowable(e).getCode();
    return code == Status.Code.UNKNOWN ? e.getMessage() : "gRPC status " + code;
  }

  private static DataException cannotWrite(Rejected rejected) {
    SinkRecord record = rejected.record();
    return new DataException(
        "Record "
            + Positions.of(record)
            + " cannot be written to Qdrant: "
            + rejected.loggedReason()
            + ". Set errors.tolerance=all and errors.deadletterqueue.topic.name to route such"
            + " records to a dead letter queue.");
  }

  private Future<Void> deadLetter(Rejected rejected) {
    if (reporter == null) {
      throw cannotWrite(rejected);
    }
    SinkRecord record = rejected.record();
    log.warn(
        "Sending record {} to the dead letter queue: {}",
        Positions.of(record),
        rejected.loggedReason());
    // With errors.log.enable Connect logs the reported exception at ERROR, and the full reason
    // may hold record data (a tenant's collection name, Qdrant's text quoting a value): the dead
    // letter then carries the reason the task logs, and its headers lack those.
    String reason = errorsLogged ? rejected.loggedReason() : rejected.reason();
    return reporter.report(record, new DataException(reason));
  }

  /** Waits for the batches in flight; see {@link #preCommit}. */
  @Override
  public void flush(Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
    settleQuietly();
  }

  /**
   * Only offsets whose records Qdrant acknowledged (or the DLQ took), after waiting for the batches
   * in flight (within their requests' deadlines). A partition with no record in a batch still in
   * flight or kept is reported where Connect consumed it to: every record of it put was given is
   * acknowledged, and Connect moves its offset past records it never hands to put (an SMT filtered
   * them, errors.tolerance=all skipped them), which would otherwise never be committed.
   */
  @Override
  public Map<TopicPartition, OffsetAndMetadata> preCommit(
      Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
    flush(currentOffsets);
    Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
    for (Map.Entry<TopicPartition, OffsetAndMetadata> consumed : currentOffsets.entrySet()) {
      TopicPartition partition = consumed.getKey();
      if (isSettled(partition)) {
        // kept as acknowledged: a later batch in flight or kept must not report less, or Connect
        // would commit the lower offset and a restart read filtered records again
        acknowledge(partition, consumed.getValue());
      }
      OffsetAndMetadata offset = acknowledged.get(partition);
      if (offset != null) {
        commit.put(partition, offset);
      }
    }
    return commit;
  }

  /**
   * Whether every record of the partition put was given is acknowledged: none is in a batch not yet
   * acknowledged, and no failure dropped such batches (put fails from then on). Not for a closed
   * partition, whose records in kept batches were dropped for its next owner, nor for one opened
   * again whose records Connect held from before are skipped until it is written past them ({@link
   * ClosedPartitions#holdsBack}).
   */
  private boolean isSettled(TopicPartition partition) {
    if (failure != null
        || closedPartitions.contains(partition)
        || closedPartitions.holdsBack(partition)) {
      return false;
    }
    for (PendingBatch batch : unacknowledged) {
      if (batch.offsets.containsKey(partition)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void open(Collection<TopicPartition> partitions) {
    closedPartitions.opened(partitions);
  }

  /**
   * Nothing of a closed partition may reach Qdrant after this returns: its next owner starts from
   * the last committed offset and writes those records itself, and a late write of ours could
   * overwrite its newer ones. So the batches in flight are waited for, and batches kept to be sent
   * again lose the closed partitions' records (their dead letters included).
   */
  @Override
  public void close(Collection<TopicPartition> partitions) {
    settleQuietly();
    List<PendingBatch> left = new ArrayList<>();
    OffsetRanges dropped = new OffsetRanges();
    int droppedCount = 0;
    for (PendingBatch batch : unacknowledged) {
      PendingBatch kept = batch.without(partitions);
      if (kept != null) {
        left.add(kept);
      }
      if (kept != batch && !batch.written()) {
        // records never written, with their dead letters: the partitions' new owner has them
        droppedCount += batch.recordsOf(partitions, dropped);
      }
    }
    if (droppedCount > 0) {
      metrics.skippedClosedPartition(droppedCount);
      log.info(
          "Dropped {} record(s) of partitions closed by a rebalance ({}) from batches kept to be"
              + " sent again: their new owner writes them",
          droppedCount,
          dropped);
    }
    unacknowledged.clear();
    unacknowledged.addAll(left);
    if (unacknowledged.stream().noneMatch(PendingBatch::kept)) {
      failedWriteSent = OptionalLong.empty(); // its batch is gone: no run starts from its send
    }
    partitions.forEach(acknowledged::remove);
    closedPartitions.closed(partitions);
    if (mappedNotSent != null
        && !Collections.disjoint(mappedNotSent.batch().offsets.keySet(), partitions)) {
      // as close promises: nothing of a closed partition reaches Qdrant from here any more
      mappedNotSent = null;
    }
  }

  /**
   * How long {@link #stop} waits for the batches in flight before it cancels them: well within
   * Connect's task.shutdown.graceful.timeout.ms (5 s by default), past which the worker abandons
   * the task, while a Qdrant that answers at all answers a batch long before.
   */
  static final Duration STOP_WAIT = Duration.ofSeconds(2);

  /** How long {@link #stop} then waits for the sender threads, their requests cancelled, to end. */
  private static final Duration STOP_SENDERS_WAIT = Duration.ofSeconds(1);

  /**
   * Lets the batches in flight finish, for {@link #STOP_WAIT} at most, then cancels those that have
   * not (the channel is shut down at once, failing their requests) and ends the sender threads, so
   * a slow or unresponsive Qdrant cannot hold stop for up to qdrant.timeout.ms per batch, past
   * Connect's graceful shutdown timeout. Dropping them is safe: offsets are committed only for
   * acknowledged batches, and a stopping task's offsets are no longer committed at all (it neither
   * acknowledges nor dead-letters here), so Connect delivers their records again to whichever task
   * takes the partitions next. Qdrant may still apply a request the client gave up on; the points
   * are written again under the same ids by that delivery (upserts and deletes by id are
   * idempotent), so the replay is harmless. preCommit, flush and close(partitions), whose offsets
   * must be durable, still wait for every batch in flight within its requests' deadlines.
   */
  @Override
  public void stop() {
    List<PendingBatch> cancelled = awaitInFlight(STOP_WAIT);
    unacknowledged.clear();
    mappedNotSent = null;
    if (!cancelled.isEmpty()) {
      OffsetRanges pending = new OffsetRanges();
      cancelled.forEach(batch -> pending.addAll(batch.ranges));
      log.warn(
          "Qdrant did not answer {} batch(es) in flight within {} ms of stop; their requests are"
              + " cancelled and their records, never committed, come again to the partitions'"
              + " next owner: {}",
          cancelled.size(),
          STOP_WAIT.toMillis(),
          pending);
      if (writer != null) {
        writer.abort(); // fails the requests still in flight: nothing waits for their deadlines
      }
    }
    if (sender != null) {
      sender.shutdownNow(); // a sender still waiting (for a request slot) is interrupted
      awaitTermination(sender, STOP_SENDERS_WAIT);
    }
    closeQuietly(writer);
    closeQuietly(embedder);
    closeQuietly(metrics);
  }

  /**
   * Waits for the batches sent and not yet answered, all within {@code wait} together, whatever
   * their outcome (nothing is acknowledged any more); returns those still not answered.
   */
  private List<PendingBatch> awaitInFlight(Duration wait) {
    long deadline = System.nanoTime() + wait.toNanos();
    List<PendingBatch> notDone = new ArrayList<>();
    for (PendingBatch batch : unacknowledged) {
      if (batch.kept()) {
        continue; // not in flight: kept to be sent again, which no put does any more
      }
      try {
        Uninterruptibles.getUninterruptibly(
            batch.sent, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        notDone.add(batch);
      } catch (ExecutionException | RuntimeException e) {
        // its outcome no longer matters: its offsets are not committed either way
      }
    }
    return notDone;
  }

  private static void awaitTermination(ExecutorService executor, Duration wait) {
    if (!Uninterruptibles.awaitTerminationUninterruptibly(
        executor, wait.toMillis(), TimeUnit.MILLISECONDS)) {
      log.warn("Qdrant sink writer threads did not end within {} ms of stop", wait.toMillis());
    }
  }

  /** A put's records, in the order put was given them, and the batch mapped from them. */
  private record MappedNotSent(List<SinkRecord> records, PendingBatch batch) {

    /** Whether the delivered records are these, by position, in the same order. */
    boolean isOf(Collection<SinkRecord> delivered) {
      if (delivered.size() != records.size()) {
        return false;
      }
      Iterator<SinkRecord> mapped = records.iterator();
      for (SinkRecord record : delivered) {
        if (!Positions.of(record).equals(Positions.of(mapped.next()))) {
          return false;
        }
      }
      return true;
    }
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
