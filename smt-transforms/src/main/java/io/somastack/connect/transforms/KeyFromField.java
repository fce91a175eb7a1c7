package io.somastack.connect.transforms;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.config.Recommenders;
import io.somastack.connect.common.config.Validators;
import io.somastack.connect.common.config.Version;
import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.transforms.util.Configs;
import io.somastack.connect.transforms.util.JsonValues;
import io.somastack.connect.transforms.util.RecordSide;
import io.somastack.connect.transforms.util.RecordValues;
import io.somastack.connect.transforms.util.Records;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.components.Versioned;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.transforms.Transformation;

/**
 * Sets the record key to one nested field, such as {@code tenant_id}, {@code correlation_id} or
 * {@code fingerprint_id}: the partition keys of the agent topics. One transform instead of Kafka's
 * {@code ValueToKey} followed by {@code ExtractField$Key}, and with nested paths.
 */
public abstract class KeyFromField<R extends ConnectRecord<R>>
    implements Transformation<R>, Versioned {

  public static final String OVERVIEW_DOC =
      "Sets the record key to a nested field of the value (<code>"
          + KeyFromField.Value.class.getName()
          + "</code>) or of the current key (<code>"
          + KeyFromField.Key.class.getName()
          + "</code>), e.g. tenant_id or metadata.correlation_id. Works on Struct, schemaless Map "
          + "and JSON text; with a Struct, or a Map with a map schema (JsonConverter with "
          + "schemas.enable=true), the key schema is the field's schema. From JSON text "
          + "the key is what JsonConverter would read: integers as Long, other numbers as "
          + "Double, objects as Map; a number a Long or Double cannot hold exactly (more than "
          + "64 bits, or more digits than a double has) becomes its decimal text as a string, "
          + "so equal events get equal keys and no two numbers share one by rounding. Such keys "
          + "are written by JsonConverter and StringConverter; ByteArrayConverter takes bytes "
          + "only.";

  public static final String FIELD_CONFIG = "field";
  public static final String ON_MISSING_CONFIG = "on.missing";

  /** What to do when the field is missing or null. */
  public enum OnMissing {
    FAIL,
    NULL,
    KEEP
  }

  public static final ConfigDef CONFIG_DEF =
      new ConfigDef()
          .define(
              FIELD_CONFIG,
              ConfigDef.Type.STRING,
              ConfigDef.NO_DEFAULT_VALUE,
              Validators.fieldPath(),
              ConfigDef.Importance.HIGH,
              "Path of the field that becomes the key, e.g. tenant_id or metadata.tenant_id.")
          .define(
              ON_MISSING_CONFIG,
              ConfigDef.Type.STRING,
              "fail",
              Validators.oneOf(OnMissing.class),
              ConfigDef.Importance.MEDIUM,
              "When the field is missing or null (with the Key variant, also when the record "
                  + "has no key): fail (DataException), null (null key) or keep (leave the key as "
                  + "it is). The Value variant leaves tombstones unchanged; the Key variant "
                  + "narrows a tombstone's key like any other, so it still deletes its key.",
              null,
              -1,
              ConfigDef.Width.NONE,
              ON_MISSING_CONFIG,
              Recommenders.enumValues(OnMissing.class));

  private final RecordSide source;
  private FieldPath field;
  private OnMissing onMissing;

  protected KeyFromField(RecordSide source) {
    this.source = source;
  }

  @Override
  public void configure(Map<String, ?> props) {
    AbstractConfig config = new AbstractConfig(CONFIG_DEF, props);
    field = Configs.path(config, FIELD_CONFIG);
    onMissing = Configs.choice(config, ON_MISSING_CONFIG, OnMissing.class);
  }

  @Override
  public R apply(R record) {
    return Records.nestingChecked(
        record, source.label(), "read for its key field", () -> applyTo(record));
  }

  private R applyTo(R record) {
    Object container = source.value(record);
    if (source == RecordSide.VALUE && container == null) {
      return record; // a tombstone: there is no field to take a key from
    }
    // a missing key holds no field: on.missing decides, rather than letting the record pass
    Object key = container == null ? null : keyOf(record, container);
    if (key != null) {
      return RecordSide.KEY.with(record, keySchema(record, container), key);
    }
    switch (onMissing) {
      case NULL:
        return RecordSide.KEY.with(record, null, null);
      case KEEP:
        return record;
      default:
        throw Records.error(record, "field '" + field + "' is missing or null");
    }
  }

  private Object keyOf(R record, Object container) {
    if (container instanceof Map<?, ?> || container instanceof Struct) {
      return field.get(container);
    }
    Object node = field.get(RecordValues.json(record, source));
    return node == null ? null : JsonValues.toConnect((JsonNode) node);
  }

  /**
   * The field's schema when the source is a Struct, or a Map with a MAP schema (JsonConverter with
   * schemas.enable reads a map-typed payload so), whose values have the map's value schema:
   * converters after the transform then write the key with a schema. Schemaless otherwise. The path
   * may pass through maps as well as structs, as {@link FieldPath#get} does when reading the key.
   */
  private Schema keySchema(R record, Object container) {
    if (container instanceof Struct struct) {
      return field.schemaIn(struct.schema());
    }
    return container instanceof Map<?, ?> ? field.schemaIn(source.schema(record)) : null;
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
  public void close() {}

  /** Takes the key from a field of the current key. */
  public static class Key<R extends ConnectRecord<R>> extends KeyFromField<R> {
    public Key() {
      super(RecordSide.KEY);
    }
  }

  /** Takes the key from a field of the value. */
  public static class Value<R extends ConnectRecord<R>> extends KeyFromField<R> {
    public Value() {
      super(RecordSide.VALUE);
    }
  }
}
