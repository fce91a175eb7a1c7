package io.somastack.connect.transforms.predicates;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.config.Validators;
import io.somastack.connect.common.config.Version;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.transforms.util.Configs;
import io.somastack.connect.transforms.util.RecordSide;
import io.somastack.connect.transforms.util.RecordValues;
import io.somastack.connect.transforms.util.Records;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.components.Versioned;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.transforms.predicates.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * True when a nested field of the key or value equals a string or matches a regular expression, so
 * any transform can be applied to some records only, e.g. encrypt only {@code
 * action_type=tool_call}.
 */
public abstract class FieldMatches<R extends ConnectRecord<R>> implements Predicate<R>, Versioned {

  public static final String OVERVIEW_DOC =
      "A predicate that is true when a field of the key (<code>"
          + FieldMatches.Key.class.getName()
          + "</code>) or value (<code>"
          + FieldMatches.Value.class.getName()
          + "</code>) equals a string or wholly matches a regular expression. Scalars are compared "
          + "as the text their JSON has (a number 5 equals '5', a Timestamp is ISO-8601 text, "
          + "bytes are base64); missing, null, object and array fields never match. "
          + "Works on Struct, schemaless Map and JSON text. A key or value that is not a JSON "
          + "object (plain text, a number, bytes that are not JSON) has no fields, so it does not "
          + "match rather than failing the task; the first such record of a task is logged at "
          + "WARN and later ones at DEBUG, by topic, partition and offset only. A field too long "
          + "for the pattern to be matched without overflowing the stack (a repeated group such "
          + "as (a|b)* recurses once per character; [ab]* does not) fails the record with a "
          + "DataException rather than the task. Combine with 'negate' in the transform's "
          + "predicate settings.";

  public static final String FIELD_CONFIG = "field";
  public static final String EQUALS_CONFIG = "equals";
  public static final String PATTERN_CONFIG = "pattern";

  public static final ConfigDef CONFIG_DEF =
      new ConfigDef()
          .define(
              FIELD_CONFIG,
              ConfigDef.Type.STRING,
              ConfigDef.NO_DEFAULT_VALUE,
              Validators.fieldPath(),
              ConfigDef.Importance.HIGH,
              "Path of the field to test, e.g. action_type or metadata.tenant_id.")
          .define(
              EQUALS_CONFIG,
              ConfigDef.Type.STRING,
              null,
              ConfigDef.Importance.HIGH,
              "The field matches when its text equals this; set this or 'pattern'.",
              null,
              -1,
              ConfigDef.Width.NONE,
              EQUALS_CONFIG,
              Configs.checks(() -> FieldMatches.CONFIG_DEF, FieldMatches::requireOneCriterion))
          .define(
              PATTERN_CONFIG,
              ConfigDef.Type.STRING,
              null,
              Validators.regex(),
              ConfigDef.Importance.HIGH,
              "The field matches when its whole text matches this regular expression; set this "
                  + "or 'equals'.",
              null,
              -1,
              ConfigDef.Width.NONE,
              PATTERN_CONFIG,
              Configs.checks(() -> FieldMatches.CONFIG_DEF, FieldMatches::requireOneCriterion));

  private static final Logger log = LoggerFactory.getLogger(FieldMatches.class);

  private final RecordSide side;
  private final AtomicBoolean warned = new AtomicBoolean();
  private FieldPath field;
  private String equals;
  private Pattern pattern;

  protected FieldMatches(RecordSide side) {
    this.side = side;
  }

  @Override
  public void configure(Map<String, ?> props) {
    AbstractConfig config = new AbstractConfig(CONFIG_DEF, props);
    field = Configs.path(config, FIELD_CONFIG);
    requireOneCriterion(config);
    equals = config.getString(EQUALS_CONFIG);
    String regex = config.getString(PATTERN_CONFIG);
    pattern = regex == null ? null : Pattern.compile(regex);
  }

  private static void requireOneCriterion(AbstractConfig config) {
    if ((config.getString(EQUALS_CONFIG) == null) == (config.getString(PATTERN_CONFIG) == null)) {
      throw new ConfigException(
          "set exactly one of '" + EQUALS_CONFIG + "' and '" + PATTERN_CONFIG + "'");
    }
  }

  @Override
  public boolean test(R record) {
    Object container = side.value(record);
    if (container == null) {
      return false;
    }
    Object readable = readable(record, container);
    if (readable == null) {
      return false;
    }
    String text = text(field.get(readable), schemaOf(record, readable));
    if (text == null) {
      return false;
    }
    return pattern == null ? equals.equals(text) : matches(record, text);
  }

  /**
   * java.util.regex recurses once per repetition of a group with alternatives, so (a|b)* overflows
   * the stack on a text of a few thousand characters. A StackOverflowError kills the task; the
   * record fails as bad data instead. Not "no match": that would silently skip (or, negated, apply)
   * the transform this predicate guards, such as an encryption.
   */
  private boolean matches(R record, String text) {
    try {
      return pattern.matcher(text).matches();
    } catch (StackOverflowError tooLong) {
      throw Records.error(
          record,
          "field '"
              + field
              + "' is too long for the pattern to be matched without overflowing the stack; a"
              + " repeated group such as (a|b)* recurses per character, a character class such as"
              + " [ab]* does not");
    }
  }

  /**
   * A Map or Struct as it is, JSON text as its object; null when the side is no JSON object. A
   * predicate that threw would stop the task (unless errors.tolerance=all), and Kafka's own
   * predicates never throw on data: such a record simply has no field to match.
   */
  private Object readable(R record, Object container) {
    if (container instanceof Map<?, ?> || container instanceof Struct) {
      return container;
    }
    JsonNode json;
    try {
      json = RecordValues.json(record, side);
    } catch (DataException notJson) {
      json = null;
    }
    if (json == null || !json.isObject()) {
      logNotAnObject(record);
      return null;
    }
    return json;
  }

  /** Once at WARN, so a predicate that can never match is noticed, then at DEBUG. */
  private void logNotAnObject(R record) {
    String message = "record at {}: the {} is not a JSON object, so field '{}' does not match";
    if (warned.compareAndSet(false, true)) {
      log.warn(
          message + " (further such records are logged at DEBUG)",
          Records.coordinates(record),
          side.label(),
          field);
    } else if (log.isDebugEnabled()) {
      log.debug(message, Records.coordinates(record), side.label(), field);
    }
  }

  /** The field's schema, which says whether a Struct's java.util.Date is a Date or a Timestamp. */
  private Schema schemaOf(R record, Object readable) {
    if (readable instanceof Struct struct) {
      return field.schemaIn(struct.schema());
    }
    return readable instanceof Map<?, ?> ? field.schemaIn(side.schema(record)) : null;
  }

  /**
   * A scalar's text as JSON has it, so a Struct, a Map and JSON text of one event compare alike (a
   * Timestamp as ISO-8601, bytes as base64); null for missing, null and structured values.
   */
  private static String text(Object value, Schema schema) {
    if (value instanceof JsonNode json) {
      return json.isValueNode() && !json.isNull() ? json.asText() : null;
    }
    if (value == null
        || value instanceof Map<?, ?>
        || value instanceof Struct
        || value instanceof Iterable<?>) {
      return null;
    }
    JsonNode node;
    try {
      node = RecordJson.convert(value, schema);
    } catch (DataException noJson) {
      return null; // NaN and the infinities have no JSON text to compare
    }
    return node.isValueNode() && !node.isNull() ? node.asText() : null;
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

  /** Tests a field of the record key. */
  public static class Key<R extends ConnectRecord<R>> extends FieldMatches<R> {
    public Key() {
      super(RecordSide.KEY);
    }
  }

  /** Tests a field of the record value. */
  public static class Value<R extends ConnectRecord<R>> extends FieldMatches<R> {
    public Value() {
      super(RecordSide.VALUE);
    }
  }
}
