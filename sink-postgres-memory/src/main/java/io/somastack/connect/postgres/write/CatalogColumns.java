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

  private static Map<String, String> types(ResultSet rs) throws SQLException {
    Map<String, String> types = new HashMap<>();
    while (rs.next()) {
      types.put(rs.getString(1), rs.getString(2));
    }
    return types;
  }
}
