package io.somastack.connect.postgres.config;

import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.common.sql.SqlIdentifier;
import java.util.Locale;

/**
 * A typed column extracted from the event by a field path, written in configs as {@code
 * column:type:path}, e.g. {@code tenant:text:metadata.tenant_id}.
 */
public record ColumnSpec(String column, ColumnType type, FieldPath path) {

  public static ColumnSpec parse(String spec) {
    String[] parts = spec.trim().split(":", 3);
    if (parts.length != 3 || parts[0].isBlank() || parts[2].isBlank()) {
      throw new IllegalArgumentException(
          "column '"
              + spec
              + "' must be written column:type:path, e.g. tenant:text:metadata.tenant_id");
    }
    ColumnType type;
    try {
      type = ColumnType.valueOf(parts[1].trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "column '"
              + spec
              + "' has unknown type '"
              + parts[1]
              + "'; use one of "
              + java.util.Arrays.toString(ColumnType.values()).toLowerCase(Locale.ROOT));
    }
    String name = parts[0].trim();
    if (!name.equals(SqlIdentifier.sanitize(name))) {
      throw new IllegalArgumentException(
          "column name '" + name + "' must be lower case letters, digits and underscores");
    }
    return new ColumnSpec(name, type, FieldPath.parse(parts[2].trim()));
  }
}
