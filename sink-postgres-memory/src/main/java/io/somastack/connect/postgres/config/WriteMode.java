package io.somastack.connect.postgres.config;

/** How the sink turns events into rows. */
public enum WriteMode {
  /** One row per event, unique on the event id; a replayed event never makes a second row. */
  APPEND,
  /** The latest state per key; an older event never overwrites a newer one. */
  UPSERT,
  /**
   * Insert-only by the sink (nothing write-protects the table), range-partitioned by event time,
   * each row hash-chained to the one before so that changes made by others show.
   */
  AUDIT,
  /** Dead letters from Connect's DLQ topics, with the error headers, into the seed's dlq table. */
  DEAD_LETTER
}
