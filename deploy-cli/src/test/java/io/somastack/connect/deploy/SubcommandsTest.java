package io.somastack.connect.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SubcommandsTest {

  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

  private String output() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void topicsNeedsBootstrapServers() {
    assertEquals(2, DeployCommand.dispatch(new String[] {"topics", "x/topics.json"}, out));
    assertTrue(output().contains("--bootstrap-servers is required"), output());
  }

  @Test
  void topicsReportsAMissingFile() {
    String[] args = {"topics", "--bootstrap-servers", "localhost:1", "no/such/topics.json"};
    assertEquals(1, DeployCommand.dispatch(args, out));
    assertTrue(output().contains("topics failed"), output());
  }

  /**
   * topics --timeout abc said only 'For input string: "abc"'; --timeout -1 ended in a
   * ConfigException and its stack trace from the Admin client; --replication-factor 0 reached the
   * broker.
   */
  @Test
  void topicsRefusesNumbersThatAreNot() {
    String[][] cases = {
      {"--timeout", "abc", "--timeout needs a whole number of seconds from 1 to 86400"},
      {"--timeout", "-1", "--timeout needs a whole number of seconds from 1 to 86400"},
      {"--replication-factor", "0", "--replication-factor needs a whole number of replicas from 1"},
      {"--replication-factor", "x", "--replication-factor needs a whole number of replicas from 1"},
    };
    for (String[] c : cases) {
      bytes.reset();
      String[] args = {"topics", "--bootstrap-servers", "localhost:1", c[0], c[1], "t.json"};
      assertEquals(2, DeployCommand.dispatch(args, out), output());
      assertTrue(output().startsWith(c[2]), output());
    }
  }

  /**
   * An Admin client config Kafka refuses (a --command-config with a bad security.protocol, or a
   * bootstrap server that does not resolve) ended the command with a ConfigException's stack trace.
   */
  @Test
  void topicsReportsAnAdminConfigKafkaRefuses(@TempDir Path dir) throws IOException {
    Path config = Files.writeString(dir.resolve("admin.properties"), "security.protocol=NOPE\n");
    String[] args = {
      "topics",
      "--bootstrap-servers",
      "localhost:1",
      "--command-config",
      config.toString(),
      "../connector-configs/topics.json"
    };
    assertEquals(1, DeployCommand.dispatch(args, out), output());
    assertTrue(output().startsWith("topics failed: "), output());
  }

  @Test
  void strimziCheckAgreesWithTheCommittedFiles() {
    String[] args = {
      "strimzi", "--check", "--project-root", "..", "--version", System.getProperty("soma.version")
    };
    assertEquals(0, DeployCommand.dispatch(args, out), output());
    assertTrue(output().contains("up to date"), output());
  }

  @Test
  void helpNamesTheSubcommands() {
    assertEquals(0, DeployCommand.dispatch(new String[] {"--help"}, out));
    assertTrue(output().contains("topics") && output().contains("strimzi"), output());
    assertEquals(2, DeployCommand.dispatch(new String[] {"strimzi", "--bogus"}, out));
  }
}
