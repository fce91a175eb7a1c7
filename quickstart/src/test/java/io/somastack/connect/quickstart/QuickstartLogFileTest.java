package io.somastack.connect.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The log file of simplelogger.properties (target/quickstart/quickstart.log, from the checkout,
 * where ./soma-connect runs the quickstart), in a JVM of its own: slf4j-simple opens it once, when
 * the first logger is made.
 */
class QuickstartLogFileTest {

  /**
   * On a fresh clone target/quickstart did not exist yet when Quickstart's static logger started
   * slf4j-simple, which then wrote to stderr for good ("Could not open [...]. Defaulting to
   * System.err"), while the quickstart pointed at a log file that was never written.
   */
  @Test
  void theFirstRunOfACheckoutLogsToTheLogFile(@TempDir Path checkout) throws Exception {
    // no connector-configs/: the run fails at once, and logs why
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Path stderr = checkout.resolve("stderr.txt");
    Process process =
        new ProcessBuilder(
                List.of(
                    java.toString(),
                    "-cp",
                    System.getProperty("java.class.path"),
                    "-Dsoma.project.root=" + checkout,
                    Quickstart.class.getName(),
                    "--exit",
                    "--rest-port",
                    freePort()))
            .directory(checkout.toFile())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(stderr.toFile())
            .start();
    try {
      assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the quickstart did not end");
      assertEquals(1, process.exitValue());

      String errors = Files.readString(stderr, StandardCharsets.UTF_8);
      assertFalse(errors.contains("Could not open"), errors);
      Path logFile = checkout.resolve("target/quickstart/quickstart.log");
      assertTrue(Files.exists(logFile), errors);
      assertTrue(Files.readString(logFile).contains("The quickstart failed"), errors);
    } finally {
      process.destroyForcibly(); // a quickstart that did not end would outlive the build
    }
  }

  private static String freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return String.valueOf(socket.getLocalPort());
    }
  }
}
