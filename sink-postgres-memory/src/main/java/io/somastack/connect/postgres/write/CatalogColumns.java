package io.somastack.connect.postgres.write;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

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
   * Whether a unique index exists that ON CONFLICT on the columns infers, of the table that {@code
   * %1$s} names as a regclass, the columns {@code %2$s} names as a text[]: on exactly those columns
   * (INCLUDE columns aside), and not partial, on expressions, deferrable or invalid, which
   * PostgreSQL does not take as an arbiter (nor does a COPY's 23505 come from a deferrable one
   * before the commit).
   */
  private static final String UNIQUE_INDEX =
      "SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = %1$s AND i.indisunique"
          + " AND i.indisvalid AND i.indimmediate AND i.indpred IS NULL AND i.indexprs IS NULL"
          + " AND (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_attribute a"
          + " WHERE a.attrelid = i.indrelid"
          + " AND a.attnum = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1]))"
          + " = (SELECT array_agg(x ORDER BY x) FROM unnest(%2$s) x))";

  /** Whether the table has a unique index on exactly these columns that ON CONFLICT infers. */
  static boolean hasUniqueIndexOn(Connection c, String table, List<String> columns)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(String.format(UNIQUE_INDEX, "to_regclass(?)", "?::text[]"))) {
      ps.setString(1, table);
      ps.setArray(2, c.createArrayOf("text", columns.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  /**
   * What a COPY relies on in its table: each column's type, and whether the unique index on {@code
   * conflictColumns} is there ({@link #hasUniqueIndexOn}), which alone tells COPY of an event id
   * already stored.
   */
  record Locked(Map<String, String> types, boolean uniqueIndex) {}

  /**
   * The same, read after taking COPY's own lock on the table (ROW EXCLUSIVE: other writers go on,
   * ALTER TABLE, DROP INDEX and CREATE INDEX wait): neither can change before the transaction ends.
   * One round trip.
   */
  static Locked lockedFor(Connection c, String table, List<String> conflictColumns)
      throws SQLException {
    String regclass = SchemaManager.literal(table) + "::regclass";
    String columns =
        conflictColumns.stream()
            .map(SchemaManager::literal)
            .collect(Collectors.joining(", ", "ARRAY[", "]::text[]"));
    try (Statement s = OneOffStatements.create(c)) {
      s.execute(
          "LOCK TABLE "
              + table
              + " IN ROW EXCLUSIVE MODE; "
              + String.format(COLUMNS, regclass)
              + "; "
              + String.format(UNIQUE_INDEX, regclass, columns));
      while (!s.getMoreResults() && s.getUpdateCount() != -1) {
        // the LOCK's (empty) result; the SELECTs' rows follow
      }
      Map<String, String> types;
      try (ResultSet rs = s.getResultSet()) {
        types = types(rs);
      }
      s.getMoreResults();
      try (ResultSet rs = s.getResultSet()) {
        rs.next();
        return new Locked(types, rs.getBoolean(1));
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
