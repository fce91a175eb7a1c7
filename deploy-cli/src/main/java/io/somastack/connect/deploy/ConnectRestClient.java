package io.somastack.connect.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;

/** The parts of Kafka Connect's REST API that deploying needs. */
public final class ConnectRestClient {

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Longer than Connect's own REST timeout (90 s), so a slow worker answers "Request timed out"
   * with its reason before this client gives up on it.
   */
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(100);

  /** Attempts per call: the first one and up to 5 retries, about a minute of backoff in all. */
  private static final int ATTEMPTS = 6;

  private static final Duration FIRST_BACKOFF = Duration.ofSeconds(2);

  private final URI base;
  private final HttpClient http;
  private final String authorization;
  private final Duration requestTimeout;
  private final int attempts;
  private final Duration firstBackoff;

  /** System.nanoTime() by which every call, its retries included, ends; MAX_VALUE for none. */
  private final long deadlineNanos;

  /**
   * @param base the worker's REST URL, e.g. http://localhost:8083
   * @param basicAuth "user:password" for a secured cluster, or null
   * @param tls the SSL context for https (a custom trust store), or null for the JDK default
   */
  public ConnectRestClient(URI base, String basicAuth, SSLContext tls) {
    this(base, basicAuth, tls, REQUEST_TIMEOUT, ATTEMPTS, FIRST_BACKOFF);
  }

  /** With the retry policy given: {@code attempts} calls at most, waits doubling from the first. */
  ConnectRestClient(
      URI base,
      String basicAuth,
      SSLContext tls,
      Duration requestTimeout,
      int attempts,
      Duration firstBackoff) {
    this.requestTimeout = requestTimeout;
    this.attempts = attempts;
    this.firstBackoff = firstBackoff;
    this.deadlineNanos = Long.MAX_VALUE;
    this.base = URI.create(base.toString().replaceAll("/+$", "") + "/");
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
    if (tls != null) {
      builder.sslContext(tls);
    }
    this.http = builder.build();
    this.authorization =
        basicAuth == null
            ? null
            : "Basic "
                + Base64.getEncoder().encodeToString(basicAuth.getBytes(StandardCharsets.UTF_8));
  }

  private ConnectRestClient(ConnectRestClient client, long deadlineNanos) {
    this.base = client.base;
    this.http = client.http;
    this.authorization = client.authorization;
    this.requestTimeout = client.requestTimeout;
    this.attempts = client.attempts;
    this.firstBackoff = client.firstBackoff;
    this.deadlineNanos = deadlineNanos;
  }

  /**
   * This client with every call, its retries included, over within {@code time} from now: a wait
   * bounded by --timeout must not sit in one call's retries (up to six requests of 100 s each) long
   * after it. A call whose time runs out fails as a timeout.
   */
  public ConnectRestClient within(Duration time) {
    long now = System.nanoTime();
    return new ConnectRestClient(this, now + Math.max(0, time.toNanos()));
  }

  /** GET / : the worker's version, or an exception when it does not answer. */
  public JsonNode info() throws IOException {
    return send("GET", "", null, 200);
  }

  /** PUT /connector-plugins/{class}/config/validate */
  public JsonNode validate(String connectorClass, Map<String, String> config) throws IOException {
    String plugin = URLEncoder.encode(connectorClass, StandardCharsets.UTF_8);
    return send(
        "PUT", "connector-plugins/" + plugin + "/config/validate", JSON.valueToTree(config), 200);
  }

  /** PUT /connectors/{name}/config: creates or updates, so deploying twice is harmless. */
  public JsonNode putConfig(String name, Map<String, String> config) throws IOException {
    return send(
        "PUT", "connectors/" + encode(name) + "/config", JSON.valueToTree(config), 200, 201);
  }

  /**
   * POST /connectors/{name}/restart?includeTasks=true&onlyFailed=true: restarts the connector and
   * the tasks that failed (KIP-745), which a new config alone does not do when the tasks' configs
   * are unchanged.
   */
  public void restartFailed(String name) throws IOException {
    try {
      send(
          "POST",
          "connectors/" + encode(name) + "/restart?includeTasks=true&onlyFailed=true",
          null,
          200,
          202,
          204);
    } catch (RestException e) {
      // not found (deleted meanwhile, or its status not known yet): nothing to restart, and the
      // wait that follows judges the connector as it is
      if (e.status() != 404) {
        throw e;
      }
    }
  }

  /**
   * GET /connectors/{name}/tasks: each task's config as the connector made it (Connect puts back
   * the ${...} references of the connector's config), none while it has made none or does not exist
   * (yet).
   */
  public List<Map<String, String>> taskConfigs(String name) throws IOException {
    JsonNode tasks;
    try {
      tasks = send("GET", "connectors/" + encode(name) + "/tasks", null, 200);
    } catch (RestException e) {
      if (e.status() == 404) {
        return List.of();
      }
      throw e;
    }
    List<Map<String, String>> configs = new ArrayList<>();
    for (JsonNode task : tasks) {
      configs.add(strings(task.path("config")));
    }
    return configs;
  }

  /** GET /connectors/{name}/config, or null when the connector does not exist (yet). */
  public Map<String, String> connectorConfig(String name) throws IOException {
    try {
      return strings(send("GET", "connectors/" + encode(name) + "/config", null, 200));
    } catch (RestException e) {
      if (e.status() == 404) {
        return null;
      }
      throw e;
    }
  }

  /** A JSON object of config strings as a map; nothing for anything else. */
  static Map<String, String> strings(JsonNode object) {
    Map<String, String> strings = new LinkedHashMap<>();
    object.fields().forEachRemaining(e -> strings.put(e.getKey(), e.getValue().asText()));
    return strings;
  }

  /** GET /connectors/{name}/status, or null when the connector does not exist (yet). */
  public JsonNode status(String name) throws IOException {
    try {
      return send("GET", "connectors/" + encode(name) + "/status", null, 200);
    } catch (RestException e) {
      if (e.status() == 404) {
        return null;
      }
      throw e;
    }
  }

  private static String encode(String name) {
    return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /**
   * Sends one call, retrying what a healthy cluster answers while it is busy: 409 (a rebalance or a
   * concurrent config change), 5xx (e.g. "Request timed out" while the leader is busy) and a
   * request that timed out. Every call of this client is idempotent (a restart of what failed,
   * asked twice, restarts it once more at most), so sending it again is safe.
   */
  private JsonNode send(String method, String path, JsonNode body, int... expected)
      throws IOException {
    Duration backoff = firstBackoff;
    for (int attempt = 1; ; attempt++) {
      try {
        return sendOnce(method, path, body, expected);
      } catch (RestException | HttpTimeoutException e) {
        if (attempt >= attempts || !retriable(e) || remaining().compareTo(backoff) <= 0) {
          throw e;
        }
      }
      pause(backoff);
      backoff = backoff.multipliedBy(2);
    }
  }

  private static boolean retriable(IOException e) {
    if (e instanceof RestException rest) {
      return rest.status() == 409 || rest.status() >= 500;
    }
    return true; // a timeout
  }

  private static void pause(Duration backoff) throws IOException {
    try {
      Thread.sleep(backoff.toMillis()); // backing off a remote API: there is no event to wait on
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  /** The time left before the deadline, at most a day (none: as good as for ever). */
  private Duration remaining() {
    if (deadlineNanos == Long.MAX_VALUE) {
      return Duration.ofDays(1);
    }
    return Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime()));
  }

  private JsonNode sendOnce(String method, String path, JsonNode body, int... expected)
      throws IOException {
    Duration left = remaining();
    if (left.isZero()) {
      throw new HttpTimeoutException(method + " " + path + ": no time left before the deadline");
    }
    HttpRequest.Builder request =
        HttpRequest.newBuilder(base.resolve(path))
            .timeout(left.compareTo(requestTimeout) < 0 ? left : requestTimeout)
            .header("Accept", "application/json");
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    if (body != null) {
      request.header("Content-Type", "application/json");
      request.method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
    } else {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    }
    HttpResponse<String> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } catch (ConnectException e) {
      // the JDK's own message is often null: say which worker is down
      ConnectException named =
          new ConnectException(
              "cannot connect to "
                  + base.toString().replaceAll("/$", "")
                  + (e.getMessage() == null ? "" : ": " + e.getMessage()));
      named.initCause(e);
      throw named;
    }
    for (int status : expected) {
      if (response.statusCode() == status) {
        return response.body().isEmpty() ? JSON.nullNode() : JSON.readTree(response.body());
      }
    }
    throw new RestException(method + " " + path, response.statusCode(), response.body());
  }

  /** A REST call that answered with an unexpected status. */
  public static final class RestException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int status;

    RestException(String call, int status, String body) {
      super(call + " answered " + status + ": " + message(body));
      this.status = status;
    }

    public int status() {
      return status;
    }

    private static String message(String body) {
      try {
        JsonNode node = JSON.readTree(body);
        return node.has("message") ? node.get("message").asText() : body;
      } catch (IOException e) {
        return body;
      }
    }
  }
}
