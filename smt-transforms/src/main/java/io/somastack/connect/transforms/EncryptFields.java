package io.somastack.connect.transforms;

import io.somastack.connect.common.config.Recommenders;
import io.somastack.connect.common.config.Validators;
import io.somastack.connect.common.config.Version;
import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.transforms.crypto.CryptoConfig;
import io.somastack.connect.transforms.crypto.FieldCipher;
import io.somastack.connect.transforms.crypto.Keyring;
import io.somastack.connect.transforms.util.Configs;
import io.somastack.connect.transforms.util.FieldRewriter;
import io.somastack.connect.transforms.util.JsonValues;
import io.somastack.connect.transforms.util.RecordSide;
import io.somastack.connect.transforms.util.Records;
import io.somastack.connect.transforms.util.SchemaJson;
import io.somastack.connect.transforms.util.TenantField;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.cache.Cache;
import org.apache.kafka.common.cache.LRUCache;
import org.apache.kafka.common.cache.SynchronizedCache;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.components.Versioned;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.transforms.Transformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Encrypts configured fields with AES-256-GCM into {@link FieldCipher} envelopes bound to the field
 * path and the record's tenant, so a ciphertext moved to another field or tenant no longer
 * decrypts. Nothing else is bound (not the topic, the record, or key versus value): a ciphertext
 * moved between records of one tenant, in the same field path, still decrypts. The field's JSON
 * value is what is encrypted, so {@link DecryptFields} restores its type.
 */
public abstract class EncryptFields<R extends ConnectRecord<R>>
    implements Transformation<R>, Versioned {

  public static final String OVERVIEW_DOC =
      "Encrypts fields with AES-256-GCM. Each ciphertext is a string 'soma-enc:' + base64url of "
          + "(format version | mode | key id | key version | nonce | ciphertext and tag), "
          + "authenticated together with the field path and the tenant, so it fails to decrypt if "
          + "altered, moved to another field, or copied to another tenant's record. It is bound "
          + "to nothing else: not to the topic, the record (its key, partition or offset), nor to "
          + "whether it sits in the key or the value. So a ciphertext copied into the same field "
          + "path of another record of the same tenant (in any topic, or from key to value) "
          + "decrypts there undetected, and with tenant.field empty that holds for any record; "
          + "swapping the values of two records is not detected. The field's "
          + "JSON value is encrypted, so decryption restores its type; a field with no JSON "
          + "(a NaN or an infinity in it, or a map two of whose keys have the same text, such as "
          + "1 and \"1\", which would decrypt to one entry) fails the record. In a Struct, "
          + "encrypted "
          + "fields become optional strings whose schema parameter '"
          + "soma.encrypted.schema"
          + "' holds the field's original schema as JSON (JsonConverter's schema layout; "
          + "parameters survive JsonConverter with schemas and Avro), from which DecryptFields "
          + "restores the field's schema and value. A schema that would not read back is not "
          + "recorded (logged at WARN once, naming the field path), and the field decrypts to a "
          + "string, as before schemas were recorded: one with a map keyed by Structs, arrays, "
          + "maps (whose keys have no text to read back) or optional strings or bytes (whose "
          + "null key's text is also a key's), a default JSON has no form for (NaN), "
          + "or one nested too deeply to write as JSON (past 500 or so levels of Structs). "
          + "EncryptFields$Key records schemas only with schema.record=true: the parameter "
          + "changes a key's bytes under JsonConverter with schemas or Avro, so an upgrade "
          + "would move a key to another partition and leave a compacted topic with both. In a "
          + "Struct without recorded schemas, encrypted fields are plain optional strings; "
          + "a Map with a MAP schema (JsonConverter with "
          + "schemas.enable=true on a map-typed payload) keeps it while its values are strings, "
          + "and otherwise goes on schemaless. A ciphertext reveals the length of the value's JSON. "
          + "Nonces are 96 bits, so each key version must encrypt at most 2^32 values (random-mode "
          + "values plus distinct deterministic values, counted over every connector and task "
          + "using it; at 10,000 values a second that is about 5 days) to keep the chance of a "
          + "repeated nonce, which exposes plaintexts and allows forgeries, under 2^-32: rotate "
          + "before that by adding a higher version to 'keys'. Use <code>"
          + EncryptFields.Key.class.getName()
          + "</code> or <code>"
          + EncryptFields.Value.class.getName()
          + "</code>.";

  public static final String FIELDS_CONFIG = CryptoConfig.FIELDS_CONFIG;
  public static final String KEYS_CONFIG = CryptoConfig.KEYS_CONFIG;
  public static final String TENANT_FIELD_CONFIG = CryptoConfig.TENANT_FIELD_CONFIG;
  public static final String KEY_ID_CONFIG = "key.id";
  public static final String MODE_CONFIG = "mode";
  public static final String SCHEMA_RECORD_CONFIG = "schema.record";

  /** The parameter of an encrypted Struct field's schema that holds its original schema. */
  public static final String ORIGINAL_SCHEMA_PARAMETER = "soma.encrypted.schema";

  public static final ConfigDef CONFIG_DEF =
      CryptoConfig.define(new ConfigDef())
          .define(
              KEY_ID_CONFIG,
              ConfigDef.Type.STRING,
              ConfigDef.NO_DEFAULT_VALUE,
              Configs.nonBlank(),
              ConfigDef.Importance.HIGH,
              "Id of the key to encrypt with; its highest version in 'keys' is used, so adding a "
                  + "version rotates the key.",
              null,
              -1,
              ConfigDef.Width.NONE,
              KEY_ID_CONFIG,
              Configs.checks(() -> EncryptFields.CONFIG_DEF, EncryptFields::listedKeyId))
          .define(
              MODE_CONFIG,
              ConfigDef.Type.STRING,
              "random",
              Validators.oneOf(FieldCipher.Mode.class),
              ConfigDef.Importance.MEDIUM,
              "random: a fresh random nonce per value (the default; reveals only the length). "
                  + "deterministic: a synthetic nonce (first 12 bytes of HMAC-SHA-256 under a key "
                  + "derived from the AES key, over associated data and plaintext, as in SIV), so "
                  + "equal values in the same field and tenant under the same key version encrypt "
                  + "equally and can still be joined or used as keys; it reveals that equality "
                  + "(and the length) and nothing more. Values are compared as compact JSON, so "
                  + "objects with keys in another order differ, and after a rotation new "
                  + "ciphertexts no longer equal those of older versions. Both modes count "
                  + "against the key version's limit of 2^32 values.",
              null,
              -1,
              ConfigDef.Width.NONE,
              MODE_CONFIG,
              Recommenders.enumValues(FieldCipher.Mode.class))
          .define(
              SCHEMA_RECORD_CONFIG,
              ConfigDef.Type.BOOLEAN,
              null,
              new ConfigDef.Validator() {
                @Override
                public void ensureValid(String name, Object value) {
                  // the type has parsed it: true, false, or unset (null)
                }

                @Override
                public String toString() {
                  return "true, false, or unset (true for Value, false for Key)";
                }
              },
              ConfigDef.Importance.MEDIUM,
              "Whether an encrypted Struct field's schema records the field's original schema "
                  + "(the parameter "
                  + ORIGINAL_SCHEMA_PARAMETER
                  + "), from which DecryptFields restores its type. Unset: true for "
                  + "EncryptFields$Value, false for EncryptFields$Key. The parameter is part of "
                  + "the encrypted schema, so under JsonConverter with schemas (the schema is in "
                  + "the bytes) or Avro (a new schema id) it changes the record's bytes: for a "
                  + "key, the same logical key would then hash to another partition than the "
                  + "keys encrypted before it was recorded, and a compacted topic would keep "
                  + "both. Set it true for a key only on a new topic (or one whose keys may "
                  + "change bytes); set it false for a value to keep decrypting it to strings.",
              null,
              -1,
              ConfigDef.Width.NONE,
              SCHEMA_RECORD_CONFIG);

  private final RecordSide side;
  private FieldCipher cipher;
  private String keyId;
  private FieldCipher.Mode mode;
  private TenantField tenant;
  private FieldRewriter rewriter;
  private boolean record;

  /** Original schemas already logged as not recorded (bounded, as the rebuilt schemas are). */
  private final Cache<Schema, Boolean> unrecorded = new SynchronizedCache<>(new LRUCache<>(64));

  private static final Logger LOG = LoggerFactory.getLogger(EncryptFields.class);

  protected EncryptFields(RecordSide side) {
    this.side = side;
  }

  @Override
  public void configure(Map<String, ?> props) {
    AbstractConfig config = new AbstractConfig(CONFIG_DEF, props);
    List<FieldPath> fields = CryptoConfig.fields(config);
    Keyring keyring = CryptoConfig.keyring(config);
    keyId = listedKeyId(config);
    mode = Configs.choice(config, MODE_CONFIG, FieldCipher.Mode.class);
    tenant = new TenantField(CryptoConfig.tenantField(config, fields), true);
    cipher = new FieldCipher(keyring);
    Boolean recordSchemas = config.getBoolean(SCHEMA_RECORD_CONFIG);
    record = recordSchemas != null ? recordSchemas : side == RecordSide.VALUE;
    // the fields validator has refused paths that overlap
    rewriter = new FieldRewriter(fields, this::encryptedSchema, false);
  }

  /**
   * The schema of an encrypted Struct field: an optional string that, when schemas are recorded,
   * holds the field's own schema in the parameter {@link #ORIGINAL_SCHEMA_PARAMETER}, so that
   * {@link DecryptFields} can restore it (parameters survive JsonConverter with schemas and Avro).
   * A schema that would not read back (see {@link SchemaJson#writeReadable}) is not recorded: the
   * field decrypts to a string, as fields did before schemas were recorded, rather than a record
   * that encrypted failing to decrypt. That is logged once per schema, naming the field path.
   */
  private Schema encryptedSchema(FieldPath path, Schema original) {
    if (original == null || !record) {
      return Schema.OPTIONAL_STRING_SCHEMA;
    }
    String recorded;
    try {
      recorded = SchemaJson.writeReadable(original);
    } catch (DataException unreadable) {
      // the schema rebuilt is cached, but may be rebuilt when many schemas are in use
      if (unrecorded.get(original) == null) {
        unrecorded.put(original, Boolean.TRUE);
        LOG.warn(
            "EncryptFields: the schema of field '{}' is not recorded, so DecryptFields restores"
                + " it as a string: {}",
            path,
            unreadable.getMessage());
      }
      return Schema.OPTIONAL_STRING_SCHEMA;
    }
    return SchemaBuilder.string().optional().parameter(ORIGINAL_SCHEMA_PARAMETER, recorded).build();
  }

  /** key.id, which must name a key listed in 'keys'. */
  private static String listedKeyId(AbstractConfig config) {
    String id = config.getString(KEY_ID_CONFIG).trim();
    if (!CryptoConfig.keyring(config).contains(id)) {
      throw new ConfigException(KEY_ID_CONFIG, id, "no key with this id is listed in 'keys'");
    }
    return id;
  }

  @Override
  public R apply(R record) {
    return Records.nestingChecked(record, side.label(), "encrypted", () -> applyTo(record));
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
    Object encrypted =
        rewriter.rewrite(
            record,
            container,
            side.schema(record),
            (path, value, schema, target) ->
                cipher.encrypt(
                    JsonValues.fieldBytes(record, path, value, schema, "encrypted"),
                    keyId,
                    mode,
                    path.toString(),
                    owner));
    return side.with(record, FieldRewriter.schemaOf(encrypted, side.schema(record)), encrypted);
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

  /** Encrypts fields of the record key. */
  public static class Key<R extends ConnectRecord<R>> extends EncryptFields<R> {
    public Key() {
      super(RecordSide.KEY);
    }
  }

  /** Encrypts fields of the record value. */
  public static class Value<R extends ConnectRecord<R>> extends EncryptFields<R> {
    public Value() {
      super(RecordSide.VALUE);
    }
  }
}
