package io.somastack.connect.qdrant.mapping;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.UnknownFieldSet;
import com.google.protobuf.UnsafeByteOperations;
import io.qdrant.client.grpc.Common.PointId;
import io.qdrant.client.grpc.Points.UpsertPoints;
import io.qdrant.client.grpc.Points.WriteOrdering;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * One put's operations, collapsed: per collection only the last operation per point id is sent,
 * kept in the order those last operations arrived (the ones it replaced are remembered, in case
 * Qdrant refuses it). Collapsed, a batch writes each point of a collection once, so no two of its
 * requests touch one point and the writer may send them all at once, in any order: per collection
 * its upserts, then its deletes, each cut to the request bounds. (Keeping upserts and deletes in
 * record order instead would cost a sequential round trip per alternation.) The write that stands
 * in for a refused one (see {@link #superseded}) is of the refused one's point, so it too touches
 * nothing else of the batch.
 */
public final class WriteBatch {

  /** One request: operations of one kind on one collection, each on a different point. */
  public record Request(String collection, boolean upsert, List<PointOp> ops) {

    /** The upsert request of these (upsert) operations, waited for, with the given ordering. */
    public UpsertPoints upsert(WriteOrdering ordering) {
      // the points as they were encoded when mapped; as unknown fields of the message, protobuf
      // writes them out as they are, which on the wire is its repeated field points, item by item
      UnknownFieldSet.Field.Builder points = UnknownFieldSet.Field.newBuilder();
      for (PointOp op : ops) {
        points.addLengthDelimited(UnsafeByteOperations.unsafeWrap(((PointOp.Upsert) op).encoded()));
      }
      return UpsertPoints.newBuilder()
          .setCollectionName(collection)
          .setWait(true)
          .setOrdering(ordering)
          .setUnknownFields(
              UnknownFieldSet.newBuilder()
                  .addField(UpsertPoints.POINTS_FIELD_NUMBER, points.build())
                  .build())
          .build();
    }
  }

  private final Map<String, LinkedHashMap<PointId, PointOp>> collections = new LinkedHashMap<>();

  /** For an operation that replaced an earlier one of its point, that earlier one. */
  private final Map<PointOp, PointOp> superseded = new IdentityHashMap<>();

  public static WriteBatch of(List<PointOp> ops) {
    WriteBatch batch = new WriteBatch();
    ops.forEach(batch::add);
    return batch;
  }

  public void add(PointOp op) {
    LinkedHashMap<PointId, PointOp> ops =
        collections.computeIfAbsent(op.collection(), c -> new LinkedHashMap<>());
    // remove first: a re-put would keep the old position, and the last write must move to the end
    PointOp earlier = ops.remove(op.id());
    if (earlier != null) {
      superseded.put(op, earlier);
    }
    ops.put(op.id(), op);
  }

  /**
   * The operation this one replaced in collapsing, or null. When Qdrant refuses an operation, the
   * point must end as the write before it left it, so the writer applies that one instead.
   */
  public PointOp superseded(PointOp op) {
    return superseded.get(op);
  }

  /**
   * Whether the two batches write a point in common. Batches that do not may be in flight together:
   * whichever Qdrant applies first, every point ends as the later batch leaves it.
   */
  public boolean sharesAPointWith(WriteBatch other) {
    for (Map.Entry<String, LinkedHashMap<PointId, PointOp>> mine : collections.entrySet()) {
      Map<PointId, PointOp> theirs = other.collections.get(mine.getKey());
      if (theirs == null) {
        continue;
      }
      boolean mineSmaller = mine.getValue().size() <= theirs.size();
      Map<PointId, PointOp> small = mineSmaller ? mine.getValue() : theirs;
      Map<PointId, PointOp> large = mineSmaller ? theirs : mine.getValue();
      for (PointId id : small.keySet()) {
        if (large.containsKey(id)) {
          return true;
        }
      }
    }
    return false;
  }

  public List<String> collections() {
    return List.copyOf(collections.keySet());
  }

  /** A record that writes to the collection: what logs name it by when its name is record data. */
  public SinkRecord recordOf(String collection) {
    return collections.get(collection).values().iterator().next().record();
  }

  /** The operations that survive collapsing, collection by collection. */
  public List<PointOp> ops() {
    return collections.values().stream().flatMap(m -> m.values().stream()).toList();
  }

  /** The requests, to be sent together; each within maxPoints and maxBytes. */
  public List<Request> requests(int maxPoints, long maxBytes) {
    return requests(maxPoints, maxBytes, collection -> maxPoints);
  }

  /**
   * The requests, to be sent together; each within maxPoints and maxBytes, and an upsert within
   * what {@code maxUpsertPoints} gives for its collection (strict mode's upsert_max_batchsize).
   */
  public List<Request> requests(
      int maxPoints, long maxBytes, ToIntFunction<String> maxUpsertPoints) {
    List<Request> requests = new ArrayList<>();
    for (Map.Entry<String, LinkedHashMap<PointId, PointOp>> collection : collections.entrySet()) {
      List<PointOp> upserts = new ArrayList<>();
      List<PointOp> deletes = new ArrayList<>();
      for (PointOp op : collection.getValue().values()) {
        (isUpsert(op) ? upserts : deletes).add(op);
      }
      if (!upserts.isEmpty()) {
        int upsertPoints = Math.max(1, maxUpsertPoints.applyAsInt(collection.getKey()));
        requests.addAll(
            chunks(collection.getKey(), upserts, Math.min(maxPoints, upsertPoints), maxBytes));
      }
      if (!deletes.isEmpty()) {
        requests.addAll(chunks(collection.getKey(), deletes, maxPoints, maxBytes));
      }
    }
    return requests;
  }

  /**
   * Bytes a request of the collection takes besides its operations, generously: the collection's
   * name, wait, the write ordering, a delete's point selector around its ids, and gRPC's five-byte
   * frame header. batch.max.bytes bounds the whole request, as a proxy in front of Qdrant sees it.
   */
  public static int requestOverhead(String collection) {
    return CodedOutputStream.computeStringSize(
            UpsertPoints.COLLECTION_NAME_FIELD_NUMBER, collection)
        + 32;
  }

  private static List<Request> chunks(
      String collection, List<PointOp> run, int maxPoints, long maxBytes) {
    List<Request> requests = new ArrayList<>();
    boolean upsert = isUpsert(run.get(0));
    List<PointOp> chunk = new ArrayList<>();
    int overhead = requestOverhead(collection);
    long bytes = overhead;
    for (PointOp op : run) {
      if (!chunk.isEmpty() && (chunk.size() >= maxPoints || bytes + op.bytes() > maxBytes)) {
        requests.add(new Request(collection, upsert, chunk));
        chunk = new ArrayList<>();
        bytes = overhead;
      }
      chunk.add(op);
      bytes += op.bytes();
    }
    requests.add(new Request(collection, upsert, chunk));
    return requests;
  }

  private static boolean isUpsert(PointOp op) {
    return op instanceof PointOp.Upsert;
  }
}
