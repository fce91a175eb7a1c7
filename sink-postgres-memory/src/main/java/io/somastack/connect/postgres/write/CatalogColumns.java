package io.somastack.connect.postgres.write;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

/** The columns a table has now, as the catalog names them. */
final class CatalogColumns {

  private CatalogColumns() {}

  /** Each column's name and type, of the table that {@code %s} names as a regclass. */
  private static final String COLUMNS =
      "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute"
          + " WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped";

  /**
   * Each column's name and type (format_type without modifiers: "text", "character varying",
   * "timestamp with time zone"); empty when the table does not exist.
   */
  static Map<String, String> of(Connection c, String table) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(String.format(COLUMNS, "to_regclass(?)"))) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        return types(rs);
      }
    }
  }

  /**
   * The same, read after taking COPY's own lock on the table (ROW EXCLUSIVE: other writers go on,
   * ALTER TABLE waits): the types cannot change before the transaction ends. One round trip.
   */
  static Map<String, String> lockedFor(Connection c, String table) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(
          "LOCK TABLE "
              + table
              + " IN ROW EXCLUSIVE MODE; "
              + String.format(COLUMNS, SchemaManager.literal(table) + "::regclass"));
      while (!s.getMoreResults() && s.getUpdateCount() != -1) {
        // the LOCK's (empty) result; the SELECT's rows follow
      }
      try (ResultSet rs = s.getResultSet()) {
        return types(rs);
      }
    }
  }

  /**
   * How a column's values compare: as its type, under its collation (null: not collatable), which
   * is deterministic or not.
   */
  record Comparison(String type, String collation, boolean deterministic) {
    /** A text column under the default collation: what the sink's own tables have. */
    static final Comparison TEXT = new Comparison("text", null, true);

    /** Text turned into a value of the column, compared as the column compares. */
    String of(String text) {
      String cast = "CAST(" + text + " AS " + type + ")";
      return collation == null ? cast : cast + " COLLATE " + collation;
    }

    /**
     * Whether two values are equal only when their texts are: text and varchar under a
     * deterministic collation. Not citext, uuid, numbers, char(n) (trailing blanks) or a
     * nondeterministic collation.
     */
    boolean equalOnlyWhenSpelledAlike() {
      return deterministic && (type.equals("text") || type.equals("character varying"));
    }
  }

  /**
   * Each column's {@link Comparison}: its type without modifiers, so that a cast cuts nothing (a
   * char(n) as bpchar, which still ignores trailing blanks), and its collation, which a value sent
   * as text lacks (a nondeterministic one makes "a" and "A" equal).
   */
  static Map<String, Comparison> comparisons(Connection c, String table) throws SQLException {
    String sql =
        "SELECT a.attname, CASE WHEN a.atttypid = 'bpchar'::regtype THEN 'bpchar'"
            + " ELSE format_type(a.atttypid, NULL) END,"
            + " quote_ident(n.nspname) || '.' || quote_ident(co.collname),"
            + " COALESCE(co.collisdeterministic, true)"
            + " FROM pg_attribute a LEFT JOIN pg_collation co ON co.oid = a.attcollation"
            + " LEFT JOIN pg_namespace n ON n.oid = co.collnamespace"
            + " WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped";
    Map<String, Comparison> comparisons = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          comparisons.put(
              rs.getString(1), new Comparison(rs.getString(2), rs.getString(3), rs.getBoolean(4)));
        }
      }
    }
    return comparisons;
  }

  private static Map<String, String> types(ResultSet rs) throws SQLException {
    Map<String, String> types = new HashMap<>();
    while (rs.next()) {
      types.put(rs.getString(1), rs.getString(2));
    }
    return types;
  }
}
