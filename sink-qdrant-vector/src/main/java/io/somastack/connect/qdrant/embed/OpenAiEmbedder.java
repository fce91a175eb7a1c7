package io.somastack.connect.qdrant.embed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.retry.Backoff;
import io.somastack.connect.common.retry.RetryClock;
import io.somastack.connect.qdrant.QdrantSinkConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenAI-compatible {@code POST <url>/embeddings} endpoint (OpenAI, Azure OpenAI's v1 API, vLLM,
 * Ollama, text-embeddings-inference): texts go in batches bounded by count and by characters (a
 * stand-in for the tokens OpenAI bounds a request by); 429, 424, 5xx and I/O failures are retried
 * with backoff and then handed to Connect as retriable; a batch refused with 413 (too large) is
 * sent again in halves, and when the halves of a request full by count (batch.size texts) are taken
 * the task's later requests hold no more texts than a half; a text refused alone with 413, and any
 * other refusal (400, 422) of a batch, is narrowed down to the texts the server refuses, which are
 * rejected one by one; any other answer is a configuration error.
 *
 * <p>A request whose every attempt the server fails with 500, its retries used up, may be failing
 * on one of its texts (a tokenizer that crashes on it) rather than be down: the one-word {@link
 * #PROBE_TEXT} tells. Failed too, the server is down and the batch goes back to Connect as before;
 * embedded, the batch is sent again in halves to find the texts the server fails on. A text is
 * rejected only when its retries alone are used up twice with the probe embedded after each time,
 * so a server that fails for a while and recovers, or goes down in between, rejects no text.
 * Retries the put's budget cuts short narrow nothing: the batch goes back to Connect, and the next
 * put, with a budget of its own, narrows it.
 *
 * <p>The retries of one {@link #embed} call (one put) share one time budget (time from a request's
 * first failure to its success, summed; {@code embedder.openai.retry.budget.ms}): a put makes a
 * request per batch, each retried up to {@code maxRetries} times with waits of up to a minute, and
 * a put that outlasts the consumer's {@code max.poll.interval.ms} costs the task its partitions (a
 * rebalance, and again on every retry). Past the budget the records go back to Connect, which
 * delivers them again after its backoff while the task keeps polling.
 */
public final class OpenAiEmbedder extends TextEmbedder {

  private static final Logger log = LoggerFactory.getLogger(OpenAiEmbedder.class);

  /** What an error code or type looks like: a word such as invalid_request_error. */
  private static final Pattern ERROR_KIND = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  /** A text any embedding model takes, to tell a refused request from refused texts. */
  static final String PROBE_TEXT = "hello";

  /**
   * The HTTP clients every embedder of this class loader (the plugin's) shares, one per connect
   * timeout, the only setting a client is built with here (TLS is the JVM's default, no proxy, no
   * redirects; timeouts, the key and the body are per request). A client cannot be closed on Java
   * 17 and holds a selector thread until it is garbage-collected, so one per task start left a
   * thread for every restart until a GC; shared, a worker holds one per distinct
   * embedder.openai.timeout.ms, for the plugin's life, however often tasks restart.
   */
  private static final ConcurrentMap<Duration, HttpClient> CLIENTS = new ConcurrentHashMap<>();

  /** The shared client that connects within {@code connectTimeout}; see {@link #CLIENTS}. */
  private static HttpClient sharedClient(Duration connectTimeout) {
    return CLIENTS.computeIfAbsent(
        connectTimeout, timeout -> HttpClient.newBuilder().connectTimeout(timeout).build());
  }

  private final HttpClient http;
  private final URI endpoint;
  private final String model;
  private final String apiKey;
  private final int batchSize;

  /**
   * The most texts a request holds: batch.size, until the endpoint refuses a request with 413 and
   * takes its halves (text-embeddings-inference takes 32 by default); kept for the task's life so
   * that every later put does not pay a refused request first.
   */
  private int textsPerRequest;

  private final int batchMaxChars;
  private final boolean sendDimensions;
  private final Duration timeout;
  private final int maxRetries;
  private final Duration retryBudget;
  private final Backoff backoff;

  /** Reads the time for the retry budget: System::nanoTime, or a test's hand-moved clock. */
  private final LongSupplier nanoTime;

  /** Waits between retries: Thread::sleep, or a test's that moves its clock instead. */
  private final Sleep sleep;

  /** How the embedder waits {@code millis} between retries. */
  @FunctionalInterface
  interface Sleep {
    void millis(long millis) throws InterruptedException;
  }

  public OpenAiEmbedder(QdrantSinkConfig config) {
    this(config, System::nanoTime, Thread::sleep);
  }

  OpenAiEmbedder(QdrantSinkConfig config, LongSupplier nanoTime, Sleep sleep) {
    super(config.textFields(), config.vectorName(), config.vectorSize());
    this.endpoint = URI.create(config.openAiUrl() + "/embeddings");
    this.model = config.openAiModel();
    this.apiKey = config.openAiApiKey();
    this.batchSize = config.openAiBatchSize();
    this.textsPerRequest = batchSize;
    this.batchMaxChars = config.openAiBatchMaxChars();
    this.sendDimensions = config.openAiSendDimensions();
    this.timeout = config.openAiTimeout();
    this.maxRetries = config.openAiMaxRetries();
    this.retryBudget = config.openAiRetryBudget();
    this.backoff = new Backoff(config.retryBackoff(), config.retryBackoffMax());
    this.http = sharedClient(timeout);
    this.nanoTime = nanoTime;
    this.sleep = sleep;
    warnIfKeyInClearText(config.openAiUrl());
  }

  /**
   * The key goes in every request's Authorization header: allowed over http:// (a local model
   * server, a sidecar or a private network may do the encryption), but never silently. The URL's
   * host and port only, never the key.
   */
  private void warnIfKeyInClearText(URI url) {
    if (apiKey != null && "http".equalsIgnoreCase(url.getScheme())) {
      log.warn(
          "embedder.openai.api.key is sent in clear text: embedder.openai.url is http://{}:{}; use"
              + " https:// unless the network between this worker and the embedding server is"
              + " encrypted otherwise",
          url.getHost(),
          url.getPort() < 0 ? 80 : url.getPort());
    }
  }

  @Override
  List<float[]> embedTexts(List<String> texts, String[] refusals) {
    // the time from a request's first failure until it succeeds, summed over the put's requests:
    // successful first attempts spend none, so a slow endpoint's many batches cannot use it up
    Put put = new Put(new RetryClock(retryBudget, nanoTime));
    List<float[]> vectors = new ArrayList<>(texts.size());
    for (int from = 0, to; from < texts.size(); from = to) {
      to = batchEnd(texts, from);
      vectors.addAll(embedBatch(texts.subList(from, to), refusals, from, put));
    }
    long refused = Arrays.stream(refusals).filter(Objects::nonNull).count();
    if (refused > 0) {
      log.warn(
          "Embeddings endpoint refused or kept failing on {} text(s); their records go to the DLQ",
          refused);
    }
    return vectors;
  }

  /** One embed call's state: its retry budget, and whether the endpoint was tested this call. */
  private static final class Put {
    final RetryClock budget;
    boolean checkedItEmbeds;

    /** Requests of this put refused with 413 so far. */
    int tooLarge;

    Put(RetryClock budget) {
      this.budget = budget;
    }
  }

  /**
   * Where the batch that starts at {@code from} ends: after batch.size texts, or before the text
   * that would take it past batch.max.chars, so that long texts do not make a request OpenAI
   * (300000 tokens at most) or a proxy refuses as a whole, which would send each of its texts again
   * alone. A text longer than the bound goes alone.
   */
  private int batchEnd(List<String> texts, int from) {
    int to = from;
    long chars = 0;
    while (to < texts.size() && to - from < textsPerRequest) {
      chars += texts.get(to).length();
      if (chars > batchMaxChars && to > from) {
        break;
      }
      to++;
    }
    return to;
  }

  /**
   * When a request is refused, the request may be at fault and not its texts (LiteLLM answers an
   * unknown model with 400, a gateway may refuse the request's form, ada-002 a request for
   * dimensions): a one-word text tells, before the batch is sent again text by text, so a
   * configuration error fails the task at once instead of dead-lettering every record after a
   * request per text. Once per put: one extra request of one word.
   */
  private void checkItEmbedsAnyText(Put put) {
    if (put.checkedItEmbeds) {
      return;
    }
    put.checkedItEmbeds = true;
    RetryClock budget = put.budget;
    try {
      request(List.of(PROBE_TEXT), budget);
    } catch (RefusedException refused) {
      if (sendDimensions && embedsWithoutDimensions(budget)) {
        throw dimensionsRefused(refused);
      }
      throw new ConnectException(
          "embeddings endpoint "
              + endpoint
              + " refuses every text, even the word '"
              + PROBE_TEXT
              + "' ("
              + refused.getMessage()
              + "): the request is at fault, not the records; check embedder.openai.model and"
              + " embedder.openai.url");
    }
  }

  /** Whether the endpoint takes the probe when it does not ask for dimensions. */
  private boolean embedsWithoutDimensions(RetryClock budget) {
    try {
      answer(httpRequest(List.of(PROBE_TEXT), false), budget);
      return true;
    } catch (RefusedException stillRefused) {
      return false;
    }
  }

  /**
   * ada-002 (and models vLLM cannot shorten) refuse any request with dimensions: that is no fault
   * of the records, and must not dead-letter them.
   */
  private ConnectException dimensionsRefused(RefusedException refused) {
    return new ConnectException(
        "embeddings endpoint "
            + endpoint
            + " refuses every request for "
            + size()
            + " dimensions ("
            + refused.getMessage()
            + ") but embeds the same text without the dimensions parameter: model "
            + model
            + " cannot return vector.size dimensions (a model that takes the parameter refuses a"
            + " size above its own too); unset "
            + QdrantSinkConfig.OPENAI_SEND_DIMENSIONS
            + " and make vector.size the model's own size, or make vector.size one the model"
            + " can return");
  }

  private List<float[]> embedBatch(List<String> texts, String[] refusals, int offset, Put put) {
    return embedBatch(texts, refusals, offset, put, false);
  }

  /**
   * A batch the server refuses as a whole is retried text by text, to find the bad ones; a refused
   * text's reason goes to {@code refusals} at {@code offset} plus its place in the batch. A batch
   * refused as too large (413) is retried in halves instead: the server may take fewer texts a
   * request, and text-embeddings-inference also answers 413 for one text over the model's length,
   * which halves find in a few requests. A batch the server fails on is narrowed down too, see
   * {@link #narrowFailure}; {@code failedAlone}: this one text's retries alone were used up before,
   * and the probe then embedded.
   */
  private List<float[]> embedBatch(
      List<String> texts, String[] refusals, int offset, Put put, boolean failedAlone) {
    try {
      return request(texts, put.budget);
    } catch (ServerFailedException failed) {
      return narrowFailure(texts, refusals, offset, put, failed, failedAlone);
    } catch (RefusedException refused) {
      if (refused.status == 413) {
        put.tooLarge++;
        if (texts.size() > 1) {
          return embedTooLarge(texts, refusals, offset, put);
        }
      }
      checkItEmbedsAnyText(put);
      if (texts.size() == 1) {
        refusals[offset] = refused.getMessage();
        return Collections.singletonList(null);
      }
      List<float[]> vectors = new ArrayList<>(texts.size());
      for (int i = 0; i < texts.size(); i++) {
        vectors.addAll(embedBatch(List.of(texts.get(i)), refusals, offset + i, put));
      }
      return vectors;
    }
  }

  /**
   * A request the server failed (500) on every attempt: the server is down, or fails on a text.
   * Failing the one-word probe too, it is down, and the batch goes back to Connect. Embedding it,
   * it gets a batch again in halves, and a text alone once more: a server that was down for a while
   * embeds it now. A text that fails alone again is rejected, after the probe passes once more, so
   * that a server gone down in between rejects nothing.
   */
  private List<float[]> narrowFailure(
      List<String> texts,
      String[] refusals,
      int offset,
      Put put,
      ServerFailedException failed,
      boolean failedAlone) {
    if (!embedsTheProbe(put)) {
      throw failed; // down, not failing on these texts: back to Connect, as any outage
    }
    if (texts.size() > 1) {
      log.info(
          "Embeddings endpoint failed a request of {} texts on every attempt ({}) but embeds a"
              + " one-word text: sending them again in halves to find the text(s) it fails on",
          texts.size(),
          failed.failure);
      return embedHalves(texts, refusals, offset, put);
    }
    if (!failedAlone) {
      return embedBatch(texts, refusals, offset, put, true);
    }
    refusals[offset] =
        "the endpoint failed on it alone every time (last: "
            + failed.failure
            + "), while it embedded a one-word text in between and after";
    return Collections.singletonList(null);
  }

  /** Whether the endpoint embeds the one-word text now (retried as any request): it is up. */
  private boolean embedsTheProbe(Put put) {
    try {
      request(List.of(PROBE_TEXT), put.budget);
      return true;
    } catch (RetriableException | RefusedException down) {
      return false;
    }
  }

  /**
   * The texts of a batch refused with 413, in two requests. When neither half is refused with 413
   * and the batch was full (batch.size texts), the count was at fault, not a text: later requests
   * hold at most a half. When one is (a text too long for the model, which
   * text-embeddings-inference refuses with 413 too), the size stays, or one over-long text would
   * bring the task down to a text a request for good.
   */
  private List<float[]> embedTooLarge(List<String> texts, String[] refusals, int offset, Put put) {
    int half = (texts.size() + 1) / 2;
    int tooLargeBefore = put.tooLarge;
    List<float[]> vectors = embedHalves(texts, refusals, offset, put);
    // only a request full by count blames its count: one that batch.max.chars or the put's end
    // cut short was refused for its bytes (a proxy's body limit), and its halves say nothing of
    // how many texts the server takes
    if (put.tooLarge == tooLargeBefore && texts.size() == textsPerRequest) {
      log.warn(
          "Embeddings endpoint refused a request of {} texts as too large (HTTP 413) but took its"
              + " halves: this task now sends at most {} texts a request. Set {} to {} or less (or"
              + " lower {}, if the server bounds a request's bytes) to spare the refused request"
              + " after each restart",
          texts.size(),
          half,
          QdrantSinkConfig.OPENAI_BATCH_SIZE,
          half,
          QdrantSinkConfig.OPENAI_BATCH_MAX_CHARS);
      textsPerRequest = half;
    }
    return vectors;
  }

  /** The texts in two requests, each narrowed down on its own when it fails. */
  private List<float[]> embedHalves(List<String> texts, String[] refusals, int offset, Put put) {
    int half = (texts.size() + 1) / 2;
    List<float[]> vectors = new ArrayList<>(texts.size());
    vectors.addAll(embedBatch(texts.subList(0, half), refusals, offset, put));
    vectors.addAll(embedBatch(texts.subList(half, texts.size()), refusals, offset + half, put));
    return vectors;
  }

  private List<float[]> request(List<String> texts, RetryClock budget) {
    return parse(answer(httpRequest(texts, sendDimensions), budget), texts.size());
  }

  /** The JSON body of the request's 200 answer, retrying what passes. */
  private JsonNode answer(HttpRequest request, RetryClock budget) {
    try {
      return answerWithRetries(request, budget);
    } finally {
      budget.settled(); // its retrying, if any, is spent, however the request ended
    }
  }

  private JsonNode answerWithRetries(HttpRequest request, RetryClock budget) {
    boolean serverFailedEach = true; // every attempt so far answered 500
    for (int attempt = 0; ; attempt++) {
      long started = budget.now();
      String failure;
      long retryAfterMs = 0;
      try {
        HttpResponse<String> response = send(request);
        int status = response.statusCode();
        if (status == 200) {
          JsonNode body = jsonOrNull(response.body());
          if (body != null) {
            return body;
          }
          // a proxy's or gateway's page, not the endpoint's answer: retried as a 5xx, never
          // narrowed down to the texts
          failure = "HTTP 200 whose body is not JSON (" + contentType(response) + ")";
          serverFailedEach = false;
        } else {
          failure = "HTTP " + status + kindOf(response.body());
          checkPasses(status, failure);
          retryAfterMs = retryAfterMs(response);
          serverFailedEach &= isServerFailure(status);
        }
      } catch (IOException e) {
        failure = e.toString();
        serverFailedEach = false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RetriableException("interrupted while embedding", e);
      }
      budget.failed(started); // retry time counts from when the first failed attempt began
      if (attempt >= maxRetries) {
        String message = "embeddings endpoint failed " + (attempt + 1) + " times, last: " + failure;
        // only retries used up tell of a text: a retry the budget cut short may have passed
        // and only after a retry: with none, one failure says nothing of the texts
        throw serverFailedEach && maxRetries > 0
            ? new ServerFailedException(message, failure)
            : new RetriableException(message);
      }
      long wait = Math.max(backoff.delayMs(attempt), retryAfterMs);
      if (budget.millisLeft() <= wait) {
        throw budgetSpent(attempt, failure);
      }
      pause(wait);
      long left = budget.millisLeft();
      if (left <= 0) {
        throw budgetSpent(attempt, failure);
      }
      request = withTimeout(request, Duration.ofMillis(Math.min(timeout.toMillis(), left)));
    }
  }

  /** Throws for a failed answer that is not retried: a refusal, or one about the endpoint. */
  private void checkPasses(int status, String failure) {
    if (isRefusal(status)) {
      throw new RefusedException(status, failure);
    }
    if (!isTransient(status)) {
      throw new ConnectException(
          "embeddings endpoint "
              + endpoint
              + " answered "
              + failure
              + "; check embedder.openai.url (a redirect is not followed), the model and the"
              + " key");
    }
  }

  /**
   * Leaves the HTTP client open: other embedders share it (see {@link #CLIENTS}), and a request of
   * this one still running ends by its own deadline ({@link #send} cancels it when it passes).
   */
  @Override
  public void close() {}

  private RetriableException budgetSpent(int attempt, String failure) {
    return new RetriableException(
        "embeddings endpoint failed "
            + (attempt + 1)
            + " time(s), last: "
            + failure
            + "; no time is left to retry within this put's embedder.openai.retry.budget.ms ("
            + retryBudget.toMillis()
            + " ms)");
  }

  /**
   * The answer, headers and body, within the request's timeout: HttpClient's own timeout ends when
   * the headers arrive, and a server (or proxy) that then stalls in the body would hold the put,
   * and the task, for ever.
   */
  private HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
    long deadlineMs = request.timeout().orElse(timeout).toMillis();
    CompletableFuture<HttpResponse<String>> answer =
        http.sendAsync(request, HttpResponse.BodyHandlers.ofString());
    try {
      return answer.get(deadlineMs, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new HttpTimeoutException("no whole answer within " + deadlineMs + " ms");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new ConnectException("embeddings request failed: " + e.getCause(), e.getCause());
    } finally {
      answer.cancel(true); // aborts the exchange when it is not done: no connection is left reading
    }
  }

  /** The same request, to give up when the put's retry budget ends rather than after timeout. */
  private static HttpRequest withTimeout(HttpRequest request, Duration timeout) {
    return HttpRequest.newBuilder(request, (name, value) -> true).timeout(timeout).build();
  }

  /**
   * Timeouts, conflicts, "too early", rate limits and server errors pass: the text is not at fault,
   * so it must not be dead-lettered for them. So does text-embeddings-inference's 424, its backend
   * failing on the batch (the GPU out of memory, say): a fault of the server, not of the texts.
   */
  static boolean isTransient(int status) {
    return status == 408
        || status == 409
        || status == 424
        || status == 425
        || status == 429
        || status >= 500;
  }

  /**
   * Of the answers retried, the one a text may cause: 500, when the server's tokenizer or model
   * fails on one text of the batch every time. Not 424 (text-embeddings-inference's backend
   * failing, the GPU out of memory, say, which a long valid text may meet alone under load while
   * the one-word probe passes), 503 (an overloaded server, likewise), 502 or 504 (a proxy's), a
   * timeout, a rate limit or an I/O failure: those are about the server or the network, and
   * narrowing on them would dead-letter good texts.
   */
  static boolean isServerFailure(int status) {
    return status == 500;
  }

  /**
   * The answers that may be about the texts sent: a bad request, one too large, one that does not
   * validate. Any other answer (a redirect, 401, 403, 404, 405, 415...) is about the endpoint or
   * its configuration and would dead-letter every record alike: it fails the task instead.
   */
  static boolean isRefusal(int status) {
    return status == 400 || status == 413 || status == 422;
  }

  /** The server's Retry-After, in seconds or as an HTTP date, at most a minute; else 0. */
  private static long retryAfterMs(HttpResponse<?> response) {
    String value = response.headers().firstValue("Retry-After").orElse("0").trim();
    try {
      long seconds = Long.parseLong(value);
      return Math.min(Math.max(seconds, 0), 60) * 1000;
    } catch (NumberFormatException notSeconds) {
      return Math.min(Math.max(millisUntil(value), 0), 60_000);
    }
  }

  /** The time until an HTTP date (RFC 1123, as proxies send it), or 0 for anything else. */
  private static long millisUntil(String httpDate) {
    try {
      Instant at = ZonedDateTime.parse(httpDate, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      return Duration.between(Instant.now(), at).toMillis();
    } catch (DateTimeParseException e) {
      return 0;
    }
  }

  private HttpRequest httpRequest(List<String> texts, boolean askDimensions) {
    ObjectNode body = RecordJson.MAPPER.createObjectNode();
    body.put("model", model);
    ArrayNode input = body.putArray("input");
    texts.forEach(input::add);
    if (askDimensions) {
      body.put("dimensions", size());
    }
    HttpRequest.Builder request =
        HttpRequest.newBuilder(endpoint)
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(RecordJson.write(body)));
    if (apiKey != null) {
      request.header("Authorization", "Bearer " + apiKey);
    }
    return request.build();
  }

  /**
   * A 200 answer's body as JSON, or null when it is none: a proxy's HTML page, or no body at all.
   * That is the endpoint's fault, not a record's, which RecordJson's DataException would blame.
   */
  private static JsonNode jsonOrNull(String body) {
    try {
      JsonNode json = RecordJson.parse(body);
      return json == null || json.isMissingNode() ? null : json;
    } catch (DataException notJson) {
      return null;
    }
  }

  /** The answer's content type, to tell what answered; never the body, which may quote texts. */
  private static String contentType(HttpResponse<?> response) {
    String type = response.headers().firstValue("Content-Type").orElse("");
    if (type.length() > 100) {
      type = type.substring(0, 100) + "...";
    }
    return type.isEmpty() ? "no content type" : "content type " + type;
  }

  /** Reads {@code data[].embedding}, placed by {@code data[].index}. */
  private List<float[]> parse(JsonNode answer, int count) {
    JsonNode data = answer.path("data");
    if (!data.isArray() || data.size() != count) {
      throw new ConnectException(
          "embeddings endpoint returned " + data.size() + " embeddings for " + count + " texts");
    }
    float[][] vectors = new float[count][];
    for (int i = 0; i < count; i++) {
      JsonNode item = data.get(i);
      int index = item.path("index").asInt(i);
      if (index < 0 || index >= count || vectors[index] != null) {
        throw new ConnectException(
            "embeddings endpoint returned index "
                + index
                + " twice or out of range for "
                + count
                + " texts");
      }
      JsonNode embedding = item.path("embedding");
      if (embedding.size() != size()) {
        throw dimensionMismatch(embedding.size());
      }
      float[] vector = new float[embedding.size()];
      for (int d = 0; d < vector.length; d++) {
        JsonNode number = embedding.get(d);
        // A null (JavaScript's JSON of a NaN) would read as 0: as NaN it rejects this text only.
        vector[d] = number.isNumber() ? number.floatValue() : Float.NaN;
      }
      vectors[index] = vector;
    }
    return Arrays.asList(vectors);
  }

  private ConnectException dimensionMismatch(int returned) {
    String hint =
        sendDimensions
            ? ", though the request asked for "
                + size()
                + " (the endpoint ignores the dimensions parameter: unset "
                + QdrantSinkConfig.OPENAI_SEND_DIMENSIONS
                + " and make vector.size the model's own size)"
            : " (a model that takes a dimensions parameter, such as text-embedding-3-small, returns"
                + " vector.size dimensions with "
                + QdrantSinkConfig.OPENAI_SEND_DIMENSIONS
                + "=true)";
    return new ConnectException(
        "model "
            + model
            + " returns "
            + returned
            + " dimensions but vector.size is "
            + size()
            + hint);
  }

  private void pause(long millis) {
    try {
      sleep.millis(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RetriableException("interrupted while waiting to retry embedding", e);
    }
  }

  /**
   * The error's code or type from an OpenAI-style body, as " (context_length_exceeded)", or "".
   * Only such a word, never the message: servers quote the text they refuse (FastAPI's 422 echoes
   * the input), and the reason of a dead letter is logged.
   */
  static String kindOf(String body) {
    JsonNode error;
    try {
      error = RecordJson.parse(body).path("error");
    } catch (DataException e) {
      return "";
    }
    JsonNode code = error.path("code");
    String kind = (code.isTextual() ? code : error.path("type")).asText("");
    return ERROR_KIND.matcher(kind).matches() ? " (" + kind + ")" : "";
  }

  /** The server failed the request (500) on every attempt, its retries used up. */
  private static final class ServerFailedException extends RetriableException {
    /** The last answer, as "HTTP 500" and the error's kind: never the body, which may quote. */
    final String failure;

    ServerFailedException(String message, String failure) {
      super(message);
      this.failure = failure;
    }
  }

  /** The server refused the request's content (a 4xx other than auth, not-found and 429). */
  private static final class RefusedException extends RuntimeException {
    final int status;

    RefusedException(int status, String message) {
      super(message);
      this.status = status;
    }
  }
}
