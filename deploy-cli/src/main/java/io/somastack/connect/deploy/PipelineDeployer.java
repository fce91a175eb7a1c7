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

  /**
   * How long a changed config's RUNNING must hold before it counts: longer than a worker's
   * task.shutdown.graceful.timeout.ms (5 s by default). An old task that misses it is cancelled,
   * and its RUNNING stays in the status until the new task writes a state (a sink stuck in a put);
   * tasks on other workers stop on their own schedule.
   */
  static final Duration SETTLE = Duration.ofSeconds(10);

  /** Time and the pause between looks at the status: the tests pass their own. */
  interface Clock {
    long nanoTime();

    void sleep(Duration pause) throws InterruptedException;
  }

  private static final Clock SYSTEM_CLOCK =
      new Clock() {
        @Override
        public long nanoTime() {
          return System.nanoTime();
        }

        @Override
        public void sleep(Duration pause) throws InterruptedException {
          Thread.sleep(pause.toMillis()); // polling a remote REST API: there is no event to wait on
        }
      };

  private final ConnectRestClient rest;
  private final PrintStream out;
  private final Duration runningTimeout;
  private final Clock clock;

  public PipelineDeployer(ConnectRestClient rest, PrintStream out, Duration runningTimeout) {
    this(rest, out, runningTimeout, SYSTEM_CLOCK);
  }

  PipelineDeployer(ConnectRestClient rest, PrintStream out, Duration runningTimeout, Clock clock) {
    this.rest = rest;
    this.out = out;
    this.runningTimeout = runningTimeout;
    this.clock = clock;
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
    JsonNode statusBefore = rest.status(file.name());
    Map<String, String> failedBefore = failedInstances(statusBefore);
    Map<String, String> configBefore = rest.connectorConfig(file.name());
    List<Map<String, String>> tasksBefore =
        configBefore == null ? List.of() : rest.taskConfigs(file.name());
    JsonNode stored = rest.putConfig(file.name(), file.config());
    String held = heldState(statusBefore);
    if (held != null) {
      String problem =
          "connector is "
              + held
              + ", and a new config keeps it "
              + held
              + ": resume it with PUT /connectors/"
              + file.name()
              + "/resume";
      out.println("  deployed, but the " + problem);
      return new Outcome(file, false, List.of(problem));
    }
    ConfigChange change = ConfigChange.of(configBefore, tasksBefore, storedConfig(stored, file));
    if (!failedBefore.isEmpty()) {
      // a new config restarts the connector, but not tasks whose own config is unchanged
      rest.restartFailed(file.name());
      out.println("  deployed over a failed pipeline; restarting what failed");
    }
    out.println("  deployed; waiting for RUNNING");
    return awaitRunning(file, failedBefore, change);
  }

  /** PAUSED or STOPPED, which a PUT of a new config leaves as it is; else null. */
  private static String heldState(JsonNode status) {
    String state = status == null ? "" : status.path("connector").path("state").asText();
    return state.equals("PAUSED") || state.equals("STOPPED") ? state : null;
  }

  /** The config Connect stored, as the PUT answered it (with its name), else the file's. */
  private static Map<String, String> storedConfig(JsonNode answer, PipelineFile file) {
    JsonNode config = answer == null ? null : answer.get("config");
    return config != null && config.isObject() ? ConnectRestClient.strings(config) : file.config();
  }

  /**
   * Waits until the connector and every task run, or one fails. A failure that was there before
   * this deploy is not judged until its instance has been seen in another state or fails with
   * another trace: until Connect has restarted it, the status still shows the old failure. A
   * changed config is judged only after its tasks' configs show it, and its RUNNING counts once it
   * has held for {@link #SETTLE}: until every old task has stopped, the RUNNING shown may be its.
   */
  private Outcome awaitRunning(
      PipelineFile file, Map<String, String> failedBefore, ConfigChange change) throws IOException {
    Map<String, String> stale = new HashMap<>(failedBefore);
    ConfigChange pending = change;
    long deadline = clock.nanoTime() + runningTimeout.toNanos();
    String last = "no status yet";
    Long runningSince = null; // a changed config: since when RUNNING has held, without a break
    while (clock.nanoTime() < deadline) {
      // a call's own retries end with the wait too
      ConnectRestClient rest = this.rest.within(Duration.ofNanos(deadline - clock.nanoTime()));
      JsonNode status = rest.status(file.name());
      if (status == null) {
        runningSince = null; // no connector found: a break in RUNNING like any other
      } else {
        List<String> failures = newFailures(status, stale);
        if (!failures.isEmpty()) {
          failures.forEach(f -> out.println("  FAILED: " + f));
          return new Outcome(file, false, failures);
        }
        List<Map<String, String>> tasks = rest.taskConfigs(file.name());
        String connector = status.path("connector").path("state").asText();
        if (pending != null) {
          last = "connector " + connector + ", its tasks not yet made with the new config";
          pending = pending.appliedIn(tasks) ? null : pending;
        } else {
          last =
              "connector "
                  + connector
                  + ", "
                  + countRunning(status.path("tasks"))
                  + "/"
                  + tasks.size()
                  + " tasks running";
          boolean running = "RUNNING".equals(connector) && allTasksRunning(status, tasks.size());
          if (!running) {
            runningSince = null;
          } else if (runningSince == null) {
            runningSince = clock.nanoTime();
          }
          long held = running ? clock.nanoTime() - runningSince : 0;
          if (running && (change == null || held >= SETTLE.toNanos())) {
            out.println("  RUNNING (" + last + ")");
            return new Outcome(file, true, List.of());
          }
          if (running) {
            last +=
                ", RUNNING for "
                    + Duration.ofNanos(held).toSeconds()
                    + " s of the "
                    + SETTLE.toSeconds()
                    + " s a changed config must hold";
          }
        }
      }
      pause(clock);
    }
    out.println("  not RUNNING within " + runningTimeout.toSeconds() + " s: " + last);
    List<String> problems = new ArrayList<>(List.of("not RUNNING in time: " + last));
    // restarted and failed again the same way, or never restarted: the old failure still stands
    stale.forEach((instance, trace) -> problems.add(instance + " still FAILED: " + trace));
    problems.subList(1, problems.size()).forEach(p -> out.println("  " + p));
    return new Outcome(file, false, problems);
  }

  /**
   * The failures of this status ("task 0: trace"), but not those still shown from before the
   * deploy: {@code stale} loses each instance seen in another state or with another trace.
   */
  private static List<String> newFailures(JsonNode status, Map<String, String> stale) {
    Map<String, String> failed = failedInstances(status);
    stale.keySet().removeIf(instance -> !stale.get(instance).equals(failed.get(instance)));
    List<String> failures = new ArrayList<>();
    failed.forEach(
        (instance, trace) -> {
          if (!stale.containsKey(instance)) {
            failures.add(instance + ": " + trace);
          }
        });
    return failures;
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

  private static void pause(Clock clock) throws IOException {
    try {
      clock.sleep(Duration.ofMillis(250));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
