package io.somastack.connect.deploy;

import static io.somastack.connect.deploy.StubAnswers.answer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Deploying a changed config over a connector that runs, against a local HTTP server answering as a
 * Connect worker does: the PUT is answered once the config is stored, while the connector restarts
 * with it and writes its tasks' configs a little later (a herder tick), so the status first still
 * shows the old config's tasks.
 */
class PipelineRedeployTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String RUNNING =
      "{\"connector\":{\"state\":\"RUNNING\"},\"tasks\":[{\"id\":0,\"state\":\"RUNNING\"}]}";
  private static final String TASK_FAILED =
      "{\"connector\":{\"state\":\"RUNNING\"},\"tasks\":[{\"id\":0,\"state\":\"FAILED\","
          + "\"trace\":\"ConfigException: bad batch.size\"}]}";

  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private final AtomicBoolean put = new AtomicBoolean();
  private final AtomicInteger taskLooksAfterPut = new AtomicInteger();
  private final AtomicInteger statusCalls = new AtomicInteger();

  /** Status looks, after the task configs changed, that still show the old config's tasks. */
  private final AtomicInteger oldStatusLooksAfterApplied = new AtomicInteger();

  /** The deployer's time: each pause between looks moves it on, and no real time passes. */
  private final AtomicLong nanos = new AtomicLong();

  /** The look at the new tasks' status that finds no connector (404), or 0 for none. */
  private final AtomicInteger missingAtNewStatusLook = new AtomicInteger();

  private final AtomicInteger newStatusLooks = new AtomicInteger();
  private final AtomicLong missingAtNanos = new AtomicLong(-1);

  private HttpServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  private String output() {
    return log.toString(StandardCharsets.UTF_8);
  }

  private static Map<String, String> config(String batchSize) {
    Map<String, String> config = new LinkedHashMap<>();
    config.put("connector.class", "x.Sink");
    config.put("name", "kv");
    config.put("topics", "memory.events");
    config.put("batch.size", batchSize);
    return config;
  }

  private static PipelineFile file(Map<String, String> config) {
    return new PipelineFile(Path.of("kv.json"), "kv", config);
  }

  private PipelineDeployer deployer(ConnectRestClient rest, Duration timeout) {
    PipelineDeployer.Clock clock =
        new PipelineDeployer.Clock() {
          @Override
          public long nanoTime() {
            return nanos.get();
          }

          @Override
          public void sleep(Duration pause) {
            nanos.addAndGet(pause.toNanos());
          }
        };
    return new PipelineDeployer(
        rest, new PrintStream(log, true, StandardCharsets.UTF_8), timeout, clock);
  }

  /**
   * The old config's task answered RUNNING on the first look after the PUT and the deploy exited 0,
   * while the new config's task then failed.
   */
  @Test
  void aChangedConfigIsJudgedByTheTasksItMadeNotTheOldOnes() throws IOException {
    ConnectRestClient rest = worker(config("1"), RUNNING, TASK_FAILED, true);

    PipelineDeployer.Outcome outcome =
        deployer(rest, Duration.ofSeconds(30)).deploy(file(config("2")), false);

    assertFalse(outcome.ok(), output());
    assertTrue(output().contains("FAILED: task 0: ConfigException: bad batch.size"), output());
  }

  @Test
  void aChangedConfigRunsOnceItsOwnTasksRun() throws IOException {
    ConnectRestClient rest = worker(config("1"), RUNNING, RUNNING, true);

    PipelineDeployer.Outcome outcome =
        deployer(rest, Duration.ofSeconds(30)).deploy(file(config("2")), false);

    assertTrue(outcome.ok(), output());
    assertTrue(taskLooksAfterPut.get() >= 3, "RUNNING before the new tasks: " + output());
    assertTrue(
        nanos.get() >= PipelineDeployer.SETTLE.toNanos(), "RUNNING before it held: " + output());
  }

  /**
   * An old task that missed the worker's graceful stop timeout (a sink stuck in a put) is
   * cancelled, and its RUNNING stays in the status after the task configs changed, until the new
   * task writes its state: the deploy exited 0 on it, and the new config's task then failed.
   */
  @Test
  void anOldTasksRunningShownAfterTheNewTaskConfigsIsNotTheNewConfigs() throws IOException {
    ConnectRestClient rest = worker(config("1"), RUNNING, TASK_FAILED, true);
    oldStatusLooksAfterApplied.set(12); // 3 s of looks: an old task still stopping

    PipelineDeployer.Outcome outcome =
        deployer(rest, Duration.ofSeconds(30)).deploy(file(config("2")), false);

    assertFalse(outcome.ok(), output());
    assertTrue(output().contains("FAILED: task 0: ConfigException: bad batch.size"), output());
    assertTrue(nanos.get() < Duration.ofSeconds(30).toNanos(), "failed only at the timeout");
  }

  /**
   * A look that finds no connector (a 404 while the worker answering lost track of it) is a break
   * in RUNNING like any other: the hold starts again after it, rather than counting the gap.
   */
  @Test
  void aLookThatFindsNoConnectorStartsTheHoldAgain() throws IOException {
    ConnectRestClient rest = worker(config("1"), RUNNING, RUNNING, true);
    missingAtNewStatusLook.set(30); // some 7 s into the hold

    PipelineDeployer.Outcome outcome =
        deployer(rest, Duration.ofSeconds(60)).deploy(file(config("2")), false);

    assertTrue(outcome.ok(), output());
    assertTrue(missingAtNanos.get() >= 0, "the 404 was answered: " + output());
    assertTrue(
        nanos.get() - missingAtNanos.get() >= PipelineDeployer.SETTLE.toNanos(),
        "held across the look that found no connector: " + output());
  }

  /** An unchanged config restarts nothing: its tasks are the ones running. */
  @Test
  void anUnchangedConfigIsRunningAtOnce() throws IOException {
    ConnectRestClient rest = worker(config("1"), RUNNING, RUNNING, false);

    PipelineDeployer.Outcome outcome =
        deployer(rest, Duration.ofSeconds(30)).deploy(file(config("1")), false);

    assertTrue(outcome.ok(), output());
  }

  /**
   * A connector whose tasks' configs do not carry its own (it gives them settings of their own):
   * nothing there to wait for, so the status alone is judged, as before.
   */
  @Test
  void aConnectorWhoseTasksDoNotCarryItsConfigIsJudgedByItsStatus() throws IOException {
    ConnectRestClient rest = worker(config("1"), RUNNING, RUNNING, false);

    PipelineDeployer.Outcome outcome =
        deployer(rest, Duration.ofSeconds(5)).deploy(file(config("2")), false);

    assertTrue(outcome.ok(), output());
  }

  /** A PUT keeps a paused or stopped connector so: the deploy waited the whole --timeout. */
  @Test
  void aPausedOrStoppedConnectorIsReportedAtOnce() throws IOException {
    for (String state : List.of("PAUSED", "STOPPED")) {
      log.reset();
      statusCalls.set(0);
      String tasks = state.equals("PAUSED") ? "[{\"id\":0,\"state\":\"PAUSED\"}]" : "[]";
      String status = "{\"connector\":{\"state\":\"" + state + "\"},\"tasks\":" + tasks + "}";
      ConnectRestClient rest = worker(config("1"), status, status, false);

      PipelineDeployer.Outcome outcome =
          deployer(rest, Duration.ofSeconds(5)).deploy(file(config("2")), false);

      assertFalse(outcome.ok(), output());
      assertTrue(
          outcome.problems().get(0).contains("connector is " + state)
              && outcome.problems().get(0).contains("PUT /connectors/kv/resume"),
          outcome.problems().toString());
      assertEquals(1, statusCalls.get(), "waited for RUNNING: " + output());
      assertTrue(put.get(), "the config is deployed all the same");
      server.stop(0);
      server = null;
    }
  }

  /**
   * A worker where connector kv exists with {@code before}. Its task's config carries the
   * connector's (as every soma-connect connector's does) when {@code tasksCarryConfig}; after the
   * PUT the task's config changes on the third look at it, and the status then says {@code
   * afterApplied} instead of {@code beforeApplied} (after {@link #oldStatusLooksAfterApplied} more
   * looks).
   */
  private ConnectRestClient worker(
      Map<String, String> before,
      String beforeApplied,
      String afterApplied,
      boolean tasksCarryConfig)
      throws IOException {
    put.set(false);
    taskLooksAfterPut.set(0);
    oldStatusLooksAfterApplied.set(0);
    AtomicReference<Map<String, String>> current = new AtomicReference<>(before);
    AtomicBoolean applied = new AtomicBoolean();
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          String path = exchange.getRequestURI().getPath();
          String method = exchange.getRequestMethod();
          if (path.endsWith("/config/validate")) {
            answer(exchange, 200, "{\"configs\":[]}");
          } else if (path.endsWith("/config") && method.equals("PUT")) {
            Map<String, String> submitted =
                JSON.readValue(
                    exchange.getRequestBody().readAllBytes(),
                    JSON.getTypeFactory().constructMapType(Map.class, String.class, String.class));
            current.set(submitted);
            put.set(true);
            ObjectNode info = JSON.createObjectNode().put("name", "kv").put("type", "sink");
            info.set("config", JSON.valueToTree(submitted));
            answer(exchange, 200, info.toString());
          } else if (path.endsWith("/config")) {
            answer(exchange, 200, JSON.writeValueAsString(before));
          } else if (path.endsWith("/tasks")) {
            if (put.get() && taskLooksAfterPut.incrementAndGet() >= 3) {
              applied.set(true);
            }
            Map<String, String> taskConfig =
                tasksCarryConfig
                    ? new LinkedHashMap<>(applied.get() ? current.get() : before)
                    : new LinkedHashMap<>(Map.of("slot", "0"));
            taskConfig.put("task.class", "x.SinkTask");
            answer(exchange, 200, tasks(taskConfig));
          } else if (path.endsWith("/status")) {
            statusCalls.incrementAndGet();
            boolean newTasks = applied.get() && oldStatusLooksAfterApplied.getAndDecrement() <= 0;
            if (newTasks && newStatusLooks.incrementAndGet() == missingAtNewStatusLook.get()) {
              missingAtNanos.set(nanos.get());
              answer(exchange, 404, "{}");
            } else {
              answer(exchange, 200, newTasks ? afterApplied : beforeApplied);
            }
          } else {
            answer(exchange, 404, "{}");
          }
        });
    server.start();
    URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    return new ConnectRestClient(base, null, null, Duration.ofSeconds(10), 2, Duration.ofMillis(1));
  }

  /** GET /connectors/kv/tasks as Connect answers it: each task's id and config. */
  private static String tasks(Map<String, String> taskConfig) {
    ArrayNode tasks = JSON.createArrayNode();
    ObjectNode task = tasks.addObject();
    task.putObject("id").put("connector", "kv").put("task", 0);
    task.set("config", JSON.valueToTree(taskConfig));
    return tasks.toString();
  }
}
