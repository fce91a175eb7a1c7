package io.somastack.connect.transforms;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.ValidationMessage;
import io.somastack.connect.common.config.Recommenders;
import io.somastack.connect.common.config.Validators;
import io.somastack.connect.common.config.Version;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.template.RecordTemplate;
import io.somastack.connect.transforms.schema.CompiledSchemas;
import io.somastack.connect.transforms.schema.SchemaSource;
import io.somastack.connect.transforms.schema.Violations;
import io.somastack.connect.transforms.util.Configs;
import io.somastack.connect.transforms.util.RecordSide;
import io.somastack.connect.transforms.util.RecordValues;
import io.somastack.connect.transforms.util.Records;
import io.somastack.connect.transforms.util.TopicNames;
import java.math.BigDecimal;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.components.Versioned;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.header.Headers;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.transforms.Transformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks each record's key or value against a JSON Schema (of the draft its "$schema" declares,
 * 2020-12 by default; see {@link CompiledSchemas}) and either fails it, so Connect's {@code
 * errors.tolerance} and dead-letter queue take it, or sends it to another topic with the violations
 * in a header.
 */
public abstract class ValidateJsonSchema<R extends ConnectRecord<R>>
    implements Transformation<R>, Versioned {

  public static final String OVERVIEW_DOC =
      "Validates the record key or value against a JSON Schema, formats asserted. The schema's "
          + "\"$schema\" picks its draft: draft-04, draft-06, draft-07, 2019-09 or 2020-12 (the "
          + "default when it declares none); the schema is checked against that draft's "
          + "meta-schema (bundled, never fetched) and records are validated by that draft's "
          + "rules, as are the files it refers to that declare no \"$schema\" of their own. Any "
          + "other \"$schema\" fails the configuration. Accepts Struct, schemaless Map, and JSON "
          + "text as String or bytes; anything that is not JSON fails, as does a number of "
          + "more than 1000 digits written out (1e100000: the validator would write it out or "
          + "divide by it). Tombstones (a null value) "
          + "pass the Value variant; the Key variant checks a "
          + "missing key as JSON null, so a key schema lets keyless records through only if it "
          + "allows \"null\". An invalid record either fails with a DataException that "
          + "lists the violations (for errors.tolerance and the dead-letter queue) or is rerouted "
          + "to another topic with the violations in a header. Violations name paths and rules, "
          + "never values; paths hold the record's property names, and so do the messages of "
          + "additionalProperties and unevaluatedProperties, which name the property they "
          + "refuse. They take at most "
          + Violations.MAX_BYTES
          + " bytes of UTF-8 text in the exception or header. Use <code>"
          + ValidateJsonSchema.Key.class.getName()
          + "</code> or <code>"
          + ValidateJsonSchema.Value.class.getName()
          + "</code>.";

  public static final String SCHEMA_CONFIG = "schema";
  public static final String TOPIC_SCHEMAS_CONFIG = "topic.schemas";
  public static final String ON_INVALID_CONFIG = "on.invalid";
  public static final String REROUTE_TOPIC_CONFIG = "reroute.topic";
  public static final String ERRORS_HEADER_CONFIG = "errors.header";
  public static final String MAX_VIOLATIONS_CONFIG = "max.violations";

  /** What happens to a record that does not match its schema. */
  public enum OnInvalid {
    FAIL,
    REROUTE
  }

  public static final ConfigDef CONFIG_DEF =
      new ConfigDef()
          .define(
              SCHEMA_CONFIG,
              ConfigDef.Type.STRING,
              null,
              usableSchema(),
              ConfigDef.Importance.HIGH,
              "The schema for every topic not listed in topic.schemas: a classpath: resource (the "
                  + "plugin ships classpath:schemas/<name>.schema.json), a file path on the worker, "
                  + "or inline JSON. Its $refs may name files and classpath: resources only: "
                  + "remote (http, https) schemas are never fetched, and a $ref that resolves to "
                  + "one, also through an http(s) $id, fails the configuration. Each schema "
                  + "document (the schema, or a file or resource it refers to) must be a regular "
                  + "file of UTF-8 text of at most "
                  + SchemaSource.MAX_BYTES
                  + " bytes (1 MiB) that nests objects and arrays at most "
                  + SchemaSource.MAX_DEPTH
                  + " levels deep.",
              null,
              -1,
              ConfigDef.Width.NONE,
              SCHEMA_CONFIG,
              Configs.checksValues(ValidateJsonSchema::requireSomeSchema))
          .define(
              TOPIC_SCHEMAS_CONFIG,
              ConfigDef.Type.LIST,
              "",
              topicSchemaPairs(),
              ConfigDef.Importance.HIGH,
              "Per-topic schemas as topic=schema pairs, e.g. "
                  + "memory.events=classpath:schemas/memory-event.schema.json. Schemas are given "
                  + "as in 'schema' except inline JSON. A topic with neither an entry here nor a "
                  + "'schema' fails.",
              null,
              -1,
              ConfigDef.Width.NONE,
              TOPIC_SCHEMAS_CONFIG,
              Configs.checksValues(ValidateJsonSchema::requireSomeSchema))
          .define(
              ON_INVALID_CONFIG,
              ConfigDef.Type.STRING,
              "fail",
              Validators.oneOf(OnInvalid.class),
              ConfigDef.Importance.HIGH,
              "fail: throw a DataException listing the violations, for errors.tolerance and the "
                  + "dead-letter queue. reroute: send the record to reroute.topic with the "
                  + "violations in the errors.header header. A rerouted source record loses any "
                  + "partition it was given, so the producer picks one by its key, as for "
                  + "Connect's dead letter queue, and reroute.topic may have fewer partitions than "
                  + "the source topic; a sink record keeps its partition.",
              null,
              -1,
              ConfigDef.Width.NONE,
              ON_INVALID_CONFIG,
              List.of(REROUTE_TOPIC_CONFIG, ERRORS_HEADER_CONFIG),
              Recommenders.enumValues(OnInvalid.class))
          .define(
              REROUTE_TOPIC_CONFIG,
              ConfigDef.Type.STRING,
              "${topic}.invalid",
              rerouteTemplate(),
              ConfigDef.Importance.MEDIUM,
              "Topic for invalid records when on.invalid=reroute; may use ${topic}. Its other "
                  + "text must be legal in a topic name ([a-zA-Z0-9._-]).",
              null,
              -1,
              ConfigDef.Width.NONE,
              REROUTE_TOPIC_CONFIG,
              Recommenders.visibleWhen(ON_INVALID_CONFIG, OnInvalid.REROUTE))
          .define(
              ERRORS_HEADER_CONFIG,
              ConfigDef.Type.STRING,
              "soma.validation.errors",
              Configs.nonBlank(),
              ConfigDef.Importance.LOW,
              "Header that carries the violations of a rerouted record, separated by '; ', at "
                  + "most "
                  + Violations.MAX_BYTES
                  + " bytes of UTF-8 so the rerouted record stays within the broker's size "
                  + "limit; violations that do not fit are counted as '... and N more'.",
              null,
              -1,
              ConfigDef.Width.NONE,
              ERRORS_HEADER_CONFIG,
              Recommenders.visibleWhen(ON_INVALID_CONFIG, OnInvalid.REROUTE))
          .define(
              MAX_VIOLATIONS_CONFIG,
              ConfigDef.Type.INT,
              10,
              ConfigDef.Range.atLeast(1),
              ConfigDef.Importance.LOW,
              "At most this many violations are reported per record (fewer when their text "
                  + "would exceed "
                  + Violations.MAX_BYTES
                  + " bytes).");

  private static final Logger log = LoggerFactory.getLogger(ValidateJsonSchema.class);

  /** A schema as configured, with the schema compiled from it when the transform was configured. */
  private record Resolved(SchemaSource source, JsonSchema schema) {}

  private final RecordSide side;
  private Resolved defaultSchema;
  private Map<String, Resolved> topicSchemas;
  private OnInvalid onInvalid;
  private RecordTemplate rerouteTopic;
  private String errorsHeader;
  private int maxViolations;

  protected ValidateJsonSchema(RecordSide side) {
    this.side = side;
  }

  @Override
  public void configure(Map<String, ?> props) {
    AbstractConfig config = new AbstractConfig(CONFIG_DEF, props);
    requireSomeSchema(config.values());
    String schema = config.getString(SCHEMA_CONFIG);
    Map<String, SchemaSource> sources = topicSchemas(config.getList(TOPIC_SCHEMAS_CONFIG));
    defaultSchema =
        schema == null || schema.isBlank()
            ? null
            : resolve(new SchemaSource(schema), SCHEMA_CONFIG);
    topicSchemas = new HashMap<>();
    sources.forEach(
        (topic, source) -> topicSchemas.put(topic, resolve(source, TOPIC_SCHEMAS_CONFIG)));
    onInvalid = Configs.choice(config, ON_INVALID_CONFIG, OnInvalid.class);
    rerouteTopic = rerouteTopic(config.getString(REROUTE_TOPIC_CONFIG));
    errorsHeader = config.getString(ERRORS_HEADER_CONFIG);
    maxViolations = config.getInt(MAX_VIOLATIONS_CONFIG);
  }

  /**
   * Without a schema for any topic every record would fail. Reads the options' values only, never
   * the schemas they name: validation checks this once per option, and their validators have read
   * and compiled the schemas already.
   */
  private static void requireSomeSchema(Map<String, ?> values) {
    Object schema = values.get(SCHEMA_CONFIG);
    Object topicSchemas = values.get(TOPIC_SCHEMAS_CONFIG);
    if ((schema == null || schema.toString().isBlank())
        && (topicSchemas == null || ((List<?>) topicSchemas).isEmpty())) {
      throw new ConfigException(
          "set '" + SCHEMA_CONFIG + "' or '" + TOPIC_SCHEMAS_CONFIG + "' (or both)");
    }
  }

  /**
   * Reads and compiles the schema when the config is validated: Connect validates a transform's
   * options with their validators alone, so a missing file, a mistyped resource or a remote $ref
   * would otherwise pass validation and fail every task as it starts. The compiled schema is
   * cached, so configure does not compile it again.
   */
  private static ConfigDef.Validator usableSchema() {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        if (value != null && !value.toString().isBlank()) {
          resolve(new SchemaSource(value.toString()), name);
        }
      }

      @Override
      public String toString() {
        return "classpath:<resource>, a file path on the worker, or inline JSON";
      }
    };
  }

  private static ConfigDef.Validator topicSchemaPairs() {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        topicSchemas((List<?>) value).values().forEach(source -> resolve(source, name));
      }

      @Override
      public String toString() {
        return "topic=schema pairs";
      }
    };
  }

  /** The topic=schema pairs; none when the option is given as null (JSON null in the config). */
  private static Map<String, SchemaSource> topicSchemas(List<?> entries) {
    Map<String, SchemaSource> schemas = new HashMap<>();
    if (entries == null) {
      return schemas;
    }
    for (Object item : entries) {
      String entry = item.toString();
      int eq = entry.indexOf('=');
      if (eq <= 0 || eq == entry.length() - 1) {
        throw new ConfigException(TOPIC_SCHEMAS_CONFIG, entry, "expected topic=schema");
      }
      schemas.put(entry.substring(0, eq).trim(), new SchemaSource(entry.substring(eq + 1)));
    }
    return schemas;
  }

  /**
   * Reads and compiles a schema now, so a bad one stops the connector instead of its first record,
   * and records are validated against the schema as it was when the connector was configured.
   */
  private static Resolved resolve(SchemaSource source, String key) {
    try {
      return new Resolved(source, CompiledSchemas.get(source));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(key, source.label(), e.getMessage());
    }
  }

  /** A reroute topic configure will accept, checked when the config is validated too. */
  private static ConfigDef.Validator rerouteTemplate() {
    ConfigDef.Validator nonBlank = Configs.nonBlank();
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        nonBlank.ensureValid(name, value);
        rerouteTopic(value.toString());
      }

      @Override
      public String toString() {
        return nonBlank.toString()
            + " using no placeholder but ${topic}, its other text legal in a topic name";
      }
    };
  }

  private static RecordTemplate rerouteTopic(String text) {
    try {
      RecordTemplate template = RecordTemplate.parse(text.trim());
      if (!template.dependsOnTopicOnly()) {
        throw new ConfigException(
            REROUTE_TOPIC_CONFIG, text, "may only use ${topic}: an invalid record has no fields");
      }
      // Kafka refuses the topic only when the first invalid record is produced to it
      String problem = TopicNames.literalProblem(text.trim());
      if (problem != null) {
        throw new ConfigException(REROUTE_TOPIC_CONFIG, text, problem);
      }
      return template;
    } catch (IllegalArgumentException e) {
      throw new ConfigException(REROUTE_TOPIC_CONFIG, text, e.getMessage());
    }
  }

  @Override
  public R apply(R record) {
    if (side == RecordSide.VALUE && record.value() == null) {
      return record; // a tombstone: it deletes its key and has no content to check
    }
    Resolved schema = schemaFor(record);
    Set<ValidationMessage> messages = validate(schema, record);
    if (messages.isEmpty()) {
      return record;
    }
    String violations = Violations.summary(messages, maxViolations, Violations.MAX_BYTES);
    if (onInvalid == OnInvalid.FAIL) {
      throw Records.error(
          record,
          "the " + side.label() + " does not match " + schema.source().label() + ": " + violations);
    }
    return reroute(record, violations);
  }

  /**
   * The record's violations. Reading a record into JSON and validating it recurse once per level of
   * nesting (more for a recursive schema): a record nested deeper than the task thread's stack
   * allows is that record's fault, so it fails as bad data, for errors.tolerance and the dead
   * letter queue, instead of a StackOverflowError that would kill the task. A pattern of the schema
   * matched against a long string overflows the stack too. The stack is unwound by then; nothing
   * was left half done.
   */
  private Set<ValidationMessage> validate(Resolved schema, R record) {
    try {
      JsonNode json = jsonOf(record);
      requireDigitsWithinLimit(record, json);
      return schema.schema().validate(json);
    } catch (StackOverflowError tooDeep) {
      throw Records.error(
          record,
          "the "
              + side.label()
              + " is nested too deeply, or holds a string too long for a pattern of the schema"
              + " (java.util.regex recurses per repetition of a group such as (a|b)*), to be"
              + " checked against "
              + schema.source().label());
    }
  }

  /** The most digits a number written out may have: as many as Jackson reads in plain text. */
  static final int MAX_NUMBER_DIGITS =
      RecordJson.MAPPER.getFactory().streamReadConstraints().getMaxNumberLength();

  /**
   * Refuses numbers of more than {@link #MAX_NUMBER_DIGITS} digits written out. An exponent packs a
   * billion digits into a dozen characters of JSON text (1e999999999), and the validator writes
   * numbers out for enum (out of memory, for the whole worker) and divides by them for multipleOf
   * (an ArithmeticException, or seconds of CPU per record). Every int, long and double, and every
   * number Jackson reads in plain text, fits. A loop, not recursion: the tree may be deeper than
   * the stack.
   */
  private void requireDigitsWithinLimit(R record, JsonNode json) {
    Deque<JsonNode> pending = new ArrayDeque<>();
    pending.push(json);
    while (!pending.isEmpty()) {
      JsonNode node = pending.pop();
      if (node.isContainerNode()) {
        node.elements().forEachRemaining(pending::push);
      } else if ((node.isBigDecimal() || node.isBigInteger())
          && plainDigits(node.decimalValue()) > MAX_NUMBER_DIGITS) {
        throw Records.error(
            record,
            "the "
                + side.label()
                + " holds a number with more than "
                + MAX_NUMBER_DIGITS
                + " digits written out (an exponent such as 1e100000), too large or too precise"
                + " to validate");
      }
    }
  }

  /** How many digits the number has written out without an exponent. */
  private static long plainDigits(BigDecimal number) {
    long precision = number.precision();
    long scale = number.scale();
    if (scale <= 0) {
      return precision - scale;
    }
    return scale >= precision ? scale + 1 : precision;
  }

  /**
   * The checked side as JSON. A missing key is JSON null rather than a pass: a key schema that
   * requires an object must catch keyless records, and one that allows them says "null".
   */
  private JsonNode jsonOf(R record) {
    JsonNode json = RecordValues.json(record, side);
    return json == null ? NullNode.getInstance() : json;
  }

  private Resolved schemaFor(R record) {
    Resolved schema = topicSchemas.getOrDefault(record.topic(), defaultSchema);
    if (schema == null) {
      throw Records.error(record, "no JSON Schema is configured for this topic");
    }
    return schema;
  }

  private R reroute(R record, String violations) {
    String topic = rerouteTopic.render(record);
    log.debug("Rerouting invalid record at {} to topic '{}'", Records.coordinates(record), topic);
    Headers headers = record.headers().duplicate();
    headers.addString(errorsHeader, violations);
    return record.newRecord(
        topic,
        reroutedPartition(record),
        record.keySchema(),
        record.key(),
        record.valueSchema(),
        record.value(),
        record.timestamp(),
        headers);
  }

  /**
   * None for a source record: the reroute topic often has fewer partitions than the source's, and a
   * partition it lacks would fail the produce, losing the very records the reroute keeps. The
   * producer then picks one by the key, as for Connect's own dead letter queue. A sink record keeps
   * its partition: it is where the record was read, and a SinkRecord cannot be without one.
   */
  private static Integer reroutedPartition(ConnectRecord<?> record) {
    return record instanceof SourceRecord ? null : record.kafkaPartition();
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

  /** Validates the record key. */
  public static class Key<R extends ConnectRecord<R>> extends ValidateJsonSchema<R> {
    public Key() {
      super(RecordSide.KEY);
    }
  }

  /** Validates the record value. */
  public static class Value<R extends ConnectRecord<R>> extends ValidateJsonSchema<R> {
    public Value() {
      super(RecordSide.VALUE);
    }
  }
}
