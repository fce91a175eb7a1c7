package io.somastack.connect.outbox;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.outbox.OutboxSourceConfig.TopicMode;
import io.somastack.connect.outbox.OutboxSourceConfig.ValueFormat;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Iterator;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Turns an outbox row into a {@link SourceRecord}, or says why it cannot be relayed. Pure: no
 * database, no logging, so it is unit-tested on its own.
 */
public final class RowMapper {

  /** The outcome for one row: a record, or the reason it is a bad row. */
  public sealed interface Result permits Good, Bad {}

  public record Good(SourceRecord record) implements Result {}

  public record Bad(OutboxRow row, String topic, String reason) implements Result {}

  private final TopicMode topicMode;
  private final String fixedTopic;
  private final Pattern allowedTopics;
  private final ValueFormat valueFormat;
  private final String valueSchemaName;
  private final String dedupeHeader;
  private final int payloadMaxBytes;

  /** value.struct.numbers: exact (Decimal where a float64 cannot hold a number) or double. */
  private final boolean exactStructNumbers;

  /** payload.json.check: whether a string or bytes payload must be JSON Connect reads. */
  private final boolean checkTextJson;

  public RowMapper(OutboxSourceConfig config) {
    this(
        config.topicMode(),
        config.fixedTopic(),
        config.allowedTopics(),
        config.valueFormat(),
        config.valueSchemaName(),
        config.dedupeHeader(),
        config.payloadMaxBytes(),
        config.exactStructNumbers(),
        config.payloadJsonCheck());
  }

  private RowMapper(
      TopicMode topicMode,
      String fixedTopic,
      Pattern allowedTopics,
      ValueFormat valueFormat,
      String valueSchemaName,
      String dedupeHeader,
      int payloadMaxBytes,
      boolean exactStructNumbers,
      boolean checkTextJson) {
    this.exactStructNumbers = exactStructNumbers;
    this.checkTextJson = checkTextJson;
    this.topicMode = topicMode;
    this.fixedTopic = fixedTopic;
    this.allowedTopics = allowedTopics;
    this.valueFormat = valueFormat;
    this.valueSchemaName = valueSchemaName;
    this.dedupeHeader = dedupeHeader;
    this.payloadMaxBytes = payloadMaxBytes;
  }

  public Result map(OutboxRow row) {
    String topic = topicMode == TopicMode.FIXED ? fixedTopic : row.topic();
    String topicProblem = topicProblem(topic);
    if (topicProblem != null) {
      return new Bad(row, topic, topicProblem);
    }
    if (row.payload() == null) {
      // a row over the limit is left in the database by the reader: only its sizes came
      return new Bad(row, topic, nullPayloadReason(row));
    }
    byte[] payload = row.payload().getBytes(StandardCharsets.UTF_8);
    if (payload.length > payloadMaxBytes) {
      return new Bad(row, topic, tooLarge(payload.length));
    }
    String createdProblem = createdProblem(row.createdAt());
    if (createdProblem != null) {
      return new Bad(row, topic, createdProblem);
    }
    String jsonProblem = textJsonProblem(row.payload(), payload);
    if (jsonProblem != null) {
      return new Bad(row, topic, jsonProblem);
    }
    try {
      ConnectHeaders headers = headers(row);
      long size = payload.length + utf8Length(row.key()) + headersLength(headers);
      if (size > payloadMaxBytes) {
        return new Bad(row, topic, tooLargeTogether(size));
      }
      SchemaAndValue value = value(row.payload(), payload);
      return new Good(
          new SourceRecord(
              row.table().sourcePartition(),
              row.cursor().toOffset(),
              topic,
              null,
              Schema.OPTIONAL_STRING_SCHEMA,
              row.key(),
              value.schema(),
              value.value(),
              row.createdAt() == null ? null : row.createdAt().toEpochMilli(),
              headers));
    } catch (DataException | IllegalArgumentException e) {
      return new Bad(row, topic, "cannot serialise: " + e.getMessage());
    } catch (StackOverflowError e) {
      // caught around the whole row, not inside the walk, so the stack is unwound by now
      return new Bad(row, topic, TOO_DEEP);
    }
  }

  private String tooLarge(long bytes) {
    return "payload is " + bytes + " bytes, over payload.max.bytes=" + payloadMaxBytes;
  }

  private String tooLargeTogether(long bytes) {
    return "payload, key and headers are "
        + bytes
        + " bytes, over payload.max.bytes="
        + payloadMaxBytes;
  }

  /**
   * Why a row without its payload is bad: its payload alone over the limit, or payload, key and
   * headers together as stored (the reader then reads none of the three), or a payload that is null
   * in the table. As stored, the headers count as their JSON text (braces, quotes, colons, commas,
   * escapes), not as the names and values the record would carry: the reason says so, since its
   * number cannot be had from the names and values.
   */
  private String nullPayloadReason(OutboxRow row) {
    if (row.payloadBytes() > payloadMaxBytes) {
      return tooLarge(row.payloadBytes());
    }
    if (row.storedBytes() > payloadMaxBytes) {
      return tooLargeAsStored(row.storedBytes());
    }
    return "payload is null";
  }

  private String tooLargeAsStored(long bytes) {
    return "payload, key and headers as stored (their text, the headers' as JSON) are "
        + bytes
        + " bytes, over payload.max.bytes="
        + payloadMaxBytes;
  }

  /**
   * Why a row nested deeper than the task thread's stack can read is a bad row. Reading a payload
   * into a Struct, and its headers, recurses once or more per level of nesting: up to the 1000
   * levels Jackson reads, which a small stack (a worker run with a smaller -Xss) cannot always
   * hold. A StackOverflowError, which Connect does not tolerate, would stop the relay at that row
   * on every restart.
   */
  static final String TOO_DEEP = "cannot serialise: payload or headers are nested too deeply";

  /**
   * The UTF-8 bytes of the headers' names and values. Kafka refuses a record by its whole size, so
   * large headers (or a large key) with a small payload would otherwise reach the producer, which
   * refuses the record and fails the task on that row after every restart.
   */
  private static long headersLength(ConnectHeaders headers) {
    long length = 0;
    for (Header header : headers) {
      length += utf8Length(header.key());
      if (header.value() != null) {
        length += utf8Length(header.value().toString());
      }
    }
    return length;
  }

  private static long utf8Length(String text) {
    return text == null ? 0 : text.getBytes(StandardCharsets.UTF_8).length;
  }

  /**
   * Why the creation time cannot be the record's timestamp, or null. Kafka timestamps are
   * milliseconds from 1970 up to Long.MAX_VALUE: Connect fails the task, outside errors.tolerance,
   * on a negative one, and PostgreSQL's infinity overflows the conversion. Either would stop the
   * relay at that row on every restart, so the row is dead-lettered instead.
   */
  private static String createdProblem(Instant created) {
    if (created == null || (!created.isBefore(Instant.EPOCH) && !created.isAfter(LAST_TIMESTAMP))) {
      return null;
    }
    return "created_at is outside the range of a Kafka record timestamp (1970 to year 292278994)";
  }

  private static final Instant LAST_TIMESTAMP = Instant.ofEpochMilli(Long.MAX_VALUE);

  /**
   * Why the topic cannot be the record's, or null. The reason, logged and stored with the dead
   * letter, never quotes the topic: it is row data, which may be megabytes long, hold newlines that
   * forge log lines, or be payload written into the wrong column. The row itself keeps it.
   */
  private String topicProblem(String topic) {
    if (topic == null || topic.isBlank()) {
      return "topic is null or empty";
    }
    if (!OutboxSourceConfig.isLegalTopic(topic)) {
      return "topic ("
          + topic.length()
          + " characters) is not a legal Kafka topic name: 1 to 249 of a-z A-Z 0-9 . _ -,"
          + " not . or ..";
    }
    if (allowedTopics != null && !allowedTopics.matcher(topic).matches()) {
      return "topic is not allowed by topic.allow.regex=" + allowedTopics;
    }
    return null;
  }

  /**
   * Why a payload relayed as its text is not JSON that Kafka Connect's JSON tooling reads, or null.
   * The relay does not parse it, but the first transform that reads it does (KeyFromField in the
   * shipped outbox-relay.json), and refuses it, failing the task at that row after every restart;
   * or with errors.tolerance=all drops it, and the row is deleted. A struct payload is parsed
   * below. With payload.json.check=false the deployment's payloads need not be JSON (XML, plain
   * text), and it says that nothing reads them as JSON: none is checked.
   */
  private String textJsonProblem(String text, byte[] bytes) {
    if (!checkTextJson) {
      return null;
    }
    switch (valueFormat) {
      case STRING:
        return ReadableJson.problem(text);
      case BYTES:
        return ReadableJson.problem(bytes);
      default:
        return null;
    }
  }

  private SchemaAndValue value(String text, byte[] bytes) {
    switch (valueFormat) {
      case STRING:
        return new SchemaAndValue(Schema.STRING_SCHEMA, text);
      case BYTES:
        return new SchemaAndValue(Schema.BYTES_SCHEMA, bytes);
      default:
        JsonNode json = RecordJson.parse(text);
        if (!json.isObject()) {
          throw new DataException("value.format=struct needs a JSON object payload");
        }
        return JsonStructs.toStruct(
            exactStructNumbers ? json : JsonStructs.asDoubles(json), valueSchemaName);
    }
  }

  private ConnectHeaders headers(OutboxRow row) {
    ConnectHeaders headers = new ConnectHeaders();
    String dedupe = row.dedupeKey() != null ? row.dedupeKey() : row.table().name() + ":" + row.id();
    headers.addString(dedupeHeader, dedupe);
    if (row.headers() != null) {
      JsonNode json = RecordJson.parse(row.headers());
      if (json.isNull()) {
        return headers;
      }
      if (!json.isObject()) {
        throw new DataException("headers must be a JSON object");
      }
      Iterator<Map.Entry<String, JsonNode>> fields = json.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> field = fields.next();
        if (field.getKey().equals(dedupeHeader)) {
          continue; // the dedupe header is the row's, never overridden
        }
        JsonNode value = field.getValue();
        headers.addString(field.getKey(), value.isNull() ? null : headerText(value));
      }
    }
    return headers;
  }

  /**
   * Scalars as their text, objects and arrays as JSON. Decimals are written out plainly:
   * BigDecimal's own text would turn PostgreSQL's 0.00000001 into 1E-8.
   */
  private static String headerText(JsonNode value) {
    if (value.isBigDecimal()) {
      return value.decimalValue().toPlainString();
    }
    return value.isValueNode() ? value.asText() : RecordJson.write(value);
  }
}
