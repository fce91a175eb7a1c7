package io.somastack.connect.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import javax.net.ssl.SSLContext;

/** The parts of Kafka Connect's REST API that deploying needs. */
public final class ConnectRestClient {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI base;
  private final HttpClient http;
  private final String authorization;

  /**
   * @param base the worker's REST URL, e.g. http://localhost:8083
   * @param basicAuth "user:password" for a secured cluster, or null
   * @param tls the SSL context for https (a custom trust store), or null for the JDK default
   */
  public ConnectRestClient(URI base, String basicAuth, SSLContext tls) {
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

  public URI base() {
    return base;
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

  private JsonNode send(String method, String path, JsonNode body, int... expected)
      throws IOException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(base.resolve(path))
            .timeout(Duration.ofSeconds(60))
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
