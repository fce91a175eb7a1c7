package io.somastack.connect.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Deploys one pipeline the careful way: validate first and explain every error, then PUT the config
 * (idempotent), then wait until the connector and all its tasks are RUNNING, or show the failure
 * trace.
 */
public final class PipelineDeployer {

  /** The result of deploying one file. */
  public record Outcome(PipelineFile file, boolean ok, List<String> problems) {}

  private final ConnectRestClient rest;
  private final PrintStream out;
  private final Duration runningTimeout;

  public PipelineDeployer(ConnectRestClient rest, PrintStream out, Duration runningTimeout) {
    this.rest = rest;
    this.out = out;
    this.runningTimeout = runningTimeout;
  }

  /** Validation only: the errors Connect reports, one readable line each. */
  public List<String> validate(PipelineFile file) throws IOException {
    JsonNode answer = rest.validate(file.connectorClass(), file.config());
    List<String> errors = new ArrayList<>();
    for (JsonNode config : answer.path("configs")) {
      JsonNode value = config.path("value");
      for (JsonNode error : value.path("errors")) {
        errors.add(value.path("name").asText() + ": " + error.asText());
      }
    }
    return errors;
  }

  public Outcome deploy(PipelineFile file, boolean dryRun) throws IOException {
    out.printf("%s (%s, %s)%n", file.name(), file.path().getFileName(), file.connectorClass());
    List<String> errors = validate(file);
    if (!errors.isEmpty()) {
      errors.forEach(e -> out.println("  invalid: " + e));
      return new Outcome(file, false, errors);
    }
    out.println("  valid");
    if (dryRun) {
      return new Outcome(file, true, List.of());
    }
    Map<String, String> failedBefore = failedInstances(rest.status(file.name()));
    rest.putConfig(file.name(), file.config());
    if (!failedBefore.isEmpty()) {
      // a new config restarts the connector, but not tasks whose own config is unchanged
      rest.restartFailed(file.name());
      out.println("  deployed over a failed pipeline; restarting what failed");
    }
    out.println("  deployed; waiting for RUNNING");
    return awaitRunning(file, failedBefore);
  }

  /**
   * Waits until the connector and every task run, or one fails. A failure that was there before
   * this deploy is not judged until its instance has been seen in another state or fails with
   * another trace: until Connect has restarted it, the status still shows the old failure.
   */
  private Outcome awaitRunning(PipelineFile file, Map<String, String> failedBefore)
      throws IOException {
    Map<String, String> stale = new HashMap<>(failedBefore);
    long deadline = System.nanoTime() + runningTimeout.toNanos();
    String last = "no status yet";
    while (System.nanoTime() < deadline) {
      JsonNode status = rest.status(file.name());
      if (status != null) {
        Map<String, String> failed = failedInstances(status);
        stale.keySet().removeIf(instance -> !stale.get(instance).equals(failed.get(instance)));
        List<String> failures = new ArrayList<>();
        failed.forEach(
            (instance, trace) -> {
              if (!stale.containsKey(instance)) {
                failures.add(instance + ": " + trace);
              }
            });
        if (!failures.isEmpty()) {
          failures.forEach(f -> out.println("  FAILED: " + f));
          return new Outcome(file, false, failures);
        }
        long running = countRunning(status.path("tasks"));
        int made = rest.taskCount(file.name());
        String connector = status.path("connector").path("state").asText();
        last = "connector " + connector + ", " + running + "/" + made + " tasks running";
        if ("RUNNING".equals(connector) && allTasksRunning(status, made)) {
          out.println("  RUNNING (" + last + ")");
          return new Outcome(file, true, List.of());
        }
      }
      pause();
    }
    out.println("  not RUNNING within " + runningTimeout.toSeconds() + " s: " + last);
    List<String> problems = new ArrayList<>(List.of("not RUNNING in time: " + last));
    // restarted and failed again the same way, or never restarted: the old failure still stands
    stale.forEach((instance, trace) -> problems.add(instance + " still FAILED: " + trace));
    problems.subList(1, problems.size()).forEach(p -> out.println("  " + p));
    return new Outcome(file, false, problems);
  }

  /**
   * Whether every task the connector made runs. The status lists a task only once it has started
   * (and may still list tasks of an earlier config beyond the count): RUNNING for the tasks listed
   * so far would declare a three-task pipeline running with two.
   */
  private static boolean allTasksRunning(JsonNode status, int made) {
    if (made == 0) {
      return false;
    }
    Set<Integer> running = new HashSet<>();
    for (JsonNode task : status.path("tasks")) {
      if ("RUNNING".equals(task.path("state").asText())) {
        running.add(task.path("id").asInt());
      }
    }
    for (int id = 0; id < made; id++) {
      if (!running.contains(id)) {
        return false;
      }
    }
    return true;
  }

  private static long countRunning(JsonNode tasks) {
    long running = 0;
    for (JsonNode task : tasks) {
      if ("RUNNING".equals(task.path("state").asText())) {
        running++;
      }
    }
    return running;
  }

  /** The failed instances ("connector", "task 0", ...) and their traces; none for no status. */
  private static Map<String, String> failedInstances(JsonNode status) {
    Map<String, String> failed = new LinkedHashMap<>();
    if (status == null) {
      return failed;
    }
    if ("FAILED".equals(status.path("connector").path("state").asText())) {
      failed.put("connector", status.path("connector").path("trace").asText());
    }
    for (JsonNode task : status.path("tasks")) {
      if ("FAILED".equals(task.path("state").asText())) {
        failed.put("task " + task.path("id").asText(), task.path("trace").asText());
      }
    }
    return failed;
  }

  private static void pause() throws IOException {
    try {
      Thread.sleep(250); // polling a remote REST API: there is no event to wait on
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
