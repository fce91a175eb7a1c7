package io.somastack.connect.testing.qdrant;

import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.qdrant.client.grpc.Collections.CollectionConfig;
import io.qdrant.client.grpc.Collections.CollectionDescription;
import io.qdrant.client.grpc.Collections.CollectionExists;
import io.qdrant.client.grpc.Collections.CollectionExistsRequest;
import io.qdrant.client.grpc.Collections.CollectionExistsResponse;
import io.qdrant.client.grpc.Collections.CollectionInfo;
import io.qdrant.client.grpc.Collections.CollectionOperationResponse;
import io.qdrant.client.grpc.Collections.CollectionParams;
import io.qdrant.client.grpc.Collections.CollectionStatus;
import io.qdrant.client.grpc.Collections.CreateCollection;
import io.qdrant.client.grpc.Collections.DeleteCollection;
import io.qdrant.client.grpc.Collections.GetCollectionInfoRequest;
import io.qdrant.client.grpc.Collections.GetCollectionInfoResponse;
import io.qdrant.client.grpc.Collections.ListCollectionsRequest;
import io.qdrant.client.grpc.Collections.ListCollectionsResponse;
import io.qdrant.client.grpc.Collections.PayloadSchemaInfo;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Collections.SparseVectorConfig;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Collections.VectorsConfig;
import io.qdrant.client.grpc.CollectionsGrpc;
import io.qdrant.client.grpc.Common.PointId;
import io.qdrant.client.grpc.Points.CountPoints;
import io.qdrant.client.grpc.Points.CountResponse;
import io.qdrant.client.grpc.Points.CountResult;
import io.qdrant.client.grpc.Points.CreateFieldIndexCollection;
import io.qdrant.client.grpc.Points.DeletePoints;
import io.qdrant.client.grpc.Points.FieldType;
import io.qdrant.client.grpc.Points.GetPoints;
import io.qdrant.client.grpc.Points.GetResponse;
import io.qdrant.client.grpc.Points.NamedVectorsOutput;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.PointsOperationResponse;
import io.qdrant.client.grpc.Points.RetrievedPoint;
import io.qdrant.client.grpc.Points.ScrollPoints;
import io.qdrant.client.grpc.Points.ScrollResponse;
import io.qdrant.client.grpc.Points.UpdateResult;
import io.qdrant.client.grpc.Points.UpdateStatus;
import io.qdrant.client.grpc.Points.UpsertPoints;
import io.qdrant.client.grpc.Points.Vector;
import io.qdrant.client.grpc.Points.VectorOutput;
import io.qdrant.client.grpc.Points.Vectors;
import io.qdrant.client.grpc.Points.VectorsOutput;
import io.qdrant.client.grpc.PointsGrpc;
import io.qdrant.client.grpc.QdrantGrpc;
import io.qdrant.client.grpc.QdrantOuterClass.HealthCheckReply;
import io.qdrant.client.grpc.QdrantOuterClass.HealthCheckRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A test-only, in-memory stand-in for Qdrant that serves the real gRPC services shipped in the
 * Qdrant client jar over a real TCP port, so code under test runs its real client. It keeps
 * collections and points the way Qdrant answers for them (vector dimension checks, missing
 * collections, upsert and delete by id, get, count, scroll, payload indexes), logs every write in
 * order, can fail the next calls with a chosen status, can hold writes unanswered (a slow Qdrant),
 * and can be stopped and started again on the same port with its data intact, like a Qdrant
 * restart. It never ships in a plugin.
 */
public final class QdrantGrpcStandIn implements AutoCloseable {

  /** Qdrant's default limit on a request. */
  private static final int MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

  /** A write as the stand-in received it: kind is create, index, upsert or delete. */
  public record Operation(String kind, String collection, List<String> ids) {}

  private record Stored(
      VectorsConfig vectors,
      SparseVectorConfig sparse,
      Map<String, PayloadSchemaType> indexes,
      Map<PointId, PointStruct> points) {}

  private final Map<String, Stored> collections = new ConcurrentHashMap<>();
  private final List<Operation> operations = new ArrayList<>();
  private final Deque<Status.Code> failures = new ArrayDeque<>();
  private final Map<String, Status.Code> pointFailures = new ConcurrentHashMap<>();
  private final AtomicLong calls = new AtomicLong();
  private final Object gate = new Object();
  private boolean holding;
  private int held;
  private int port;
  private Server server;

  private QdrantGrpcStandIn(int port) {
    this.port = port;
  }

  /** A stand-in listening on a free port. */
  public static QdrantGrpcStandIn start(int port) {
    QdrantGrpcStandIn standIn = new QdrantGrpcStandIn(port);
    standIn.start();
    return standIn;
  }

  public static QdrantGrpcStandIn startOnFreePort() {
    return start(0);
  }

  public String host() {
    return "localhost";
  }

  public int port() {
    return port;
  }

  /** The URL a gRPC client (and the connector's qdrant.url) uses. */
  public String url() {
    return "http://" + host() + ":" + port;
  }

  /** Starts serving again on the same port, with the data it had. */
  public synchronized void start() {
    if (server != null) {
      return;
    }
    try {
      server =
          NettyServerBuilder.forPort(port)
              .maxInboundMessageSize(MAX_MESSAGE_BYTES)
              .addService(ServerInterceptors.intercept(new Health(), new Failures()))
              .addService(ServerInterceptors.intercept(new CollectionsService(), new Failures()))
              .addService(ServerInterceptors.intercept(new PointsService(), new Failures()))
              .build()
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on port " + port, e);
    }
    port = server.getPort();
  }

  /** Stops serving and drops open connections, like Qdrant going down; the data stays. */
  public synchronized void stop() {
    release();
    if (server == null) {
      return;
    }
    server.shutdownNow();
    try {
      server.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    server = null;
  }

  public synchronized boolean isRunning() {
    return server != null;
  }

  /** The next {@code count} calls (of any kind) fail with {@code code}, as an overloaded Qdrant. */
  public void failNext(int count, Status.Code code) {
    synchronized (failures) {
      for (int i = 0; i < count; i++) {
        failures.add(code);
      }
    }
  }

  /**
   * The next write (upsert or delete) touching the point fails with {@code code} once it passes
   * {@link #hold}, unapplied: a chosen one of several writes in flight fails.
   */
  public void failNextWriteOf(String pointId, Status.Code code) {
    pointFailures.put(pointId, code);
  }

  private void failIfChosen(List<PointId> ids) {
    for (PointId id : ids) {
      Status.Code code = pointFailures.remove(idText(id));
      if (code != null) {
        throw Status.fromCode(code)
            .withDescription("injected by the stand-in for point " + idText(id))
            .asRuntimeException();
      }
    }
  }

  /**
   * Holds every write (upsert, delete) that arrives from now on, unapplied and unanswered, until
   * {@link #release}: the writes stay in flight, as against a slow Qdrant. Reads are answered.
   */
  public void hold() {
    synchronized (gate) {
      holding = true;
    }
  }

  /** Lets the held writes (and later ones) through, in the order they take the lock. */
  public void release() {
    synchronized (gate) {
      holding = false;
      gate.notifyAll();
    }
  }

  /** Writes waiting behind {@link #hold} now. */
  public int heldWrites() {
    synchronized (gate) {
      return held;
    }
  }

  private void awaitGate() {
    synchronized (gate) {
      held++;
      try {
        while (holding) {
          gate.wait();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        held--;
      }
    }
  }

  /** Injected failures not yet served. */
  public int pendingFailures() {
    synchronized (failures) {
      return failures.size();
    }
  }

  /** Calls received so far, failed ones included. */
  public long calls() {
    return calls.get();
  }

  /** Every write so far, in the order it was applied. */
  public List<Operation> operations() {
    synchronized (operations) {
      return List.copyOf(operations);
    }
  }

  /** Forgets all collections and the operation log. */
  public void reset() {
    collections.clear();
    synchronized (operations) {
      operations.clear();
    }
  }

  /** The id as Qdrant prints it: a UUID or an unsigned integer. */
  public static String idText(PointId id) {
    return id.hasUuid() ? id.getUuid() : Long.toUnsignedString(id.getNum());
  }

  @Override
  public void close() {
    stop();
  }

  // ------------------------------------------------------------------ plumbing

  private void log(String kind, String collection, List<PointId> ids) {
    synchronized (operations) {
      operations.add(
          new Operation(kind, collection, ids.stream().map(QdrantGrpcStandIn::idText).toList()));
    }
  }

  /** Fails calls on request, before they reach a service. */
  private final class Failures implements ServerInterceptor {
    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
      calls.incrementAndGet();
      Status.Code code;
      synchronized (failures) {
        code = failures.poll();
      }
      if (code != null) {
        call.close(
            Status.fromCode(code).withDescription("injected by the stand-in"), new Metadata());
        return new ServerCall.Listener<>() {};
      }
      return next.startCall(call, headers);
    }
  }

  /** Runs a call, turning a {@link StatusRuntimeException} into the call's status. */
  private static <T> void answer(StreamObserver<T> observer, Supplier<T> body) {
    T reply;
    try {
      reply = body.get();
    } catch (StatusRuntimeException e) {
      observer.onError(e);
      return;
    }
    observer.onNext(reply);
    observer.onCompleted();
  }

  private static StatusRuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription("Wrong input: " + message).asRuntimeException();
  }

  private Stored collection(String name) {
    Stored stored = collections.get(name);
    if (stored == null) {
      throw Status.NOT_FOUND
          .withDescription("Not found: Collection `" + name + "` doesn't exist!")
          .asRuntimeException();
    }
    return stored;
  }

  private static UpdateResult completed() {
    return UpdateResult.newBuilder().setStatus(UpdateStatus.Completed).build();
  }

  // ------------------------------------------------------------------ services

  private static final class Health extends QdrantGrpc.QdrantImplBase {
    @Override
    public void healthCheck(HealthCheckRequest request, StreamObserver<HealthCheckReply> reply) {
      answer(
          reply,
          () ->
              HealthCheckReply.newBuilder()
                  .setTitle("qdrant gRPC stand-in")
                  .setVersion("1.16.2")
                  .build());
    }
  }

  private final class CollectionsService extends CollectionsGrpc.CollectionsImplBase {

    @Override
    public void create(
        CreateCollection request, StreamObserver<CollectionOperationResponse> reply) {
      answer(
          reply,
          () -> {
            if (!request.hasVectorsConfig() && !request.hasSparseVectorsConfig()) {
              throw invalid("a collection needs vectors_config or sparse_vectors_config");
            }
            Stored stored =
                new Stored(
                    request.getVectorsConfig(),
                    request.getSparseVectorsConfig(),
                    new ConcurrentHashMap<>(),
                    new LinkedHashMap<>());
            if (collections.putIfAbsent(request.getCollectionName(), stored) != null) {
              throw invalid("Collection `" + request.getCollectionName() + "` already exists!");
            }
            log("create", request.getCollectionName(), List.of());
            return CollectionOperationResponse.newBuilder().setResult(true).build();
          });
    }

    @Override
    public void get(
        GetCollectionInfoRequest request, StreamObserver<GetCollectionInfoResponse> reply) {
      answer(
          reply,
          () -> {
            Stored stored = collection(request.getCollectionName());
            CollectionInfo.Builder info =
                CollectionInfo.newBuilder()
                    .setStatus(CollectionStatus.Green)
                    .setConfig(
                        CollectionConfig.newBuilder()
                            .setParams(
                                CollectionParams.newBuilder()
                                    .setShardNumber(1)
                                    .setVectorsConfig(stored.vectors())
                                    .setSparseVectorsConfig(stored.sparse())));
            synchronized (stored) {
              info.setPointsCount(stored.points().size());
            }
            stored
                .indexes()
                .forEach(
                    (field, type) ->
                        info.putPayloadSchema(
                            field, PayloadSchemaInfo.newBuilder().setDataType(type).build()));
            return GetCollectionInfoResponse.newBuilder().setResult(info).build();
          });
    }

    @Override
    public void list(
        ListCollectionsRequest request, StreamObserver<ListCollectionsResponse> reply) {
      answer(
          reply,
          () -> {
            ListCollectionsResponse.Builder list = ListCollectionsResponse.newBuilder();
            collections.keySet().stream()
                .sorted()
                .forEach(
                    name -> list.addCollections(CollectionDescription.newBuilder().setName(name)));
            return list.build();
          });
    }

    @Override
    public void delete(
        DeleteCollection request, StreamObserver<CollectionOperationResponse> reply) {
      answer(
          reply,
          () -> {
            boolean removed = collections.remove(request.getCollectionName()) != null;
            log("drop", request.getCollectionName(), List.of());
            return CollectionOperationResponse.newBuilder().setResult(removed).build();
          });
    }

    @Override
    public void collectionExists(
        CollectionExistsRequest request, StreamObserver<CollectionExistsResponse> reply) {
      answer(
          reply,
          () ->
              CollectionExistsResponse.newBuilder()
                  .setResult(
                      CollectionExists.newBuilder()
                          .setExists(collections.containsKey(request.getCollectionName())))
                  .build());
    }
  }

  private final class PointsService extends PointsGrpc.PointsImplBase {

    @Override
    public void upsert(UpsertPoints request, StreamObserver<PointsOperationResponse> reply) {
      answer(
          reply,
          () -> {
            awaitGate();
            failIfChosen(request.getPointsList().stream().map(PointStruct::getId).toList());
            Stored stored = collection(request.getCollectionName());
            // check every point first: Qdrant refuses the whole request for one bad point
            request.getPointsList().forEach(point -> checkVectors(stored, point));
            synchronized (stored) {
              request.getPointsList().forEach(point -> stored.points().put(point.getId(), point));
              log(
                  "upsert",
                  request.getCollectionName(),
                  request.getPointsList().stream().map(PointStruct::getId).toList());
            }
            return PointsOperationResponse.newBuilder().setResult(completed()).build();
          });
    }

    @Override
    public void delete(DeletePoints request, StreamObserver<PointsOperationResponse> reply) {
      answer(
          reply,
          () -> {
            awaitGate();
            Stored stored = collection(request.getCollectionName());
            if (!request.getPoints().hasPoints()) {
              throw Status.UNIMPLEMENTED
                  .withDescription("the stand-in deletes by ids only")
                  .asRuntimeException();
            }
            List<PointId> ids = request.getPoints().getPoints().getIdsList();
            failIfChosen(ids);
            synchronized (stored) {
              ids.forEach(stored.points()::remove);
              log("delete", request.getCollectionName(), ids);
            }
            return PointsOperationResponse.newBuilder().setResult(completed()).build();
          });
    }

    @Override
    public void get(GetPoints request, StreamObserver<GetResponse> reply) {
      answer(
          reply,
          () -> {
            Stored stored = collection(request.getCollectionName());
            boolean payload = request.getWithPayload().getEnable();
            boolean vectors = request.getWithVectors().getEnable();
            GetResponse.Builder response = GetResponse.newBuilder();
            synchronized (stored) {
              for (PointId id : request.getIdsList()) {
                PointStruct point = stored.points().get(id);
                if (point != null) {
                  response.addResult(retrieved(point, payload, vectors));
                }
              }
            }
            return response.build();
          });
    }

    @Override
    public void count(CountPoints request, StreamObserver<CountResponse> reply) {
      answer(
          reply,
          () -> {
            if (request.hasFilter()
                && !request.getFilter().equals(request.getFilter().getDefaultInstanceForType())) {
              throw Status.UNIMPLEMENTED
                  .withDescription("the stand-in counts without filters")
                  .asRuntimeException();
            }
            Stored stored = collection(request.getCollectionName());
            synchronized (stored) {
              return CountResponse.newBuilder()
                  .setResult(CountResult.newBuilder().setCount(stored.points().size()))
                  .build();
            }
          });
    }

    @Override
    public void scroll(ScrollPoints request, StreamObserver<ScrollResponse> reply) {
      answer(
          reply,
          () -> {
            Stored stored = collection(request.getCollectionName());
            int limit = request.hasLimit() ? request.getLimit() : 10;
            TreeMap<PointId, PointStruct> sorted = new TreeMap<>(ID_ORDER);
            synchronized (stored) {
              sorted.putAll(stored.points());
            }
            Map<PointId, PointStruct> page =
                request.hasOffset() ? sorted.tailMap(request.getOffset(), true) : sorted;
            ScrollResponse.Builder response = ScrollResponse.newBuilder();
            for (PointStruct point : page.values()) {
              if (response.getResultCount() == limit) {
                response.setNextPageOffset(point.getId());
                break;
              }
              response.addResult(
                  retrieved(
                      point,
                      request.getWithPayload().getEnable(),
                      request.getWithVectors().getEnable()));
            }
            return response.build();
          });
    }

    @Override
    public void createFieldIndex(
        CreateFieldIndexCollection request, StreamObserver<PointsOperationResponse> reply) {
      answer(
          reply,
          () -> {
            Stored stored = collection(request.getCollectionName());
            stored.indexes().put(request.getFieldName(), schemaType(request.getFieldType()));
            log("index", request.getCollectionName(), List.of());
            return PointsOperationResponse.newBuilder().setResult(completed()).build();
          });
    }
  }

  /** Numeric ids first, then UUIDs, as Qdrant orders a scroll. */
  private static final Comparator<PointId> ID_ORDER =
      Comparator.comparing((PointId id) -> id.hasUuid())
          .thenComparing(id -> id.hasUuid() ? 0L : id.getNum(), Long::compareUnsigned)
          .thenComparing(id -> id.hasUuid() ? id.getUuid() : "");

  private static PayloadSchemaType schemaType(FieldType type) {
    return switch (type) {
      case FieldTypeKeyword -> PayloadSchemaType.Keyword;
      case FieldTypeInteger -> PayloadSchemaType.Integer;
      case FieldTypeFloat -> PayloadSchemaType.Float;
      case FieldTypeGeo -> PayloadSchemaType.Geo;
      case FieldTypeText -> PayloadSchemaType.Text;
      case FieldTypeBool -> PayloadSchemaType.Bool;
      case FieldTypeDatetime -> PayloadSchemaType.Datetime;
      case FieldTypeUuid -> PayloadSchemaType.Uuid;
      default -> PayloadSchemaType.UnknownType;
    };
  }

  // ------------------------------------------------------------------ vectors

  /** Qdrant's checks: every vector must be declared, dense ones with the declared size. */
  private static void checkVectors(Stored stored, PointStruct point) {
    Vectors vectors = point.getVectors();
    if (vectors.hasVector()) {
      if (!stored.vectors().hasParams()) {
        throw invalid("Not existing vector name error: (unnamed)");
      }
      checkDense("", vectors.getVector(), stored.vectors().getParams());
      return;
    }
    for (Map.Entry<String, Vector> named : vectors.getVectors().getVectorsMap().entrySet()) {
      String name = named.getKey();
      Vector vector = named.getValue();
      if (stored.sparse().containsMap(name)) {
        if (!vector.hasSparse()) {
          throw invalid("Conversion between sparse and regular vectors failed");
        }
        continue;
      }
      VectorParams params = stored.vectors().getParamsMap().getMapMap().get(name);
      if (params == null) {
        throw invalid("Not existing vector name error: " + name);
      }
      checkDense(name, vector, params);
    }
  }

  private static void checkDense(String name, Vector vector, VectorParams params) {
    int size = vector.hasDense() ? vector.getDense().getDataCount() : vector.getDataCount();
    if (vector.hasSparse()) {
      throw invalid("Conversion between sparse and regular vectors failed");
    }
    if (size != params.getSize()) {
      throw invalid(
          "Vector dimension error: expected dim: "
              + params.getSize()
              + ", got "
              + size
              + (name.isEmpty() ? "" : " for vector " + name));
    }
  }

  private static RetrievedPoint retrieved(PointStruct point, boolean payload, boolean vectors) {
    RetrievedPoint.Builder retrieved = RetrievedPoint.newBuilder().setId(point.getId());
    if (payload) {
      retrieved.putAllPayload(point.getPayloadMap());
    }
    if (vectors && point.hasVectors()) {
      retrieved.setVectors(output(point.getVectors()));
    }
    return retrieved.build();
  }

  private static VectorsOutput output(Vectors vectors) {
    if (vectors.hasVector()) {
      return VectorsOutput.newBuilder().setVector(output(vectors.getVector())).build();
    }
    NamedVectorsOutput.Builder named = NamedVectorsOutput.newBuilder();
    vectors.getVectors().getVectorsMap().forEach((name, v) -> named.putVectors(name, output(v)));
    return VectorsOutput.newBuilder().setVectors(named).build();
  }

  private static VectorOutput output(Vector vector) {
    VectorOutput.Builder output = VectorOutput.newBuilder();
    if (vector.hasSparse()) {
      return output.setSparse(vector.getSparse()).build();
    }
    if (vector.hasDense()) {
      return output.setDense(vector.getDense()).build();
    }
    return output
        .setDense(
            io.qdrant.client.grpc.Points.DenseVector.newBuilder().addAllData(vector.getDataList()))
        .build();
  }
}
