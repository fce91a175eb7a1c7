package io.somastack.connect.common.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * What the connectors ask PostgreSQL's catalogue about a relation, by its quoted, qualified name.
 */
public final class PgCatalog {

  private PgCatalog() {}

  /** Whether the relation exists (a bare name: where the search_path finds it). */
  public static boolean exists(Connection c, String relation) throws SQLException {
    return ask(c, "SELECT to_regclass(?) IS NOT NULL", relation);
  }

  /**
   * Whether the current role may alter the relation: it owns it or is a member of its owner (a
   * superuser is), which PostgreSQL asks before ALTER TABLE and CREATE INDEX. False when missing.
   */
  public static boolean owns(Connection c, String relation) throws SQLException {
    return ask(
        c,
        "SELECT pg_has_role(relowner, 'USAGE') FROM pg_class WHERE oid = to_regclass(?)",
        relation);
  }

  /** Whether the schema exists, by its quoted name. */
  public static boolean schemaExists(Connection c, String schema) throws SQLException {
    return ask(c, "SELECT to_regnamespace(?) IS NOT NULL", schema);
  }

  private static boolean ask(Connection c, String sql, String relation) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, relation);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    }
  }
}
