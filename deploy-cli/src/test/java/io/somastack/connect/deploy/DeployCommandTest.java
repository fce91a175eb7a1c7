package io.somastack.connect.deploy;

import static io.somastack.connect.deploy.StubAnswers.answer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole deploy command over several files, against a local HTTP Connect stand-in. */
class DeployCommandTest {

  private static final String RUNNING =
      "{\"connector\":{\"state\":\"RUNNING\"},\"tasks\":[{\"id\":0,\"state\":\"RUNNING\"}]}";

  private final List<String> deployed = new CopyOnWriteArrayList<>();
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
  private HttpServer server;

  @TempDir Path folder;

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  private String output() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  /**
   * A file Connect refuses (400 from validate) or that is not a REST body used to end the run: the
   * files after it were never deployed, and the exit status named only the first failure.
   */
  @Test
  void aFileThatFailsDoesNotStopTheOthersAndEveryFailureIsReported() throws IOException {
    pipeline("a-refused.json", "refused", "x.Refused");
    Files.writeString(folder.resolve("b-broken.json"), "{\"name\": \"broken\"");
    pipeline("c-good.json", "good", "x.Good");

    int status =
        DeployCommand.run(new String[] {"--connect-url", worker(), folder.toString()}, out);

    assertEquals(1, status, output());
    assertEquals(List.of("good"), deployed, output());
    String summary = output().substring(output().indexOf("2 of 3 pipelines failed"));
    assertTrue(summary.contains("a-refused.json: ") && summary.contains("answered 400"), output());
    assertTrue(summary.contains("b-broken.json: "), output());
    assertTrue(!summary.contains("c-good.json"), output());
  }

  /** A worker that is down made the run say "deploy failed: null": the JDK's message is null. */
  @Test
  void aWorkerThatIsDownIsNamed() throws IOException {
    pipeline("a.json", "a", "x.Good");
    int port;
    try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = closed.getLocalPort();
    }
    String url = "http://127.0.0.1:" + port;

    int status = DeployCommand.run(new String[] {"--connect-url", url, folder.toString()}, out);

    assertEquals(1, status, output());
    assertTrue(output().contains("cannot connect to " + url), output());
    assertTrue(!output().contains("null"), output());
  }

  /**
   * A folder without pipeline files (a compose bind mount whose source is missing is an empty
   * folder) deployed nothing and said "all pipelines RUNNING" with exit status 0.
   */
  @Test
  void aFolderWithoutPipelineFilesIsAFailure() throws IOException {
    Files.writeString(folder.resolve("topics.json"), "{}");

    int status =
        DeployCommand.run(new String[] {"--connect-url", worker(), folder.toString()}, out);

    assertEquals(1, status, output());
    assertTrue(output().contains("no pipeline files in " + folder), output());
  }

  /**
   * Two files naming one connector: the second PUT silently replaced the first's config, and the
   * run said "all pipelines RUNNING".
   */
  @Test
  void twoFilesForOneConnectorAreRefusedBeforeAnythingIsDeployed() throws IOException {
    pipeline("a-first.json", "same", "x.Good");
    pipeline("b-other.json", "other", "x.Good");
    pipeline("c-second.json", "same", "x.Good");

    int status =
        DeployCommand.run(new String[] {"--connect-url", worker(), folder.toString()}, out);

    assertEquals(1, status, output());
    assertEquals(List.of(), deployed, output());
    assertTrue(
        output().contains("connector same is declared by both ")
            && output().contains("a-first.json")
            && output().contains("c-second.json"),
        output());
  }

  /** The same file named twice (a folder and a file in it) is deployed once, not refused. */
  @Test
  void oneFileNamedTwiceIsDeployedOnce() throws IOException {
    pipeline("a.json", "a", "x.Good");
    String file = folder.resolve("a.json").toString();

    int status =
        DeployCommand.run(new String[] {"--connect-url", worker(), folder.toString(), file}, out);

    assertEquals(0, status, output());
    assertEquals(List.of("a"), deployed, output());
  }

  /**
   * --timeout abc said only 'For input string: "abc"'; 0 or -5 gave up on every pipeline at once
   * ("not RUNNING within -5 s"), and a huge value overflowed into an ArithmeticException.
   */
  @Test
  void aTimeoutThatIsNotAPositiveNumberOfSecondsIsAUsageError() {
    for (String timeout : List.of("abc", "0", "-5", "1.5", "99999999999999999", "--dry-run")) {
      bytes.reset();
      int status = DeployCommand.run(new String[] {"--timeout", timeout, "x.json"}, out);
      assertEquals(2, status, timeout + ": " + output());
      assertTrue(output().startsWith("--timeout needs "), timeout + ": " + output());
      assertTrue(output().contains("usage:"), output());
    }
    bytes.reset();
    assertEquals(2, DeployCommand.run(new String[] {"--timeout"}, out), output());
    assertTrue(output().startsWith("--timeout needs a value"), output());
  }

  /** A password may start with "--": secrets take any next word, unlike numbers and paths. */
  @Test
  void aSecretStartingWithTwoDashesIsTakenAsTheValue() {
    DeployCommand.Options options =
        DeployCommand.Options.parse(
            new String[] {"--basic-auth", "--admin:--pw", "--truststore-password", "--secret"});
    assertEquals("--admin:--pw", options.basicAuth);
    assertEquals("--secret", options.truststorePassword);
  }

  /** A forgotten value: --basic-auth --dry-run must not take --dry-run as the credentials. */
  @Test
  void basicAuthWithoutAColonIsAUsageError() {
    int status = DeployCommand.run(new String[] {"--basic-auth", "--dry-run", "x.json"}, out);
    assertEquals(2, status, output());
    assertTrue(output().startsWith("--basic-auth needs USER:PASSWORD"), output());
  }

  /**
   * A URL without http:// (e.g. localhost:8083) ended the run with an IllegalArgumentException from
   * the JDK's HTTP client and its stack trace.
   */
  @Test
  void aConnectUrlThatIsNotHttpIsAUsageError() throws IOException {
    pipeline("a.json", "a", "x.Good");
    for (String url : List.of("localhost:8083", "ftp://host:21", "http://")) {
      bytes.reset();
      int status = DeployCommand.run(new String[] {"--connect-url", url, folder.toString()}, out);
      assertEquals(2, status, url + ": " + output());
      assertTrue(output().startsWith("--connect-url needs an http:// or https:// URL"), output());
    }
  }

  /** A file with a null config value is refused, named, and does not stop the others. */
  @Test
  void aNullConfigValueFailsItsFileAlone() throws IOException {
    Files.writeString(
        folder.resolve("a-null.json"),
        "{\"name\":\"n\",\"config\":{\"connector.class\":\"x.Good\",\"topics\":null}}");
    pipeline("b-good.json", "good", "x.Good");

    int status =
        DeployCommand.run(new String[] {"--connect-url", worker(), folder.toString()}, out);

    assertEquals(1, status, output());
    assertEquals(List.of("good"), deployed, output());
    assertTrue(output().contains("a-null.json: config topics is null"), output());
  }

  /** A trust store that is not there was reported as its bare path: "deploy failed: ca.p12". */
  @Test
  void aMissingTrustStoreIsNamedAsMissing() throws IOException {
    pipeline("a.json", "a", "x.Good");
    Path missing = folder.resolve("ca.p12");

    int status =
        DeployCommand.run(
            new String[] {"--truststore", missing.toString(), folder.toString()}, out);

    assertEquals(1, status, output());
    assertTrue(output().contains("deploy failed: no such file: " + missing), output());
  }

  private void pipeline(String file, String name, String connectorClass) throws IOException {
    Files.writeString(
        folder.resolve(file),
        "{\"name\":\"" + name + "\",\"config\":{\"connector.class\":\"" + connectorClass + "\"}}");
  }

  /** Validate refuses x.Refused with a 400, as Connect does a config it cannot even read. */
  private String worker() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          String path = exchange.getRequestURI().getPath();
          if (path.endsWith("/config/validate")) {
            if (path.contains("x.Refused")) {
              answer(exchange, 400, "{\"error_code\":400,\"message\":\"Connector config is bad\"}");
            } else {
              answer(exchange, 200, "{\"configs\":[]}");
            }
          } else if (path.endsWith("/config") && exchange.getRequestMethod().equals("PUT")) {
            deployed.add(path.split("/")[2]);
            answer(exchange, 201, "{}");
          } else if (path.endsWith("/tasks")) {
            answer(exchange, 200, "[{}]");
          } else if (path.endsWith("/status")) {
            boolean exists = deployed.contains(path.split("/")[2]);
            answer(exchange, exists ? 200 : 404, exists ? RUNNING : "{\"message\":\"not found\"}");
          } else {
            answer(exchange, 404, "{}");
          }
        });
    server.start();
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }
}
