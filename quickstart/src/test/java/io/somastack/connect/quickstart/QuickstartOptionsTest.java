package io.somastack.connect.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Command-line mistakes end with a sentence and the usage (status 2), before anything starts. */
class QuickstartOptionsTest {

  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

  @TempDir Path work;

  private int run(String... args) throws Exception {
    return Quickstart.run(args, out, Map.of(), work, work.resolve("quickstart"));
  }

  private String output() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void anOptionWithoutItsValueIsAUsageErrorNotACrash() throws Exception {
    assertEquals(2, run("--rounds"));
    assertTrue(output().contains("--rounds needs a value"), output());
    assertTrue(output().contains("usage: soma-connect quickstart"), output());
  }

  @Test
  void aValueThatIsNotANumberIsAUsageErrorNamingTheOption() throws Exception {
    assertEquals(2, run("--exit", "--rounds", "many"));
    assertTrue(output().contains("--rounds needs a whole number, not 'many'"), output());
  }

  @Test
  void anUnknownOptionIsAUsageError() throws Exception {
    assertEquals(2, run("--round", "5"));
    assertTrue(output().contains("unknown option --round"), output());
    assertTrue(output().contains("usage: soma-connect quickstart"), output());
  }

  @Test
  void helpPrintsTheUsageAndStartsNothing() throws Exception {
    assertEquals(0, run("--help"));
    assertTrue(output().contains("--rounds N"), output());
    assertFalse(output().contains("PostgreSQL"), output());
  }

  /** --timeout 0 used to run everything and end in a NullPointerException (no progress read). */
  @Test
  void aTimeoutBelowOneSecondIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Quickstart.Options.parse(new String[] {"--timeout", "0"}));
    assertEquals("--timeout must be at least 1, not 0", e.getMessage());
  }

  @Test
  void portsOutsideTheTcpRangeAreRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Quickstart.Options.parse(new String[] {"--rest-port", "80830"}));
    assertEquals("--rest-port must be at most 65535, not 80830", e.getMessage());
  }
}
