package io.somastack.connect.transforms;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.config.Recommenders;
import io.somastack.connect.common.config.Validators;
import io.somastack.connect.common.config.Version;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.transforms.util.Configs;
import io.somastack.connect.transforms.util.EventIds;
import io.somastack.connect.transforms.util.FieldRewriter;
import io.somastack.connect.transforms.util.RecordSide;
import io.somastack.connect.transforms.util.Records;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Supplier;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.components.Versioned;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.header.Headers;
import org.apache.kafka.connect.transforms.Transformation;

/**
 * Makes sure every event carries the envelope the platform relies on: an {@code event_id} (for
 * idempotent consumers), {@code metadata.schema_version} and an ingest timestamp. Values already
 * present are never overwritten, and a missing event id is derived from the record's position, so
 * reprocessing a record stamps the same id again.
 */
public class StampEnvelope<R extends ConnectRecord<R>> implements Transformation<R>, Versioned {

  public static final String OVERVIEW_DOC =
      "Adds the event envelope where it is missing: an event id (a UUIDv5 of topic, partition and "
          + "offset, or for source records of source partition, source offset and a digest of "
          + "key and value, since source offsets need not be unique; reprocessing gives the same "
          + "id), a schema version and an ingest timestamp (ISO-8601 in UTC to the millisecond, "
          + "always with three fraction digits, e.g. 2026-01-02T03:04:05.000Z, so the text sorts "
          + "as the times do), as value fields "
          + "(Struct or Map; added Struct fields are optional strings, and an empty "
          + "field a Struct already has must be a string, or a Timestamp for the ingest "
          + "timestamp; a map field of a Struct, as JsonConverter with schemas.enable=true gives "
          + "an object of strings, takes missing stamps as new keys when its values are strings "
          + "(or Timestamps, for the ingest timestamp), and otherwise fails the record naming the "
          + "field and the map's value type; "
          + "a Map with a MAP schema, as JsonConverter with schemas.enable=true gives "
          + "a map-typed payload, keeps it while the stamps fit its value type, and otherwise goes "
          + "on schemaless) or as headers. A null optional Struct on a stamp's path is made "
          + "anew, its empty fields stamped by the same rules as a present one's (a Timestamp "
          + "ingest field gets a Timestamp, a field of another type fails the record), and fails "
          + "the record, naming the field, when it has a required field without a default that "
          + "no stamp fills. Existing values are kept, except an empty or blank "
          + "event id field, which is replaced like a missing one (records sharing it would be "
          + "dropped as duplicates by idempotent consumers); in headers mode an event id header "
          + "already on the record (soma.event_id by default) is kept, blank or not. Tombstones pass "
          + "unchanged.";

  public static final String STAMP_TO_CONFIG = "stamp.to";
  public static final String EVENT_ID_FIELD_CONFIG = "event.id.field";
  public static final String EVENT_ID_NAMESPACE_CONFIG = "event.id.namespace";
  public static final String SCHEMA_VERSION_CONFIG = "schema.version";
  public static final String SCHEMA_VERSION_FIELD_CONFIG = "schema.version.field";
  public static final String INGEST_TIMESTAMP_FIELD_CONFIG = "ingest.timestamp.field";
  public static final String INGEST_TIMESTAMP_SOURCE_CONFIG = "ingest.timestamp.source";
  public static final String HEADER_PREFIX_CONFIG = "header.prefix";

  /** ISO-8601 in UTC, always three fraction digits, so the text sorts as the times do. */
  private static final DateTimeFormatter MILLIS =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT)
          .withZone(ZoneOffset.UTC);

  /** A fixed namespace, so every deployment derives the same id for the same record position. */
  public static final String DEFAULT_NAMESPACE = "6f1d3b8e-2a0c-5b7e-9c41-5e0a7d2f9b13";

  /** Where the envelope goes. */
  public enum StampTo {
    FIELDS,
    HEADERS
  }

  /** Which instant the ingest timestamp records. */
  public enum TimestampSource {
    WALL_CLOCK,
    RECORD
  }

  public static final ConfigDef CONFIG_DEF =
      new ConfigDef()
          .define(
              STAMP_TO_CONFIG,
              ConfigDef.Type.STRING,
              "fields",
              Validators.oneOf(StampTo.class),
              ConfigDef.Importance.HIGH,
              "fields: add missing fields to the value. headers: add missing headers named "
                  + "header.prefix + the field's last segment (e.g. soma.event_id), leaving the "
                  + "value untouched; the event id header repeats the value's event id when it has "
                  + "one (a value that is not JSON, such as Avro or Protobuf bytes, has none).",
              null,
              -1,
              ConfigDef.Width.NONE,
              STAMP_TO_CONFIG,
              Recommenders.enumValues(StampTo.class))
          .define(
              EVENT_ID_FIELD_CONFIG,
              ConfigDef.Type.STRING,
              "event_id",
              Validators.fieldPath(),
              ConfigDef.Importance.HIGH,
              "Path of the event id.",
              null,
              -1,
              ConfigDef.Width.NONE,
              EVENT_ID_FIELD_CONFIG,
              ownPlace(EVENT_ID_FIELD_CONFIG))
          .define(
              EVENT_ID_NAMESPACE_CONFIG,
              ConfigDef.Type.STRING,
              DEFAULT_NAMESPACE,
              uuid(),
              ConfigDef.Importance.LOW,
              "UUID namespace of the derived (version 5) event ids.")
          .define(
              SCHEMA_VERSION_CONFIG,
              ConfigDef.Type.STRING,
              null,
              ConfigDef.Importance.HIGH,
              "Schema version to stamp where none is present, e.g. 1.0.0; empty stamps none.")
          .define(
              SCHEMA_VERSION_FIELD_CONFIG,
              ConfigDef.Type.STRING,
              "metadata.schema_version",
              Validators.fieldPath(),
              ConfigDef.Importance.MEDIUM,
              "Path of the schema version.",
              null,
              -1,
              ConfigDef.Width.NONE,
              SCHEMA_VERSION_FIELD_CONFIG,
              ownPlace(SCHEMA_VERSION_FIELD_CONFIG))
          .define(
              INGEST_TIMESTAMP_FIELD_CONFIG,
              ConfigDef.Type.STRING,
              "metadata.ingested_at",
              Configs.optionalFieldPath(),
              ConfigDef.Importance.MEDIUM,
              "Path of the ingest timestamp; empty stamps none.",
              null,
              -1,
              ConfigDef.Width.NONE,
              INGEST_TIMESTAMP_FIELD_CONFIG,
              ownPlace(INGEST_TIMESTAMP_FIELD_CONFIG))
          .define(
              INGEST_TIMESTAMP_SOURCE_CONFIG,
              ConfigDef.Type.STRING,
              "wall_clock",
              Validators.oneOf(TimestampSource.class),
              ConfigDef.Importance.LOW,
              "wall_clock: when the transform ran. record: the record's Kafka timestamp (falls back "
                  + "to the wall clock when it has none), which repeats on reprocessing.",
              null,
              -1,
              ConfigDef.Width.NONE,
              INGEST_TIMESTAMP_SOURCE_CONFIG,
              Recommenders.enumValues(TimestampSource.class))
          .define(
              HEADER_PREFIX_CONFIG,
              ConfigDef.Type.STRING,
              "soma.",
              ConfigDef.Importance.LOW,
              "Prefix of the header names when stamp.to=headers; the envelope fields' last "
                  + "segments must differ, so that each has a header of its own.");

  private StampTo stampTo;
  private FieldPath eventIdField;
  private UUID namespace;
  private String schemaVersion;
  private FieldPath schemaVersionField;
  private FieldPath ingestField;
  private TimestampSource timestampSource;
  private String headerPrefix;
  private FieldRewriter rewriter;
  private Clock clock = Clock.systemUTC();

  private static ConfigDef.Validator uuid() {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        try {
          UUID.fromString(Objects.toString(value));
        } catch (IllegalArgumentException e) {
          throw new ConfigException(name, value, "must be a UUID");
        }
      }

      @Override
      public String toString() {
        return "a UUID";
      }
    };
  }

  @Override
  public void configure(Map<String, ?> props) {
    AbstractConfig config = new AbstractConfig(CONFIG_DEF, props);
    stampTo = Configs.choice(config, STAMP_TO_CONFIG, StampTo.class);
    eventIdField = Configs.path(config, EVENT_ID_FIELD_CONFIG);
    namespace = UUID.fromString(config.getString(EVENT_ID_NAMESPACE_CONFIG));
    schemaVersion = schemaVersion(config);
    schemaVersionField = Configs.path(config, SCHEMA_VERSION_FIELD_CONFIG);
    ingestField = Configs.optionalPath(config, INGEST_TIMESTAMP_FIELD_CONFIG);
    timestampSource = Configs.choice(config, INGEST_TIMESTAMP_SOURCE_CONFIG, TimestampSource.class);
    headerPrefix = config.getString(HEADER_PREFIX_CONFIG);
    Map<String, FieldPath> stamps = stamps(config);
    stamps.keySet().forEach(option -> requireOwnPlace(config, option));
    // into a Struct's map fields too: JsonConverter gives metadata a map<string,string> schema,
    // and the default metadata.* paths must be stamped where FieldPath reads them
    rewriter = new FieldRewriter(stamps.values(), StampEnvelope::leafSchema, true, true);
  }

  private static String schemaVersion(AbstractConfig config) {
    String version = config.getString(SCHEMA_VERSION_CONFIG);
    return version == null || version.isBlank() ? null : version.trim();
  }

  /** The paths stamped, by the option that names each, in the order they are stamped. */
  private static Map<String, FieldPath> stamps(AbstractConfig config) {
    Map<String, FieldPath> stamps = new LinkedHashMap<>();
    stamps.put(EVENT_ID_FIELD_CONFIG, Configs.path(config, EVENT_ID_FIELD_CONFIG));
    if (schemaVersion(config) != null) {
      stamps.put(SCHEMA_VERSION_FIELD_CONFIG, Configs.path(config, SCHEMA_VERSION_FIELD_CONFIG));
    }
    FieldPath ingest = Configs.optionalPath(config, INGEST_TIMESTAMP_FIELD_CONFIG);
    if (ingest != null) {
      stamps.put(INGEST_TIMESTAMP_FIELD_CONFIG, ingest);
    }
    return stamps;
  }

  /** Checks {@link #requireOwnPlace} for the option when the config is validated. */
  private static ConfigDef.Recommender ownPlace(String option) {
    return Configs.checks(
        () -> StampEnvelope.CONFIG_DEF, config -> requireOwnPlace(config, option));
  }

  /**
   * A stamp needs a place of its own, or one of two stamps would be lost: a path that lies in,
   * contains or repeats another stamp's, or with stamp.to=headers a header (header.prefix + the
   * path's last segment) that another stamp's shares.
   */
  private static void requireOwnPlace(AbstractConfig config, String option) {
    Map<String, FieldPath> stamps = stamps(config);
    FieldPath path = stamps.get(option);
    if (path == null) {
      return; // this stamp is off
    }
    boolean headers = Configs.choice(config, STAMP_TO_CONFIG, StampTo.class) == StampTo.HEADERS;
    String header = config.getString(HEADER_PREFIX_CONFIG) + path.leaf();
    stamps.forEach(
        (other, otherPath) -> {
          if (other.equals(option)) {
            return;
          }
          try {
            FieldRewriter.requireDisjoint(List.of(path, otherPath));
          } catch (IllegalArgumentException overlap) {
            throw new ConfigException(
                option,
                path.toString(),
                "overlaps " + other + " '" + otherPath + "': stamps must not lie in one another");
          }
          if (headers && path.leaf().equals(otherPath.leaf())) {
            throw new ConfigException(
                option,
                path.toString(),
                "stamp.to=headers names each header header.prefix + the field's last segment, and "
                    + other
                    + " '"
                    + otherPath
                    + "' would share the header '"
                    + header
                    + "'");
          }
        });
  }

  /** An existing field keeps its schema; an added one is an optional string. */
  private static Schema leafSchema(FieldPath path, Schema original) {
    return original != null ? original : Schema.OPTIONAL_STRING_SCHEMA;
  }

  /** For tests: a fixed clock. */
  void clock(Clock clock) {
    this.clock = clock;
  }

  @Override
  public R apply(R record) {
    return Records.nestingChecked(record, "key or value", "stamped", () -> applyTo(record));
  }

  private R applyTo(R record) {
    Object value = record.value();
    if (value == null) {
      return record;
    }
    return stampTo == StampTo.FIELDS ? stampFields(record, value) : stampHeaders(record);
  }

  private R stampFields(R record, Object value) {
    if (!(value instanceof Map<?, ?>) && !(value instanceof Struct)) {
      throw Records.error(
          record,
          "stamp.to=fields needs a Struct or Map value; use stamp.to=headers for JSON text");
    }
    Object stamped =
        rewriter.rewrite(
            record,
            value,
            record.valueSchema(),
            // a Map's MAP schema is no field's type: stamps go in as text, and a map they do not
            // fit goes on schemaless (FieldRewriter.schemaOf), as maps did before
            (path, existing, schema, target) ->
                isPresent(path, existing)
                    ? existing
                    : stamp(record, path, value instanceof Struct ? schema : null));
    Schema schema = FieldRewriter.schemaOf(stamped, record.valueSchema());
    return RecordSide.VALUE.with(record, schema, stamped);
  }

  /**
   * Whether a field holds a value to keep. An empty or blank event id is no id: every record
   * holding one would share it, and idempotent consumers would drop all but the first as
   * duplicates, so it is replaced like a missing one.
   */
  private boolean isPresent(FieldPath path, Object existing) {
    return existing != null && !(path.equals(eventIdField) && isBlank(existing));
  }

  private static boolean isBlank(Object id) {
    return id instanceof String text && text.isBlank();
  }

  /**
   * The stamp for an empty field, as the field's schema holds it ({@code schema} is null for a
   * field being added or a schemaless value): text, or a Date for a Timestamp ingest field. Any
   * other type fails here with the record's coordinates rather than in Struct.put without them.
   */
  private Object stamp(R record, FieldPath path, Schema schema) {
    // the ingest path may be the schema version's default one when no version is stamped
    boolean ingest = path.equals(ingestField);
    if (ingest && schema != null && Timestamp.LOGICAL_NAME.equals(schema.name())) {
      return Date.from(ingestInstant(record));
    }
    if (schema != null && schema.type() != Schema.Type.STRING) {
      throw Records.error(
          record, where(record, path) + schema.type() + ", which cannot hold the stamp");
    }
    if (path.equals(eventIdField)) {
      return EventIds.of(namespace, record).toString();
    }
    return ingest ? ingestTime(record) : schemaVersion;
  }

  /**
   * The start of the message for a field that cannot hold its stamp, naming a map that holds it.
   */
  private static String where(ConnectRecord<?> record, FieldPath path) {
    if (!path.isTopLevel()) {
      Schema parent = path.parent().schemaIn(record.valueSchema());
      if (parent != null && parent.type() == Schema.Type.MAP) {
        return "field '"
            + path
            + "' would go into the map '"
            + path.parent()
            + "', whose values are of type ";
      }
    }
    return "field '" + path + "' is of type ";
  }

  private String ingestTime(R record) {
    return MILLIS.format(ingestInstant(record));
  }

  /**
   * Milliseconds, as record timestamps have: a wall clock with finer ticks would give text of
   * another length, and "05Z" sorts after "05.5Z".
   */
  private Instant ingestInstant(R record) {
    if (timestampSource == TimestampSource.RECORD && record.timestamp() != null) {
      return Instant.ofEpochMilli(record.timestamp());
    }
    return clock.instant().truncatedTo(ChronoUnit.MILLIS);
  }

  private R stampHeaders(R record) {
    Headers headers = record.headers().duplicate();
    addIfMissing(headers, eventIdField, () -> existingEventId(record));
    if (schemaVersion != null) {
      addIfMissing(headers, schemaVersionField, () -> schemaVersion);
    }
    if (ingestField != null) {
      addIfMissing(headers, ingestField, () -> ingestTime(record));
    }
    return record.newRecord(
        record.topic(),
        record.kafkaPartition(),
        record.keySchema(),
        record.key(),
        record.valueSchema(),
        record.value(),
        record.timestamp(),
        headers);
  }

  private void addIfMissing(Headers headers, FieldPath field, Supplier<String> value) {
    String name = headerPrefix + field.leaf();
    if (headers.lastWithName(name) == null) {
      headers.addString(name, value.get());
    }
  }

  private String existingEventId(R record) {
    Object id = eventIdIn(record.value(), record.valueSchema());
    String text = id == null ? null : id instanceof JsonNode node ? node.asText() : id.toString();
    // a blank id is no id (see isPresent)
    return text == null || text.isBlank() ? EventIds.of(namespace, record).toString() : text;
  }

  /**
   * The value's own event id, or null. Headers mode leaves the value untouched, so a value that is
   * not JSON (Avro or Protobuf bytes, plain text) is no error: it simply carries no id to repeat.
   */
  private Object eventIdIn(Object value, Schema schema) {
    if (value instanceof Map<?, ?> || value instanceof Struct) {
      return eventIdField.get(value);
    }
    try {
      return eventIdField.get(RecordJson.toJson(value, schema));
    } catch (DataException e) {
      return null;
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
  public void close() {}
}
