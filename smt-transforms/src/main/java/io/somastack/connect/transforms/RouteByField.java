package io.somastack.connect.transforms;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.config.Version;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.template.RecordTemplate;
import io.somastack.connect.transforms.util.Configs;
import io.somastack.connect.transforms.util.Records;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.components.Versioned;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.transforms.Transformation;

/**
 * Sets the topic from a template over the record, such as {@code agent-${value.action_type}}. A
 * record that lacks a field the template names, or whose fields would make an illegal topic name,
 * goes to the fallback topic, so a record's content can never invent arbitrary topics. Values are
 * never sanitised into a legal name: "x/y" and "x_y" would then share a topic, mixing two tenants'
 * streams.
 */
public class RouteByField<R extends ConnectRecord<R>> implements Transformation<R>, Versioned {

  public static final String OVERVIEW_DOC =
      "Routes each record to the topic a template makes from it, e.g. agent-${value.action_type} "
          + "or ${topic}.${key.tenant_id}. Placeholders: ${topic}, ${partition}, ${key}, "
          + "${key.<path>}, ${value.<path>} over Struct, schemaless Map and JSON text keys and "
          + "values. When a field is missing, or the result is not a legal topic name "
          + "([a-zA-Z0-9._-], at most 249 characters), the record goes to fallback.topic; without "
          + "one it fails. Values are never rewritten to make a name legal, so two different "
          + "values never share a topic. Kafka itself cannot hold two topics whose names differ "
          + "only in '.' versus '_' (a.b and a_b): when both occur, creating the second fails.";

  public static final String TOPIC_TEMPLATE_CONFIG = "topic.template";
  public static final String FALLBACK_TOPIC_CONFIG = "fallback.topic";

  private static final Pattern LEGAL_TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

  public static final ConfigDef CONFIG_DEF =
      new ConfigDef()
          .define(
              TOPIC_TEMPLATE_CONFIG,
              ConfigDef.Type.STRING,
              ConfigDef.NO_DEFAULT_VALUE,
              Configs.nonBlank(),
              ConfigDef.Importance.HIGH,
              "Template of the topic name, e.g. agent-${value.action_type}.")
          .define(
              FALLBACK_TOPIC_CONFIG,
              ConfigDef.Type.STRING,
              "",
              legalTopicOrEmpty(),
              ConfigDef.Importance.MEDIUM,
              "Topic for records the template cannot name a legal topic for; empty fails them "
                  + "with a DataException instead.");

  private RecordTemplate template;
  private String fallbackTopic;

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
  }

  @Override
  public R apply(R record) {
    String topic = template.render(template.dependsOnTopicOnly() ? record : readable(record));
    if (!isLegal(topic)) {
      topic = fallback(record);
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

  private static ConfigDef.Validator legalTopicOrEmpty() {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        String topic = value == null ? "" : value.toString().trim();
        if (!topic.isEmpty() && !isLegal(topic)) {
          throw new ConfigException(name, value, "not a legal topic name");
        }
      }

      @Override
      public String toString() {
        return "a topic name, or empty";
      }
    };
  }

  private static boolean isLegal(String topic) {
    return topic != null
        && LEGAL_TOPIC.matcher(topic).matches()
        && !topic.equals(".")
        && !topic.equals("..");
  }

  private String fallback(R record) {
    if (fallbackTopic.isEmpty()) {
      throw Records.error(
          record, "template '" + template + "' names no legal topic and no fallback.topic is set");
    }
    return fallbackTopic;
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
