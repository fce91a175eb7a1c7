package io.somastack.connect.outbox;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A condition of a table warned of at most once a minute while it lasts, on the monotonic clock (a
 * step of the wall clock neither silences nor repeats a warning). One task thread uses it.
 */
final class WarnedTables {

  private static final long WARN_EVERY_MS = 60_000;

  private final Map<OutboxTable, Long> nextWarnAt = new HashMap<>();

  /** Whether to warn of the table now; if so, not again for a minute. */
  boolean due(OutboxTable table) {
    long now = TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
    Long warnAt = nextWarnAt.get(table);
    if (warnAt != null && now - warnAt < 0) {
      return false;
    }
    nextWarnAt.put(table, now + WARN_EVERY_MS);
    return true;
  }

  /** The condition ended: true when it had been warned of. */
  boolean ended(OutboxTable table) {
    return nextWarnAt.remove(table) != null;
  }
}
