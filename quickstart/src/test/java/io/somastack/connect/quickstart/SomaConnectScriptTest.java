package io.somastack.connect.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.PackagedPlugins;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ./soma-connect quickstart --help on a fresh checkout: the script built everything (mvn install)
 * before the quickstart read its options. Here the checkout is the script and the usage file alone,
 * and mvn is a stand-in that records that it was called.
 */
class SomaConnectScriptTest {

  @Test
  void quickstartHelpIsTheQuickstartsUsageWithoutABuild(@TempDir Path checkout) throws Exception {
    Path project = PackagedPlugins.projectRoot();
    Path usage = Path.of("quickstart/src/main/resources/quickstart-usage.txt");
    Files.copy(project.resolve("soma-connect"), checkout.resolve("soma-connect"));
    Files.createDirectories(checkout.resolve(usage).getParent());
    Files.copy(project.resolve(usage), checkout.resolve(usage));
    Path bin = Files.createDirectories(checkout.resolve("fake-bin"));
    Path called = checkout.resolve("mvn-called");
    Path mvn = bin.resolve("mvn");
    Files.writeString(mvn, "#!/bin/sh\ntouch '" + called + "'\nexit 1\n");
    mvn.toFile().setExecutable(true);

    ProcessBuilder pb =
        new ProcessBuilder(
                "bash", checkout.resolve("soma-connect").toString(), "quickstart", "--help")
            .redirectErrorStream(true);
    pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
    Process process = pb.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), output);

    assertEquals(0, process.exitValue(), output);
    assertFalse(Files.exists(called), "mvn ran before --help was answered: " + output);
    assertEquals(Quickstart.USAGE, output.stripTrailing());
  }
}
