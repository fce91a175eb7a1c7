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
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenAI-compatible {@code POST <url>/embeddings} endpoint (OpenAI, Azure-style proxies, vLLM,
 * Ollama, text-embeddings-inference): texts go in batches; 429, 5xx and I/O failures are retried
 * with backoff and then handed to Connect as retriable; a 400-class answer to a batch is narrowed
 * down to the texts the server refuses, which are rejected one by one.
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

  private final HttpClient http;
  private final URI endpoint;
  private final String model;
  private final String apiKey;
  private final int batchSize;
  private final Duration timeout;
  private final int maxRetries;
  private final Duration retryBudget;
  private final Backoff backoff;

  public OpenAiEmbedder(QdrantSinkConfig config) {
    super(config.textFields(), config.vectorName(), config.vectorSize());
    this.endpoint = URI.create(config.openAiUrl() + "/embeddings");
    this.model = config.openAiModel();
    this.apiKey = config.openAiApiKey();
    this.batchSize = config.openAiBatchSize();
    this.timeout = config.openAiTimeout();
    this.maxRetries = config.openAiMaxRetries();
    this.retryBudget = config.openAiRetryBudget();
    this.backoff = new Backoff(config.retryBackoff(), config.retryBackoffMax());
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  @Override
  List<float[]> embedTexts(List<String> texts, String[] refusals) {
    // the time from a request's first failure until it succeeds, summed over the put's requests:
    // successful first attempts spend none, so a slow endpoint's many batches cannot use it up
    RetryClock budget = new RetryClock(retryBudget);
    List<float[]> vectors = new ArrayList<>(texts.size());
    for (int from = 0; from < texts.size(); from += batchSize) {
      int to = Math.min(texts.size(), from + batchSize);
      vectors.addAll(embedBatch(texts.subList(from, to), refusals, from, budget));
    }
    return vectors;
  }

  /**
   * A batch the server refuses as a whole is retried text by text, to find the bad ones; a refused
   * text's reason goes to {@code refusals} at {@code offset} plus its place in the batch.
   */
  private List<float[]> embedBatch(
      List<String> texts, String[] refusals, int offset, RetryClock budget) {
    try {
      return request(texts, budget);
    } catch (RefusedException refused) {
      if (texts.size() == 1) {
        log.warn("Embeddings endpoint refused one text; its record goes to the DLQ");
        refusals[offset] = refused.getMessage();
        return Collections.singletonList(null);
      }
      List<float[]> vectors = new ArrayList<>(texts.size());
      for (int i = 0; i < texts.size(); i++) {
        vectors.addAll(embedBatch(List.of(texts.get(i)), refusals, offset + i, budget));
      }
      return vectors;
    }
  }

  private List<float[]> request(List<String> texts, RetryClock budget) {
    try {
      return requestWithRetries(texts, budget);
    } finally {
      budget.settled(); // its retrying, if any, is spent, however the request ended
    }
  }

  private List<float[]> requestWithRetries(List<String> texts, RetryClock budget) {
    HttpRequest request = httpRequest(texts);
    for (int attempt = 0; ; attempt++) {
      long started = budget.now();
      String failure;
      long retryAfterMs = 0;
      try {
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        int status = response.statusCode();
        if (status == 200) {
          return parse(response.body(), texts.size());
        }
        failure = "HTTP " + status;
        if (status == 401 || status == 403 || status == 404) {
          throw new ConnectException(
              "embeddings endpoint "
                  + endpoint
                  + " answered "
                  + failure
                  + "; check the URL, model and key");
        }
        if (!isTransient(status)) {
          throw new RefusedException(failure + kindOf(response.body()));
        }
        retryAfterMs = retryAfterMs(response);
      } catch (IOException e) {
        failure = e.toString();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RetriableException("interrupted while embedding", e);
      }
      budget.failed(started); // retry time counts from when the first failed attempt began
      if (attempt >= maxRetries) {
        throw new RetriableException(
            "embeddings endpoint failed " + (attempt + 1) + " times, last: " + failure);
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

  /** The same request, to give up when the put's retry budget ends rather than after timeout. */
  private static HttpRequest withTimeout(HttpRequest request, Duration timeout) {
    return HttpRequest.newBuilder(request, (name, value) -> true).timeout(timeout).build();
  }

  /**
   * Timeouts, conflicts, "too early", rate limits and server errors pass: the text is not at fault,
   * so it must not be dead-lettered for them.
   */
  static boolean isTransient(int status) {
    return status == 408 || status == 409 || status == 425 || status == 429 || status >= 500;
  }

  /** The server's Retry-After in seconds (a date form is ignored), at most a minute; else 0. */
  private static long retryAfterMs(HttpResponse<?> response) {
    try {
      long seconds =
          Long.parseLong(response.headers().firstValue("Retry-After").orElse("0").trim());
      return Math.min(Math.max(seconds, 0), 60) * 1000;
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private HttpRequest httpRequest(List<String> texts) {
    ObjectNode body = RecordJson.MAPPER.createObjectNode();
    body.put("model", model);
    ArrayNode input = body.putArray("input");
    texts.forEach(input::add);
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

  /** Reads {@code data[].embedding}, placed by {@code data[].index}. */
  private List<float[]> parse(String body, int count) {
    JsonNode data = RecordJson.parse(body).path("data");
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
        throw new ConnectException(
            "model "
                + model
                + " returns "
                + embedding.size()
                + " dimensions but vector.size is "
                + size());
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

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
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

  /** The server refused the request's content (a 4xx other than auth, not-found and 429). */
  private static final class RefusedException extends RuntimeException {
    RefusedException(String message) {
      super(message);
    }
  }
}
