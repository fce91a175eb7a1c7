package io.somastack.connect.deploy;

import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A new config PUT over a connector that exists, and how GET /connectors/{name}/tasks shows that
 * the workers have applied it. Connect answers the PUT once the config is stored; the connector
 * restarts with it and writes its tasks' configs later (a herder tick, then its taskConfigs()), and
 * until the old tasks are stopped the status still shows them RUNNING: judged then, a config whose
 * tasks fail would be declared RUNNING.
 *
 * <p>Only a connector whose tasks carry its config (every soma-connect connector's, as most
 * connectors' do: taskConfigs() returns the config it started with, and Connect puts back its
 * ${...} references) shows the change there; for any other the status alone is judged, as there is
 * nothing in the tasks' configs to wait for.
 */
final class ConfigChange {

  private final Map<String, String> stored;
  private final Set<String> removed;

  private ConfigChange(Map<String, String> stored, Set<String> removed) {
    this.stored = stored;
    this.removed = removed;
  }

  /**
   * The change to wait for, or null when there is none to see: a new connector (before is null),
   * the same config again (nothing restarts), no tasks before, or tasks that did not carry the old
   * config.
   */
  static ConfigChange of(
      Map<String, String> before,
      List<Map<String, String>> tasksBefore,
      Map<String, String> stored) {
    if (before == null
        || before.equals(stored)
        || tasksBefore.isEmpty()
        || !tasksBefore.stream().allMatch(task -> carries(task, before))) {
      return null;
    }
    Set<String> removed = new HashSet<>(before.keySet());
    removed.removeAll(stored.keySet());
    return new ConfigChange(stored, removed);
  }

  /** Whether every task carries the new config, and none a key it no longer has. */
  boolean appliedIn(List<Map<String, String>> tasks) {
    return !tasks.isEmpty()
        && tasks.stream()
            .allMatch(
                task -> carries(task, stored) && Collections.disjoint(task.keySet(), removed));
  }

  private static boolean carries(Map<String, String> task, Map<String, String> config) {
    return task.entrySet().containsAll(config.entrySet());
  }
}
