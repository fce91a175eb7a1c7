package io.somastack.connect.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

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
