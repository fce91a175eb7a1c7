package io.somastack.connect.qdrant;

import com.google.common.util.concurrent.Uninterruptibles;
import io.somastack.connect.common.record.OffsetRanges;
import io.somastack.connect.common.record.Positions;
import io.somastack.connect.qdrant.QdrantWriter.MissingCollectionException;
import io.somastack.connect.qdrant.QdrantWriter.UnusableCollectionException;
import io.somastack.connect.qdrant.mapping.PointMapper.Rejected;
import io.somastack.connect.qdrant.mapping.PointOp;
import io.somastack.connect.qdrant.mapping.WriteBatch;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * One put's records, mapped, from sending until they are acknowledged: what {@link
 * QdrantVectorSinkTask} keeps per batch (its writes, rejects, offsets and whether it is in flight
 * or kept to be sent again). Only the task thread reads or changes a batch; a sender thread only
 * runs the write of its {@link #writes} and hands the outcome back through {@link #sent}.
 */
final class PendingBatch {

  /** The put's operations in record order, before collapsing: what close filters. */
  final List<PointOp> ops;

  final WriteBatch writes;

  /** Records the mapper refused: dead-lettered only once the batch is written. */
  final List<Rejected> rejected;

  /**
   * The next offset per (original) partition, acknowledged once the batch is written; a partition
   * closed since the batch was made is no longer here.
   */
  final Map<TopicPartition, OffsetAndMetadata> offsets;

  /** The records' positions (original partition and offset), to name them in errors. */
  final OffsetRanges ranges;

  /**
   * Bytes of the batch's points as encoded for Qdrant (what qdrant.max.in.flight.bytes bounds):
   * every operation, not only those left after collapsing, as the batch holds them all.
   */
  final long bytes;

  /** The writes' outcome (the points Qdrant refused); null while the batch waits to be sent. */
  Future<List<Rejected>> sent;

  /**
   * When the writes were last sent, on the task's retry clock: a failure of them, found a put or a
   * preCommit later, is a failed attempt begun then.
   */
  long sentNanos;

  PendingBatch(List<PointOp> ops, List<Rejected> rejected, Collection<SinkRecord> records) {
    this(ops, WriteBatch.of(ops), rejected, offsetsOf(records), OffsetRanges.of(records));
  }

  private PendingBatch(
      List<PointOp> ops,
      WriteBatch writes,
      List<Rejected> rejected,
      Map<TopicPartition, OffsetAndMetadata> offsets,
      OffsetRanges ranges) {
    this.ops = ops;
    this.writes = writes;
    this.rejected = rejected;
    this.offsets = offsets;
    this.ranges = ranges;
    this.bytes = ops.stream().mapToLong(PointOp::bytes).sum();
  }

  boolean kept() {
    return sent == null;
  }

  /** Whether it was sent and Qdrant acknowledged it; waits for it (within its deadlines). */
  boolean written() {
    if (sent == null) {
      return false;
    }
    try {
      Uninterruptibles.getUninterruptibly(sent);
      return true;
    } catch (ExecutionException | RuntimeException e) {
      return false;
    }
  }

  /**
   * The records to dead-letter once the batch is written, in the order they are reported: those the
   * mapper rejected, then those whose points Qdrant refused, but not of the partitions closed since
   * it was written (no longer in {@link #offsets}): their next owner writes them again.
   */
  List<Rejected> deadLetters(List<Rejected> refused) {
    List<Rejected> deadLetters = new ArrayList<>(rejected);
    for (Rejected r : refused) {
      if (offsets.containsKey(Positions.partition(r.record()))) {
        deadLetters.add(r);
      }
    }
    return deadLetters;
  }

  /**
   * Adds to the ranges the positions of this batch's records (operations and rejects) of the
   * partitions, and counts them.
   */
  int recordsOf(Collection<TopicPartition> partitions, OffsetRanges ranges) {
    int count = 0;
    for (PointOp op : ops) {
      if (partitions.contains(Positions.partition(op.record()))) {
        ranges.add(op.record());
        count++;
      }
    }
    for (Rejected r : rejected) {
      if (partitions.contains(Positions.partition(r.record()))) {
        ranges.add(r.record());
        count++;
      }
    }
    return count;
  }

  /**
   * This batch without the records of the partitions; null when nothing is left, itself when it has
   * none of them. A batch Qdrant already wrote is not sent again (a later write of another owner of
   * those partitions may have landed since): only its acknowledgement loses them. A batch not
   * written is filtered before collapsing: a closed partition's write of a point id must not take
   * another partition's write of the same id with it.
   */
  PendingBatch without(Collection<TopicPartition> partitions) {
    if (Collections.disjoint(offsets.keySet(), partitions)) {
      return this;
    }
    Map<TopicPartition, OffsetAndMetadata> left = new HashMap<>(offsets);
    left.keySet().removeAll(partitions);
    if (left.isEmpty()) {
      return null;
    }
    List<Rejected> refused =
        rejected.stream()
            .filter(r -> !partitions.contains(Positions.partition(r.record())))
            .toList();
    if (written()) {
      PendingBatch acknowledging =
          new PendingBatch(ops, writes, refused, left, ranges.without(partitions));
      acknowledging.sent = sent;
      return acknowledging;
    }
    List<PointOp> kept =
        ops.stream().filter(op -> !partitions.contains(Positions.partition(op.record()))).toList();
    return new PendingBatch(kept, WriteBatch.of(kept), refused, left, ranges.without(partitions));
  }

  /**
   * This batch without its operations on the collections (name to why it cannot be used): each
   * upsert of them becomes a reject. A delete becomes one too unless the collection is missing and
   * {@code deletesDone} (no dead letter queue): the queue then holds the collection's records in
   * their order, and replayed once it exists ends as the stream would have (an upsert and its later
   * delete leave no point; the upsert alone would bring a deleted point back). Done, a delete of a
   * point of a collection that does not exist has nothing to delete. Every delete of a collection
   * that exists but is made for other vectors is rejected: its points are still there. The
   * operations on {@code absent} collections, which the batch only deletes from and which do not
   * exist, are done: nothing is there to delete. Every operation counts, not only those left after
   * collapsing: applied one by one, every upsert would fail.
   */
  PendingBatch withoutCollections(
      Map<String, UnusableCollectionException> unusable, Set<String> absent, boolean deletesDone) {
    List<PointOp> left = new ArrayList<>();
    List<Rejected> refused = new ArrayList<>(rejected);
    for (PointOp op : ops) {
      UnusableCollectionException why = unusable.get(op.collection());
      if (absent.contains(op.collection())) {
        continue; // a delete (the batch writes nothing else there) with nothing to delete
      }
      if (why == null) {
        left.add(op);
      } else if (op instanceof PointOp.Upsert
          || !deletesDone
          || !(why instanceof MissingCollectionException)) {
        refused.add(why.rejected(op.record()));
      }
    }
    return new PendingBatch(left, WriteBatch.of(left), refused, offsets, ranges);
  }

  /** The collections the batch only deletes from: it upserts nothing there. */
  Set<String> onlyDeletedFrom() {
    Set<String> deleted = new HashSet<>();
    Set<String> upserted = new HashSet<>();
    for (PointOp op : ops) {
      (op instanceof PointOp.Upsert ? upserted : deleted).add(op.collection());
    }
    deleted.removeAll(upserted);
    return deleted;
  }

  /** The partitions and highest offsets, never record contents: "t-0 up to offset 41, ...". */
  @Override
  public String toString() {
    return offsets.entrySet().stream()
        .map(e -> e.getKey() + " up to offset " + (e.getValue().offset() - 1))
        .sorted()
        .collect(Collectors.joining(", "));
  }

  /**
   * The next offset to commit per (original) partition. A batch holds runs of records of one
   * partition, so each run is counted once, with its highest offset, instead of once per record.
   */
  private static Map<TopicPartition, OffsetAndMetadata> offsetsOf(Collection<SinkRecord> records) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    String topic = null;
    int partition = 0;
    long highest = -1;
    for (SinkRecord record : records) {
      String recordTopic = record.originalTopic();
      int recordPartition = record.originalKafkaPartition();
      if (highest < 0 || !Objects.equals(recordTopic, topic) || recordPartition != partition) {
        addRun(offsets, topic, partition, highest);
        topic = recordTopic;
        partition = recordPartition;
        highest = record.originalKafkaOffset();
      }
      highest = Math.max(highest, record.originalKafkaOffset());
    }
    addRun(offsets, topic, partition, highest);
    return offsets;
  }

  private static void addRun(
      Map<TopicPartition, OffsetAndMetadata> offsets, String topic, int partition, long highest) {
    if (highest < 0) {
      return; // no run yet
    }
    OffsetAndMetadata next = new OffsetAndMetadata(highest + 1);
    offsets.merge(
        new TopicPartition(topic, partition),
        next,
        (old, now) -> now.offset() > old.offset() ? now : old);
  }
}
