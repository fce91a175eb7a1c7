package io.somastack.connect.deploy;

import static io.somastack.connect.deploy.StubAnswers.answer;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The deployer's judgement of a status, against a local HTTP server answering as a Connect worker
 * does while a connector's tasks start one after the other (a moment a real cluster shows only by
 * chance).
 */
class PipelineDeployerTest {

  private static final String TWO_OF_THREE =
      "{\"connector\":{\"state\":\"RUNNING\"},\"tasks\":[{\"id\":0,\"state\":\"RUNNING\"},"
          + "{\"id\":1,\"state\":\"RUNNING\"}]}";
  private static final String THREE_OF_THREE =
      "{\"connector\":{\"state\":\"RUNNING\"},\"tasks\":[{\"id\":0,\"state\":\"RUNNING\"},"
          + "{\"id\":1,\"state\":\"RUNNING\"},{\"id\":2,\"state\":\"RUNNING\"}]}";

  private final AtomicInteger statusCalls = new AtomicInteger();
  private HttpServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  @Test
  void aPipelineRunsOnlyOnceEveryTaskItMadeRuns() throws IOException {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PipelineDeployer deployer =
        new PipelineDeployer(
            worker(), new PrintStream(log, true, StandardCharsets.UTF_8), Duration.ofSeconds(30));
    PipelineFile file =
        new PipelineFile(
            Path.of("three.json"), "three", Map.of("connector.class", "x.Y", "tasks.max", "3"));

    PipelineDeployer.Outcome outcome = deployer.deploy(file, false);

    String output = log.toString(StandardCharsets.UTF_8);
    assertTrue(outcome.ok(), output);
    assertTrue(output.contains("3/3 tasks running"), output);
    assertTrue(statusCalls.get() >= 3, "declared RUNNING with two of three tasks: " + output);
  }

  /** A worker whose connector has made three tasks, the third starting on the third look. */
  private ConnectRestClient worker() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          String path = exchange.getRequestURI().getPath();
          if (path.endsWith("/config/validate")) {
            answer(exchange, 200, "{\"configs\":[]}");
          } else if (path.endsWith("/config") && exchange.getRequestMethod().equals("PUT")) {
            answer(exchange, 201, "{}");
          } else if (path.endsWith("/tasks")) {
            answer(exchange, 200, "[{},{},{}]");
          } else if (path.endsWith("/status")) {
            // before the PUT, the connector does not exist; then two tasks, then three
            int call = statusCalls.incrementAndGet();
            if (call == 1) {
              answer(exchange, 404, "{\"message\":\"not found\"}");
            } else {
              answer(exchange, 200, call < 4 ? TWO_OF_THREE : THREE_OF_THREE);
            }
          } else {
            answer(exchange, 404, "{}");
          }
        });
    server.start();
    URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    return new ConnectRestClient(base, null, null, Duration.ofSeconds(10), 2, Duration.ofMillis(1));
  }
}
