package io.somastack.connect.testing.qdrant;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import io.grpc.BindableService;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
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
import io.qdrant.client.grpc.Points.WriteOrderingType;
import io.qdrant.client.grpc.PointsGrpc;
import io.qdrant.client.grpc.QdrantGrpc;
import io.qdrant.client.grpc.QdrantOuterClass.HealthCheckReply;
import io.qdrant.client.grpc.QdrantOuterClass.HealthCheckRequest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
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
 * collections, upsert and delete by id, get, count, scroll, payload indexes, UUID ids, an optional
 * api key, strict mode's max_points_count and upsert_max_batchsize, prost's decoding depth), with
 * Qdrant 1.16's status codes and texts, logs every write in order, can fail the next calls (or only
 * the next writes) with a chosen status, can hold writes unanswered (a slow Qdrant), and can be
 * stopped and started again on the same port with its data intact, like a Qdrant restart. It never
 * ships in a plugin.
 */
public final class QdrantGrpcStandIn implements AutoCloseable {

  /**
   * Qdrant's public gRPC services decode messages of any size ({@code
   * max_decoding_message_size(usize::MAX)} in qdrant/qdrant src/tonic/mod.rs); its 32 MB {@code
   * service.max_request_size_mb} bounds REST bodies only. So a big request is taken, not refused.
   */
  private static final int MAX_MESSAGE_BYTES = Integer.MAX_VALUE;

  /** The header Qdrant reads the key from (qdrant/qdrant src/common/auth/mod.rs). */
  private static final Metadata.Key<String> API_KEY =
      Metadata.Key.of("api-key", Metadata.ASCII_STRING_MARSHALLER);

  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  /** Characters Qdrant refuses in the name of a new collection (common/validation.rs). */
  private static final String FORBIDDEN_NAME_CHARS = "<>:\"/\\|?*\0\u001F";

  /** A write as the stand-in received it: kind is create, index, upsert or delete. */
  public record Operation(String kind, String collection, List<String> ids) {}

  /**
   * A collection; {@code maxPoints} and {@code maxBatch} are its strict mode's max_points_count and
   * upsert_max_batchsize, 0 when not set.
   */
  private record Stored(
      VectorsConfig vectors,
      SparseVectorConfig sparse,
      Map<String, PayloadSchemaType> indexes,
      Map<PointId, PointStruct> points,
      long maxPoints,
      long maxBatch) {}

  /**
   * prost's recursion limit, which Qdrant's gRPC layer decodes every request with (prost's {@code
   * RECURSION_LIMIT}; qdrant/qdrant does not turn it off). protobuf-java counts levels alike (a
   * message field, a map entry, a oneof's message each one level) with the same default.
   */
  public static final int DECODE_RECURSION_LIMIT = 100;

  private final Map<String, Stored> collections = new ConcurrentHashMap<>();
  private final List<Operation> operations = new ArrayList<>();
  private final List<WriteOrderingType> orderings = new ArrayList<>();
  private final Deque<Status.Code> failures = new ArrayDeque<>();
  private final Deque<Status.Code> writeFailures = new ArrayDeque<>();
  private final Map<String, Status.Code> pointFailures = new ConcurrentHashMap<>();
  private final Map<String, Status> pointRefusals = new ConcurrentHashMap<>();
  private final AtomicLong calls = new AtomicLong();
  private volatile int writeBudget = Integer.MAX_VALUE;
  private volatile long pointsLimit;
  private volatile long upsertMaxBatch;
  private volatile String apiKey;
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
              .addService(decodedAsQdrant(new Health()))
              .addService(decodedAsQdrant(new CollectionsService()))
              .addService(decodedAsQdrant(new PointsService()))
              .build()
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on port " + port, e);
    }
    port = server.getPort();
  }

  /**
   * A service whose requests are decoded as Qdrant's tonic and prost decode them: a request that
   * does not decode (nested past {@link #DECODE_RECURSION_LIMIT}) fails INTERNAL "failed to decode
   * Protobuf message: ...", as tonic's {@code from_decode_error} answers, where grpc-java would
   * fail the call UNKNOWN. The call's bytes are decoded once here and again by the service.
   */
  private ServerServiceDefinition decodedAsQdrant(BindableService service) {
    ServerServiceDefinition typed = service.bindService();
    Map<String, MessageLite> prototypes = new HashMap<>();
    for (ServerMethodDefinition<?, ?> method : typed.getMethods()) {
      MethodDescriptor<?, ?> descriptor = method.getMethodDescriptor();
      prototypes.put(
          descriptor.getFullMethodName(),
          (MessageLite)
              ((MethodDescriptor.PrototypeMarshaller<?>) descriptor.getRequestMarshaller())
                  .getMessagePrototype());
    }
    // the last interceptor runs first: the api key and injected failures come before decoding
    return ServerInterceptors.intercept(
        ServerInterceptors.useInputStreamMessages(typed),
        new DecodeAsQdrant(prototypes),
        new Failures());
  }

  /** Why Qdrant would not decode these bytes as the request, or null when it would. */
  static String decodeFailure(MessageLite prototype, byte[] bytes) {
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    in.setRecursionLimit(DECODE_RECURSION_LIMIT);
    try {
      prototype.getParserForType().parseFrom(in);
      return null;
    } catch (InvalidProtocolBufferException e) {
      // prost's DecodeError text; its stack of "Message.field: " entries is left out
      String why =
          e.getMessage() != null && e.getMessage().contains("too many levels of nesting")
              ? "recursion limit reached"
              : "invalid wire data";
      return "failed to decode Protobuf message: " + why;
    }
  }

  private static final class DecodeAsQdrant implements ServerInterceptor {
    private final Map<String, MessageLite> prototypes;

    DecodeAsQdrant(Map<String, MessageLite> prototypes) {
      this.prototypes = prototypes;
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
      MessageLite prototype = prototypes.get(call.getMethodDescriptor().getFullMethodName());
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
          next.startCall(call, headers)) {
        private boolean refused;

        @Override
        @SuppressWarnings("unchecked")
        public void onMessage(Q message) {
          byte[] bytes;
          try (InputStream in = (InputStream) message) {
            bytes = in.readAllBytes();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
          String failure = decodeFailure(prototype, bytes);
          if (failure != null) {
            refused = true;
            call.close(Status.INTERNAL.withDescription(failure), new Metadata());
            return;
          }
          super.onMessage((Q) new ByteArrayInputStream(bytes));
        }

        @Override
        public void onHalfClose() {
          if (!refused) {
            super.onHalfClose();
          }
        }
      };
    }
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

  /**
   * From now on every call must carry this key in the {@code api-key} header (or as {@code
   * authorization: Bearer KEY}), as a Qdrant started with {@code service.api_key}: a call without
   * it, or with another key, fails UNAUTHENTICATED before it reaches a service. Null drops the
   * check.
   */
  public void requireApiKey(String key) {
    this.apiKey = key;
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
   * The next {@code count} writes (upserts or deletes) fail with {@code code} once they pass {@link
   * #hold}, unapplied, while reads are answered: an overloaded Qdrant that only the writer sees,
   * not a test reading back what was written.
   */
  public void failNextWrites(int count, Status.Code code) {
    synchronized (writeFailures) {
      for (int i = 0; i < count; i++) {
        writeFailures.add(code);
      }
    }
  }

  private void failIfAWriteFailureIsDue() {
    Status.Code code;
    synchronized (writeFailures) {
      code = writeFailures.poll();
    }
    if (code != null) {
      throw Status.fromCode(code).withDescription("injected by the stand-in").asRuntimeException();
    }
  }

  /**
   * The next write (upsert or delete) touching the point fails with {@code code} once it passes
   * {@link #hold}, unapplied: a chosen one of several writes in flight fails.
   */
  public void failNextWriteOf(String pointId, Status.Code code) {
    pointFailures.put(pointId, code);
  }

  /**
   * From now on a write of more than {@code points} points is refused as Qdrant's strict mode write
   * rate limiter refuses a request costing more than its whole budget: RESOURCE_EXHAUSTED, no
   * retry-after, and this text ({@code RateLimitError::AlwaysOverBudget} in qdrant/qdrant's {@code
   * common::rate_limiting}, worded by {@code CollectionError::rate_limit_error} in
   * lib/collection/src/operations/types.rs). The stand-in counts a write's cost as its points.
   */
  public void limitWritePoints(int points) {
    this.writeBudget = points;
  }

  /**
   * From now on an upsert into a collection that holds {@code points} points or more is refused as
   * Qdrant's strict mode refuses it with max_points_count set (on by default for collections Qdrant
   * Cloud makes): INVALID_ARGUMENT "Bad request: Max points count limit of N reached!"
   * (qdrant/qdrant lib/collection/src/operations/verification/update.rs; StrictMode errors become
   * StorageError::BadRequest). As there, the points already in the collection are counted, not the
   * request's. 0 drops the limit; a collection created with strict mode has its own.
   */
  public void limitPoints(long points) {
    this.pointsLimit = points;
  }

  /**
   * From now on an upsert of more than {@code points} points is refused as strict mode's
   * upsert_max_batchsize refuses it: INVALID_ARGUMENT "Bad request: Limit exceeded N > M for
   * "upsert limit". Help: ..." ({@code check_limit_opt}). 0 drops the limit.
   */
  public void upsertMaxBatch(long points) {
    this.upsertMaxBatch = points;
  }

  /**
   * Strict mode's checks of an upsert, in Qdrant's order: the batch size, then the collection's.
   */
  private void checkStrictMode(Stored stored, int points) {
    long maxBatch = stored.maxBatch() > 0 ? stored.maxBatch() : upsertMaxBatch;
    if (maxBatch > 0 && points > maxBatch) {
      throw Status.INVALID_ARGUMENT
          .withDescription(
              "Bad request: Limit exceeded "
                  + points
                  + " > "
                  + maxBatch
                  + " for \"upsert limit\". Help: Reduce the \"upsert limit\" parameter to or below "
                  + maxBatch
                  + ".")
          .asRuntimeException();
    }
    long maxPoints = stored.maxPoints() > 0 ? stored.maxPoints() : pointsLimit;
    int count;
    synchronized (stored) {
      count = stored.points().size();
    }
    if (maxPoints > 0 && count >= maxPoints) {
      throw Status.INVALID_ARGUMENT
          .withDescription("Bad request: Max points count limit of " + maxPoints + " reached!")
          .asRuntimeException();
    }
  }

  private void checkBudget(int points) {
    if (points > writeBudget) {
      throw Status.RESOURCE_EXHAUSTED
          .withDescription(
              "Write rate limit exceeded, request larger than rate limiter capacity, please try"
                  + " to split your request")
          .asRuntimeException();
    }
  }

  /**
   * Every write (upsert or delete) touching the point fails with {@code status} (its code and text)
   * once it passes {@link #hold}, unapplied, until called again with null: a point Qdrant refuses
   * however it is sent.
   */
  public void refuseWritesOf(String pointId, Status status) {
    if (status == null) {
      pointRefusals.remove(pointId);
    } else {
      pointRefusals.put(pointId, status);
    }
  }

  private void failIfChosen(List<PointId> ids) {
    for (PointId id : ids) {
      Status refusal = pointRefusals.get(idText(id));
      if (refusal != null) {
        throw refusal.asRuntimeException();
      }
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

  /** Injected failures not yet served, of calls and of writes ({@link #failNextWrites}). */
  public int pendingFailures() {
    int writes;
    synchronized (writeFailures) {
      writes = writeFailures.size();
    }
    synchronized (failures) {
      return failures.size() + writes;
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

  /**
   * The write ordering of every write request (upsert, delete, payload index) that reached a
   * service so far, in arrival order, failed ones included; a request without one counts as weak,
   * as in Qdrant.
   */
  public List<WriteOrderingType> writeOrderings() {
    synchronized (orderings) {
      return List.copyOf(orderings);
    }
  }

  /** Forgets all collections, the operation log and the write orderings. */
  public void reset() {
    collections.clear();
    synchronized (operations) {
      operations.clear();
    }
    synchronized (orderings) {
      orderings.clear();
    }
  }

  /** The id as Qdrant prints it: a UUID (lowercase, hyphenated) or an unsigned integer. */
  public static String idText(PointId id) {
    return id.hasUuid() ? id.getUuid() : Long.toUnsignedString(id.getNum());
  }

  @Override
  public void close() {
    stop();
  }

  // ------------------------------------------------------------------ plumbing

  private void received(WriteOrderingType ordering) {
    synchronized (orderings) {
      orderings.add(ordering);
    }
  }

  private void log(String kind, String collection, List<PointId> ids) {
    synchronized (operations) {
      operations.add(
          new Operation(kind, collection, ids.stream().map(QdrantGrpcStandIn::idText).toList()));
    }
  }

  /**
   * Checks the api key, then fails calls on request, before they reach a service. Qdrant's auth
   * layer wraps the whole gRPC server and answers a missing or unknown key UNAUTHENTICATED with
   * these texts (qdrant/qdrant src/tonic/auth.rs, src/common/auth/mod.rs).
   */
  private final class Failures implements ServerInterceptor {
    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
      calls.incrementAndGet();
      String required = apiKey;
      if (required != null) {
        String key = headers.get(API_KEY);
        String bearer = headers.get(AUTHORIZATION);
        if (key == null && bearer != null && bearer.startsWith("Bearer ")) {
          key = bearer.substring("Bearer ".length());
        }
        String refusal =
            key == null
                ? "Must provide an API key or an Authorization bearer token"
                : key.equals(required) ? null : "Invalid API key or JWT";
        if (refusal != null) {
          call.close(Status.UNAUTHENTICATED.withDescription(refusal), new Metadata());
          return new ServerCall.Listener<>() {};
        }
      }
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

  /** Qdrant's request validation: INVALID_ARGUMENT "Validation error in body: [field: why]". */
  private static StatusRuntimeException validation(String field, String why) {
    return Status.INVALID_ARGUMENT
        .withDescription("Validation error in body: [" + field + ": " + why + "]")
        .asRuntimeException();
  }

  /** Every request naming a collection: {@code length(min = 1, max = 255)} (lib/api/build.rs). */
  private static void checkNameLength(String name) {
    int length = name.codePointCount(0, name.length());
    if (length < 1 || length > 255) {
      throw validation(
          "collection_name", "value \"" + name + "\" invalid, must be from 1 to 255 characters");
    }
  }

  /** A new collection's name also may not hold a character a file name cannot. */
  private static void checkNewName(String name) {
    checkNameLength(name);
    for (char c : FORBIDDEN_NAME_CHARS.toCharArray()) {
      if (name.indexOf(c) >= 0) {
        throw validation("collection_name", "collection name cannot contain \"" + c + "\" char");
      }
    }
  }

  private Stored collection(String name) {
    checkNameLength(name);
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
            checkNewName(request.getCollectionName());
            if (!request.hasVectorsConfig() && !request.hasSparseVectorsConfig()) {
              throw invalid("a collection needs vectors_config or sparse_vectors_config");
            }
            boolean strict =
                request.hasStrictModeConfig() && request.getStrictModeConfig().getEnabled();
            Stored stored =
                new Stored(
                    request.getVectorsConfig(),
                    request.getSparseVectorsConfig(),
                    new ConcurrentHashMap<>(),
                    new LinkedHashMap<>(),
                    strict ? request.getStrictModeConfig().getMaxPointsCount() : 0,
                    strict ? request.getStrictModeConfig().getUpsertMaxBatchsize() : 0);
            if (collections.putIfAbsent(request.getCollectionName(), stored) != null) {
              // ALREADY_EXISTS since Qdrant 1.8 (qdrant/qdrant#3423), the text still says so
              throw Status.ALREADY_EXISTS
                  .withDescription(
                      "Wrong input: Collection `"
                          + request.getCollectionName()
                          + "` already exists!")
                  .asRuntimeException();
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
          () -> {
            checkNameLength(request.getCollectionName());
            return CollectionExistsResponse.newBuilder()
                .setResult(
                    CollectionExists.newBuilder()
                        .setExists(collections.containsKey(request.getCollectionName())))
                .build();
          });
    }
  }

  private final class PointsService extends PointsGrpc.PointsImplBase {

    @Override
    public void upsert(UpsertPoints request, StreamObserver<PointsOperationResponse> reply) {
      received(request.getOrdering().getType());
      answer(
          reply,
          () -> {
            awaitGate();
            failIfAWriteFailureIsDue();
            failIfChosen(request.getPointsList().stream().map(PointStruct::getId).toList());
            checkBudget(request.getPointsCount());
            // as Qdrant: the request is validated and converted before the collection is looked up
            checkNameLength(request.getCollectionName());
            List<PointStruct> points = new ArrayList<>(request.getPointsCount());
            for (int i = 0; i < request.getPointsCount(); i++) {
              PointStruct point = request.getPoints(i);
              checkSparse(i, point.getVectors());
              points.add(point.toBuilder().setId(normalized(point.getId())).build());
            }
            points.forEach(QdrantGrpcStandIn::checkSparseNamed);
            Stored stored = collection(request.getCollectionName());
            checkStrictMode(stored, points.size());
            // check every point first: Qdrant refuses the whole request for one bad point
            points.forEach(point -> checkVectors(stored, point));
            synchronized (stored) {
              points.forEach(point -> stored.points().put(point.getId(), point));
              log(
                  "upsert",
                  request.getCollectionName(),
                  points.stream().map(PointStruct::getId).toList());
            }
            return PointsOperationResponse.newBuilder().setResult(completed()).build();
          });
    }

    @Override
    public void delete(DeletePoints request, StreamObserver<PointsOperationResponse> reply) {
      received(request.getOrdering().getType());
      answer(
          reply,
          () -> {
            awaitGate();
            failIfAWriteFailureIsDue();
            // ids are converted before the collection is looked up, as Qdrant does
            List<PointId> ids =
                request.getPoints().getPoints().getIdsList().stream()
                    .map(QdrantGrpcStandIn::normalized)
                    .toList();
            Stored stored = collection(request.getCollectionName());
            if (!request.getPoints().hasPoints()) {
              throw Status.UNIMPLEMENTED
                  .withDescription("the stand-in deletes by ids only")
                  .asRuntimeException();
            }
            failIfChosen(ids);
            checkBudget(ids.size());
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
                PointStruct point = stored.points().get(normalized(id));
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
                request.hasOffset()
                    ? sorted.tailMap(normalized(request.getOffset()), true)
                    : sorted;
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
      received(request.getOrdering().getType());
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

  /**
   * A point id as Qdrant keeps it. A UUID is parsed as Rust's {@code Uuid::parse_str} does (32 hex
   * digits of either case, plain, hyphenated, in braces or as a urn) and kept in its lowercase
   * hyphenated form, so every spelling names one point; anything else is INVALID_ARGUMENT
   * (qdrant/qdrant lib/api/src/grpc/conversions.rs).
   */
  static PointId normalized(PointId id) {
    if (id.hasNum()) {
      return id;
    }
    if (!id.hasUuid()) {
      throw Status.INVALID_ARGUMENT.withDescription("No ID options provided").asRuntimeException();
    }
    String text = id.getUuid();
    String hex = text;
    if (hex.startsWith("urn:uuid:")) {
      hex = hex.substring("urn:uuid:".length());
    } else if (hex.length() == 38 && hex.startsWith("{") && hex.endsWith("}")) {
      hex = hex.substring(1, 37);
    }
    if (hex.length() == 36) {
      StringBuilder plain = new StringBuilder(32);
      for (int i = 0; i < 36; i++) {
        boolean dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash != (hex.charAt(i) == '-')) {
          throw unparsableUuid(text);
        }
        if (!dash) {
          plain.append(hex.charAt(i));
        }
      }
      hex = plain.toString();
    }
    if (hex.length() != 32 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
      throw unparsableUuid(text);
    }
    String lower = hex.toLowerCase(java.util.Locale.ROOT);
    String canonical =
        lower.substring(0, 8)
            + "-"
            + lower.substring(8, 12)
            + "-"
            + lower.substring(12, 16)
            + "-"
            + lower.substring(16, 20)
            + "-"
            + lower.substring(20);
    return canonical.equals(text) ? id : PointId.newBuilder().setUuid(canonical).build();
  }

  private static StatusRuntimeException unparsableUuid(String text) {
    return Status.INVALID_ARGUMENT
        .withDescription("Unable to parse UUID: " + text)
        .asRuntimeException();
  }

  /**
   * Request validation of sparse vectors (lib/api/src/grpc/validate.rs, lib/sparse/.../
   * sparse_vector.rs): as many values as indices, no index twice. Unsorted indices are fine.
   */
  private static void checkSparse(int index, Vectors vectors) {
    List<Vector> all = new ArrayList<>();
    if (vectors.hasVector()) {
      all.add(vectors.getVector());
    }
    all.addAll(vectors.getVectors().getVectorsMap().values());
    for (Vector vector : all) {
      List<Integer> indices;
      int values;
      if (vector.hasSparse()) {
        indices = vector.getSparse().getIndicesList();
        values = vector.getSparse().getValuesCount();
      } else if (vector.hasIndices()) {
        indices = vector.getIndices().getDataList();
        values = vector.getDataCount();
      } else {
        continue;
      }
      String field = "points[" + index + "].vectors";
      if (indices.size() != values) {
        throw validation(
            field + ".values", "Validation error: must be the same length as indices [{}]");
      }
      if (new java.util.HashSet<>(indices).size() != indices.size()) {
        throw validation(field + ".indices", "Validation error: must be unique [{}]");
      }
    }
  }

  /** Qdrant's conversion refuses an unnamed sparse vector before it looks at the collection. */
  private static void checkSparseNamed(PointStruct point) {
    Vectors vectors = point.getVectors();
    if (vectors.hasVector() && isSparse(vectors.getVector())) {
      throw Status.INVALID_ARGUMENT
          .withDescription("Sparse vector must be named")
          .asRuntimeException();
    }
  }

  private static boolean isSparse(Vector vector) {
    return vector.hasSparse() || vector.hasIndices();
  }

  /**
   * Qdrant's checks (lib/segment/src/common/mod.rs, operation_error.rs): every vector must be
   * declared, dense ones with the declared size. The unnamed vector is the one named "" there, so a
   * collection of named vectors refuses it as "Not existing vector name error: " with no name.
   */
  private static void checkVectors(Stored stored, PointStruct point) {
    Vectors vectors = point.getVectors();
    if (vectors.hasVector()) {
      if (!stored.vectors().hasParams()) {
        throw invalid("Not existing vector name error: ");
      }
      checkDense(vectors.getVector(), stored.vectors().getParams());
      return;
    }
    for (Map.Entry<String, Vector> named : vectors.getVectors().getVectorsMap().entrySet()) {
      String name = named.getKey();
      Vector vector = named.getValue();
      if (stored.sparse().containsMap(name)) {
        if (!isSparse(vector)) {
          throw invalid("Conversion between sparse and regular vectors failed");
        }
        continue;
      }
      VectorParams params = stored.vectors().getParamsMap().getMapMap().get(name);
      if (params == null) {
        throw invalid("Not existing vector name error: " + name);
      }
      checkDense(vector, params);
    }
  }

  private static void checkDense(Vector vector, VectorParams params) {
    int size = vector.hasDense() ? vector.getDense().getDataCount() : vector.getDataCount();
    if (isSparse(vector)) {
      throw invalid("Conversion between sparse and regular vectors failed");
    }
    if (size != params.getSize()) {
      // the text names no vector, named or not
      throw invalid("Vector dimension error: expected dim: " + params.getSize() + ", got " + size);
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
