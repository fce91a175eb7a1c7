package io.somastack.connect.outbox;

import org.apache.kafka.connect.errors.ConnectException;

/**
 * The mark a relay leaves on its database session, so that its later statements can tell that they
 * still run in that session, the one holding its table locks ({@link OutboxLocks}).
 *
 * <p>Behind a transaction-mode pooler (PgBouncer pool_mode=transaction, Neon's -pooler endpoint,
 * Supabase's port 6543) the relay's connection is no session of its own: two relays can share one
 * server session, where advisory locks are re-entrant and both take the same table's lock, and one
 * relay's later statements can run in server sessions that hold none of its locks. Every row was
 * relayed twice, unseen. So when the relay takes its locks it first checks that the session carries
 * no other relay's mark, and sets its own (a custom setting, {@link #SETTING}, which any user may
 * set); every statement that reads rows to relay, marks or deletes them, or takes or lets go of a
 * lock checks the mark within the statement (or its transaction), and the relay fails, for good,
 * when it is not its own.
 *
 * <p>The mark is one per task connection; null before the first lock is taken (a reader used on its
 * own, in tests, checks nothing).
 */
final class RelaySession {

  /** The custom setting holding the mark: a dotted name, settable by any user. */
  static final String SETTING = "soma.relay_session";

  /** The session's mark in SQL: '' after a RESET, NULL when never set in the session. */
  static final String CURRENT = "current_setting('" + SETTING + "', true)";

  private volatile String mark;

  /** This relay's mark, or null before it took its locks. */
  String mark() {
    return mark;
  }

  void mark(String mark) {
    this.mark = mark;
  }

  /** Fails the task unless {@code found}, the session's mark, is this relay's (when it has one). */
  void require(String found) {
    String ours = mark;
    if (ours != null && !ours.equals(found)) {
      throw notOurs(found);
    }
  }

  /** The failure for a session carrying {@code found} instead of this relay's mark. */
  static ConnectException notOurs(String found) {
    return new ConnectException(
        "outbox relay: the database session "
            + (found == null || found.isEmpty()
                ? "no longer carries this relay's mark (a statement ran in another server session)"
                : "carries another relay's mark (two relays share one server session)")
            + ". connection.url must reach PostgreSQL directly or through a session-mode pooler,"
            + " not a transaction-mode pooler (PgBouncer pool_mode=transaction, Neon's -pooler"
            + " endpoint, Supabase's port 6543), because the relay's table locks are session"
            + " locks: behind a transaction-mode pooler rows would be relayed twice.");
  }
}
