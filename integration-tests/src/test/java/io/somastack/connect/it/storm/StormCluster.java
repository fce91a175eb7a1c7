package io.somastack.connect.it.storm;

import io.somastack.connect.testing.connect.ConnectHarness;

/** The Connect cluster of a rebalance-storm IT. */
public final class StormCluster {

  private StormCluster() {}

  /**
   * Three workers, whose tasks move 2 s after a worker leaves rather than after the default 5
   * minutes (scheduled.rebalance.max.delay.ms), so that a storm's steps follow each other quickly.
   */
  public static ConnectHarness.Builder builder(String name) {
    return ConnectHarness.builder(name)
        .workers(3)
        .workerProp("scheduled.rebalance.max.delay.ms", "2000");
  }
}
