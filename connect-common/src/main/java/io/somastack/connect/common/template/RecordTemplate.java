package io.somastack.connect.common.template;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.common.record.RecordKeys;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;

/**
 * A name made from a record, such as {@code agent-${value.action_type}} or {@code ${topic}}: parsed
 * once, rendered per record without regular expressions. Placeholders are {@code ${topic}}, {@code
 * ${partition}}, {@code ${key}} (a primitive key), {@code ${key.<path>}} and {@code
 * ${value.<path>}}. There is no escape for a literal dollar sign and brace: every such pair opens a
 * placeholder.
 *
 * <p>A key is read as the sinks read a key's id: bytes (ByteArrayConverter) as their UTF-8 text;
 * for {@code ${key.<path>}}, text that is a JSON object (StringConverter) as that object; for
 * {@code ${key}}, text that is a JSON string ("acme" with its quotes, as a JSON serializer writes
 * it) as that string, and any other text as it is.
 */
public final class RecordTemplate {

  private sealed interface Part permits Literal, Topic, Partition, WholeKey, KeyField, ValueField {}

  private record Literal(String text) implements Part {}

  private record Topic() implements Part {}

  private record Partition() implements Part {}

  private record WholeKey() implements Part {}

  private record KeyField(FieldPath path) implements Part {}

  private record ValueField(FieldPath path) implements Part {}

  private final String text;
  private final List<Part> parts;
  private final boolean topicOnly;
  private final boolean readsKeyOrValue;
  private final boolean readsKeyFields;

  private RecordTemplate(String text, List<Part> parts) {
    this.text = text;
    this.parts = parts;
    // asked once per record by the sinks: decided once here, not by a stream per call
    this.topicOnly = parts.stream().allMatch(p -> p instanceof Literal || p instanceof Topic);
    this.readsKeyOrValue =
        parts.stream()
            .anyMatch(
                p -> p instanceof WholeKey || p instanceof KeyField || p instanceof ValueField);
    this.readsKeyFields = parts.stream().anyMatch(p -> p instanceof KeyField);
  }

  /** Parses a template; an unknown placeholder or an unclosed brace is rejected. */
  public static RecordTemplate parse(String text) {
    List<Part> parts = new ArrayList<>();
    int i = 0;
    while (i < text.length()) {
      int open = text.indexOf("${", i);
      if (open < 0) {
        parts.add(new Literal(text.substring(i)));
        break;
      }
      if (open > i) {
        parts.add(new Literal(text.substring(i, open)));
      }
      int close = text.indexOf('}', open);
      int next = text.indexOf("${", open + 2);
      if (close < 0 || (next >= 0 && next < close)) {
        // "${value.a-${topic}" would otherwise read a field named "a-${topic" no record has
        throw new IllegalArgumentException("template '" + text + "' has an unclosed ${");
      }
      parts.add(placeholder(text, text.substring(open + 2, close).trim()));
      i = close + 1;
    }
    return new RecordTemplate(text, List.copyOf(parts));
  }

  private static Part placeholder(String template, String name) {
    if (name.equals("topic")) {
      return new Topic();
    }
    if (name.equals("partition")) {
      return new Partition();
    }
    if (name.equals("key")) {
      return new WholeKey();
    }
    if (name.startsWith("key.")) {
      return new KeyField(FieldPath.parse(name.substring(4)));
    }
    if (name.startsWith("value.")) {
      return new ValueField(FieldPath.parse(name.substring(6)));
    }
    throw new IllegalArgumentException(
        "template '"
            + template
            + "' has an unknown placeholder ${"
            + name
            + "}; use ${topic}, ${partition}, ${key}, ${key.<path>} or ${value.<path>}");
  }

  /**
   * True when the template reads nothing but the topic, so it renders the same for every record of
   * a topic (what is rendered can be kept per topic). ${partition} is more than the topic.
   */
  public boolean dependsOnTopicOnly() {
    return topicOnly;
  }

  /**
   * True when the template reads the record's key or value: what it renders is the record's data (a
   * tenant's name, say), not the configuration's, topic's or partition's.
   */
  public boolean readsKeyOrValue() {
    return readsKeyOrValue;
  }

  /**
   * The value fields the template names (${value.<path>}), in order: a reader that extracts only
   * some fields of JSON text must extract these too for the template to find them.
   */
  public List<FieldPath> valuePaths() {
    List<FieldPath> paths = new ArrayList<>();
    for (Part part : parts) {
      if (part instanceof ValueField field) {
        paths.add(field.path());
      }
    }
    return paths;
  }

  /**
   * Renders the template for a record, or returns {@code null} when a field it names is missing or
   * holds no single value (null, an object, a list), so the caller can fall back or report the
   * record: an object would otherwise render as an empty string or as Java's text of a map.
   */
  public String render(ConnectRecord<?> record) {
    return render(record, record.value(), record.valueSchema());
  }

  /**
   * The same with the record's value read as {@code value} (of {@code valueSchema}, null for
   * schemaless): a sink that parsed JSON text or bytes renders from its tree without building a
   * record around it.
   */
  public String render(ConnectRecord<?> record, Object value, Schema valueSchema) {
    // JSON key text is parsed once a record, and only by a template that reads the key's fields
    Object key = readsKeyFields ? keyFields(record.key()) : null;
    Schema keySchema = key == record.key() ? record.keySchema() : null;
    StringBuilder out = new StringBuilder();
    for (Part part : parts) {
      String text = textOf(part, record, key, keySchema, value, valueSchema);
      if (text == null) {
        return null;
      }
      out.append(text);
    }
    return out.toString();
  }

  private static String textOf(
      Part part,
      ConnectRecord<?> record,
      Object key,
      Schema keySchema,
      Object value,
      Schema valueSchema) {
    if (part instanceof Literal literal) {
      return literal.text();
    }
    if (part instanceof Topic) {
      return record.topic();
    }
    if (part instanceof Partition) {
      return record.kafkaPartition() == null ? null : record.kafkaPartition().toString();
    }
    if (part instanceof WholeKey) {
      return wholeKeyText(record.key(), record.keySchema());
    }
    if (part instanceof KeyField field) {
      return fieldText(field.path(), key, keySchema);
    }
    return fieldText(((ValueField) part).path(), value, valueSchema);
  }

  /**
   * The key whose fields ${key.<path>} reads: JSON object text or bytes as that object, as the
   * sinks read key.fields and a tombstone's id fields from such a key. A Struct, a Map or a tree
   * stays as it is; text that is no JSON object has no fields.
   */
  private static Object keyFields(Object key) {
    Object text = RecordKeys.text(key);
    return text instanceof String json ? RecordKeys.jsonObjectOrNull(json) : text;
  }

  /**
   * ${key}: a text key (or bytes, as their UTF-8 text) as the sinks read a single id from it, the
   * text a JSON serializer wrote for a string ("acme" with its quotes) as that string and any other
   * text as it is; any other key as a single value.
   */
  private static String wholeKeyText(Object key, Schema schema) {
    Object text = RecordKeys.text(key);
    return text instanceof String string
        ? RecordKeys.unquoted(string)
        : singleValueText(text, schema);
  }

  private static String fieldText(FieldPath path, Object root, Schema rootSchema) {
    // the schema says what a Struct's java.util.Date is: a Date, a Time or a Timestamp
    Schema schema = path.schemaIn(root instanceof Struct struct ? struct.schema() : rootSchema);
    return singleValueText(path.get(root), schema);
  }

  /**
   * The text of a single value as JSON has it, so that a Struct, a Map and JSON text render alike:
   * a Date as ISO text, bytes as base64, a float with its own digits. Java's text of a Date depends
   * on the worker's time zone, and an array's ("[B@1b6d3586") changes with every record.
   */
  private static String singleValueText(Object value, Schema schema) {
    if (value == null
        || value instanceof Map<?, ?>
        || value instanceof Collection<?>
        || value instanceof Struct) {
      return null;
    }
    JsonNode node;
    try {
      node = value instanceof JsonNode json ? json : RecordJson.convert(value, schema);
    } catch (DataException noJson) {
      return null; // NaN, or a class JSON has no value for: no name can be made from it
    }
    return node.isValueNode() && !node.isNull() ? node.asText() : null;
  }

  @Override
  public String toString() {
    return text;
  }
}
