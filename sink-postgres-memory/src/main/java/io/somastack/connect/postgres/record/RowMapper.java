package io.somastack.connect.postgres.record;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.somastack.connect.common.json.JsonPathReader;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.common.record.Positions;
import io.somastack.connect.common.sql.SqlIdentifier;
import io.somastack.connect.common.template.RecordTemplate;
import io.somastack.connect.common.text.Utf8;
import io.somastack.connect.postgres.config.ColumnSpec;
import io.somastack.connect.postgres.config.ColumnType;
import io.somastack.connect.postgres.config.PostgresSinkConfig;
import io.somastack.connect.postgres.config.WriteMode;
import io.somastack.connect.postgres.write.TableLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * Turns a sink record into the values of its row, all in Java: JSON parsing, extraction of the
 * configured fields, type checks. Anything wrong with the record throws {@link BadRecordException},
 * so it alone is dead-lettered and the rest of the batch lands.
 */
public final class RowMapper {

  private final PostgresSinkConfig.Tombstones tombstones;
  private final WriteMode mode;
  private final TableLayout layout;
  private final RecordTemplate tableTemplate;
  private final String schema;
  private final FieldPath idField;
  private final List<FieldPath> keyFields;
  private final FieldPath versionField;
  private final FieldPath auditTimeField;
  private final List<ColumnSpec> columns;
  private final int maxBytes;
  private final Map<String, String> tableByTopic = new HashMap<>();
  private final JsonPathReader fieldsOnly;

  /**
   * Whether any bigint path (version.field, a bigint column) may be a Timestamp field: its JSON is
   * ISO text, which bigint refuses, where the docs promise an epoch-ms version. Only a value with a
   * schema (a Struct, or a Map with one) can say so.
   */
  private final boolean readsBigints;

  /** The schema {@link #versionIsTimestamp} and {@link #timestampColumns} were found in. */
  private Schema timestampsSchema;

  private boolean versionIsTimestamp;
  private final boolean[] timestampColumn;

  public RowMapper(PostgresSinkConfig config, TableLayout layout) {
    this.mode = config.writeMode();
    this.layout = layout;
    this.tableTemplate = config.tableTemplate();
    this.schema = config.tableSchema();
    this.idField = config.idField();
    this.keyFields = config.keyFields();
    this.versionField = config.versionField();
    this.auditTimeField = config.auditTimeField();
    this.columns = config.columns();
    this.maxBytes = config.recordMaxBytes();
    this.tombstones = config.tombstones();
    this.fieldsOnly = new JsonPathReader(pathsRead());
    this.readsBigints =
        (mode == WriteMode.UPSERT && versionField != null)
            || columns.stream().anyMatch(spec -> spec.type() == ColumnType.BIGINT);
    this.timestampColumn = new boolean[columns.size()];
  }

  /** Every path this mapper reads from an event; JSON text is parsed for these alone. */
  private List<FieldPath> pathsRead() {
    List<FieldPath> paths = new ArrayList<>();
    switch (mode) {
      case APPEND:
        paths.add(idField);
        break;
      case AUDIT:
        paths.add(idField);
        paths.add(auditTimeField);
        break;
      case UPSERT:
        paths.addAll(keyFields);
        if (versionField != null) {
          paths.add(versionField);
        }
        break;
      default:
        break;
    }
    columns.forEach(spec -> paths.add(spec.path()));
    paths.addAll(tableTemplate.valuePaths()); // ${value.tenant} in table.name.format
    return paths;
  }

  /**
   * Why a record nested deeper than the task thread's stack is refused. Reading a value (its JSON
   * tree, payload, key or a mapped field) recurses once or more per level of nesting, and Structs
   * and Maps from a converter have no depth limit: such a record is its own fault and is
   * dead-lettered, where a StackOverflowError, which Connect's errors.tolerance does not catch,
   * would kill the task. It is caught around the whole record, not inside the walk, so the stack is
   * unwound and nothing of the record is half built.
   */
  public static final String TOO_DEEP =
      "event is nested too deeply to be read (its value, or a tombstone's or dead letter's key)";

  /**
   * The row for a record, or {@code null} when the record is a tombstone this mode skips.
   *
   * @throws BadRecordException when the record can never be written
   */
  public EventRow map(SinkRecord record) {
    try {
      return mapRecord(record);
    } catch (StackOverflowError tooDeep) {
      throw new BadRecordException(TOO_DEEP);
    }
  }

  private EventRow mapRecord(SinkRecord record) {
    if (record.value() == null && mode != WriteMode.DEAD_LETTER) {
      return tombstone(record);
    }
    if (mode == WriteMode.DEAD_LETTER) {
      return deadLetter(record, table(record));
    }
    JsonNode event = readEvent(record);
    String table = table(record, event);
    Object payload = payloadText(record.value(), event);
    Object[] values = new Object[layout.columns().size()];
    String identity;
    switch (mode) {
      case APPEND:
        identity = requiredText(event, idField);
        values[layout.indexOf(TableLayout.EVENT_ID)] = identity;
        break;
      case AUDIT:
        identity = Positions.of(record);
        values[layout.indexOf(TableLayout.EVENT_ID)] = requiredText(event, idField);
        values[layout.indexOf(TableLayout.EVENT_TIME)] = eventTime(event, record);
        break;
      case UPSERT:
        identity = fillKey(event, values, false);
        if (versionField != null) {
          values[layout.indexOf(TableLayout.EVENT_VERSION)] = version(record, event);
        }
        break;
      default:
        throw new IllegalStateException(mode.name());
    }
    values[layout.indexOf(TableLayout.PAYLOAD)] = payload;
    fillPosition(record, values);
    fillColumns(record, event, values);
    return new EventRow(record, table, EventRow.Kind.WRITE, identity, values);
  }

  private EventRow tombstone(SinkRecord record) {
    if (mode != WriteMode.UPSERT || tombstones == PostgresSinkConfig.Tombstones.IGNORE) {
      // skipped before its table is named: a template reading the value (which the config
      // allows only where tombstones delete nothing) names none for a tombstone
      return null;
    }
    String table = table(record);
    if (record.key() == null) {
      throw new BadRecordException("tombstone without a key: nothing to delete");
    }
    JsonNode key = keyJson(record);
    Object[] values = new Object[layout.columns().size()];
    String identity = fillKey(key, values, true);
    fillPosition(record, values);
    return new EventRow(record, table, EventRow.Kind.DELETE, identity, values);
  }

  /**
   * A record key as JSON. A single value (a string, number, boolean or timestamp, or JSON text of
   * one) stands for the single key field, read as the same field of an event would be, so the
   * tombstone of a key names the row its events make.
   */
  private JsonNode keyJson(SinkRecord record) {
    Object key = record.key();
    JsonNode single;
    if (key instanceof String || key instanceof byte[]) {
      String text = key instanceof String s ? s : new String((byte[]) key, StandardCharsets.UTF_8);
      single = JsonNodeFactory.instance.textNode(text);
      try {
        JsonNode parsed = RecordJson.toJson(key, record.keySchema());
        if (parsed.isObject()) {
          return parsed;
        }
        if (parsed.isTextual()) {
          single = parsed; // "m9" with its quotes, a key a JSON serializer wrote: it names m9
        }
        // Unquoted text that reads as a number (1.10, 12e4) stays the text it is: string ids
        // look like that too (hex ids), and taking it for a number would delete another row.
      } catch (DataException notJson) {
        // a plain string key: the value of the single key field
      }
    } else {
      // a Boolean, a Long, a Timestamp: as the same value in an event would be written as JSON
      single =
          key instanceof ByteBuffer
              ? RecordJson.toJson(key, record.keySchema())
              : RecordJson.convert(key, record.keySchema());
      if (single.isObject()) {
        return single;
      }
      if (single.isContainerNode()) {
        throw new BadRecordException(
            "tombstone key is a JSON array, not an object or a single value");
      }
    }
    if (keyFields.size() != 1) {
      throw new BadRecordException(
          "tombstone key is a single value but " + keyFields.size() + " key fields are configured");
    }
    return JsonNodeFactory.instance.objectNode().set(keyFields.get(0).leaf(), single);
  }

  /**
   * Fills the key columns and returns the row's identity: each key text after its length, so no two
   * keys share one (("a:b", "c") and ("a", "b:c") stay apart).
   */
  private String fillKey(JsonNode source, Object[] values, boolean recordKey) {
    StringBuilder identity = new StringBuilder();
    for (FieldPath path : keyFields) {
      Object raw = path.get(source);
      if (raw == null && recordKey) {
        // a key object carries the key fields flat, by their column names; an event does not: one
        // lacking entity.id must not be keyed by its own top-level id
        raw = path.leafPath().get(source);
      }
      if (raw == null) {
        throw new BadRecordException(
            "key field '" + path + "' is missing from the record " + (recordKey ? "key" : "value"));
      }
      String text = (String) ColumnType.TEXT.convert((JsonNode) raw, path.toString());
      if (text.isBlank()) {
        // as append mode's empty event id: names no entity, so it is a bad record, not a row
        throw new BadRecordException("key field '" + path + "' is empty");
      }
      values[layout.indexOf(path.leaf())] = text;
      identity.append(text.length()).append(':').append(text);
    }
    return identity.toString();
  }

  private void fillPosition(SinkRecord record, Object[] values) {
    values[layout.indexOf(TableLayout.KAFKA_TOPIC)] = record.originalTopic();
    values[layout.indexOf(TableLayout.KAFKA_PARTITION)] = record.originalKafkaPartition();
    values[layout.indexOf(TableLayout.KAFKA_OFFSET)] = record.originalKafkaOffset();
  }

  private void fillColumns(SinkRecord record, JsonNode event, Object[] values) {
    boolean[] timestamps = timestampColumns(record);
    int index = layout.mappedFrom();
    for (int i = 0; i < columns.size(); i++) {
      ColumnSpec spec = columns.get(i);
      values[index++] =
          timestamps != null && timestamps[i]
              ? epochMillis(record.value(), spec.path(), false)
              : spec.type().convert((JsonNode) spec.path().get(event), spec.path().toString());
    }
  }

  /** The version: an integer, or a Timestamp field's epoch milliseconds. */
  private Object version(SinkRecord record, JsonNode event) {
    if (timestampColumns(record) != null && versionIsTimestamp) {
      return epochMillis(record.value(), versionField, true);
    }
    return ColumnType.BIGINT.convert(required(event, versionField), versionField.toString());
  }

  /**
   * Which bigint columns are Timestamp fields in this record's value schema (and sets {@link
   * #versionIsTimestamp}), or null when none can be: no bigint path, or a value without a schema
   * (JSON text or bytes, a schemaless Map), which costs no more than these checks. Found again only
   * when the schema changes: a converter hands over one schema object for many records.
   */
  private boolean[] timestampColumns(SinkRecord record) {
    Schema valueSchema = record.valueSchema();
    if (!readsBigints
        || valueSchema == null
        || !(record.value() instanceof Struct || record.value() instanceof Map<?, ?>)) {
      return null;
    }
    if (valueSchema != timestampsSchema) {
      versionIsTimestamp = versionField != null && isTimestamp(versionField.schemaIn(valueSchema));
      for (int i = 0; i < columns.size(); i++) {
        ColumnSpec spec = columns.get(i);
        timestampColumn[i] =
            spec.type() == ColumnType.BIGINT && isTimestamp(spec.path().schemaIn(valueSchema));
      }
      timestampsSchema = valueSchema;
    }
    return timestampColumn;
  }

  private static boolean isTimestamp(Schema schema) {
    return schema != null && Timestamp.LOGICAL_NAME.equals(schema.name());
  }

  /**
   * A Timestamp field's epoch milliseconds (a bigint column or version of it: "a numeric version,
   * or epoch-ms timestamp"), read from the Connect value itself.
   */
  private static Long epochMillis(Object value, FieldPath path, boolean required) {
    Object raw = path.get(value);
    if (raw instanceof java.util.Date date) {
      return date.getTime();
    }
    if (raw == null && required) {
      throw new BadRecordException("required field '" + path + "' is missing");
    }
    if (raw != null) {
      // a Timestamp schema holds a java.util.Date; Struct.put checks it, a Map's values are not
      throw new BadRecordException("field '" + path + "' is not a Timestamp's java.util.Date");
    }
    return null;
  }

  /**
   * The event's tree, holding at least every path the mapper reads. JSON text is read in one
   * streaming pass that keeps only those paths (and still validates all of it): the payload column
   * stores the text itself, so the rest of the tree would be built only to be dropped.
   */
  private JsonNode readEvent(SinkRecord record) {
    Object value = record.value();
    Schema schema = record.valueSchema();
    JsonNode event;
    try {
      if (value instanceof String text) {
        return fieldsOnly.read(text);
      }
      if (value instanceof byte[] bytes && (schema == null || schema.type() == Schema.Type.BYTES)) {
        checkEncoding(bytes);
        return fieldsOnly.read(bytes);
      }
      event = RecordJson.toJson(value, schema);
    } catch (JsonPathReader.NotAnObjectException e) {
      throw new BadRecordException("event is a JSON " + e.kind() + ", not an object");
    } catch (DataException e) {
      throw new BadRecordException(e.getMessage(), e);
    }
    if (!event.isObject()) {
      throw new BadRecordException(
          "event is a JSON " + event.getNodeType().name().toLowerCase() + ", not an object");
    }
    return event;
  }

  /**
   * JSON bytes must be strict UTF-8 without a byte order mark, as PostgreSQL reads them: what
   * Jackson alone would accept (an overlong form, a BOM, UTF-16) would be parsed as one text and
   * stored as another, or refused by the database only after the batch was written.
   */
  private static void checkEncoding(byte[] bytes) {
    if (JsonBytes.startsWithByteOrderMark(bytes)) {
      throw new BadRecordException("event is not valid JSON: it starts with a byte order mark");
    }
    int malformed = JsonBytes.malformedUtf8At(bytes);
    if (malformed >= 0) {
      throw new BadRecordException("event is not valid UTF-8 (at byte " + malformed + ")");
    }
  }

  /**
   * The payload as JSON text, checked against what jsonb and the size limit accept. JSON that
   * arrived as text is stored as it came, already proven valid by the parse, instead of being
   * written out again (that second pass was a seventh of the task's CPU): a String as it is, UTF-8
   * bytes as {@link JsonBytes}, undecoded.
   */
  private Object payloadText(Object value, JsonNode event) {
    if (value instanceof byte[] bytes) {
      checkSize(bytes.length);
      if (JsonBytes.hasNulEscape(bytes)) {
        throw nulEscape();
      }
      return new JsonBytes(bytes);
    }
    String text = value instanceof String original ? original : RecordJson.write(event);
    if (!(value instanceof String) && Utf8.hasUnpairedSurrogate(text)) {
      // a Struct's or Map's string: written out raw, it would be stored as '?' (JSON text that
      // escapes one is refused by jsonb itself; a converter's String never holds one)
      throw new BadRecordException("event " + ColumnType.Text.UNPAIRED_SURROGATE);
    }
    if (Utf8.longerThan(text, maxBytes)) {
      checkSize(Integer.MAX_VALUE); // refused, as any event over record.max.bytes
    }
    if (JsonBytes.hasNulEscape(text)) {
      throw nulEscape();
    }
    return text;
  }

  private void checkSize(int utf8Length) {
    if (utf8Length > maxBytes) {
      throw new BadRecordException("event is larger than record.max.bytes (" + maxBytes + ")");
    }
  }

  private static BadRecordException nulEscape() {
    return new BadRecordException("event contains a \\u0000 character, which jsonb cannot store");
  }

  private static JsonNode required(JsonNode event, FieldPath path) {
    Object value = path.get(event);
    if (value == null) {
      throw new BadRecordException("required field '" + path + "' is missing");
    }
    return (JsonNode) value;
  }

  private static String requiredText(JsonNode event, FieldPath path) {
    String text = (String) ColumnType.TEXT.convert(required(event, path), path.toString());
    if (text.isBlank()) {
      throw new BadRecordException("required field '" + path + "' is empty");
    }
    return text;
  }

  private String eventTime(JsonNode event, SinkRecord record) {
    Object value = auditTimeField.get(event);
    if (value != null) {
      // the epoch-ms path of TIMESTAMPTZ has no sub-millisecond part to lose
      return (String) ColumnType.TIMESTAMPTZ.convert((JsonNode) value, auditTimeField.toString());
    }
    if (record.timestamp() == null) {
      throw new BadRecordException(
          "no event time: field '"
              + auditTimeField
              + "' is missing and the record has no timestamp");
    }
    return ColumnType.timestamp(Instant.ofEpochMilli(record.timestamp()), "the record timestamp");
  }

  private EventRow deadLetter(SinkRecord record, String table) {
    Object[] values = new Object[layout.columns().size()];
    DeadLetterHeaders.fill(record, layout, values, maxBytes);
    fillPosition(record, values);
    String identity = Positions.of(record);
    return new EventRow(record, table, EventRow.Kind.WRITE, identity, values);
  }

  /**
   * The table of an event: a template naming value fields reads them from the event as parsed, so
   * that JSON text and bytes (StringConverter, ByteArrayConverter) name their table as a Map does.
   */
  private String table(SinkRecord record, JsonNode event) {
    if (tableTemplate.dependsOnTopicOnly()) {
      return table(record);
    }
    return named(tableTemplate.render(record, event, null));
  }

  private String table(SinkRecord record) {
    if (tableTemplate.dependsOnTopicOnly()) {
      // the usual case (${topic}, or a fixed name): rendered and quoted once per topic
      return tableByTopic.computeIfAbsent(record.topic(), topic -> render(record));
    }
    return render(record);
  }

  private String render(SinkRecord record) {
    return named(tableTemplate.render(record));
  }

  /** The qualified table of a rendered name; a name the template could not make is bad data. */
  private String named(String name) {
    if (name == null) {
      throw new BadRecordException(
          "table name template '" + tableTemplate + "' names a missing field");
    }
    return SqlIdentifier.qualified(schema, TableName.of(name));
  }
}
