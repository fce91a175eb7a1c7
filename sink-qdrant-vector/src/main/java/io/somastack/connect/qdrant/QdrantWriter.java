package io.somastack.connect.qdrant;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.common.util.concurrent.SettableFuture;
import com.google.common.util.concurrent.Uninterruptibles;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.qdrant.client.QdrantGrpcClient;
import io.qdrant.client.grpc.Collections.CollectionExistsRequest;
import io.qdrant.client.grpc.Collections.CollectionInfo;
import io.qdrant.client.grpc.Collections.CreateCollection;
import io.qdrant.client.grpc.Collections.GetCollectionInfoRequest;
import io.qdrant.client.grpc.Collections.PayloadSchemaInfo;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Collections.SparseVectorConfig;
import io.qdrant.client.grpc.Collections.SparseVectorParams;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Collections.VectorParamsMap;
import io.qdrant.client.grpc.Collections.VectorsConfig;
import io.qdrant.client.grpc.Points.CreateFieldIndexCollection;
import io.qdrant.client.grpc.Points.DeletePoints;
import io.qdrant.client.grpc.Points.FieldType;
import io.qdrant.client.grpc.Points.PointsIdsList;
import io.qdrant.client.grpc.Points.PointsSelector;
import io.qdrant.client.grpc.Points.WriteOrdering;
import io.somastack.connect.common.record.Positions;
import io.somastack.connect.common.text.Utf8;
import io.somastack.connect.qdrant.mapping.PointMapper.Rejected;
import io.somastack.connect.qdrant.mapping.PointOp;
import io.somastack.connect.qdrant.mapping.WriteBatch;
import io.somastack.connect.qdrant.mapping.WriteBatch.Request;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything the sink says to Qdrant, over gRPC through the official client: checks and creates
 * collections, and writes batches with {@code wait=true}, so a write that returns is applied, and
 * with the configured write ordering (qdrant.write.ordering). Failures are sorted into three kinds:
 * Qdrant unavailable, overloaded, slow or locked, or a configured collection full under strict mode
 * ({@link RetriableException}: try again later), points Qdrant refuses or cannot decode (found by
 * splitting the request, returned for the DLQ, as are the records of a full collection named by
 * record data), and everything else ({@link ConnectException}: stop).
 *
 * <p>Logs and exceptions give a failed call's gRPC status code, not Qdrant's description of it,
 * which is unbounded server text that may quote a collection name or a value; a refused point's
 * dead letter reason carries it, and so, bounded, does a failed collection call's error when the
 * collection's name is not record data (see {@link #qdrantSays}). A collection whose name
 * collection.name makes from a record's key or value is named by a record's position (see {@link
 * #named}), not by its name. The calls go through the client's gRPC stubs, not its {@code
 * QdrantClient}, which logs every failed call at ERROR with Qdrant's description.
 */
final class QdrantWriter implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(QdrantWriter.class);

  /** Told about every write request once it is answered. */
  interface Listener {
    /** Qdrant acknowledged the request: its points are written. */
    void written(boolean upsert, int points, long nanos);

    /** The request failed (refused, timed out, Qdrant unreachable...): nothing of it counts. */
    default void failed(long nanos) {}
  }

  private final QdrantGrpcClient client;
  private final QdrantSinkConfig config;
  private final WriteOrdering ordering;
  private final Semaphore inFlight;
  private final Listener listener;

  /**
   * How many collections a writer remembers as checked ({@link #ready}) and with an upsert cap
   * ({@link #upsertCaps}). A collection.name made from record data can name a collection per
   * tenant, without bound over a task's life: remembering every one would grow the heap for ever.
   * Those used least recently are forgotten first; a forgotten collection is simply checked again
   * (two calls) the next time a batch names it, and its cap learned again. Ten thousand names of up
   * to 255 bytes stay within a few megabytes.
   */
  static final int REMEMBERED_COLLECTIONS = 10_000;

  /** Collections checked (and created) and not found wrong since: see {@link #ensureCollection}. */
  private final Map<String, Boolean> ready;

  /**
   * Per collection, the most points strict mode's upsert_max_batchsize lets one upsert carry, as
   * Qdrant said when it refused a bigger one: upserts into it are cut to that size while it is
   * remembered, not found too big and split again on every batch.
   */
  private final Map<String, Integer> upsertCaps;

  QdrantWriter(QdrantGrpcClient client, QdrantSinkConfig config, Listener listener) {
    this(client, config, listener, REMEMBERED_COLLECTIONS);
  }

  QdrantWriter(
      QdrantGrpcClient client, QdrantSinkConfig config, Listener listener, int remembered) {
    this.client = client;
    this.config = config;
    this.ordering = WriteOrdering.newBuilder().setType(config.writeOrdering()).build();
    this.inFlight = new Semaphore(config.maxInFlight());
    this.listener = listener;
    this.ready = leastRecentlyUsed(remembered);
    this.upsertCaps = leastRecentlyUsed(remembered);
  }

  /**
   * A map of at most {@code bound} entries that forgets the one used least recently; synchronized,
   * as the task thread and the writer threads share it (a read reorders an access-ordered map).
   */
  private static <V> Map<String, V> leastRecentlyUsed(int bound) {
    return Collections.synchronizedMap(
        new LinkedHashMap<String, V>(16, 0.75f, true) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
            return size() > bound;
          }
        });
  }

  /** A writer with its own channel; nothing is sent until it is used. */
  static QdrantWriter open(QdrantSinkConfig config, Listener listener) {
    return open(config, listener, REMEMBERED_COLLECTIONS);
  }

  /** As {@link #open(QdrantSinkConfig, Listener)}, remembering at most that many collections. */
  static QdrantWriter open(QdrantSinkConfig config, Listener listener, int remembered) {
    NettyChannelBuilder channel =
        NettyChannelBuilder.forAddress(config.qdrantUrl().getHost(), config.qdrantPort())
            // replies carry no points, but be generous for collection info and future reads
            .maxInboundMessageSize(64 * 1024 * 1024);
    if (config.qdrantTls()) {
      channel.useTransportSecurity();
    } else {
      channel.usePlaintext();
    }
    ManagedChannel built = channel.build();
    QdrantGrpcClient.Builder grpc =
        QdrantGrpcClient.newBuilder(built, true, false).withTimeout(config.qdrantTimeout());
    if (config.qdrantApiKey() != null) {
      grpc.withApiKey(config.qdrantApiKey());
      if (!config.qdrantTls()) {
        // allowed (a sidecar or a private network may do the encryption), but never silently
        log.warn(
            "qdrant.api.key is sent in clear text: qdrant.url is http://{}:{}; use https:// unless"
                + " the network between this worker and Qdrant is encrypted otherwise",
            config.qdrantUrl().getHost(),
            config.qdrantPort());
      }
    }
    // its stubs carry the api key and a qdrant.timeout.ms deadline from the call on
    return new QdrantWriter(grpc.build(), config, listener, remembered);
  }

  // ------------------------------------------------------------------ collections

  /** Whether the collection is remembered as checked: for tests of the bound. */
  boolean remembers(String name) {
    return ready.containsKey(name);
  }

  /** Makes sure the fixed collection exists with the configured vectors. */
  void ensureCollection(String name) {
    ensureCollection(name, null);
  }

  /**
   * Makes sure the collection exists with the configured vectors; checked once per writer. {@code
   * namedBy} is a record that writes to it, which names it in logs and errors when the name is
   * record data.
   */
  void ensureCollection(String name, SinkRecord namedBy) {
    if (ready.get(name) != null) {
      return;
    }
    String named = named(name, namedBy);
    if (exists(name, named)) {
      checkExisting(name, named);
    } else if (!config.createCollections()) {
      // not remembered: a collection made later is found by the next batch that names it
      throw new MissingCollectionException(name, named, config.collection().toString());
    } else {
      create(name, named);
    }
    ready.put(name, Boolean.TRUE);
  }

  /**
   * Checks the collection as {@link #ensureCollection} does, but never creates it: for a collection
   * a batch only deletes from, where a missing collection has nothing to delete (a tenant's,
   * dropped to offboard the tenant, must not come back empty). False when it does not exist, which
   * is not remembered.
   */
  boolean checkCollection(String name, SinkRecord namedBy) {
    if (ready.get(name) != null) {
      return true;
    }
    String named = named(name, namedBy);
    if (!exists(name, named)) {
      return false;
    }
    checkExisting(name, named);
    ready.put(name, Boolean.TRUE);
    return true;
  }

  /** What {@link #ensureCollections} found of one collection. */
  enum Found {
    /** Checked (or created) and remembered. */
    READY,
    /** Only to be checked, and not there: not created, not remembered. */
    ABSENT
  }

  /**
   * {@link #ensureCollection} for each collection (name to a record that names it), or {@link
   * #checkCollection} for those in {@code checkOnly}, several at once: a burst of new tenants, each
   * with its own collection, would otherwise run every existence check, creation and payload index
   * of every collection one after another in put. At most qdrant.max.in.flight.requests collections
   * are checked at once, on the writer's own threads (a collection's calls are still made one after
   * the other, its payload indexes together); those remembered as ready cost nothing. Returns, per
   * collection in the order given, what was found, or the failure its check threw (left to the
   * caller to sort, as each check's own would have been): every check is done by then, whatever
   * their outcomes.
   */
  Map<String, Object> ensureCollections(
      Map<String, SinkRecord> collections, Set<String> checkOnly) {
    Map<String, Object> found = new LinkedHashMap<>();
    List<String> unchecked = new ArrayList<>();
    for (String name : collections.keySet()) {
      if (ready.get(name) != null) {
        found.put(name, Found.READY);
      } else {
        unchecked.add(name);
      }
    }
    if (unchecked.size() == 1) {
      String name = unchecked.get(0);
      found.put(name, checkOne(name, collections.get(name), checkOnly.contains(name)));
    } else if (!unchecked.isEmpty()) {
      ExecutorService checks = collectionChecks();
      Map<String, Future<Object>> running = new LinkedHashMap<>();
      try {
        for (String name : unchecked) {
          SinkRecord namedBy = collections.get(name);
          boolean onlyCheck = checkOnly.contains(name);
          running.put(name, checks.submit(() -> checkOne(name, namedBy, onlyCheck)));
        }
        for (Map.Entry<String, Future<Object>> check : running.entrySet()) {
          found.put(check.getKey(), check.getValue().get());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        running.values().forEach(check -> check.cancel(true)); // cancels their calls too
        throw new RetriableException("interrupted while checking Qdrant collections", e);
      } catch (ExecutionException e) {
        throw new ConnectException("checking a Qdrant collection failed: " + e.getCause(), e);
      } catch (RejectedExecutionException e) {
        throw new RetriableException("the writer is closed", e);
      }
    }
    Map<String, Object> ordered = new LinkedHashMap<>();
    collections.keySet().forEach(name -> ordered.put(name, found.get(name)));
    return ordered;
  }

  /** One collection's check: what was found, or the failure it threw. */
  private Object checkOne(String name, SinkRecord namedBy, boolean onlyCheck) {
    try {
      if (onlyCheck) {
        return checkCollection(name, namedBy) ? Found.READY : Found.ABSENT;
      }
      ensureCollection(name, namedBy);
      return Found.READY;
    } catch (RuntimeException e) {
      return e;
    }
  }

  /** The threads that check several collections at once; made when first needed. */
  private ExecutorService collectionChecks;

  private synchronized ExecutorService collectionChecks() {
    if (collectionChecks == null) {
      AtomicInteger threads = new AtomicInteger();
      collectionChecks =
          Executors.newFixedThreadPool(
              config.maxInFlight(),
              runnable -> {
                Thread thread =
                    new Thread(runnable, "qdrant-sink-collections-" + threads.incrementAndGet());
                thread.setDaemon(true);
                return thread;
              });
    }
    return collectionChecks;
  }

  /**
   * How logs and exceptions name a collection: by its name when configuration makes it (a fixed
   * name, or one from the topic and partition), else by a record that names it, since the name is
   * then record data (a tenant's id) and only a dead letter's reason, which goes with its record,
   * may hold it.
   */
  private String named(String collection, SinkRecord namedBy) {
    if (!config.collectionFromRecordData()) {
      return "Qdrant collection '" + collection + "'";
    }
    String template = " (collection.name " + config.collection() + ")";
    if (namedBy == null) {
      return "a Qdrant collection named by record data" + template;
    }
    return "the Qdrant collection named by record " + Positions.of(namedBy) + template;
  }

  private boolean exists(String name, String named) {
    CollectionExistsRequest request =
        CollectionExistsRequest.newBuilder().setCollectionName(name).build();
    return await(
        Futures.transform(
            client.collections().collectionExists(request),
            response -> response.getResult().getExists(),
            MoreExecutors.directExecutor()),
        "existence check of " + named);
  }

  private void create(String name, String named) {
    CreateCollection.Builder create =
        CreateCollection.newBuilder().setCollectionName(name).setVectorsConfig(vectorsConfig());
    if (!config.sparseVectors().isEmpty()) {
      SparseVectorConfig.Builder sparse = SparseVectorConfig.newBuilder();
      config
          .sparseVectors()
          .forEach(v -> sparse.putMap(v, SparseVectorParams.getDefaultInstance()));
      create.setSparseVectorsConfig(sparse);
    }
    ConnectException failed;
    try {
      boolean created =
          await(client.collections().create(create.build()), "creation of " + named).getResult();
      failed =
          created
              ? null
              : new ConnectException(
                  "Qdrant answered the creation of "
                      + named
                      + " without an error but with result=false"
                      + " (nothing created), and it does not exist; create it in Qdrant");
    } catch (ConnectException e) {
      failed = e;
    }
    if (failed != null) {
      if (!exists(name, named)) {
        throw failed;
      }
      // another task created it first: check it like any existing collection
      checkExisting(name, named);
      return;
    }
    createIndexes(name, named, config.payloadIndexes().keySet());
    log.info(
        "Created {} ({} dimensions, {}, payload indexes {})",
        named,
        config.vectorSize(),
        config.distance(),
        config.payloadIndexes().keySet());
  }

  /**
   * Checks a collection that exists and, when the connector manages collections, adds the payload
   * indexes it lacks: a creation whose indexes failed (a transient error after the collection was
   * made, here or in another task) would otherwise leave it without them for good, since the retry
   * finds the collection and goes on.
   */
  private void checkExisting(String name, String named) {
    GetCollectionInfoRequest request =
        GetCollectionInfoRequest.newBuilder().setCollectionName(name).build();
    CollectionInfo info =
        await(
            Futures.transform(
                client.collections().get(request),
                response -> response.getResult(),
                MoreExecutors.directExecutor()),
            "configuration read of " + named);
    checkVectors(name, named, info);
    if (config.createCollections()) {
      checkIndexTypes(name, named, info);
      Set<String> missing = new TreeSet<>(config.payloadIndexes().keySet());
      missing.removeAll(info.getPayloadSchemaMap().keySet());
      if (!missing.isEmpty()) {
        createIndexes(name, named, missing);
        log.info("Added payload indexes {} to {}", missing, named);
      }
    }
  }

  /**
   * An index of another type on a configured field is not the one asked for, and rebuilding an
   * index the connector may not have made is not its call: a configuration error either way.
   */
  private void checkIndexTypes(String name, String named, CollectionInfo info) {
    config
        .payloadIndexes()
        .forEach(
            (field, type) -> {
              PayloadSchemaInfo index = info.getPayloadSchemaMap().get(field);
              if (index != null && index.getDataType() != type) {
                throw mismatched(
                    name,
                    named,
                    " indexes payload field '"
                        + field
                        + "' as "
                        + lowerCase(index.getDataType())
                        + " but collection.payload.indexes asks for "
                        + lowerCase(type)
                        + "; change the index in Qdrant or the configured type");
              }
            });
  }

  private static String lowerCase(Enum<?> value) {
    return value.name().toLowerCase(Locale.ROOT);
  }

  /**
   * Creates the payload indexes all at once, each with {@code wait=true}, and waits for every one:
   * the first failure is thrown once none is still running, so a retry never races them.
   */
  private void createIndexes(String name, String named, Set<String> fields) {
    Map<String, ListenableFuture<?>> sent = new LinkedHashMap<>();
    for (String field : fields) {
      CreateFieldIndexCollection index =
          CreateFieldIndexCollection.newBuilder()
              .setCollectionName(name)
              .setFieldName(field)
              .setFieldType(fieldType(config.payloadIndexes().get(field)))
              .setWait(true)
              .setOrdering(ordering)
              .build();
      sent.put(field, client.points().createFieldIndex(index));
    }
    RuntimeException failed = null;
    for (Map.Entry<String, ListenableFuture<?>> index : sent.entrySet()) {
      try {
        await(
            index.getValue(),
            "creation of the payload index on '" + index.getKey() + "' in " + named);
      } catch (RuntimeException e) {
        if (failed == null) {
          failed = e;
        }
      }
    }
    if (failed != null) {
      throw failed;
    }
  }

  /** The index type to ask for, as the client's createPayloadIndexAsync maps it. */
  private static FieldType fieldType(PayloadSchemaType type) {
    return switch (type) {
      case Keyword -> FieldType.FieldTypeKeyword;
      case Integer -> FieldType.FieldTypeInteger;
      case Float -> FieldType.FieldTypeFloat;
      case Geo -> FieldType.FieldTypeGeo;
      case Text -> FieldType.FieldTypeText;
      case Bool -> FieldType.FieldTypeBool;
      case Datetime -> FieldType.FieldTypeDatetime;
      case Uuid -> FieldType.FieldTypeUuid;
      default -> throw new IllegalArgumentException("no payload index of type " + type);
    };
  }

  private VectorsConfig vectorsConfig() {
    VectorParams params =
        VectorParams.newBuilder()
            .setSize(config.vectorSize())
            .setDistance(config.distance())
            .build();
    VectorsConfig.Builder vectors = VectorsConfig.newBuilder();
    if (config.vectorName().isEmpty()) {
      return vectors.setParams(params).build();
    }
    return vectors
        .setParamsMap(VectorParamsMap.newBuilder().putMap(config.vectorName(), params))
        .build();
  }

  /** A collection made for other vectors is a configuration error, not bad data. */
  private void checkVectors(String name, String named, CollectionInfo info) {
    VectorsConfig vectors = info.getConfig().getParams().getVectorsConfig();
    String vectorName = config.vectorName();
    VectorParams params;
    if (vectorName.isEmpty() && vectors.hasParams()) {
      params = vectors.getParams();
    } else if (!vectorName.isEmpty() && vectors.getParamsMap().containsMap(vectorName)) {
      params = vectors.getParamsMap().getMapOrThrow(vectorName);
    } else {
      throw mismatched(
          name,
          named,
          " has "
              + (vectors.hasParams()
                  ? "a single unnamed vector"
                  : "named vectors " + vectors.getParamsMap().getMapMap().keySet())
              + " but vector.name is '"
              + vectorName
              + "'");
    }
    for (String sparse : config.sparseVectors()) {
      if (!info.getConfig().getParams().getSparseVectorsConfig().containsMap(sparse)) {
        throw mismatched(
            name,
            named,
            " has no sparse vector '" + sparse + "' named in collection.sparse.vectors");
      }
    }
    if (params.getSize() != config.vectorSize()) {
      throw mismatched(
          name,
          named,
          " holds vectors of size "
              + params.getSize()
              + " but vector.size is "
              + config.vectorSize()
              + "; point the connector at another collection or fix vector.size");
    }
    if (params.getDistance() == config.distance()) {
      return;
    }
    if (!config.distanceConfigured()) {
      // the option once applied only to collections the connector creates: configs that never
      // set it keep writing to collections made elsewhere, as before
      log.info(
          "{} compares vectors by {} distance; collection.distance is not set, so it is taken as it"
              + " is",
          named,
          lowerCase(params.getDistance()));
      return;
    }
    throw mismatched(
        name,
        named,
        " compares vectors by "
            + lowerCase(params.getDistance())
            + " distance but collection.distance is "
            + lowerCase(config.distance())
            + "; point the connector at another collection or fix collection.distance");
  }

  /**
   * A collection made for other vectors or indexes than configured: {@code problem} says how, after
   * the collection's name, with configuration and Qdrant's settings only, never record data.
   */
  private MismatchedCollectionException mismatched(String name, String named, String problem) {
    return new MismatchedCollectionException(
        name, named, config.collection().toString(), config.collectionFromRecordData(), problem);
  }

  // ------------------------------------------------------------------ writes

  /**
   * Applies a collapsed batch, its requests all in flight together (within qdrant.max.in.flight),
   * and returns the operations Qdrant refused as bad data. Throws {@link RetriableException} when
   * Qdrant could not take it now; by then no request of the batch is still running (every request
   * is awaited before anything is thrown), so a retry never races an earlier attempt, and none is
   * sent after one failed so. The task runs this on its writer thread while it maps the next batch.
   */
  List<Rejected> write(WriteBatch batch) {
    List<Request> requests =
        batch.requests(
            config.batchMaxPoints(),
            config.batchMaxBytes(),
            collection -> upsertCaps.getOrDefault(collection, config.batchMaxPoints()));
    List<Future<?>> sent = new ArrayList<>(requests.size());
    AtomicBoolean sentAgain = new AtomicBoolean();
    try {
      for (Request request : requests) {
        acquireSlot();
        if (sentAgain.get()) {
          // the whole batch goes again: the rest would only wait for slots, each up to a deadline
          // against an overloaded Qdrant (past max.poll.interval.ms for many collections), and be
          // written twice
          inFlight.release();
          break;
        }
        sent.add(send(request, sentAgain));
      }
    } catch (RuntimeException e) {
      awaitAll(sent); // the requests already sent must not race a retry of the batch
      throw e;
    }
    List<Rejected> refused = new ArrayList<>();
    Set<String> rechecked = new HashSet<>();
    RuntimeException failed = null;
    for (int i = 0; i < sent.size(); i++) {
      try {
        awaitRaw(sent.get(i));
      } catch (StatusFailure failure) {
        RuntimeException outcome;
        try {
          MismatchedCollectionException mismatch =
              recheckOnRefusal(requests.get(i), failure, rechecked);
          if (mismatch != null) {
            // a tenant's collection made again for other vectors: its records, not the task's
            refusedByCollection(batch, requests.get(i), mismatch::rejected, refused);
            outcome = null;
          } else {
            outcome = handle(batch, requests.get(i), failure, refused);
          }
        } catch (RuntimeException e) {
          outcome = e; // thrown only once the batch's other requests are done too
        }
        failed = worse(failed, outcome);
      }
    }
    if (failed != null) {
      throw failed;
    }
    return refused;
  }

  /** Waits for the requests whatever their outcome; each is bounded by its own deadline. */
  private static void awaitAll(List<Future<?>> sent) {
    for (Future<?> request : sent) {
      try {
        Uninterruptibles.getUninterruptibly(request);
      } catch (ExecutionException | RuntimeException ignored) {
        // its outcome no longer matters: the batch fails as a whole and is sent again
      }
    }
  }

  /**
   * Before a refused request is searched for its bad points, its collection is checked again, once
   * per batch: a collection recreated with other vectors under a running task refuses every point,
   * and that is a configuration error to fail on, not a batch of bad records to dead-letter one by
   * one. For a collection named by record data (a tenant's) that error is returned instead: the
   * request's records are dead-lettered, the other tenants' writes land.
   */
  private MismatchedCollectionException recheckOnRefusal(
      Request request, StatusFailure failure, Set<String> rechecked) {
    if (refusesPoints(failure.status) && rechecked.add(request.collection())) {
      ready.remove(request.collection());
      try {
        ensureCollection(request.collection(), request.ops().get(0).record());
      } catch (MissingCollectionException e) {
        // deleted meanwhile, as a NOT_FOUND would say: the batch is kept, and sending it again
        // finds the collection missing before anything is sent
        throw new RetriableException(describe(request, failure) + "; " + e.getMessage(), e);
      } catch (MismatchedCollectionException e) {
        if (!config.collectionFromRecordData()) {
          throw e;
        }
        return e;
      }
    }
    return null;
  }

  /** The first failure that is not retriable, else the first one; null while none. */
  private static RuntimeException worse(RuntimeException failed, RuntimeException outcome) {
    if (failed == null) {
      return outcome;
    }
    boolean permanent = outcome != null && !(outcome instanceof RetriableException);
    return failed instanceof RetriableException && permanent ? outcome : failed;
  }

  private void acquireSlot() {
    try {
      inFlight.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RetriableException("interrupted while waiting to write to Qdrant", e);
    }
  }

  /**
   * Sends one request in a slot acquired for it; the slot is freed when the answer arrives, after
   * {@code sentAgain} is set if the answer sends the whole batch again. The future returned is done
   * only once that is done and the answer counted: a waiter on the call's own future wakes before
   * its callbacks run, so a preCommit that had found a request failed could read metrics that did
   * not count it yet. Cancelling it cancels the call.
   */
  private Future<?> send(Request request, AtomicBoolean sentAgain) {
    long start = System.nanoTime();
    ListenableFuture<?> future;
    try {
      future = request.upsert() ? upsert(request) : delete(request);
    } catch (RuntimeException e) {
      inFlight.release();
      throw e;
    }
    SettableFuture<Object> answered = SettableFuture.create();
    Futures.addCallback(
        future,
        new FutureCallback<Object>() {
          @Override
          public void onSuccess(Object result) {
            inFlight.release();
            listener.written(request.upsert(), request.ops().size(), System.nanoTime() - start);
            answered.set(result);
          }

          @Override
          public void onFailure(Throwable t) {
            if (sendsBatchAgain(Status.fromThrowable(t))) {
              sentAgain.set(true);
            }
            inFlight.release();
            listener.failed(System.nanoTime() - start);
            answered.setException(t);
          }
        },
        MoreExecutors.directExecutor());
    answered.addListener(
        () -> {
          if (answered.isCancelled()) {
            future.cancel(true);
          }
        },
        MoreExecutors.directExecutor());
    return answered;
  }

  private ListenableFuture<?> upsert(Request request) {
    return client.points().upsert(request.upsert(ordering));
  }

  private ListenableFuture<?> delete(Request request) {
    PointsIdsList.Builder ids = PointsIdsList.newBuilder();
    request.ops().forEach(op -> ids.addIds(op.id()));
    DeletePoints delete =
        DeletePoints.newBuilder()
            .setCollectionName(request.collection())
            .setWait(true)
            .setOrdering(ordering)
            .setPoints(PointsSelector.newBuilder().setPoints(ids))
            .build();
    return client.points().delete(delete);
  }

  /** Sorts a failed request: returns the exception to throw once the batch is done, or null. */
  private RuntimeException handle(
      WriteBatch batch, Request request, StatusFailure failure, List<Rejected> refused) {
    Status.Code code = failure.status.getCode();
    if (collectionLimit(failure.status)) {
      if (config.collectionFromRecordData()) {
        // one tenant's collection: its records are dead-lettered, as when it is missing, rather
        // than every tenant's stalled behind it until the task fails, and after every restart
        refusedByCollection(
            batch,
            request,
            record -> collectionRefusal(record, request.collection(), failure.status),
            refused);
        return null;
      }
      return new CollectionLimitException(
          describe(request, failure) + limitReached(failure.status), failure);
    }
    Integer cap = upsertCap(request, failure.status);
    if (cap != null) {
      // strict mode's upsert_max_batchsize: sent again in requests of the size Qdrant allows
      for (int from = 0; from < request.ops().size(); from += cap) {
        sendAlone(batch, part(request, from, Math.min(from + cap, request.ops().size())), refused);
      }
      return null;
    }
    if (refusesPoints(failure.status) || tooBigToPass(failure.status)) {
      // searched by halving: the smaller requests pass, a single point that still cannot is
      // dead-lettered with Qdrant's reason instead of the whole batch being retried for ever
      refused.addAll(refusedIn(batch, request, failure));
      return null;
    }
    if (!sendsBatchAgain(failure.status)) {
      throw new ConnectException(describe(request, failure), failure);
    }
    if (code == Status.Code.NOT_FOUND) {
      // the collection was deleted under us: create (or check) it again on the retry
      ready.remove(request.collection());
    }
    return new RetriableException(describe(request, failure), failure);
  }

  /** Strict mode's upsert_max_batchsize as Qdrant words its refusal ({@code check_limit_opt}). */
  private static final Pattern UPSERT_LIMIT =
      Pattern.compile("Limit exceeded ([0-9]+) > ([0-9]+) for \"upsert limit\"");

  /**
   * The most points an upsert into the request's collection may carry, when Qdrant refused the
   * request for strict mode's upsert_max_batchsize naming a size it could pass; remembered for the
   * collection (logged at INFO when learned or changed). Null otherwise: the request is then split
   * by halving like any request too big to pass.
   */
  private Integer upsertCap(Request request, Status status) {
    if (!request.upsert()
        || status.getCode() != Status.Code.INVALID_ARGUMENT
        || status.getDescription() == null) {
      return null;
    }
    Matcher limit = UPSERT_LIMIT.matcher(status.getDescription());
    if (!limit.find()) {
      return null;
    }
    int cap;
    try {
      cap = Integer.parseInt(limit.group(2));
    } catch (NumberFormatException e) {
      return null;
    }
    if (cap < 1 || cap >= request.ops().size()) {
      return null; // no size that passes, or not one this request exceeds: halve instead
    }
    Integer before = upsertCaps.put(request.collection(), cap);
    if (before == null || before != cap) {
      log.info(
          "{}: its strict mode caps upserts at {} points (upsert_max_batchsize), below"
              + " batch.max.points={}; upserts into it are sent in requests of at most {} points",
          named(request.collection(), request.ops().get(0).record()),
          cap,
          config.batchMaxPoints(),
          cap);
    }
    return cap;
  }

  /**
   * Dead-letters the request's records: their collection, named by record data, refuses every write
   * for a limit of its own ({@link #collectionLimit}), which no other tenant's collection must wait
   * for. As for a refused point, a record's write that replaced an earlier one of its point gives
   * way to that one (a delete passes a full collection).
   */
  private void refusedByCollection(
      WriteBatch batch,
      Request request,
      Function<SinkRecord, Rejected> refusal,
      List<Rejected> refused) {
    for (PointOp op : request.ops()) {
      refused.add(refusal.apply(op.record()));
    }
    for (PointOp op : request.ops()) {
      PointOp earlier = batch.superseded(op);
      if (earlier != null) {
        boolean upsert = earlier instanceof PointOp.Upsert;
        sendAlone(batch, new Request(request.collection(), upsert, List.of(earlier)), refused);
      }
    }
  }

  /**
   * A record of a collection named by record data that refuses writes as a whole: the dead letter's
   * reason names the collection and what Qdrant said (bounded), as a missing collection's does; the
   * reason logged names collection.name and, for a strict-mode limit Qdrant words with numbers
   * only, the limit, never record data.
   */
  private Rejected collectionRefusal(SinkRecord record, String collection, Status status) {
    String description = status.getDescription() == null ? "" : status.getDescription();
    Matcher known = LIMIT_REACHED.matcher(description);
    String refuses = " refuses writes under Qdrant's strict mode or another limit of its own";
    String reason =
        "Qdrant collection '"
            + collection
            + "' (collection.name "
            + config.collection()
            + ")"
            + refuses
            + ": "
            + Utf8.truncate(description, MAX_REASON_BYTES, "...");
    String logged =
        "its Qdrant collection (collection.name "
            + config.collection()
            + ")"
            + refuses
            + (known.matches()
                ? ": Qdrant says \"" + known.group(1) + "\""
                : ": a request-level refusal (Qdrant's \"Bad request\")");
    String advice =
        "; dead-lettered, as the collection is named by record data: raise its limit or make room,"
            + " then replay the dead letter queue";
    return new Rejected(record, reason + advice, logged + advice);
  }

  /**
   * Finds the points of a refused request (bad data, or too big to ever pass) by sending its halves
   * again, down to single points, which are the refused ones. The other points are written on the
   * way. A refused operation that replaced an earlier one of its point in collapsing gives way to
   * that one: the point must end as if the records had been applied one by one (a tombstone
   * followed by a refused upsert deletes).
   */
  private List<Rejected> refusedIn(WriteBatch batch, Request request, StatusFailure failure) {
    List<PointOp> ops = request.ops();
    List<Rejected> refused = new ArrayList<>();
    if (ops.size() == 1) {
      refused.add(refusal(ops.get(0).record(), failure.status));
      PointOp earlier = batch.superseded(ops.get(0));
      if (earlier != null) {
        boolean upsert = earlier instanceof PointOp.Upsert;
        sendAlone(batch, new Request(request.collection(), upsert, List.of(earlier)), refused);
      }
      return refused;
    }
    int half = ops.size() / 2;
    for (Request part : List.of(part(request, 0, half), part(request, half, ops.size()))) {
      sendAlone(batch, part, refused);
    }
    return refused;
  }

  /** Sends a request and waits for it; a refusal is searched as above, other failures thrown. */
  private void sendAlone(WriteBatch batch, Request request, List<Rejected> refused) {
    try {
      acquireSlot();
      awaitRaw(send(request, new AtomicBoolean())); // alone: no later request to hold back
    } catch (StatusFailure failure) {
      RuntimeException outcome = handle(batch, request, failure, refused);
      if (outcome != null) {
        throw outcome;
      }
    }
  }

  /** Longest Qdrant description a dead letter's reason carries: a Kafka header, not a document. */
  static final int MAX_REASON_BYTES = 1024;

  /**
   * A point Qdrant refused: Qdrant's description (which may quote the point's values) for the dead
   * letter's reason only, bounded; the status code for the log and task errors.
   */
  static Rejected refusal(SinkRecord record, Status status) {
    String refused = "Qdrant refused the point: ";
    String description = status.getDescription() == null ? "" : status.getDescription();
    return new Rejected(
        record,
        refused + Utf8.truncate(description, MAX_REASON_BYTES, "..."),
        refused + "gRPC status " + status.getCode());
  }

  private static Request part(Request request, int from, int to) {
    return new Request(request.collection(), request.upsert(), request.ops().subList(from, to));
  }

  /**
   * Whether the failure sends the whole batch again ({@link #handle} makes it a {@link
   * RetriableException}): also what stops {@link #write} sending the batch's later requests, so the
   * two must not differ.
   */
  private boolean sendsBatchAgain(Status status) {
    Status.Code code = status.getCode();
    if (collectionLimit(status)) {
      return !config.collectionFromRecordData(); // else its records are dead-lettered
    }
    return !refusesPoints(status)
        && !tooBigToPass(status)
        && (code == Status.Code.NOT_FOUND || isTransient(code));
  }

  /**
   * Whether Qdrant refused something in the request's points, found by splitting it: an
   * INVALID_ARGUMENT about the data ("Wrong input: ...", "Validation error in body: ...", "Unable
   * to parse UUID: ...", a strict-mode limit of one point's sparse or multi vector "... were
   * provided!"), but not one about the collection ({@link #collectionLimit}) or the request's size
   * ({@link #tooBigToPass}); and a request Qdrant could not decode at all ({@link #undecodable}).
   */
  static boolean refusesPoints(Status status) {
    return status.getCode() == Status.Code.INVALID_ARGUMENT
            && !collectionLimit(status)
            && !tooBigToPass(status)
        || undecodable(status);
  }

  /**
   * A request Qdrant's gRPC layer (tonic with prost) could not decode: INTERNAL "failed to decode
   * Protobuf message: ..." (tonic's {@code from_decode_error}), such as a payload nested past
   * prost's recursion limit ("recursion limit reached"), which the mapper refuses before it is
   * sent. No retry decodes it, so it is searched like a refusal, never retried as an INTERNAL.
   */
  static boolean undecodable(Status status) {
    String description = status.getDescription();
    return status.getCode() == Status.Code.INTERNAL
        && description != null
        && description.startsWith("failed to decode Protobuf message");
  }

  /**
   * Qdrant refusing a write for the collection's sake, not its points': INVALID_ARGUMENT "Bad
   * request: ..." ({@code StorageError::BadRequest}), which strict mode answers when a collection
   * is full ("Max points count limit of N reached!", "Max vector storage size limit of NMB
   * reached!", "Max payload storage size limit of NMB reached!": qdrant/qdrant
   * lib/collection/src/operations/verification/update.rs). Every point would be refused alike, so
   * none is searched for: for a configured collection the batch is retried within retry.timeout.ms
   * (the collection may be emptied or its limit raised), then the task fails; for one named by
   * record data (a tenant's), its records are dead-lettered, as when it is missing, and the other
   * collections' writes land. Strict mode's limits on one point's sparse or multi vector ("... were
   * provided!") are about that point, and strict mode's batch size limit ({@link #tooBigToPass})
   * about the request's size.
   */
  static boolean collectionLimit(Status status) {
    String description = status.getDescription();
    return status.getCode() == Status.Code.INVALID_ARGUMENT
        && description != null
        && description.startsWith("Bad request: ")
        && !description.endsWith("were provided!")
        && !tooBigToPass(status);
  }

  /** Strict mode's collection limits as Qdrant words them: numbers only, no record data. */
  private static final Pattern LIMIT_REACHED =
      Pattern.compile(
          "Bad request: (Max (points count|vector storage size|payload storage size) limit of"
              + " [0-9.]+(MB)? reached!)");

  /**
   * What a task error says of a collection limit (the collection's name is configuration, not
   * record data): Qdrant's words for a known strict-mode limit, with advice about it; else the
   * words Qdrant's text opens with ({@link #openingWords}), since the cause may be another (a
   * missing shard key, another strict-mode check) but the rest of a write's refusal may quote a
   * record's point id or payload.
   */
  private String limitReached(Status status) {
    Matcher known = LIMIT_REACHED.matcher(status.getDescription());
    if (known.matches()) {
      return ": the collection is full (Qdrant's strict mode says \""
          + known.group(1)
          + "\"); nothing is dead-lettered for it: raise the collection's strict-mode limit"
          + " (max_points_count, max_collection_vector_size_bytes,"
          + " max_collection_payload_size_bytes) or make room, within retry.timeout.ms";
    }
    return ": the collection refuses writes (a request-level refusal, Qdrant's \"Bad request: "
        + openingWords(status.getDescription().substring("Bad request: ".length()))
        + "...\"); nothing is dead-lettered for it: the batch is retried within retry.timeout.ms";
  }

  /** The most characters of Qdrant's text {@link #openingWords} keeps. */
  private static final int MAX_OPENING_WORDS = 80;

  /**
   * The words a refusal's text opens with, up to its first character that is not a letter or a
   * space (a digit, a quote, a brace: where a point id, a payload key or a value would begin), at
   * most {@link #MAX_OPENING_WORDS} characters: what kind of refusal it is, without record data.
   */
  static String openingWords(String text) {
    int end = 0;
    while (end < text.length()
        && end < MAX_OPENING_WORDS
        && (Character.isLetter(text.charAt(end)) || text.charAt(end) == ' ')) {
      end++;
    }
    return text.substring(0, end).strip();
  }

  /**
   * A collection that refuses every write for a limit of its own ({@link #collectionLimit}):
   * retried like an outage, and its message, which names the collection and the limit and nothing
   * of a record, is the task's error once retry.timeout.ms has passed.
   */
  static final class CollectionLimitException extends RetriableException {
    private static final long serialVersionUID = 1L;

    CollectionLimitException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * A RESOURCE_EXHAUSTED that no retry of the same request can pass, only a smaller one: Qdrant's
   * strict mode refuses a request costing more than the rate limiter's whole budget with "please
   * try to split your request" and no retry-after (qdrant/qdrant {@code
   * CollectionError::rate_limit_error}, {@code RateLimitError::AlwaysOverBudget}), and a gRPC
   * server refuses a message over its maximum size ("gRPC message exceeds maximum size"); and
   * strict mode's {@code upsert_max_batchsize} refuses a request of more points with
   * INVALID_ARGUMENT "Bad request: Limit exceeded N > M for "upsert limit"". A rate limit that
   * passes later ("Retry after Ns") stays transient.
   */
  static boolean tooBigToPass(Status status) {
    String description = status.getDescription();
    if (description == null) {
      return false;
    }
    if (status.getCode() == Status.Code.INVALID_ARGUMENT) {
      // strict mode's upsert_max_batchsize: "Bad request: Limit exceeded N > M for "upsert
      // limit". Help: ..." (check_limit_opt in lib/collection/src/operations/verification)
      return description.contains("for \"upsert limit\"");
    }
    return status.getCode() == Status.Code.RESOURCE_EXHAUSTED
        && (description.contains("split your request")
            || description.contains("exceeds maximum size"));
  }

  /**
   * Codes that say Qdrant cannot take the call now but may later. FAILED_PRECONDITION is Qdrant's
   * answer while an operator's write lock is on ({@code StorageError::Locked}) and for other states
   * of the cluster that pass ({@code PreconditionFailed}): retried within retry.timeout.ms, like an
   * outage, rather than failing the task at once.
   */
  static boolean isTransient(Status.Code code) {
    return switch (code) {
      case UNAVAILABLE,
          RESOURCE_EXHAUSTED,
          DEADLINE_EXCEEDED,
          ABORTED,
          CANCELLED,
          INTERNAL,
          FAILED_PRECONDITION ->
          true;
      default -> false;
    };
  }

  private String describe(Request request, StatusFailure failure) {
    return (request.upsert() ? "upsert of " : "delete of ")
        + request.ops().size()
        + " point(s) in "
        + named(request.collection(), request.ops().get(0).record())
        + " failed: gRPC status "
        + failure.status.getCode();
  }

  // ------------------------------------------------------------------ futures

  /**
   * Waits for a collection call ({@code call} says what it asked, for the message, which gives the
   * status code and, only when {@link #qdrantSays} allows, Qdrant's text); failures become Connect
   * exceptions of the right kind. NOT_FOUND too is retried: the collection was deleted while it was
   * being checked, and the retry checks it from the start (it is not ready until a check passes).
   */
  private <T> T await(ListenableFuture<T> future, String call) {
    try {
      return awaitRaw(future);
    } catch (StatusFailure failure) {
      String message =
          call + " failed: gRPC status " + failure.status.getCode() + qdrantSays(failure.status);
      Status.Code code = failure.status.getCode();
      if (isTransient(code) || code == Status.Code.NOT_FOUND) {
        throw new RetriableException(message, failure.getCause());
      }
      throw new ConnectException(message, failure.getCause());
    }
  }

  /** Longest Qdrant description a collection call's failure carries: enough to say why. */
  static final int MAX_CALL_DESCRIPTION_BYTES = 300;

  /**
   * Qdrant's description of a failed collection call, bounded, when collection.name makes no
   * collection from record data: the call then carries nothing of a record (the name is configured
   * or a topic's), and the text says why Qdrant refused it (an INVALID_ARGUMENT on create).
   */
  private String qdrantSays(Status status) {
    String description = status.getDescription();
    if (config.collectionFromRecordData() || description == null || description.isEmpty()) {
      return "";
    }
    return ": " + Utf8.truncate(description, MAX_CALL_DESCRIPTION_BYTES, "...");
  }

  private static <T> T awaitRaw(Future<T> future) throws StatusFailure {
    try {
      // no timeout here: every call carries the client's deadline and fails when it passes
      return future.get();
    } catch (ExecutionException e) {
      throw new StatusFailure(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.cancel(true);
      throw new RetriableException("interrupted while waiting for Qdrant", e);
    }
  }

  /**
   * A collection the writer cannot use as it is: for a fixed collection a configuration error; for
   * one a template made from a record's key or value, the problem of the records that name it,
   * which go to the dead letter queue with {@link #rejected} while the other collections' records
   * land.
   */
  abstract static class UnusableCollectionException extends ConnectException {
    private static final long serialVersionUID = 1L;

    /** Names the collection: for a dead letter's reason, which goes with its record. */
    private final String deadLetterReason;

    /** For the log line and task error of one record, which name the record's position. */
    private final String loggedReason;

    UnusableCollectionException(String message, String deadLetterReason, String loggedReason) {
      super(message);
      this.deadLetterReason = deadLetterReason;
      this.loggedReason = loggedReason;
    }

    /** A record of the collection, to dead-letter: only its reason header names the collection. */
    Rejected rejected(SinkRecord record) {
      return new Rejected(record, deadLetterReason, loggedReason);
    }
  }

  /**
   * A collection that is not there and that the writer may not create (collection.create=false).
   * For a fixed collection a configuration error; for one a template made from a record, that
   * record's.
   */
  static final class MissingCollectionException extends UnusableCollectionException {
    private static final long serialVersionUID = 1L;

    private static final String MISSING = " does not exist and collection.create is false";

    /**
     * {@code named} is how logs name the collection ({@link #named}); {@code template} is
     * collection.name.
     */
    MissingCollectionException(String collection, String named, String template) {
      super(
          named + MISSING,
          "Qdrant collection '" + collection + "'" + MISSING,
          "its Qdrant collection (collection.name " + template + ")" + MISSING);
    }
  }

  /**
   * A collection that exists with other vectors (size, distance, names, sparse vectors) or another
   * payload index type than configured. Writing to it would fail, or index the payload other than
   * asked for: for a fixed collection the task fails; for one named by record data (a tenant's) its
   * records are dead-lettered, as for a full one, and it is checked again by the next batch that
   * names it, so records land once the operator has fixed it.
   */
  static final class MismatchedCollectionException extends UnusableCollectionException {
    private static final long serialVersionUID = 1L;

    private static final String ADVICE =
        "; dead-lettered, as the collection is named by record data: fix the collection (or the"
            + " configuration), then replay the dead letter queue";

    MismatchedCollectionException(
        String collection, String named, String template, boolean fromRecordData, String problem) {
      super(
          named + problem,
          "Qdrant collection '"
              + collection
              + "' (collection.name "
              + template
              + ")"
              + problem
              + (fromRecordData ? ADVICE : ""),
          "its Qdrant collection (collection.name "
              + template
              + ")"
              + problem
              + (fromRecordData ? ADVICE : ""));
    }
  }

  /**
   * A failed gRPC call: its whole status, for sorting the failure and a dead letter's reason, and
   * as its cause the status code alone (see {@link #withoutDescription}).
   */
  private static final class StatusFailure extends Exception {
    final transient Status status;

    StatusFailure(Throwable cause) {
      super(withoutDescription(cause));
      this.status = Status.fromThrowable(cause);
    }
  }

  /**
   * The failure as logs and task errors may show it: a status exception keeps its code, its local
   * cause (a transport failure's, not Qdrant's text) and where it was thrown, but not Qdrant's
   * description, which may quote a collection name or a record's value.
   */
  private static Throwable withoutDescription(Throwable failure) {
    if (!(failure instanceof StatusRuntimeException || failure instanceof StatusException)) {
      return failure;
    }
    Status status = Status.fromThrowable(failure);
    StatusRuntimeException codeOnly =
        Status.fromCode(status.getCode()).withCause(status.getCause()).asRuntimeException();
    codeOnly.setStackTrace(failure.getStackTrace());
    return codeOnly;
  }

  /**
   * Shuts the channel down at once: every request still in flight fails (CANCELLED or UNAVAILABLE)
   * instead of running to its deadline, and so does any sent later. For a stopping task that has
   * waited long enough; {@link #close} then finds nothing left to wait for.
   */
  void abort() {
    client.channel().shutdownNow();
  }

  @Override
  public void close() {
    synchronized (this) {
      if (collectionChecks != null) {
        collectionChecks.shutdownNow(); // idle unless a put is checking: its calls then fail
      }
    }
    client.close();
  }
}
