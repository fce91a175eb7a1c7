package io.somastack.connect.postgres.write;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.postgresql.PGStatement;

/**
 * Statements for SQL that names a table in its text (DDL, a table's lock, its catalogue checks):
 * never prepared on the server. The sink's connections prepare every statement from its first use
 * (prepareThreshold=1), which its writes reuse batch after batch; a plain Statement's SQL is not
 * cached, though, so each of these was prepared under a name of its own and kept on the server
 * until the JVM next collected its query: about 26 kB of the backend's memory per statement, two
 * per table a record names, so tens of thousands of tenants' tables held gigabytes per backend.
 */
final class OneOffStatements {

  private OneOffStatements() {}

  static Statement create(Connection c) throws SQLException {
    Statement s = c.createStatement();
    s.unwrap(PGStatement.class).setPrepareThreshold(0);
    return s;
  }
}
