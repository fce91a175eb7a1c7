package io.somastack.connect.outbox;

import java.sql.Connection;
import java.sql.SQLException;

/** One transaction on a connection the relay otherwise keeps in autocommit. */
final class Transaction {

  /** The statements of the transaction. */
  interface Work<T> {
    T run() throws SQLException;
  }

  private Transaction() {}

  /**
   * Runs the work and commits; rolls back what it did when it throws, and says so if that fails.
   */
  static <T> T run(Connection connection, Work<T> work) throws SQLException {
    connection.setAutoCommit(false);
    try {
      T result = work.run();
      connection.commit();
      return result;
    } catch (SQLException | RuntimeException e) {
      try {
        connection.rollback();
      } catch (SQLException again) {
        e.addSuppressed(again);
      }
      throw e;
    } finally {
      connection.setAutoCommit(true);
    }
  }
}
