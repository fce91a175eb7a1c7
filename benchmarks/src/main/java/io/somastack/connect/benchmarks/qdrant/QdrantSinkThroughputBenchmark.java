package io.somastack.connect.benchmarks.qdrant;

import com.google.common.util.concurrent.ListenableFuture;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.grpc.JsonWithInt.Value;
import io.qdrant.client.grpc.Points.DenseVector;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.UpdateResult;
import io.qdrant.client.grpc.Points.UpsertPoints;
import io.qdrant.client.grpc.Points.Vector;
import io.qdrant.client.grpc.Points.Vectors;
import io.qdrant.client.grpc.Points.WriteOrdering;
import io.somastack.connect.qdrant.QdrantSinkConfig;
import io.somastack.connect.qdrant.QdrantVectorSinkTask;
import io.somastack.connect.qdrant.embed.Embedder;
import io.somastack.connect.qdrant.mapping.PointMapper;
import io.somastack.connect.qdrant.mapping.WriteBatch;
import io.somastack.connect.testing.connect.HandRunTaskContext;
import io.somastack.connect.testing.qdrant.QdrantEndpoint;
import io.somastack.connect.testing.qdrant.QdrantGrpcStandIn;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Points per second into the gRPC stand-in (in this JVM, over TCP), two ways: through the sink task
 * (put: map, collapse, batch, upsert with wait=true, the next put mapping while the previous one's
 * requests run) and directly with the Qdrant client. Both write the same 2,560 points
 * (384-dimension vectors carried in the records, ~500-byte text payloads) in the same requests (10
 * upserts of 256 points, wait=true) with the same number of requests in flight ({@code inFlight}:
 * the connector's qdrant.max.in.flight.requests, the direct client's window of outstanding calls),
 * so the difference is the connector's own cost. The direct client sends prebuilt requests: the
 * strictest baseline, with no cost of building points at all.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class QdrantSinkThroughputBenchmark {

  static final int POINTS = 2560;
  private static final int BATCH = 256;
  private static final int DIMENSIONS = 384;

  /**
   * Connect hands a task at most max.poll.records records per put; 512 (instead of the default 500)
   * so that every put fills whole requests of 256 points, as the direct client's do. With 500, the
   * connector would send 11 requests (256 + 244 per put, and 60 at the end) against the direct
   * client's 10, and the comparison would not be like with like.
   */
  private static final int POLL = 512;

  /** Requests in flight at once, on both sides. */
  @Param({"1", "4"})
  int inFlight;

  private QdrantGrpcStandIn standIn;
  private QdrantClient client;
  private QdrantVectorSinkTask task;
  private PointMapper mapper;

  /** Records made once per trial, for {@link QdrantSinkCpuCost} to show what reusing them costs. */
  final List<List<SinkRecord>> reusedPolls = new ArrayList<>();

  private final List<UpsertPoints> requests = new ArrayList<>();

  @Setup(Level.Trial)
  public void setUp() {
    standIn = QdrantGrpcStandIn.startOnFreePort();
    client = QdrantEndpoint.clientFor(standIn.host(), standIn.port());
    task = new QdrantVectorSinkTask();
    task.initialize(new HandRunTaskContext(new TopicPartition("bench", 0)));
    Map<String, String> props =
        Map.of(
            "qdrant.url",
            standIn.url(),
            "collection.name",
            "bench",
            "embedder",
            "field",
            "vector.size",
            String.valueOf(DIMENSIONS),
            "batch.max.points",
            String.valueOf(BATCH),
            "qdrant.max.in.flight.requests",
            String.valueOf(inFlight));
    task.start(props);
    QdrantSinkConfig config = new QdrantSinkConfig(props);
    mapper = new PointMapper(config, Embedder.create(config), (values, nanos) -> {});
    List<SinkRecord> records = records();
    List<PointStruct> points = new ArrayList<>();
    for (SinkRecord record : records) {
      points.add(handWrittenPoint(record));
      if (!EncodedPoints.parse(EncodedPoints.encode(record)).equals(handWrittenPoint(record))) {
        throw new IllegalStateException("EncodedPoints does not encode the hand-written point");
      }
    }
    reusedPolls.addAll(polls(records));
    for (int from = 0; from < POINTS; from += BATCH) {
      requests.add(
          UpsertPoints.newBuilder()
              .setCollectionName("direct")
              .setWait(true)
              .addAllPoints(points.subList(from, from + BATCH))
              .build());
    }
    task.put(reusedPolls.get(0)); // creates (and checks once) the connector's collection
    task.flush(Map.of()); // put returns with its batch in flight: let it land before the reset
    standIn.reset();
  }

  /**
   * Both sides write into fresh collections every iteration, and the stand-in's log of writes
   * (which grows by every request) starts empty, so neither side pays for the other's garbage.
   */
  @Setup(Level.Iteration)
  public void freshCollections() {
    createCollection("bench");
    createCollection("direct");
  }

  /** Checks that both sides sent the same requests: upserts of exactly BATCH points each. */
  @TearDown(Level.Iteration)
  public void checkRequests() {
    for (QdrantGrpcStandIn.Operation op : standIn.operations()) {
      if (op.kind().equals("upsert") && op.ids().size() != BATCH) {
        throw new IllegalStateException(
            op.collection() + " got an upsert of " + op.ids().size() + " points, not " + BATCH);
      }
    }
    standIn.reset();
  }

  private void createCollection(String name) {
    try {
      client
          .createCollectionAsync(
              name,
              io.qdrant.client.grpc.Collections.VectorParams.newBuilder()
                  .setSize(DIMENSIONS)
                  .setDistance(io.qdrant.client.grpc.Collections.Distance.Cosine)
                  .build())
          .get();
    } catch (InterruptedException | ExecutionException e) {
      throw new IllegalStateException(e);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    task.stop();
    client.close();
    standIn.close();
  }

  /**
   * Through the task, on records made just before the call (as Connect's converter makes them just
   * before a put; making them is not timed).
   */
  @Benchmark
  @OperationsPerInvocation(POINTS)
  public void connectorTask(Fresh fresh) {
    put(fresh.polls);
  }

  /**
   * Every put returns with its batch in flight (the next put maps while it runs); the flush at the
   * end waits for the last one, so an invocation counts only points Qdrant acknowledged.
   */
  void put(List<List<SinkRecord>> polls) {
    for (List<SinkRecord> poll : polls) {
      task.put(poll);
    }
    task.flush(Map.of());
  }

  /**
   * The connector's own work per point without Qdrant: map the same fresh polls (ids, vectors,
   * payloads, collapse, chunks) as connectorTask does before it sends them. A diagnosis, not a
   * target.
   */
  @Benchmark
  @OperationsPerInvocation(POINTS)
  public int mapOnly(Fresh fresh) {
    return map(fresh.polls);
  }

  /**
   * The connector's CPU before the socket: mapOnly, and the requests the writer sends serialised to
   * bytes as gRPC's marshaller does. A diagnosis, measured on one thread so that the other threads'
   * work does not blur it.
   */
  @Benchmark
  @OperationsPerInvocation(POINTS)
  public long mapAndSerialize(Fresh fresh) {
    long bytes = 0;
    for (List<SinkRecord> poll : fresh.polls) {
      WriteBatch batch = WriteBatch.of(mapper.map(poll, new ArrayList<>()));
      for (WriteBatch.Request request : batch.requests(BATCH, Integer.MAX_VALUE)) {
        bytes += request.upsert(WriteOrdering.getDefaultInstance()).toByteArray().length;
      }
    }
    return bytes;
  }

  int map(List<List<SinkRecord>> polls) {
    int requests = 0;
    for (List<SinkRecord> poll : polls) {
      List<PointMapper.Rejected> rejected = new ArrayList<>();
      WriteBatch batch = WriteBatch.of(mapper.map(poll, rejected));
      requests += batch.requests(BATCH, Integer.MAX_VALUE).size() + rejected.size();
    }
    return requests;
  }

  /**
   * Records as a converter hands them over: new, and just made. Records made once per trial and put
   * again and again are not what a task sees: after a few garbage collections their million boxed
   * floats lie scattered over the heap, and reading them costs the connector twice the CPU (cache
   * misses) that reading a converter's fresh output does.
   */
  @State(Scope.Thread)
  public static class Fresh {
    List<List<SinkRecord>> polls;

    @Setup(Level.Invocation)
    public void make() {
      polls = polls(records());
    }
  }

  /** The benchmark's 2,560 records, the same every time (the direct client's points hold them). */
  static List<SinkRecord> records() {
    Random random = new Random(7);
    List<SinkRecord> records = new ArrayList<>(POINTS);
    for (int i = 0; i < POINTS; i++) {
      List<Float> vector = new ArrayList<>(DIMENSIONS);
      for (int d = 0; d < DIMENSIONS; d++) {
        vector.add(random.nextFloat());
      }
      records.add(
          new SinkRecord(
              "bench",
              0,
              null,
              null,
              null,
              Map.of("id", (long) i, "tenant_id", "t1", "text", text(i), "vector", vector),
              i));
    }
    return records;
  }

  private static String text(int i) {
    return "memory " + i + " " + "lorem ipsum dolor sit amet ".repeat(18);
  }

  static List<List<SinkRecord>> polls(List<SinkRecord> records) {
    List<List<SinkRecord>> polls = new ArrayList<>();
    for (int from = 0; from < records.size(); from += POLL) {
      polls.add(records.subList(from, Math.min(records.size(), from + POLL)));
    }
    return polls;
  }

  @Benchmark
  @OperationsPerInvocation(POINTS)
  public void clientDirect() throws Exception {
    Window window = new Window();
    for (UpsertPoints request : requests) {
      window.send(request);
    }
    window.drain();
  }

  /**
   * A hand-written consumer: the same fresh records the connector gets, turned into points by code
   * written for exactly this record shape (no configuration, no checks but the casts), upserted 256
   * at a time with the same number of requests in flight. It pays for building points, which {@link
   * #clientDirect} (prebuilt requests) does not, so the two bracket what any consumer of these
   * records must spend; the connector's generality is its distance from this one.
   */
  @Benchmark
  @OperationsPerInvocation(POINTS)
  public void clientFromRecords(Fresh fresh) throws Exception {
    fromRecords(fresh.polls);
  }

  void fromRecords(List<List<SinkRecord>> polls) throws Exception {
    Window window = new Window();
    UpsertPoints.Builder request = UpsertPoints.newBuilder().setCollectionName("direct");
    for (List<SinkRecord> poll : polls) {
      for (SinkRecord record : poll) {
        request.addPoints(handWrittenPoint(record));
        if (request.getPointsCount() == BATCH) {
          window.send(request.setWait(true).build());
          request = UpsertPoints.newBuilder().setCollectionName("direct");
        }
      }
    }
    window.drain();
  }

  /**
   * The point a consumer written for these records makes of one: id, vector, three payload keys.
   */
  @SuppressWarnings("unchecked")
  static PointStruct handWrittenPoint(SinkRecord record) {
    Map<?, ?> value = (Map<?, ?>) record.value();
    // the idiomatic copy: addAllData sizes the builder's list once from the collection
    DenseVector.Builder dense =
        DenseVector.newBuilder().addAllData((List<Float>) value.get("vector"));
    long id = (Long) value.get("id");
    return PointStruct.newBuilder()
        .setId(io.qdrant.client.PointIdFactory.id(id))
        .setVectors(Vectors.newBuilder().setVector(Vector.newBuilder().setDense(dense)))
        .putPayload("id", Value.newBuilder().setIntegerValue(id).build())
        .putPayload(
            "tenant_id", Value.newBuilder().setStringValue((String) value.get("tenant_id")).build())
        .putPayload("text", Value.newBuilder().setStringValue((String) value.get("text")).build())
        .build();
  }

  /**
   * The floor of any consumer of these records: code written for exactly this record shape that
   * encodes each point's protobuf bytes straight from the record (no message objects, each text
   * encoded once, sizes known before writing), upserted 256 at a time with the same number in
   * flight. It still reads the 384 boxed floats of every record, which only prebuilt requests
   * ({@link #clientDirect}) avoid. A diagnosis of how close to clientDirect any consumer of Connect
   * records can come, not a design for the connector.
   */
  @Benchmark
  @OperationsPerInvocation(POINTS)
  public void clientEncoded(Fresh fresh) throws Exception {
    encodedFromRecords(fresh.polls);
  }

  void encodedFromRecords(List<List<SinkRecord>> polls) throws Exception {
    Window window = new Window();
    EncodedPoints points = new EncodedPoints();
    for (List<SinkRecord> poll : polls) {
      for (SinkRecord record : poll) {
        points.add(record);
        if (points.count() == BATCH) {
          window.send(points.request("direct"));
          points = new EncodedPoints();
        }
      }
    }
    window.drain();
  }

  /** At most {@code inFlight} upserts outstanding: a new one first waits for the oldest. */
  private final class Window {
    private final Deque<ListenableFuture<UpdateResult>> pending = new ArrayDeque<>(inFlight);

    void send(UpsertPoints request) throws Exception {
      if (pending.size() == inFlight) {
        pending.removeFirst().get();
      }
      pending.addLast(client.upsertAsync(request));
    }

    void drain() throws Exception {
      while (!pending.isEmpty()) {
        pending.removeFirst().get();
      }
    }
  }
}
