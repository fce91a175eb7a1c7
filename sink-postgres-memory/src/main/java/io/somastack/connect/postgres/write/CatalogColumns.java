package io.somastack.connect.postgres.write;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

/** The columns a table has now, as the catalog names them. */
final class CatalogColumns {

  private CatalogColumns() {}

  /**
   * Each column's name and type (format_type without modifiers: "text", "character varying",
   * "timestamp with time zone"); empty when the table does not exist.
   */
  static Map<String, String> of(Connection c, String table) throws SQLException {
    Map<String, String> types = new HashMap<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute"
                + " WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped")) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          types.put(rs.getString(1), rs.getString(2));
        }
      }
    }
    return types;
  }
}
