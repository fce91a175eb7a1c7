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
import io.somastack.connect.transforms.util.SchemaJson;
import io.somastack.connect.transforms.util.TenantField;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.common.cache.Cache;
import org.apache.kafka.common.cache.LRUCache;
import org.apache.kafka.common.cache.SynchronizedCache;
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
          + "as Map, arrays as List. A Struct field whose schema records its original one "
          + "(the parameter soma.encrypted.schema, which EncryptFields writes) gets that schema "
          + "and its value back: Decimal, Timestamp, Date, Time, bytes, Struct, array and map "
          + "fields are what they were before encryption, so a sink writes them to typed columns. "
          + "Any other Struct field (one encrypted by an earlier version, without the parameter), "
          + "and a field of a Map with a MAP schema (kept while the map still fits it), stays an "
          + "optional string: a decrypted string as itself, any other value as its JSON text. "
          + "Upgrading: records encrypted before EncryptFields recorded the schema keep decrypting "
          + "to strings; records it encrypts from now on decrypt to their original types, so a "
          + "pipeline reading both sees the field's schema change from string to the original one "
          + "(a JDBC sink with schema evolution may need the column to have that type). Fields "
          + "whose schema EncryptFields does not record (key fields unless its schema.record is "
          + "true; a map keyed by Structs, arrays, maps or optional strings or bytes; a default "
          + "JSON cannot hold) keep "
          + "decrypting to strings. A float or double -0.0 is restored with its sign where it is "
          + "the field itself or a map key; elsewhere inside a field it comes back as 0.0. A field "
          + "whose decrypted value does not fit the recorded schema fails the record. A field that is not a valid ciphertext "
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

  /** Original schemas by their recorded text; a record stream has few (see SchemaCache). */
  private final Cache<String, Schema> originals = new SynchronizedCache<>(new LRUCache<>(16));

  /** How many recorded schemas were read (parsed), for tests that they are not read per record. */
  private final LongAdder schemaReads = new LongAdder();

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
    rewriter = new FieldRewriter(fields, this::decryptedSchema, false);
  }

  /** A recorded schema that cannot be read; the record fails naming its coordinates. */
  private static final class UnreadableSchema extends DataException {
    private static final long serialVersionUID = 1L;

    UnreadableSchema(String message) {
      super(message);
    }
  }

  /**
   * A decrypted Struct field's schema: the original one EncryptFields recorded in the encrypted
   * field's schema, or, for fields encrypted before it did (or not by it), an optional string.
   */
  private Schema decryptedSchema(FieldPath path, Schema encrypted) {
    Schema original;
    try {
      original = originalSchema(encrypted);
    } catch (DataException e) {
      throw new UnreadableSchema(
          "field '"
              + path
              + "': the schema recorded at encryption cannot be read: "
              + e.getMessage());
    }
    return original != null ? original : Schema.OPTIONAL_STRING_SCHEMA;
  }

  /** The original schema's text recorded in an encrypted field's schema, or null. */
  private static String recorded(Schema encrypted) {
    return encrypted == null || encrypted.parameters() == null
        ? null
        : encrypted.parameters().get(EncryptFields.ORIGINAL_SCHEMA_PARAMETER);
  }

  /**
   * The original schema recorded in an encrypted field's schema, or null (cached by its text: read
   * only when a rebuilt record schema is made, which is cached too).
   */
  private Schema originalSchema(Schema encrypted) {
    String recorded = recorded(encrypted);
    if (recorded == null) {
      return null;
    }
    Schema original = originals.get(recorded);
    if (original == null) {
      original = SchemaJson.read(recorded);
      schemaReads.increment();
      originals.put(recorded, original);
    }
    return original;
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
    Object decrypted;
    try {
      decrypted =
          rewriter.rewrite(
              record,
              container,
              side.schema(record),
              (path, value, schema, target) -> open(record, path, value, schema, target, owner));
    } catch (UnreadableSchema e) {
      throw Records.error(record, e.getMessage());
    }
    return side.with(record, FieldRewriter.schemaOf(decrypted, side.schema(record)), decrypted);
  }

  private Object open(
      R record, FieldPath path, Object value, Schema schema, Schema target, String owner) {
    if (!(value instanceof String text)) {
      throw Records.error(record, "field '" + path + "' holds no ciphertext");
    }
    byte[] json;
    try {
      json = cipher.decrypt(text, path.toString(), owner);
    } catch (InvalidCiphertextException e) {
      throw Records.error(record, "field '" + path + "': " + e.getMessage());
    }
    // a Struct field with its original schema recorded gets it back: the rebuilt field's schema
    // (target), read from the record when the rebuilt record schema was made and cached with it,
    // never again per record; any other field with a schema (encrypted before it was recorded, or
    // in a map with a MAP schema, whose target is its own schema) stays a string; schemaless values
    // get their JSON type back. Their messages quote none of the plaintext.
    try {
      if (target != schema && recorded(schema) != null) {
        return SchemaJson.value(json, target);
      }
      return schema == null ? JsonValues.fromBytes(json) : JsonValues.toText(json);
    } catch (DataException notJson) {
      throw Records.error(record, "field '" + path + "': " + notJson.getMessage());
    }
  }

  long schemaReads() {
    return schemaReads.sum();
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
