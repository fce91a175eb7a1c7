package io.somastack.connect.outbox;

import io.somastack.connect.common.sql.SqlIdentifier;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;

/**
 * An outbox (or dead-letter) table as configured: {@code schema.table} or a bare {@code table}
 * resolved through the search_path. {@link #name()} is the configured text and also the Kafka
 * Connect source partition, so it must not change once the connector has run.
 */
public record OutboxTable(String name, String schema, String table) {

  /** Parses {@code schema.table} (split at the first dot) or {@code table}. */
  public static OutboxTable parse(String name) {
    int dot = name.indexOf('.');
    String schema = dot < 0 ? null : name.substring(0, dot);
    String table = dot < 0 ? name : name.substring(dot + 1);
    if (table.isEmpty() || (schema != null && schema.isEmpty())) {
      throw new ConfigException("'" + name + "' is not a table name (schema.table or table)");
    }
    return new OutboxTable(name, schema, table);
  }

  /** The quoted, qualified SQL name. */
  public String sql() {
    return SqlIdentifier.qualified(schema, table);
  }

  /** A quoted name for an object (index, trigger function) in the table's schema. */
  public String sqlSibling(String objectName) {
    return SqlIdentifier.qualified(schema, objectName);
  }

  /** The source partition of this table's records. */
  public Map<String, String> sourcePartition() {
    return Map.of("table", name);
  }
}
