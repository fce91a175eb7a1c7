package io.somastack.connect.transforms;

import io.somastack.connect.common.config.Recommenders;
import io.somastack.connect.common.config.Validators;
import io.somastack.connect.common.config.Version;
import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.transforms.crypto.KeyedHash;
import io.somastack.connect.transforms.util.Configs;
import io.somastack.connect.transforms.util.FieldRewriter;
import io.somastack.connect.transforms.util.JsonValues;
import io.somastack.connect.transforms.util.RecordSide;
import io.somastack.connect.transforms.util.Records;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.components.Versioned;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.transforms.Transformation;

/**
 * Replaces configured fields with a keyed hash (HMAC-SHA-256, so equal values stay equal and can
 * still be joined, counted and grouped) or with a fixed mask. Unlike Kafka's {@code MaskField} it
 * takes nested paths and keeps joinability.
 */
public abstract class RedactFields<R extends ConnectRecord<R>>
    implements Transformation<R>, Versioned {

  public static final String OVERVIEW_DOC =
      "Redacts fields irreversibly: with=hmac replaces each value with the HMAC-SHA-256 of its "
          + "compact JSON (a string with its quotes, so \"5\" and 5 differ; an object with its "
          + "keys in their order) as 64 lower-case hex characters, so equal values stay joinable, "
          + "which also reveals which values are equal, in any field, record or tenant hashed "
          + "with the same key (a value with no JSON, a NaN or an infinity in it or a map two of "
          + "whose keys have the same text, such as 1 and \"1\", fails the record); with=mask "
          + "replaces it with a fixed string. Missing and "
          + "null fields are left alone; a path through a value that is not an object (a list, a "
          + "scalar, a Struct map or array) fails the record instead of leaving the field in the "
          + "clear. In a Struct, redacted fields become optional strings; a Map with a MAP schema "
          + "(JsonConverter with schemas.enable=true on a map-typed payload) keeps it while its "
          + "values are strings, and otherwise goes on schemaless. "
          + "Use <code>"
          + RedactFields.Key.class.getName()
          + "</code> or <code>"
          + RedactFields.Value.class.getName()
          + "</code>.";

  public static final String FIELDS_CONFIG = "fields";
  public static final String WITH_CONFIG = "with";
  public static final String HMAC_KEY_CONFIG = "hmac.key";
  public static final String MASK_CONFIG = "mask";

  /** What a redacted value becomes. */
  public enum With {
    HMAC,
    MASK
  }

  public static final ConfigDef CONFIG_DEF =
      new ConfigDef()
          .define(
              FIELDS_CONFIG,
              ConfigDef.Type.LIST,
              ConfigDef.NO_DEFAULT_VALUE,
              Configs.disjointFieldPaths(),
              ConfigDef.Importance.HIGH,
              "Paths of the fields to redact, e.g. user_request,context.file_context.")
          .define(
              WITH_CONFIG,
              ConfigDef.Type.STRING,
              "hmac",
              Validators.oneOf(With.class),
              ConfigDef.Importance.HIGH,
              "hmac: keyed hash, joinable. mask: the fixed 'mask' string.",
              null,
              -1,
              ConfigDef.Width.NONE,
              WITH_CONFIG,
              Recommenders.enumValues(With.class))
          .define(
              HMAC_KEY_CONFIG,
              ConfigDef.Type.PASSWORD,
              null,
              Configs.base64Secret(KeyedHash.MIN_KEY_BYTES),
              ConfigDef.Importance.HIGH,
              "Base64 HMAC key of at least 32 bytes, required for with=hmac; supply it through a "
                  + "config provider such as ${env:SOMA_REDACT_KEY}, and never reuse an "
                  + "encryption key for it. Everything hashed with one key stays joinable, so "
                  + "share a key only where joins are wanted. The hashes name no key: a new key "
                  + "changes every hash, so data redacted before and after no longer joins.",
              null,
              -1,
              ConfigDef.Width.NONE,
              HMAC_KEY_CONFIG,
              Configs.checks(() -> RedactFields.CONFIG_DEF, RedactFields::keyedHash))
          .define(
              MASK_CONFIG,
              ConfigDef.Type.STRING,
              "****",
              ConfigDef.Importance.LOW,
              "Replacement for with=mask.");

  private final RecordSide side;
  private With with;
  private KeyedHash hash;
  private String mask;
  private FieldRewriter rewriter;

  protected RedactFields(RecordSide side) {
    this.side = side;
  }

  @Override
  public void configure(Map<String, ?> props) {
    AbstractConfig config = new AbstractConfig(CONFIG_DEF, props);
    List<FieldPath> fields = Configs.paths(config, FIELDS_CONFIG);
    with = Configs.choice(config, WITH_CONFIG, With.class);
    mask = config.getString(MASK_CONFIG);
    hash = keyedHash(config);
    // the fields validator has refused paths that overlap
    rewriter = new FieldRewriter(fields, (path, schema) -> Schema.OPTIONAL_STRING_SCHEMA, false);
  }

  /** The hash with=hmac needs, which requires hmac.key; null for with=mask. */
  private static KeyedHash keyedHash(AbstractConfig config) {
    if (Configs.choice(config, WITH_CONFIG, With.class) != With.HMAC) {
      return null;
    }
    try {
      return new KeyedHash(Configs.base64Secret(config, HMAC_KEY_CONFIG));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(HMAC_KEY_CONFIG, "[hidden]", e.getMessage());
    }
  }

  @Override
  public R apply(R record) {
    return Records.nestingChecked(record, side.label(), "redacted", () -> applyTo(record));
  }

  private R applyTo(R record) {
    Object container = side.value(record);
    if (container == null) {
      return record;
    }
    if (!(container instanceof Map<?, ?>) && !(container instanceof Struct)) {
      throw Records.error(record, "the " + side.label() + " must be a Struct or a Map");
    }
    Object redacted =
        rewriter.rewrite(
            record,
            container,
            side.schema(record),
            (path, value, schema, target) -> redact(record, path, value, schema));
    return side.with(record, FieldRewriter.schemaOf(redacted, side.schema(record)), redacted);
  }

  private String redact(R record, FieldPath path, Object value, Schema schema) {
    return with == With.MASK
        ? mask
        : hash.hash(JsonValues.fieldBytes(record, path, value, schema, "hashed"));
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
    if (hash != null) {
      hash.releaseThreadState();
    }
  }

  /** Redacts fields of the record key. */
  public static class Key<R extends ConnectRecord<R>> extends RedactFields<R> {
    public Key() {
      super(RecordSide.KEY);
    }
  }

  /** Redacts fields of the record value. */
  public static class Value<R extends ConnectRecord<R>> extends RedactFields<R> {
    public Value() {
      super(RecordSide.VALUE);
    }
  }
}
