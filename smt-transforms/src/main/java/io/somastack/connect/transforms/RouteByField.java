package io.somastack.connect.transforms;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.config.Version;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.template.RecordTemplate;
import io.somastack.connect.transforms.util.Records;
import io.somastack.connect.transforms.util.TopicNames;
import java.util.Map;
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
 * goes to the fallback topic, so a record's content can never invent an illegal topic. Values are
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
          + "one it fails. Values are never rewritten to make a name legal, so two values of a "
          + "field never share a topic. Kafka itself cannot hold two topics whose names differ "
          + "only in '.' versus '_' (a.b and a_b): when both occur, creating the second fails. "
          + "With two placeholders, values holding the text between them can meet (a-b with c "
          + "and a with b-c in ${value.x}-${value.y}). Tombstones have no value fields: a template "
          + "that reads the value sends them to fallback.topic. The partition is kept, as Kafka's "
          + "RegexRouter keeps it: a source record with a partition set needs that partition in "
          + "the new topic.";

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
    if (!TopicNames.isLegal(topic)) {
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
