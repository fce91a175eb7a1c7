package io.somastack.connect.transforms;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.config.Version;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.template.RecordTemplate;
import io.somastack.connect.transforms.util.Records;
import io.somastack.connect.transforms.util.TopicNames;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.components.Versioned;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.transforms.Transformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets the topic from a template over the record, such as {@code agent-${value.action_type}}. A
 * record that lacks a field the template names, or whose fields would make an illegal topic name,
 * goes to the fallback topic, so a record's content can never invent an illegal topic. Values are
 * never sanitised into a legal name: "x/y" and "x_y" would then share a topic, mixing two tenants'
 * streams.
 */
public class RouteByField<R extends ConnectRecord<R>> implements Transformation<R>, Versioned {

  public static final String OVERVIEW_DOC =
      "Routes each record to the topic a template makes from it, e.g. agent-${value.action_type} "
          + "or ${topic}.${key.tenant_id}. Placeholders: ${topic}, ${partition}, ${key}, "
          + "${key.<path>}, ${value.<path>} over Struct, schemaless Map and JSON text keys and "
          + "values. ${key} of a bytes key (ByteArrayConverter) is its UTF-8 text (bytes that are "
          + "no UTF-8 give no name), and of a JSON string key (\"acme\" with its quotes) the "
          + "string; upgrading from a version before 2026-12-07, which wrote bytes as base64 and "
          + "kept the quotes (both illegal in a topic name, so to fallback.topic), such records "
          + "now go to the topic of their text. When a field is missing, or the result is not a legal topic name "
          + "([a-zA-Z0-9._-], at most 249 characters), the record goes to fallback.topic; without "
          + "one it fails. Values are never rewritten to make a name legal, so two values of a "
          + "field never share a topic. Kafka itself cannot hold two topics whose names differ "
          + "only in '.' versus '_' (a.b and a_b): when both occur, creating the second fails. "
          + "With two placeholders, values holding the text between them can meet (a-b with c "
          + "and a with b-c in ${value.x}-${value.y}). Tombstones have no value fields: a template "
          + "that reads the value sends them to fallback.topic. The partition is kept, as Kafka's "
          + "RegexRouter keeps it: a source record with a partition set needs that partition in "
          + "the new topic. A record sent to fallback.topic is logged at WARN by its topic, "
          + "partition and offset and the placeholder that found no value (never by its "
          + "contents), so that a typo in a field name, which sends every record there, is seen: "
          + "the first time per source topic, then at most every 5 minutes with a count.";

  public static final String TOPIC_TEMPLATE_CONFIG = "topic.template";
  public static final String FALLBACK_TOPIC_CONFIG = "fallback.topic";

  public static final ConfigDef CONFIG_DEF =
      new ConfigDef()
          .define(
              TOPIC_TEMPLATE_CONFIG,
              ConfigDef.Type.STRING,
              ConfigDef.NO_DEFAULT_VALUE,
              topicTemplate(),
              ConfigDef.Importance.HIGH,
              "Template of the topic name, e.g. agent-${value.action_type}. Give it fixed text "
                  + "around the fields (agent-...): a template that is a field alone lets whoever "
                  + "writes that field pick any topic the connector may write to.")
          .define(
              FALLBACK_TOPIC_CONFIG,
              ConfigDef.Type.STRING,
              "",
              legalTopicOrEmpty(),
              ConfigDef.Importance.MEDIUM,
              "Topic for records the template cannot name a legal topic for; empty fails them "
                  + "with a DataException instead.");

  private static final Logger log = LoggerFactory.getLogger(RouteByField.class);

  /** How often fallbacks of one source topic are logged after the first. */
  static final Duration WARN_INTERVAL = Duration.ofMinutes(5);

  /** Bounds the per-topic log state; past it the state starts again (more warnings, no leak). */
  private static final int MAX_TRACKED_TOPICS = 1000;

  /** A placeholder of a template that parsed: "${" up to the next "}", never nested. */
  private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{[^}]*}");

  /** When fallbacks of one source topic were last logged, and how many went there since. */
  private static final class Fallbacks {
    Instant lastWarned;
    long since;
  }

  private RecordTemplate template;
  private String fallbackTopic;
  private Clock clock = Clock.systemUTC();

  /** Each placeholder of the template alone, to name the ones that found no value. */
  private final List<Map.Entry<String, RecordTemplate>> placeholders = new ArrayList<>();

  /** By source topic; a transform instance serves one task, so one thread. */
  private final Map<String, Fallbacks> fallbacks = new HashMap<>();

  /** For tests: a clock of their own. */
  void clock(Clock clock) {
    this.clock = clock;
  }

  @Override
  public void configure(Map<String, ?> props) {
    AbstractConfig config = new AbstractConfig(CONFIG_DEF, props);
    String text = config.getString(TOPIC_TEMPLATE_CONFIG).trim();
    try {
      template = RecordTemplate.parse(text);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(TOPIC_TEMPLATE_CONFIG, text, e.getMessage());
    }
    fallbackTopic = config.getString(FALLBACK_TOPIC_CONFIG).trim();
    placeholders.clear();
    Matcher placeholder = PLACEHOLDER.matcher(text);
    while (placeholder.find()) {
      placeholders.add(Map.entry(placeholder.group(), RecordTemplate.parse(placeholder.group())));
    }
  }

  @Override
  public R apply(R record) {
    R readable = template.readsKeyOrValue() ? readable(record) : record;
    String topic = template.render(readable);
    if (!TopicNames.isLegal(topic)) {
      String fallback = fallback(record);
      logFallback(record, readable, topic == null);
      topic = fallback;
    }
    return record.newRecord(
        topic,
        record.kafkaPartition(),
        record.keySchema(),
        record.key(),
        record.valueSchema(),
        record.value(),
        record.timestamp());
  }

  /**
   * The record as the template reads it: a key or value that is JSON object text (StringConverter,
   * ByteArrayConverter) parsed, so that its fields are found as in a Map or Struct. Any other text,
   * such as a plain string key for ${key}, is left as it is.
   */
  private R readable(R record) {
    Object key = parsedObject(record.key(), record.keySchema());
    Object value = parsedObject(record.value(), record.valueSchema());
    if (key == record.key() && value == record.value()) {
      return record;
    }
    return record.newRecord(
        record.topic(),
        record.kafkaPartition(),
        key == record.key() ? record.keySchema() : null,
        key,
        value == record.value() ? record.valueSchema() : null,
        value,
        record.timestamp());
  }

  /** The JSON object that text holds, or the value itself when it is not such text. */
  private static Object parsedObject(Object value, Schema schema) {
    if (!startsAnObject(value)) {
      return value;
    }
    try {
      JsonNode json = RecordJson.toJson(value, schema);
      return json != null && json.isObject() ? json : value;
    } catch (DataException notJson) {
      return value;
    }
  }

  /** A cheap look at the first character, so plain keys are not parsed (and failed) per record. */
  private static boolean startsAnObject(Object value) {
    if (value instanceof String text) {
      return !text.isEmpty() && text.stripLeading().startsWith("{");
    }
    if (value instanceof byte[] bytes) {
      for (byte b : bytes) {
        if (!Character.isWhitespace(b)) {
          return b == '{';
        }
      }
    }
    return false;
  }

  /**
   * A template that parses and whose own text (outside the placeholders) could be part of a topic
   * name; otherwise every record would go to the fallback. A validator, not a check in configure,
   * so the REST validate call reports it too.
   */
  private static ConfigDef.Validator topicTemplate() {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        String text = value == null ? "" : value.toString().trim();
        if (text.isEmpty()) {
          throw new ConfigException(name, value, "must not be empty");
        }
        try {
          RecordTemplate.parse(text);
        } catch (IllegalArgumentException e) {
          throw new ConfigException(name, value, e.getMessage());
        }
        String problem = TopicNames.literalProblem(text);
        if (problem != null) {
          throw new ConfigException(name, value, problem);
        }
      }

      @Override
      public String toString() {
        return "a template whose text outside ${...} is legal in a topic name";
      }
    };
  }

  private static ConfigDef.Validator legalTopicOrEmpty() {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        String topic = value == null ? "" : value.toString().trim();
        if (!topic.isEmpty() && !TopicNames.isLegal(topic)) {
          throw new ConfigException(name, value, "not a legal topic name");
        }
      }

      @Override
      public String toString() {
        return "a topic name, or empty";
      }
    };
  }

  private String fallback(R record) {
    if (fallbackTopic.isEmpty()) {
      throw Records.error(
          record, "template '" + template + "' names no legal topic and no fallback.topic is set");
    }
    return fallbackTopic;
  }

  /**
   * Logs a record sent to the fallback topic at WARN: the first time per source topic, then at most
   * every {@link #WARN_INTERVAL} with a count, so that a template that sends all traffic there (a
   * typo in a field name) is seen without a line per record. Names the record's coordinates and the
   * placeholders that found no value, never a value: the name the template made is made of the
   * record's contents.
   */
  private void logFallback(R record, R readable, boolean noValue) {
    if (fallbacks.size() >= MAX_TRACKED_TOPICS && !fallbacks.containsKey(record.topic())) {
      fallbacks.clear();
    }
    Fallbacks seen = fallbacks.computeIfAbsent(record.topic(), t -> new Fallbacks());
    Instant now = clock.instant();
    if (seen.lastWarned == null) {
      seen.lastWarned = now;
      log.warn(
          "record at {}: template '{}' {}, so the record goes to fallback.topic '{}'; later ones"
              + " of topic '{}' are counted and logged at most every {} minutes",
          Records.coordinates(record),
          template,
          reason(readable, noValue),
          fallbackTopic,
          record.topic(),
          WARN_INTERVAL.toMinutes());
      return;
    }
    seen.since++;
    if (!now.isBefore(seen.lastWarned.plus(WARN_INTERVAL))) {
      log.warn(
          "{} records of topic '{}' went to fallback.topic '{}' since {}; the latest: record at {}:"
              + " template '{}' {}",
          seen.since,
          record.topic(),
          fallbackTopic,
          seen.lastWarned,
          Records.coordinates(record),
          template,
          reason(readable, noValue));
      seen.lastWarned = now;
      seen.since = 0;
    } else if (log.isDebugEnabled()) {
      log.debug(
          "record at {}: template '{}' {}, so the record goes to fallback.topic '{}'",
          Records.coordinates(record),
          template,
          reason(readable, noValue),
          fallbackTopic);
    }
  }

  /** Why the template named no topic, by its placeholders and without the record's values. */
  private String reason(R readable, boolean noValue) {
    if (!noValue) {
      return "made no legal topic name";
    }
    StringJoiner missing = new StringJoiner(", ", "found no value for ", "");
    for (Map.Entry<String, RecordTemplate> placeholder : placeholders) {
      if (placeholder.getValue().render(readable) == null) {
        missing.add(placeholder.getKey());
      }
    }
    return missing.toString();
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
