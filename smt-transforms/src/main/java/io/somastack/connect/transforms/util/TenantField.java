package io.somastack.connect.transforms.util;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.path.FieldPath;
import org.apache.kafka.connect.connector.ConnectRecord;

/** Reads the tenant a record belongs to, for binding ciphertexts to it. */
public final class TenantField {

  private final FieldPath path;

  /**
   * @param path the tenant path, or null when ciphertexts are bound to no tenant
   */
  public TenantField(FieldPath path) {
    this.path = path;
  }

  /** The tenant of a key or value as text; null when unbound; a DataException when missing. */
  public String of(ConnectRecord<?> record, Object container) {
    if (path == null) {
      return null;
    }
    String text = text(path.get(container));
    if (text == null || text.isEmpty()) {
      throw Records.error(record, "tenant field '" + path + "' is missing or empty");
    }
    return text;
  }

  private static String text(Object value) {
    if (value instanceof JsonNode node) {
      return node.asText();
    }
    return value == null ? null : value.toString();
  }
}
