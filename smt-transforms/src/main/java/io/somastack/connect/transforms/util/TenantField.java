package io.somastack.connect.transforms.util;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.path.FieldPath;
import org.apache.kafka.connect.connector.ConnectRecord;

/** Reads the tenant a record belongs to, for binding ciphertexts to it. */
public final class TenantField {

  private final FieldPath path;
  private final boolean scalarsOnly;

  /**
   * @param path the tenant path, or null when ciphertexts are bound to no tenant
   * @param scalarsOnly whether an object tenant fails the record (for encryption); decryption reads
   *     one as earlier versions bound it (its text), so the data they encrypted still opens
   */
  public TenantField(FieldPath path, boolean scalarsOnly) {
    this.path = path;
    this.scalarsOnly = scalarsOnly;
  }

  /** The tenant of a key or value as text; null when unbound; a DataException when missing. */
  public String of(ConnectRecord<?> record, Object container) {
    if (path == null) {
      return null;
    }
    Object value = path.get(container);
    if (scalarsOnly && value != null && !isScalar(value)) {
      // an object's text is not stable (key order, Map versus Struct, an identity hash for
      // bytes), so a ciphertext bound to it could not be opened again
      throw Records.error(
          record, "tenant field '" + path + "' must be a string, number or boolean");
    }
    String text = text(value);
    if (text == null || text.isEmpty()) {
      throw Records.error(record, "tenant field '" + path + "' is missing or empty");
    }
    return text;
  }

  private static boolean isScalar(Object value) {
    if (value instanceof JsonNode node) {
      return node.isTextual() || node.isNumber() || node.isBoolean();
    }
    return value instanceof String || value instanceof Number || value instanceof Boolean;
  }

  private static String text(Object value) {
    if (value instanceof JsonNode node) {
      return node.asText();
    }
    return value == null ? null : value.toString();
  }
}
