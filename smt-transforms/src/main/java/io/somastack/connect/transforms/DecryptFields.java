package io.somastack.connect.transforms;

import io.somastack.connect.common.config.Version;
import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.transforms.crypto.CryptoConfig;
import io.somastack.connect.transforms.crypto.FieldCipher;
import io.somastack.connect.transforms.crypto.InvalidCiphertextException;
import io.somastack.connect.transforms.util.FieldRewriter;
import io.somastack.connect.transforms.util.JsonValues;
import io.somastack.connect.transforms.util.RecordSide;
import io.somastack.connect.transforms.util.Records;
import io.somastack.connect.transforms.util.TenantField;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.components.Versioned;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.transforms.Transformation;

/**
 * Decrypts fields made by {@link EncryptFields}, with the key id and version each ciphertext names.
 * A ciphertext that was altered, moved to another field, or copied to another tenant's record fails
 * authentication and the record fails with a {@code DataException}.
 */
public abstract class DecryptFields<R extends ConnectRecord<R>>
    implements Transformation<R>, Versioned {

  public static final String OVERVIEW_DOC =
      "Decrypts fields encrypted by EncryptFields, using the key id and version each ciphertext "
          + "names (so keys can rotate) and checking that it belongs to this field path and "
          + "tenant. Schemaless values get their original JSON type back as JsonConverter reads "
          + "JSON: integers as Long, other numbers as Double (a number with more digits than a "
          + "Long or Double holds, or beyond their range, as BigInteger or BigDecimal), objects "
          + "as Map, arrays as List. In a Struct, and in a "
          + "Map with a MAP schema (kept while the map still fits it), the field stays a string: a decrypted string "
          + "as itself, any other value as its JSON text. A field that is not a valid ciphertext "
          + "fails the record. Use <code>"
          + DecryptFields.Key.class.getName()
          + "</code> or <code>"
          + DecryptFields.Value.class.getName()
          + "</code>.";

  public static final String FIELDS_CONFIG = CryptoConfig.FIELDS_CONFIG;
  public static final String KEYS_CONFIG = CryptoConfig.KEYS_CONFIG;
  public static final String TENANT_FIELD_CONFIG = CryptoConfig.TENANT_FIELD_CONFIG;

  public static final ConfigDef CONFIG_DEF = CryptoConfig.define(new ConfigDef());

  private final RecordSide side;
  private FieldCipher cipher;
  private TenantField tenant;
  private FieldRewriter rewriter;

  protected DecryptFields(RecordSide side) {
    this.side = side;
  }

  @Override
  public void configure(Map<String, ?> props) {
    AbstractConfig config = new AbstractConfig(CONFIG_DEF, props);
    List<FieldPath> fields = CryptoConfig.fields(config);
    cipher = new FieldCipher(CryptoConfig.keyring(config));
    tenant = new TenantField(CryptoConfig.tenantField(config, fields), false);
    // the fields validator has refused paths that overlap
    rewriter = new FieldRewriter(fields, (path, schema) -> Schema.OPTIONAL_STRING_SCHEMA, false);
  }

  @Override
  public R apply(R record) {
    return Records.nestingChecked(record, side.label(), "decrypted", () -> applyTo(record));
  }

  private R applyTo(R record) {
    Object container = side.value(record);
    if (container == null) {
      return record;
    }
    if (!(container instanceof Map<?, ?>) && !(container instanceof Struct)) {
      throw Records.error(record, "the " + side.label() + " must be a Struct or a Map");
    }
    String owner = tenant.of(record, container);
    Object decrypted =
        rewriter.rewrite(
            record,
            container,
            side.schema(record),
            (path, value, schema) -> open(record, path, value, schema, owner));
    return side.with(record, FieldRewriter.schemaOf(decrypted, side.schema(record)), decrypted);
  }

  private Object open(R record, FieldPath path, Object value, Schema schema, String owner) {
    if (!(value instanceof String text)) {
      throw Records.error(record, "field '" + path + "' holds no ciphertext");
    }
    byte[] json;
    try {
      json = cipher.decrypt(text, path.toString(), owner);
    } catch (InvalidCiphertextException e) {
      throw Records.error(record, "field '" + path + "': " + e.getMessage());
    }
    // a field with a schema (in a Struct, or a map with a MAP schema) stays a string; schemaless
    // values get their JSON type back. Their messages quote none of the plaintext.
    try {
      return schema == null ? JsonValues.fromBytes(json) : JsonValues.toText(json);
    } catch (DataException notJson) {
      throw Records.error(record, "field '" + path + "': " + notJson.getMessage());
    }
  }

  @Override
  public ConfigDef config() {
    return CONFIG_DEF;
  }

  @Override
  public String version() {
    return Version.of(getClass());
  }

  @Override
  public void close() {
    if (cipher != null) {
      cipher.releaseThreadState();
    }
  }

  /** Decrypts fields of the record key. */
  public static class Key<R extends ConnectRecord<R>> extends DecryptFields<R> {
    public Key() {
      super(RecordSide.KEY);
    }
  }

  /** Decrypts fields of the record value. */
  public static class Value<R extends ConnectRecord<R>> extends DecryptFields<R> {
    public Value() {
      super(RecordSide.VALUE);
    }
  }
}
