package io.somastack.connect.qdrant.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.qdrant.QdrantSinkConfig;
import io.somastack.connect.testing.CapturedStderr;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Against a local HTTP server that speaks the OpenAI embeddings API. */
class OpenAiEmbedderTest {

  private HttpServer server;
  private final List<JsonNode> requests = new CopyOnWriteArrayList<>();
  private final List<String> authorizations = new CopyOnWriteArrayList<>();
  private final Queue<Integer> statuses = new ArrayDeque<>();
  private volatile int dimensions = 4;
  private volatile String refused = "<none>";
  private volatile int refusalStatus = 400;
  private volatile String nullFor = "<none>";
  private volatile String refusal = "{\"error\":{\"message\":\"input too long\"}}";

  /** A text the server fails on with {@link #poisonStatus} every time, as a crashing tokenizer. */
  private volatile String poison = "<none>";

  private volatile int poisonStatus = 500;

  /** A request whose texts sum to more characters is refused with 413, as a proxy or OpenAI do. */
  private volatile int maxRequestChars = Integer.MAX_VALUE;

  /**
   * A request of more texts is refused with 413, as text-embeddings-inference does above its
   * --max-client-batch-size (32 by default).
   */
  private volatile int maxInputs = Integer.MAX_VALUE;

  /** What the model does with a request's "dimensions": honour (text-embedding-3-*) by default. */
  private volatile boolean refusesDimensions;

  private volatile boolean ignoresDimensions;

  /** Sent with the failures of {@link #statuses}, in seconds; null for none. */
  private volatile String retryAfter;

  /** How long a successful answer takes on the embedder's clock: a slow endpoint. */
  private volatile long answerMillis;

  /**
   * The embedder's clock, moved by hand: by its waits between retries and by {@link #answerMillis},
   * so the retry budget is tested without waiting for it. Only an HTTP timeout takes real time.
   */
  private final AtomicLong nanos = new AtomicLong();

  /** Every wait between retries the embedder took, in ms. */
  private final List<Long> waits = new CopyOnWriteArrayList<>();

  private void sleep(long millis) {
    waits.add(millis);
    nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
  }

  /** Requests after this many are held unanswered until {@link #released}. */
  private volatile int answeredBeforeHolding = Integer.MAX_VALUE;

  private final CountDownLatch released = new CountDownLatch(1);

  /** Answers every request in place of the OpenAI-like handler when set. */
  private volatile Answer answer;

  private interface Answer {
    void answer(HttpExchange exchange) throws IOException;
  }

  @BeforeEach
  void startServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress("localhost", 0), 0);
    server.createContext("/v1/embeddings", this::handle);
    server.start();
  }

  @AfterEach
  void stopServer() {
    released.countDown();
    server.stop(0);
  }

  private synchronized void handle(HttpExchange exchange) throws IOException {
    JsonNode body = RecordJson.parse(exchange.getRequestBody().readAllBytes());
    requests.add(body);
    authorizations.add(exchange.getRequestHeaders().getFirst("Authorization"));
    if (answer != null) {
      answer.answer(exchange);
      return;
    }
    if (requests.size() > answeredBeforeHolding) {
      awaitRelease();
    }
    Integer status = statuses.poll();
    if (status != null && status != 200) {
      if (retryAfter != null) {
        exchange.getResponseHeaders().add("Retry-After", retryAfter);
      }
      reply(exchange, status, "{\"error\":{\"message\":\"try later\"}}");
      return;
    }
    if (body.get("input").size() > maxInputs) {
      // text-embeddings-inference's answer: its Validation errors are 413s
      reply(
          exchange,
          413,
          "{\"error\":\"batch size "
              + body.get("input").size()
              + " > maximum allowed batch size "
              + maxInputs
              + "\",\"error_type\":\"Validation\"}");
      return;
    }
    for (JsonNode input : body.get("input")) {
      if (input.asText().equals(poison)) {
        reply(
            exchange,
            poisonStatus,
            "{\"error\":\"tokenizer panicked\",\"error_type\":\"Backend\"}");
        return;
      }
      if (input.asText().equals(refused) && body.get("input").size() >= 1) {
        reply(exchange, refusalStatus, refusal);
        return;
      }
    }
    if (charsOf(body) > maxRequestChars) {
      reply(exchange, 413, "{\"error\":{\"message\":\"request too large\"}}");
      return;
    }
    int size = dimensions;
    if (body.has("dimensions") && refusesDimensions) {
      reply(
          exchange,
          400,
          "{\"error\":{\"message\":\"This model does not support specifying dimensions.\","
              + "\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}");
      return;
    }
    if (body.has("dimensions") && !ignoresDimensions) {
      size = body.get("dimensions").asInt();
    }
    nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(answerMillis)); // the endpoint's own speed
    ObjectNode answer = RecordJson.MAPPER.createObjectNode();
    ArrayNode data = answer.putArray("data");
    // answer in reverse order: the embedder must place vectors by their index
    for (int i = body.get("input").size() - 1; i >= 0; i--) {
      ObjectNode item = data.addObject().put("index", i).put("object", "embedding");
      ArrayNode embedding = item.putArray("embedding");
      String text = body.get("input").get(i).asText();
      for (int d = 0; d < size; d++) {
        if (d == 1 && text.equals(nullFor)) {
          embedding.addNull(); // JavaScript's JSON.stringify writes a NaN as null
        } else {
          // the place in the request, and the text's length: which text a vector is of
          embedding.add(d == 0 ? 1.0 + i : d == 2 ? text.length() : 0.0);
        }
      }
    }
    reply(exchange, 200, RecordJson.write(answer));
  }

  private static int charsOf(JsonNode request) {
    int chars = 0;
    for (JsonNode input : request.get("input")) {
      chars += input.asText().length();
    }
    return chars;
  }

  private void awaitRelease() {
    try {
      released.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void reply(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private OpenAiEmbedder embedder(int batchSize, String... keyValues) {
    Map<String, String> props =
        new HashMap<>(
            Map.of(
                "embedder", "openai",
                "embedder.openai.url", "http://localhost:" + server.getAddress().getPort() + "/v1/",
                "embedder.openai.model", "test-model",
                "embedder.openai.api.key", "sk-test",
                "embedder.openai.batch.size", String.valueOf(batchSize),
                "embedder.openai.max.retries", "2",
                "retry.backoff.ms", "1",
                "retry.backoff.max.ms", "5",
                "vector.size", "4"));
    for (int i = 0; i < keyValues.length; i += 2) {
      props.put(keyValues[i], keyValues[i + 1]);
    }
    return new OpenAiEmbedder(new QdrantSinkConfig(props), nanos::get, this::sleep);
  }

  private static List<JsonNode> texts(String... texts) {
    return java.util.Arrays.stream(texts)
        .map(t -> (JsonNode) RecordJson.MAPPER.createObjectNode().put("text", t))
        .toList();
  }

  @Test
  void batchesTextsAndPlacesVectorsByIndex() {
    List<Embedder.Result> results = embedder(2).embed(texts("a", "b", "c"));
    assertEquals(2, requests.size());
    assertEquals("test-model", requests.get(0).get("model").asText());
    assertEquals(2, requests.get(0).get("input").size());
    assertEquals("Bearer sk-test", authorizations.get(0));
    assertEquals(1.0f, results.get(0).vectors().getVector().getDense().getData(0));
    assertEquals(2.0f, results.get(1).vectors().getVector().getDense().getData(0));
    assertEquals(1.0f, results.get(2).vectors().getVector().getDense().getData(0));
  }

  @Test
  void retriesThrottlingAndServerErrors() {
    statuses.addAll(List.of(429, 503));
    List<Embedder.Result> results = embedder(8).embed(texts("a"));
    assertFalse(results.get(0).isRejected());
    assertEquals(3, requests.size());
  }

  /** A timeout (408) is no fault of the texts: retried, and never a dead letter. */
  @Test
  void requestTimeoutsAreRetriedNotRefused() {
    statuses.addAll(List.of(408, 408, 408));
    assertThrows(RetriableException.class, () -> embedder(8).embed(texts("a", "b")));
    statuses.clear();
    statuses.add(408);
    List<Embedder.Result> results = embedder(8).embed(texts("a", "b"));
    assertFalse(results.get(0).isRejected() || results.get(1).isRejected());
  }

  /**
   * text-embeddings-inference answers 424 when its model fails on a batch (the GPU out of memory,
   * say): no fault of the texts, so retried like a 5xx and never a dead letter.
   */
  @Test
  void aModelFailureIsRetriedNotRefused() {
    statuses.add(424);
    List<Embedder.Result> results = embedder(8).embed(texts("a", "b"));
    assertFalse(results.get(0).isRejected() || results.get(1).isRejected());
    assertEquals(2, requests.size(), "the batch, and the batch again");

    requests.clear();
    answer = exchange -> reply(exchange, 424, "{\"error\":\"oom\",\"error_type\":\"Backend\"}");
    RetriableException e =
        assertThrows(RetriableException.class, () -> embedder(8).embed(texts("a", "b")));
    assertTrue(e.getMessage().contains("HTTP 424"), e.getMessage());
    assertEquals(List.of(2, 2, 2), requestSizes(), "the batch retried: no probe, not in halves");
  }

  /**
   * A model failing on one long text alone (out of GPU memory under load: 424) while it embeds a
   * one-word text says nothing of the text: nothing is narrowed down to a dead letter.
   */
  @Test
  void aTextTheModelFailsOnWith424IsNeverDeadLettered() {
    poison = "a long but valid text";
    poisonStatus = 424;
    assertThrows(RetriableException.class, () -> embedder(8).embed(texts("a", poison, "c")));
    assertEquals(List.of(3, 3, 3), requestSizes(), "the batch retried: no probe, not in halves");
  }

  /** With no retries, one 500 says nothing of the texts: the batch goes back, never narrowed. */
  @Test
  void withoutRetriesAFailureIsNeverNarrowed() {
    poison = "b";
    assertThrows(
        RetriableException.class,
        () -> embedder(8, "embedder.openai.max.retries", "0").embed(texts("a", poison, "c")));
    assertEquals(List.of(3), requestSizes(), "the batch once: no probe, not in halves");
  }

  /**
   * A server that fails every request, the one-word probe too, is down, not failing on the texts:
   * the batch goes back to Connect as before, never in halves and never to the dead letter queue.
   */
  @Test
  void persistentOutageIsRetriable() {
    answer = exchange -> reply(exchange, 500, "{\"error\":{\"message\":\"down\"}}");
    assertThrows(RetriableException.class, () -> embedder(8).embed(texts("a", "b", "c")));
    assertEquals(List.of(3, 3, 3, 1, 1, 1), requestSizes(), "the batch, then the probe, retried");
    assertEquals(OpenAiEmbedder.PROBE_TEXT, inputs(requests.get(5)).get(0));
  }

  /**
   * An overloaded server (503) may refuse every batch and yet embed a one-word text: 503 says
   * nothing of the texts, so the batch goes back to Connect, never narrowed down to dead letters.
   */
  @Test
  void anOverloadedServerDeadLettersNothing() {
    poison = "a";
    poisonStatus = 503;
    assertThrows(RetriableException.class, () -> embedder(8).embed(texts("a", "b", "c")));
    assertEquals(List.of(3, 3, 3), requestSizes(), "the batch retried, no probe, no halves");
  }

  // ------------------------------------------------------------------ a text the server fails on

  /**
   * A text on which the server fails every time (a tokenizer that crashes on it: 500) while it
   * embeds other texts: the batch is narrowed down to that text, which alone is dead-lettered with
   * the status as its reason; the others get their vectors, and the task's request size stays.
   */
  @Test
  void aTextTheServerAlwaysFailsOnIsRejectedAloneAndTheOthersEmbedded() {
    poison = "my diagnosis is private";
    requests.clear();
    OpenAiEmbedder embedder = embedder(8);
    List<Embedder.Result> results = new java.util.ArrayList<>();
    String log =
        CapturedStderr.of(
            () ->
                results.addAll(
                    embedder.embed(texts("a", "bb", "ccc", poison, "eeeee", "ffffff", "g", "hh"))));
    assertTrue(log.contains("HTTP 500") && log.contains("DLQ"), log);
    assertFalse(log.contains("diagnosis"), log);
    for (int i = 0; i < results.size(); i++) {
      assertEquals(i == 3, results.get(i).isRejected(), "text " + i);
    }
    String reason = results.get(3).rejection();
    assertTrue(reason.contains("HTTP 500"), reason);
    assertFalse(reason.contains("diagnosis"), reason);
    assertEquals(
        List.of(1f, 2f, 3f, 5f, 6f, 1f, 2f),
        IntStream.of(0, 1, 2, 4, 5, 6, 7)
            .mapToObj(i -> results.get(i).vectors().getVector().getDense().getData(2))
            .toList(),
        "each text its own vector");

    requests.clear();
    assertFalse(embedder.embed(texts("a", "b", "c", "d", "e", "f", "g", "h")).get(0).isRejected());
    assertEquals(List.of(8), requestSizes(), "the request size is unchanged");
  }

  /**
   * A server that fails a text's every retry once (a restart, say) and then embeds the probe is not
   * taken to fail on the text: the text is sent again, and is embedded. A text is dead-lettered
   * only when it fails again after the probe passed.
   */
  @Test
  void aTextTheServerFailedOnceIsSentAgainNotRejected() {
    statuses.addAll(List.of(500, 500, 500));
    List<Embedder.Result> results = embedder(8).embed(texts("a"));
    assertFalse(results.get(0).isRejected(), results.get(0).rejection());
    assertEquals(
        List.of(
            List.of("a"),
            List.of("a"),
            List.of("a"),
            List.of(OpenAiEmbedder.PROBE_TEXT),
            List.of("a")),
        requests.stream().map(OpenAiEmbedderTest::inputs).toList());

    requests.clear();
    statuses.addAll(List.of(500, 500, 500));
    results = embedder(8).embed(texts("a", "b", "c"));
    assertFalse(results.stream().anyMatch(Embedder.Result::isRejected));
    assertEquals(List.of(3, 3, 3, 1, 2, 1), requestSizes(), "the batch, the probe, its halves");
  }

  /**
   * A server that embeds the probe and then goes down while a text is tried again has not shown
   * that it fails on the text: the probe is sent again before the text is dead-lettered, and
   * failing, the batch goes back to Connect.
   */
  @Test
  void aServerThatGoesDownAfterTheProbeDeadLettersNothing() {
    statuses.addAll(List.of(500, 500, 500, 200, 500, 500, 500, 503, 503, 503));
    assertThrows(RetriableException.class, () -> embedder(8).embed(texts("a")));
    assertEquals(
        List.of("a", "a", "a", "hello", "a", "a", "a", "hello", "hello", "hello"),
        requests.stream().map(r -> inputs(r).get(0)).toList());
  }

  @Test
  void aRefusedTextIsRejectedAloneAndTheOthersEmbedded() {
    refused = "bad";
    List<Embedder.Result> results = embedder(8).embed(texts("a", "bad", "c"));
    assertFalse(results.get(0).isRejected());
    assertTrue(results.get(1).isRejected());
    assertTrue(results.get(1).rejection().contains("HTTP 400"), results.get(1).rejection());
    assertFalse(results.get(2).isRejected());
  }

  /**
   * The task logs every dead letter's reason, and servers quote the text they refuse (FastAPI's 422
   * echoes the input): the reason gives the status and the error's code or type, not the body.
   */
  @Test
  void aRefusalReasonNeverQuotesTheText() {
    refused = "my diagnosis is private";
    refusal =
        "{\"error\":{\"message\":\"'my diagnosis is private' is too long\","
            + "\"type\":\"invalid_request_error\",\"code\":\"context_length_exceeded\"}}";
    String reason = embedder(8).embed(texts(refused)).get(0).rejection();
    assertTrue(reason.contains("HTTP 400 (context_length_exceeded)"), reason);
    assertFalse(reason.contains("diagnosis"), reason);

    refusalStatus = 422;
    refusal =
        "{\"detail\":[{\"type\":\"string_too_long\",\"loc\":[\"body\",\"input\",0],"
            + "\"input\":\"my diagnosis is private\"}]}";
    reason = embedder(8).embed(texts(refused)).get(0).rejection();
    assertTrue(reason.contains("HTTP 422"), reason);
    assertFalse(reason.contains("diagnosis"), reason);
  }

  /** A null in an embedding is no number: that text has no vector, and must not get a 0 there. */
  @Test
  void anEmbeddingWithANullIsNoVector() {
    nullFor = "b";
    List<Embedder.Result> results = embedder(8).embed(texts("a", "b"));
    assertFalse(results.get(0).isRejected());
    assertTrue(results.get(1).isRejected());
    assertTrue(results.get(1).rejection().contains("NaN"), results.get(1).rejection());
  }

  @Test
  void wrongModelDimensionsAreAConfigurationError() {
    dimensions = 3;
    ConnectException e = assertThrows(ConnectException.class, () -> embedder(8).embed(texts("a")));
    assertTrue(e.getMessage().contains("vector.size is 4"), e.getMessage());
  }

  @Test
  void emptyTextNeverReachesTheServer() {
    assertTrue(embedder(8).embed(texts(" ")).get(0).isRejected());
    assertEquals(0, requests.size());
  }

  // ------------------------------------------------------------------ a request's size

  /**
   * A request ends before the text that would take it past embedder.openai.batch.max.chars, and a
   * longer text goes alone: the vectors come back in the texts' order.
   */
  @Test
  void requestsAreBoundedByTheirTextsCharacters() {
    List<Embedder.Result> results =
        embedder(8, "embedder.openai.batch.max.chars", "10")
            .embed(texts("aaaa", "bbbbbb", "c", "ddddddddddddddd", "eeeeeeeeeeee", "ff", "g"));
    assertEquals(
        List.of(
            List.of("aaaa", "bbbbbb"),
            List.of("c"),
            List.of("ddddddddddddddd"),
            List.of("eeeeeeeeeeee"),
            List.of("ff", "g")),
        requests.stream().map(OpenAiEmbedderTest::inputs).toList());
    assertEquals(
        List.of(4f, 6f, 1f, 15f, 12f, 2f, 1f),
        results.stream().map(r -> r.vectors().getVector().getDense().getData(2)).toList());
  }

  /**
   * The brief's case: a put of 64 texts of about 8000 tokens each (32000 characters), at the
   * defaults, against an endpoint that refuses a request of more than 300000 tokens (1.2 million
   * characters at 4 a token): no request is refused, so no text is sent twice.
   */
  @Test
  void longTextsAtTheDefaultsAreNeverSentTwice() {
    maxRequestChars = 1_200_000;
    String[] texts = new String[64];
    for (int i = 0; i < texts.length; i++) {
      texts[i] = String.valueOf((char) ('A' + i % 26)).repeat(32_000 - i);
    }
    List<Embedder.Result> results = embedder(64).embed(texts(texts));
    assertTrue(requests.size() > 1, "the texts do not fit one request");
    // each text has a length of its own: the lengths sent say which texts went, and in what order
    assertEquals(
        java.util.Arrays.stream(texts).map(String::length).toList(),
        requests.stream().flatMap(r -> inputs(r).stream()).map(String::length).toList(),
        "every text once, in order");
    assertTrue(requests.stream().allMatch(r -> charsOf(r) <= 500_000), "the default bound");
    for (int i = 0; i < texts.length; i++) {
      assertEquals(
          texts[i].length(), results.get(i).vectors().getVector().getDense().getData(2), 0f);
    }
  }

  /** A request the server still refuses as too large is narrowed down as before. */
  @Test
  void aRequestRefusedForItsSizeIsStillSentTextByText() {
    maxRequestChars = 5;
    List<Embedder.Result> results =
        embedder(8, "embedder.openai.batch.max.chars", "6").embed(texts("aaa", "bbb", "cccccc"));
    assertFalse(results.get(0).isRejected() || results.get(1).isRejected());
    assertTrue(results.get(2).rejection().contains("HTTP 413"), results.get(2).rejection());
  }

  /**
   * text-embeddings-inference takes at most 32 texts a request by default and answers more with
   * 413: the batch of 64 (the default batch.size) goes again in halves, without the one-word test
   * and not text by text, and the task's later requests hold at most 32 texts, with one warning
   * that names the option to lower.
   */
  @Test
  void aServerThatTakesFewerTextsARequestGetsSmallerRequestsFromThenOn() {
    maxInputs = 32;
    OpenAiEmbedder embedder = embedder(64);
    String[] many = IntStream.range(0, 64).mapToObj(i -> "text " + i).toArray(String[]::new);
    String log = CapturedStderr.of(() -> embedder.embed(texts(many)));
    List<Embedder.Result> results = embedder.embed(texts(many));
    assertEquals(List.of(64, 32, 32, 32, 32), requestSizes(), "the first put's 64, then halves");
    for (int i = 0; i < many.length; i++) {
      // the vector of the text at its place in its request of 32
      assertEquals(1 + i % 32, results.get(i).vectors().getVector().getDense().getData(0), 0f);
    }
    assertEquals(1, log.lines().filter(l -> l.contains("WARN")).count(), log);
    assertTrue(log.contains("embedder.openai.batch.size"), log);
    assertTrue(log.contains("32"), log);
  }

  /**
   * text-embeddings-inference answers 413 as well for one text longer than the model takes: the
   * halves of the batch find it in a few requests (not one per text), it alone is dead-lettered,
   * and the request size stays, since the halves were refused too.
   */
  @Test
  void aTextRefusedWith413IsFoundByHalvesAndLeavesTheRequestSizeAlone() {
    refused = "bad";
    refusalStatus = 413;
    OpenAiEmbedder embedder = embedder(8);
    List<Embedder.Result> results = embedder.embed(texts("a", "b", "c", "bad", "e", "f", "g", "h"));
    for (int i = 0; i < results.size(); i++) {
      assertEquals(i == 3, results.get(i).isRejected(), "text " + i);
    }
    assertTrue(results.get(3).rejection().contains("HTTP 413"), results.get(3).rejection());
    // 8 refused; a b c bad refused; a b; c bad refused; c; bad refused; the one-word test; e f g h
    assertEquals(List.of(8, 4, 2, 2, 1, 1, 1, 4), requestSizes());
    requests.clear();
    assertFalse(embedder.embed(texts("a", "b", "c", "d", "e", "f", "g", "h")).get(0).isRejected());
    assertEquals(List.of(8), requestSizes(), "the request size is unchanged");
  }

  /**
   * A server that bounds a request's bytes (a proxy's body limit) refuses a request of a few long
   * texts that batch.max.chars let through; its halves pass. The request was not full, so its count
   * was not at fault: later requests still hold batch.size texts, not one each.
   */
  @Test
  void aRequestRefusedForItsBytesLeavesTheRequestSizeAlone() {
    maxRequestChars = 10;
    OpenAiEmbedder embedder = embedder(8, "embedder.openai.batch.max.chars", "20");
    assertFalse(embedder.embed(texts("aaaaaaaa", "bbbbbbbb")).get(1).isRejected());
    requests.clear();
    assertFalse(embedder.embed(texts("a", "b", "c", "d", "e", "f", "g", "h")).get(0).isRejected());
    assertEquals(List.of(8), requestSizes(), "the request size is unchanged");
  }

  private List<Integer> requestSizes() {
    return requests.stream().map(r -> r.get("input").size()).toList();
  }

  /** What runs writes to System.err, where slf4j-simple logs, and to its own stream still. */
  private static List<String> inputs(JsonNode request) {
    List<String> inputs = new java.util.ArrayList<>();
    request.get("input").forEach(input -> inputs.add(input.asText()));
    return inputs;
  }

  // ------------------------------------------------------------------ dimensions

  /**
   * text-embedding-3-small returns 1536 dimensions unless asked for fewer: with
   * embedder.openai.send.dimensions every request asks for vector.size; without it none does, and
   * the mismatch names the option.
   */
  @Test
  void aModelIsAskedForVectorSizeDimensionsWhenConfigured() {
    dimensions = 1536;
    List<Embedder.Result> results =
        embedder(8, "embedder.openai.send.dimensions", "true").embed(texts("a", "b"));
    assertFalse(results.get(0).isRejected() || results.get(1).isRejected());
    assertEquals(4, requests.get(0).get("dimensions").asInt());

    requests.clear();
    ConnectException e = assertThrows(ConnectException.class, () -> embedder(8).embed(texts("a")));
    assertFalse(requests.get(0).has("dimensions"), "not asked unless configured");
    assertTrue(e.getMessage().contains("returns 1536 dimensions"), e.getMessage());
    assertTrue(e.getMessage().contains("embedder.openai.send.dimensions=true"), e.getMessage());
  }

  /**
   * ada-002 answers a request with dimensions with 400, as for a text too long: the task fails,
   * naming the option, instead of dead-lettering every record.
   */
  @Test
  void aModelThatRefusesDimensionsFailsTheTaskNamingTheOption() {
    refusesDimensions = true;
    OpenAiEmbedder embedder = embedder(8, "embedder.openai.send.dimensions", "true");
    ConnectException e =
        assertThrows(ConnectException.class, () -> embedder.embed(texts("a", "b")));
    assertFalse(e instanceof RetriableException, e.toString());
    assertTrue(e.getMessage().contains("embedder.openai.send.dimensions"), e.getMessage());
    assertTrue(e.getMessage().contains("HTTP 400 (invalid_request_error)"), e.getMessage());
    assertFalse(requests.get(requests.size() - 1).has("dimensions"), "the probe without them");
  }

  /** A server that ignores dimensions answers with its own size: the mismatch says so. */
  @Test
  void anEndpointThatIgnoresDimensionsFailsNamingTheOption() {
    ignoresDimensions = true;
    dimensions = 768;
    OpenAiEmbedder embedder = embedder(8, "embedder.openai.send.dimensions", "true");
    ConnectException e = assertThrows(ConnectException.class, () -> embedder.embed(texts("a")));
    assertTrue(e.getMessage().contains("ignores the dimensions parameter"), e.getMessage());
    assertTrue(e.getMessage().contains("embedder.openai.send.dimensions"), e.getMessage());
  }

  // ------------------------------------------------------------------ the put's retry budget

  /**
   * A server that keeps asking for a second's patience, and a put whose retry budget is half a
   * second: the batch goes back to Connect after the first answer, instead of after twenty retries
   * (twenty seconds, or with Retry-After: 60 twenty minutes, far past max.poll.interval.ms).
   */
  @Test
  void aRetryThatWouldPassThePutsBudgetHandsTheBatchBackAtOnce() {
    retryAfter = "1";
    for (int i = 0; i < 30; i++) {
      statuses.add(503);
    }
    OpenAiEmbedder embedder =
        embedder(8, "embedder.openai.max.retries", "20", "embedder.openai.retry.budget.ms", "500");
    RetriableException e = assertThrows(RetriableException.class, () -> embedder.embed(texts("a")));
    assertEquals(List.of(), waits, "no retry was waited for");
    assertEquals(1, requests.size());
    assertTrue(e.getMessage().contains("embedder.openai.retry.budget.ms"), e.getMessage());
    assertTrue(e.getMessage().contains("HTTP 503"), e.getMessage());
  }

  /**
   * One put embeds in several requests; the budget is the put's, not each request's: the second
   * request's retry (a second away) would end past the budget, though it is its first retry. The
   * next put has a budget of its own.
   */
  @Test
  void theBudgetSpansEveryRequestOfOnePut() {
    retryAfter = "1";
    statuses.addAll(List.of(503, 200, 503));
    OpenAiEmbedder embedder = embedder(1, "embedder.openai.retry.budget.ms", "1500");
    assertThrows(RetriableException.class, () -> embedder.embed(texts("a", "b")));
    assertEquals(3, requests.size(), "a, a again after a second, b; b not again");
    assertEquals(List.of(1000L), waits, "b's retry not waited for: half a second is left");

    statuses.add(503);
    List<Embedder.Result> results = embedder.embed(texts("a", "b"));
    assertFalse(results.get(0).isRejected() || results.get(1).isRejected());
    assertEquals(6, requests.size(), "a, a again, b");
    assertEquals(List.of(1000L, 1000L), waits);
  }

  /**
   * The budget is for retrying: a slow endpoint's successful requests do not spend it, so a put of
   * many batches that takes longer than the budget still retries its one failure (else such a put
   * could never finish, each redelivery paying for its first batches again).
   */
  @Test
  void successfulRequestsDoNotSpendTheRetryBudget() {
    answerMillis = 400;
    statuses.addAll(List.of(200, 200, 200, 503, 200));
    OpenAiEmbedder embedder = embedder(1, "embedder.openai.retry.budget.ms", "1000");
    List<Embedder.Result> results = embedder.embed(texts("a", "b", "c", "d"));
    assertFalse(results.stream().anyMatch(Embedder.Result::isRejected));
    assertEquals(5, requests.size(), "a, b, c, d, d again");
    assertEquals(1, waits.size(), "d's retry was waited for, though a, b and c took 1.2 s");
  }

  /**
   * A retry that the server does not answer is cut short where the budget ends: after the second's
   * wait, 200 ms of the budget are left, and the retry times out after those, not after the minute
   * of embedder.openai.timeout.ms. That timeout takes real time; the timeout of the test only ends
   * one that would hang for the minute.
   */
  @Test
  void aRetryEndsWithThePutsBudgetNotWithTheRequestTimeout() {
    retryAfter = "1";
    statuses.add(503);
    answeredBeforeHolding = 1;
    OpenAiEmbedder embedder =
        embedder(
            8,
            "embedder.openai.timeout.ms",
            "60000",
            "embedder.openai.retry.budget.ms",
            "1200",
            "embedder.openai.max.retries",
            "1");
    RetriableException e =
        assertTimeoutPreemptively(
            Duration.ofSeconds(30),
            () -> assertThrows(RetriableException.class, () -> embedder.embed(texts("a"))));
    assertTrue(e.getMessage().contains("HttpTimeoutException"), e.getMessage());
    assertEquals(List.of(1000L), waits);
    assertEquals(2, requests.size());
  }

  @Test
  void aBudgetOfZeroHandsEveryFailureBack() {
    statuses.add(503);
    OpenAiEmbedder embedder = embedder(8, "embedder.openai.retry.budget.ms", "0");
    assertThrows(RetriableException.class, () -> embedder.embed(texts("a")));
    assertEquals(1, requests.size());
  }

  // ------------------------------------------------------------------ what the answers mean

  /**
   * HttpClient's timeout ends when the headers arrive: a server that then stalls in the body must
   * still give up after embedder.openai.timeout.ms, not hold the put (and the task) for ever.
   */
  @Test
  void anAnswerStalledInItsBodyTimesOut() {
    answer =
        exchange -> {
          exchange.sendResponseHeaders(200, 1000);
          exchange.getResponseBody().write("{\"data\":[".getBytes(StandardCharsets.UTF_8));
          exchange.getResponseBody().flush();
          awaitRelease();
        };
    OpenAiEmbedder embedder =
        embedder(8, "embedder.openai.timeout.ms", "300", "embedder.openai.max.retries", "0");
    RetriableException e =
        assertTimeoutPreemptively(
            Duration.ofSeconds(10),
            () -> assertThrows(RetriableException.class, () -> embedder.embed(texts("a"))));
    assertTrue(e.getMessage().contains("HttpTimeoutException"), e.getMessage());
  }

  /**
   * A 200 whose body is no JSON (a proxy's or captive portal's HTML page, or nothing) is the
   * endpoint's fault, not a record's: retried as a 5xx, then handed back to Connect naming the
   * answer's status and content type, never its body.
   */
  @Test
  void anAnswerThatIsNotJsonIsRetriedAndHandedBackNamingItsContentType() {
    answer =
        exchange -> {
          exchange.getResponseHeaders().add("Content-Type", "text/html; charset=utf-8");
          reply(exchange, 200, "<html>Sign in to continue, alice@example.com</html>");
        };
    RetriableException e =
        assertThrows(RetriableException.class, () -> embedder(8).embed(texts("a", "b")));
    assertTrue(e.getMessage().contains("HTTP 200"), e.getMessage());
    assertTrue(e.getMessage().contains("content type text/html"), e.getMessage());
    assertFalse(e.getMessage().contains("alice"), e.getMessage());
    assertEquals(List.of(2, 2, 2), requestSizes(), "the batch retried: no probe, not in halves");

    requests.clear();
    answer =
        exchange -> {
          answer = null; // once: the endpoint's own answer to the retry
          reply(exchange, 200, "");
        };
    List<Embedder.Result> results = embedder(8).embed(texts("a", "b"));
    assertFalse(results.get(0).isRejected() || results.get(1).isRejected());
    assertEquals(2, requests.size());
  }

  /**
   * A redirect (http to https, say) or an answer such as 405 is about the URL, not the texts: it
   * fails the task, where a refusal would dead-letter every record.
   */
  @Test
  void anAnswerAboutTheEndpointFailsInsteadOfRefusingTheTexts() {
    for (int status : new int[] {301, 307, 405, 415}) {
      answer =
          exchange -> {
            exchange.getResponseHeaders().add("Location", "https://elsewhere/v1/embeddings");
            reply(exchange, status, "<html>not here</html>");
          };
      requests.clear();
      ConnectException e =
          assertThrows(ConnectException.class, () -> embedder(8).embed(texts("a", "b")));
      assertFalse(e instanceof RetriableException, e.toString());
      assertTrue(e.getMessage().contains("HTTP " + status), e.getMessage());
      assertTrue(e.getMessage().contains("embedder.openai.url"), e.getMessage());
      assertEquals(1, requests.size(), "the texts are not tried one by one");
    }
  }

  /**
   * LiteLLM answers an unknown model with 400, as for a text too long: when a put's every text is
   * refused, a one-word text tells the two apart, and a refused request fails the task.
   */
  @Test
  void aRequestRefusedWhateverItsTextsFailsTheTask() {
    answer =
        exchange ->
            reply(
                exchange,
                400,
                "{\"error\":{\"message\":\"Invalid model name passed in model=test-model\","
                    + "\"type\":\"invalid_request_error\",\"param\":\"model\"}}");
    ConnectException e =
        assertThrows(
            ConnectException.class, () -> embedder(8).embed(texts("a", "b", "c", "d", "e")));
    assertFalse(e instanceof RetriableException, e.toString());
    assertTrue(e.getMessage().contains("HTTP 400 (invalid_request_error)"), e.getMessage());
    assertTrue(e.getMessage().contains("embedder.openai.model"), e.getMessage());
    assertEquals(2, requests.size(), "the batch, then the one-word test: no request per text");
    assertEquals(OpenAiEmbedder.PROBE_TEXT, requests.get(1).get("input").get(0).asText());
  }

  /** The one-word test is made once per put, however many of its requests are refused. */
  @Test
  void theEndpointIsTestedOncePerPut() {
    refused = "bad";
    List<Embedder.Result> results =
        embedder(8, "embedder.openai.batch.size", "2").embed(texts("bad", "a", "bad", "b"));
    assertTrue(results.get(0).isRejected() && results.get(2).isRejected());
    assertFalse(results.get(1).isRejected() || results.get(3).isRejected());
    long tests =
        requests.stream()
            .filter(r -> r.get("input").get(0).asText().equals(OpenAiEmbedder.PROBE_TEXT))
            .count();
    assertEquals(1, tests);
    assertEquals(7, requests.size(), "2 batches, 1 test, 4 texts alone");
  }

  /** A put whose only text is refused while the endpoint embeds others dead-letters that one. */
  @Test
  void aPutOfOnlyRefusedTextsStillDeadLettersThem() {
    refused = "bad";
    List<Embedder.Result> results = embedder(8).embed(texts("bad", "bad"));
    assertTrue(results.get(0).isRejected() && results.get(1).isRejected());
  }

  /** Proxies send Retry-After as an HTTP date: it is honoured like a number of seconds. */
  @Test
  void aRetryAfterDateIsHonoured() {
    retryAfter =
        DateTimeFormatter.RFC_1123_DATE_TIME.format(
            ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(5));
    statuses.addAll(List.of(503, 503, 503, 503));
    OpenAiEmbedder embedder = embedder(8, "embedder.openai.retry.budget.ms", "500");
    RetriableException e = assertThrows(RetriableException.class, () -> embedder.embed(texts("a")));
    assertEquals(List.of(), waits, "no retry before the date, which is past the budget");
    assertEquals(1, requests.size());
    assertTrue(e.getMessage().contains("embedder.openai.retry.budget.ms"), e.getMessage());
  }

  /** The rate limit's kind tells a quota used up from a burst. */
  @Test
  void aRetriedFailureNamesTheErrorsKind() {
    String body = "{\"error\":{\"code\":\"insufficient_quota\"}}";
    answer = exchange -> reply(exchange, 429, body);
    RetriableException e =
        assertThrows(RetriableException.class, () -> embedder(8).embed(texts("a")));
    assertTrue(e.getMessage().contains("HTTP 429 (insufficient_quota)"), e.getMessage());
  }

  /**
   * HttpClient refuses a header value with a zero-width space or a line break, quoting the header,
   * key and all, into the error the task fails with: the configuration refuses such a key first,
   * without quoting it.
   */
  @Test
  void aKeyNoHeaderCanCarryIsRefusedWithoutQuotingIt() {
    for (String key : List.of("sk-secret\u200b", "sk-sec\nret", "sk-sec ret")) {
      ConfigException e =
          assertThrows(
              ConfigException.class,
              () -> embedder(8, "embedder.openai.api.key", key).embed(texts("a")));
      assertTrue(e.getMessage().contains("embedder.openai.api.key"), e.getMessage());
      assertFalse(e.getMessage().contains("secret") || e.getMessage().contains("sk-sec"));
    }
    assertEquals(0, requests.size());
  }

  /**
   * The key is sent as a Bearer token in every request: over http:// the task says so once, at
   * start, naming the option but never the key; over https://, or without a key, it says nothing.
   */
  @Test
  void aKeySentOverPlainHttpIsWarnedOfOnceWithoutQuotingIt() {
    String log = CapturedStderr.of(() -> embedder(8, "embedder.openai.api.key", "sk-s3cret"));
    assertEquals(1, log.lines().filter(l -> l.contains("WARN")).count(), log);
    assertTrue(log.contains("embedder.openai.api.key is sent in clear text"), log);
    assertFalse(log.contains("sk-s3cret"), log);

    String https =
        CapturedStderr.of(() -> embedder(8, "embedder.openai.url", "https://api.example.com/v1"));
    assertFalse(https.contains("clear text"), https);
    String noKey = CapturedStderr.of(() -> embedder(8, "embedder.openai.api.key", ""));
    assertFalse(noKey.contains("clear text"), noKey);
  }
}
