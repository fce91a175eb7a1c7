package io.somastack.connect.qdrant;

import static io.qdrant.client.PointIdFactory.id;
import static io.qdrant.client.ValueFactory.value;
import static io.qdrant.client.VectorsFactory.vectors;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.QdrantGrpcClient;
import io.qdrant.client.grpc.Collections.CollectionConfig;
import io.qdrant.client.grpc.Collections.CollectionExists;
import io.qdrant.client.grpc.Collections.CollectionExistsRequest;
import io.qdrant.client.grpc.Collections.CollectionExistsResponse;
import io.qdrant.client.grpc.Collections.CollectionInfo;
import io.qdrant.client.grpc.Collections.CollectionOperationResponse;
import io.qdrant.client.grpc.Collections.CreateCollection;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.CollectionsGrpc;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.RetrievedPoint;
import io.somastack.connect.common.text.Utf8;
import io.somastack.connect.testing.qdrant.QdrantGrpcStandIn;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** How the writer checks and creates collections, against the gRPC stand-in. */
class QdrantWriterCollectionsTest {

  /**
   * Its stand-in, reader and configuration only: the writers here run without a task, and are told
   * which collection to check, whatever collection.name says.
   */
  @RegisterExtension final StandInTask sink = new StandInTask("qdrant.timeout.ms", "5000");

  private final QdrantGrpcStandIn qdrant = sink.qdrant;
  private final QdrantClient reader = sink.reader;
  private final List<QdrantWriter> writers = new ArrayList<>();

  @AfterEach
  void closeWriters() { // before the fixture closes the stand-in
    writers.forEach(QdrantWriter::close);
  }

  private QdrantWriter writer(String... keyValues) {
    QdrantWriter writer =
        QdrantWriter.open(
            new QdrantSinkConfig(sink.props(keyValues)), (upsert, points, nanos) -> {});
    writers.add(writer);
    return writer;
  }

  private void createUnnamed(String name, int size, Distance distance) throws Exception {
    reader
        .createCollectionAsync(
            name, VectorParams.newBuilder().setSize(size).setDistance(distance).build())
        .get();
  }

  private CollectionInfo info(String name) throws Exception {
    return reader.getCollectionInfoAsync(name).get();
  }

  /**
   * Counts the creations of collections in flight on a channel, the most at once too; the first
   * {@code together} creations each wait (a while at most) until that many have started, so a
   * writer that made them one after another would be seen to.
   */
  private static final class CreationsInFlight implements ClientInterceptor {
    final AtomicInteger now = new AtomicInteger();
    final AtomicInteger most = new AtomicInteger();
    final CountDownLatch together;

    CreationsInFlight(int together) {
      this.together = new CountDownLatch(together);
    }

    @Override
    public <Q, A> ClientCall<Q, A> interceptCall(
        MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
      ClientCall<Q, A> call = next.newCall(method, options);
      if (!method.getFullMethodName().endsWith("/Create")) {
        return call;
      }
      return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
        @Override
        public void start(Listener<A> listener, Metadata headers) {
          most.accumulateAndGet(now.incrementAndGet(), Math::max);
          together.countDown();
          try {
            together.await(10, TimeUnit.SECONDS); // on the caller's thread: holds a serial writer
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          super.start(
              new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                @Override
                public void onClose(Status status, Metadata trailers) {
                  now.decrementAndGet();
                  super.onClose(status, trailers);
                }
              },
              headers);
        }
      };
    }
  }

  /**
   * A burst of new collections (new tenants) is checked and created several at once, never more
   * than qdrant.max.in.flight.requests at a time, each with its payload indexes, each found by a
   * record of its own.
   */
  @Test
  void newCollectionsAreMadeSeveralAtOnceWithinMaxInFlight() throws Exception {
    CreationsInFlight creations = new CreationsInFlight(3);
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress(qdrant.host(), qdrant.port())
            .usePlaintext()
            .intercept(creations)
            .build();
    QdrantWriter writer =
        new QdrantWriter(
            QdrantGrpcClient.newBuilder(channel, true, false)
                .withTimeout(Duration.ofSeconds(30))
                .build(),
            new QdrantSinkConfig(
                sink.props(
                    "qdrant.max.in.flight.requests",
                    "3",
                    "collection.payload.indexes",
                    "tenant_id:keyword,kind:keyword")),
            (upsert, points, nanos) -> {});
    writers.add(writer);
    Map<String, SinkRecord> collections = new LinkedHashMap<>();
    for (int i = 0; i < 12; i++) {
      collections.put("mem_t" + i, sink.record(null, Map.of("id", i)));
    }
    Map<String, Object> found = writer.ensureCollections(collections, Set.of());

    assertEquals(List.copyOf(collections.keySet()), List.copyOf(found.keySet()));
    found.values().forEach(f -> assertEquals(QdrantWriter.Found.READY, f));
    assertEquals(3, creations.most.get(), "three at once, as qdrant.max.in.flight.requests says");
    for (String name : collections.keySet()) {
      assertEquals(Set.of("tenant_id", "kind"), info(name).getPayloadSchemaMap().keySet(), name);
    }
    long calls = qdrant.calls();
    writer.ensureCollections(collections, Set.of());
    assertEquals(calls, qdrant.calls(), "remembered: checked no more");
  }

  /**
   * A writer remembers a bounded number of checked collections (a collection.name from record data
   * names one per tenant, without bound): the one used least recently is forgotten first, and a
   * forgotten collection is simply checked again when named again.
   */
  @Test
  void theWriterRemembersABoundedNumberOfCollectionsAndChecksAForgottenOneAgain() {
    QdrantWriter writer =
        QdrantWriter.open(new QdrantSinkConfig(sink.props()), (upsert, points, nanos) -> {}, 2);
    writers.add(writer);
    writer.ensureCollection("c1");
    writer.ensureCollection("c2");
    long calls = qdrant.calls();
    writer.ensureCollection("c1"); // remembered, and now the one used most recently
    assertEquals(calls, qdrant.calls(), "a remembered collection is not checked again");

    writer.ensureCollection("c3");
    assertTrue(writer.remembers("c1"));
    assertFalse(writer.remembers("c2"), "the one used least recently is forgotten");
    assertTrue(writer.remembers("c3"));

    calls = qdrant.calls();
    writer.ensureCollection("c2");
    assertEquals(calls + 2, qdrant.calls(), "checked again: its existence and its configuration");
    assertEquals(
        1,
        qdrant.operations().stream()
            .filter(o -> o.kind().equals("create") && o.collection().equals("c2"))
            .count(),
        "found, not created again");
    assertFalse(writer.remembers("c1"));
  }

  @Test
  void anExistingCollectionWithAnotherDistanceIsAConfigurationError() throws Exception {
    createUnnamed("memories", 8, Distance.Dot);
    QdrantWriter writer = writer("collection.distance", "cosine");
    ConnectException e =
        assertThrows(ConnectException.class, () -> writer.ensureCollection("memories"));
    assertFalse(e instanceof RetriableException);
    assertTrue(e.getMessage().contains("dot"), e.getMessage());
    assertTrue(e.getMessage().contains("collection.distance is cosine"), e.getMessage());
  }

  /**
   * Before collection.distance was checked against existing collections it applied only to those
   * the connector creates: a collection made elsewhere with another distance, under a config that
   * never set it, is written to as before instead of failing the upgraded connector.
   */
  @Test
  void anExistingCollectionKeepsItsDistanceWhenNoneIsConfigured() throws Exception {
    createUnnamed("memories", 8, Distance.Dot);
    writer().ensureCollection("memories");
    writer("collection.create", "false").ensureCollection("memories");
    assertEquals(
        Distance.Dot,
        info("memories").getConfig().getParams().getVectorsConfig().getParams().getDistance());
  }

  @Test
  void theConnectorFailsAtStartForAFixedCollectionWithAnotherDistance() throws Exception {
    createUnnamed("memories", 8, Distance.Dot);
    QdrantVectorSinkConnector connector = new QdrantVectorSinkConnector();
    ConnectException e =
        assertThrows(
            ConnectException.class,
            () ->
                connector.start(
                    sink.props("collection.name", "memories", "collection.distance", "cosine")));
    assertTrue(e.getMessage().contains("collection.distance"), e.getMessage());
  }

  @Test
  void anExistingNamedVectorWithAnotherDistanceIsAConfigurationError() throws Exception {
    writer("vector.name", "dense", "collection.distance", "euclid").ensureCollection("memories");
    ConnectException e =
        assertThrows(
            ConnectException.class,
            () ->
                writer("vector.name", "dense", "collection.distance", "cosine")
                    .ensureCollection("memories"));
    assertTrue(e.getMessage().contains("collection.distance is cosine"), e.getMessage());
  }

  /** It is written to as it is: not made again, its points and parameters untouched. */
  @Test
  void anExistingCollectionOfTheConfiguredVectorsPasses() throws Exception {
    createUnnamed("memories", 8, Distance.Euclid);
    reader
        .upsertAsync(
            "memories",
            List.of(
                PointStruct.newBuilder()
                    .setId(id(7))
                    .setVectors(vectors(1, 0, 0, 0, 0, 0, 0, 0))
                    .putPayload("text", value("made before the connector"))
                    .build()))
        .get();
    CollectionConfig before = info("memories").getConfig();

    writer("collection.distance", "euclid").ensureCollection("memories");

    assertEquals(before, info("memories").getConfig());
    List<RetrievedPoint> kept = reader.retrieveAsync("memories", id(7), true, false, null).get();
    assertEquals(1, kept.size(), "the point made before is still there");
    assertEquals(
        "made before the connector", kept.get(0).getPayloadOrThrow("text").getStringValue());
    assertEquals(1, reader.countAsync("memories").get());
  }

  @Test
  void namedVectorsWhereTheUnnamedOneIsExpectedAndTheOtherWayRoundAreConfigurationErrors() {
    writer("vector.name", "dense").ensureCollection("named");
    writer().ensureCollection("unnamed");
    ConnectException unnamed =
        assertThrows(ConnectException.class, () -> writer().ensureCollection("named"));
    assertTrue(unnamed.getMessage().contains("named vectors [dense]"), unnamed.getMessage());
    ConnectException named =
        assertThrows(
            ConnectException.class,
            () -> writer("vector.name", "dense").ensureCollection("unnamed"));
    assertTrue(named.getMessage().contains("a single unnamed vector"), named.getMessage());
  }

  @Test
  void aMissingSparseVectorIsAConfigurationError() {
    writer("vector.name", "dense").ensureCollection("memories");
    ConnectException e =
        assertThrows(
            ConnectException.class,
            () ->
                writer(
                        "embedder",
                        "field",
                        "vector.name",
                        "dense",
                        "collection.sparse.vectors",
                        "words")
                    .ensureCollection("memories"));
    assertTrue(e.getMessage().contains("no sparse vector 'words'"), e.getMessage());
  }

  /**
   * An index of another type on a configured field is not what the configuration asks for, and the
   * writer will not rebuild an index it did not make: it says so instead of going on as if it were
   * there.
   */
  @Test
  void aPayloadIndexOfAnotherTypeIsAConfigurationError() throws Exception {
    createUnnamed("memories", 8, Distance.Cosine);
    reader
        .createPayloadIndexAsync(
            "memories", "tenant_id", PayloadSchemaType.Integer, null, true, null, null)
        .get();
    QdrantWriter writer = writer("collection.payload.indexes", "tenant_id:keyword");
    ConnectException e =
        assertThrows(ConnectException.class, () -> writer.ensureCollection("memories"));
    assertTrue(e.getMessage().contains("tenant_id"), e.getMessage());
    assertTrue(e.getMessage().contains("integer"), e.getMessage());
    assertEquals(
        PayloadSchemaType.Integer,
        info("memories").getPayloadSchemaOrThrow("tenant_id").getDataType(),
        "the index is left as it was");
  }

  @Test
  void payloadIndexesOfEveryTypeAreCreatedOnceAndAcceptedAgain() throws Exception {
    String indexes = "tenant_id:keyword,n:integer,f:float,b:bool,t:text,at:datetime,u:uuid,g:geo";
    writer("collection.payload.indexes", indexes).ensureCollection("memories");
    writer("collection.payload.indexes", indexes).ensureCollection("memories");
    Map<String, PayloadSchemaType> created = new HashMap<>();
    info("memories").getPayloadSchemaMap().forEach((f, i) -> created.put(f, i.getDataType()));
    assertEquals(
        new QdrantSinkConfig(sink.props("collection.payload.indexes", indexes)).payloadIndexes(),
        created);
    assertEquals(8, qdrant.operations().stream().filter(o -> o.kind().equals("index")).count());
  }

  /**
   * Tasks (or connectors) starting together race to create a collection: whichever finds it made by
   * another, by the existence check or by ALREADY_EXISTS, goes on as with any existing one, so
   * every task of one configuration passes and a task of another one (here: another distance) is
   * told, never silently writing into a collection made for other vectors.
   */
  @Test
  void tasksRacingToCreateACollectionAllCheckTheOneThatWon() throws Exception {
    int collections = 40;
    QdrantWriter cosine = writer("collection.distance", "cosine");
    QdrantWriter sameAsCosine = writer("collection.distance", "cosine");
    QdrantWriter dot = writer("collection.distance", "dot");
    ExecutorService threads = Executors.newFixedThreadPool(3);
    try {
      for (int i = 0; i < collections; i++) {
        String name = "tenant_" + i;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> outcomes = new ArrayList<>();
        for (QdrantWriter writer : List.of(cosine, sameAsCosine, dot)) {
          outcomes.add(threads.submit(ensures(writer, name, go)));
        }
        go.countDown();
        List<Boolean> accepted = new ArrayList<>();
        for (Future<Boolean> outcome : outcomes) {
          accepted.add(outcome.get(10, TimeUnit.SECONDS));
        }
        boolean cosineWon =
            info(name).getConfig().getParams().getVectorsConfig().getParams().getDistance()
                == Distance.Cosine;
        assertEquals(List.of(cosineWon, cosineWon, !cosineWon), accepted, name);
      }
    } finally {
      threads.shutdownNow();
    }
    assertEquals(
        collections, qdrant.operations().stream().filter(o -> o.kind().equals("create")).count());
  }

  /** Whether the writer accepted the collection; a configuration error is false. */
  private static Callable<Boolean> ensures(QdrantWriter writer, String name, CountDownLatch go) {
    return () -> {
      go.await();
      try {
        writer.ensureCollection(name);
        return true;
      } catch (RetriableException e) {
        throw e;
      } catch (ConnectException e) {
        return false;
      }
    };
  }

  // ------------------------------------------------------------------ failed collection calls

  /**
   * A configured collection's calls carry no record data, so their failures say what Qdrant said:
   * here the stand-in refuses, as Qdrant does, a new collection's name with a ':' in it.
   */
  @Test
  void aFixedCollectionsRefusedCreationSaysWhyQdrantRefusedIt() {
    QdrantWriter writer = writer("collection.name", "memories");
    ConnectException e =
        assertThrows(ConnectException.class, () -> writer.ensureCollection("bad:name"));
    assertFalse(e instanceof RetriableException);
    assertTrue(e.getMessage().contains("INVALID_ARGUMENT"), e.getMessage());
    assertTrue(e.getMessage().contains("collection name cannot contain"), e.getMessage());
  }

  /** A collection named from record data: its name may be in Qdrant's text, which is left out. */
  @Test
  void aTenantCollectionsRefusedCreationGivesTheStatusCodeOnly() {
    QdrantWriter writer = writer("collection.name", "mem_${key}");
    ConnectException e =
        assertThrows(ConnectException.class, () -> writer.ensureCollection("bad:name"));
    assertTrue(e.getMessage().contains("INVALID_ARGUMENT"), e.getMessage());
    assertFalse(e.getMessage().contains("cannot contain"), e.getMessage());
    assertFalse(e.getMessage().contains("bad:name"), e.getMessage());
  }

  /** Qdrant's text is unbounded (it quotes names): an error carries at most 300 bytes of it. */
  @Test
  void qdrantsTextInAFailedCollectionCallIsBounded() {
    String tooLong = "m".repeat(400); // quoted whole in Qdrant's validation error
    QdrantWriter writer = writer("collection.name", "${topic}");
    ConnectException e =
        assertThrows(ConnectException.class, () -> writer.ensureCollection(tooLong));
    String message = e.getMessage();
    assertTrue(message.contains("INVALID_ARGUMENT: Validation error"), message);
    assertTrue(message.endsWith("..."), message);
    String qdrantSays = message.substring(message.indexOf("INVALID_ARGUMENT: ") + 18);
    assertTrue(Utf8.length(qdrantSays) <= QdrantWriter.MAX_CALL_DESCRIPTION_BYTES + 3, qdrantSays);
  }

  /**
   * A creation Qdrant answers with result=false and no error created nothing: said so, not as a
   * failed call with a made-up status.
   */
  @Test
  void aCreationAnsweredWithResultFalseSaysSo() throws Exception {
    Server refusing =
        NettyServerBuilder.forPort(0).addService(new CreatesNothing()).build().start();
    try {
      QdrantWriter writer = writer("qdrant.url", "http://localhost:" + refusing.getPort());
      ConnectException e =
          assertThrows(ConnectException.class, () -> writer.ensureCollection("memories"));
      assertFalse(e instanceof RetriableException);
      assertTrue(e.getMessage().contains("result=false"), e.getMessage());
      assertFalse(e.getMessage().contains("UNKNOWN"), e.getMessage());
    } finally {
      refusing.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /** A Qdrant whose collections never exist and whose creations answer result=false. */
  private static final class CreatesNothing extends CollectionsGrpc.CollectionsImplBase {
    @Override
    public void collectionExists(
        CollectionExistsRequest request, StreamObserver<CollectionExistsResponse> reply) {
      reply.onNext(
          CollectionExistsResponse.newBuilder()
              .setResult(CollectionExists.newBuilder().setExists(false))
              .build());
      reply.onCompleted();
    }

    @Override
    public void create(
        CreateCollection request, StreamObserver<CollectionOperationResponse> reply) {
      reply.onNext(CollectionOperationResponse.newBuilder().setResult(false).build());
      reply.onCompleted();
    }
  }
}
