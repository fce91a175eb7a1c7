package io.somastack.connect.postgres.record;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.text.Utf8;
import io.somastack.connect.postgres.config.ColumnType;
import io.somastack.connect.postgres.write.TableLayout;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Deque;
import java.util.List;
import org.apache.kafka.connect.data.Values;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.sink.SinkRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a record of a Connect dead-letter topic: its value, stored whole in a form jsonb can hold
 * (with {@code event_format} saying which), its key ({@link DeadLetterKey}) and timestamp, which a
 * replay needs, and the error context headers Connect adds with {@code
 * errors.deadletterqueue.context.headers.enable=true}. The archive has no dead-letter queue of its
 * own, so every dead letter within record.max.bytes must make a row the database accepts.
 */
final class DeadLetterHeaders {

  private static final Logger log = LoggerFactory.getLogger(DeadLetterHeaders.class);

  private static final String PREFIX = "__connect.errors.";

  /** The value is JSON, stored as jsonb stores it. */
  static final String JSON = "json";

  /** The value is UTF-8 text that is not JSON, stored as a JSON string of that text. */
  static final String TEXT = "text";

  /**
   * The value's bytes, base64 in a JSON string: they are not UTF-8, or hold what jsonb cannot (a
   * NUL, as a byte or as the escape \u0000; an unpaired surrogate escape such as \ud800).
   */
  static final String BASE64 = "base64";

  /** The value is null (a tombstone): event is JSON null. */
  static final String TOMBSTONE = "tombstone";

  private DeadLetterHeaders() {}

  /** The event column's JSON text, and its event_format. */
  private record Stored(String json, String format) {}

  static void fill(SinkRecord record, TableLayout layout, Object[] values, int maxBytes) {
    Stored event = event(record.value(), maxBytes);
    values[layout.indexOf("topic")] = header(record, "topic");
    values[layout.indexOf("event")] = event.json();
    values[layout.indexOf("event_format")] = event.format();
    DeadLetterKey.Stored key = DeadLetterKey.of(record.key(), record.keySchema());
    values[layout.indexOf("event_key")] = key.text();
    values[layout.indexOf("event_key_format")] = key.format();
    values[layout.indexOf("event_timestamp")] = timestamp(record);
    values[layout.indexOf("error")] = reason(record);
    values[layout.indexOf("error_class")] = header(record, "exception.class.name");
    values[layout.indexOf("source_partition")] = integer(header(record, "partition"));
    values[layout.indexOf("source_offset")] = longValue(header(record, "offset"));
    values[layout.indexOf("connector")] = header(record, "connector.name");
    values[layout.indexOf("stage")] = header(record, "stage");
  }

  /**
   * The record's timestamp: Connect's dead-letter queue keeps the failed record's own, unless the
   * dead-letter topic stamps its log-append time. One outside the years 1 to 9999, which could not
   * be stored, is left NULL (with a warning naming the position): the archive has no dead-letter
   * queue of its own, and the rest of the dead letter is worth more than its time.
   */
  private static String timestamp(SinkRecord record) {
    if (record.timestamp() == null) {
      return null;
    }
    try {
      return ColumnType.timestamp(Instant.ofEpochMilli(record.timestamp()), "the record timestamp");
    } catch (BadRecordException outOfRange) {
      log.warn(
          "Dead letter {} has a timestamp outside the years 1 to 9999: event_timestamp is NULL",
          Positions.of(record));
      return null;
    }
  }

  /** The event's JSON text and its format. */
  private static Stored event(Object value, int maxBytes) {
    if (value == null) {
      return new Stored("null", TOMBSTONE);
    }
    if (value instanceof byte[] bytes) {
      checkSize(bytes.length, maxBytes);
      return fromBytes(bytes, strictUtf8(bytes));
    }
    if (value instanceof String text) {
      // record.max.bytes bounds the dead letter as it came, not what base64 or escapes make of it
      checkSize(Utf8.length(text), maxBytes);
      return fromBytes(text.getBytes(StandardCharsets.UTF_8), text);
    }
    return converted(value, maxBytes);
  }

  /** Bytes as they came, and their text when they are strict UTF-8 (else null). */
  private static Stored fromBytes(byte[] bytes, String text) {
    if (text == null || text.indexOf('\0') >= 0) {
      return base64(bytes);
    }
    JsonNode parsed;
    try {
      // parsed from the text, not the bytes: Jackson would also take UTF-16 or UTF-32 for JSON
      parsed = RecordJson.parse(text);
    } catch (DataException notJson) {
      parsed = null;
    }
    if (parsed == null || parsed.isMissingNode()) { // blank text parses to nothing
      return new Stored(RecordJson.write(JsonNodeFactory.instance.textNode(text)), TEXT);
    }
    String json = RecordJson.write(parsed);
    return fitsJsonb(json, parsed) ? new Stored(json, JSON) : base64(bytes);
  }

  /**
   * Whether every decimal in the tree is within PostgreSQL's numeric, which jsonb stores numbers
   * as: at most 131072 digits before the point and 16383 after. Jackson reads 1e1000000 as a
   * BigDecimal of nine characters; integers are bounded by Jackson's number length limit.
   */
  private static boolean fitsNumeric(JsonNode root) {
    Deque<JsonNode> pending = new ArrayDeque<>(List.of(root));
    while (!pending.isEmpty()) {
      JsonNode node = pending.pop();
      if (node.isBigDecimal()) {
        BigDecimal number = node.decimalValue();
        if (number.precision() - number.scale() > 131_072 || number.scale() > 16_383) {
          return false;
        }
      }
      node.forEach(pending::push); // the elements or field values of a container
    }
    return true;
  }

  private static Stored base64(byte[] bytes) {
    return new Stored("\"" + Base64.getEncoder().encodeToString(bytes) + "\"", BASE64);
  }

  /**
   * A value a converter made (a Map, a Struct): as JSON, with the checks bytes get, and as base64
   * of that JSON's text where jsonb cannot hold it; or as its text when JSON has no form for it.
   */
  private static Stored converted(Object value, int maxBytes) {
    JsonNode tree;
    try {
      tree = RecordJson.toJson(value, null);
    } catch (DataException notJson) {
      tree = JsonNodeFactory.instance.textNode(value.toString()); // NaN, say
    }
    String json = RecordJson.write(tree);
    checkSize(Utf8.length(json), maxBytes);
    if (!fitsJsonb(json, tree)) {
      return base64(json.getBytes(StandardCharsets.UTF_8));
    }
    return new Stored(json, tree.isTextual() ? TEXT : JSON);
  }

  /**
   * Whether jsonb takes the JSON text as it is: it refuses an escaped NUL and a number beyond
   * numeric, and a lone surrogate would reach it as "?". The archive has no dead-letter queue for a
   * row refused.
   */
  private static boolean fitsJsonb(String json, JsonNode tree) {
    return !JsonBytes.hasNulEscape(json) && !Utf8.hasUnpairedSurrogate(json) && fitsNumeric(tree);
  }

  private static void checkSize(int bytes, int maxBytes) {
    if (bytes > maxBytes) {
      throw new BadRecordException(
          "dead letter is larger than record.max.bytes ("
              + maxBytes
              + "): raise it to at least the topic's max.message.bytes");
    }
  }

  static String strictUtf8(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /**
   * Connect's message, or what is known instead: the outbox source's dlq table has error NOT NULL,
   * and the exception message header is missing for a record put on the topic by hand, or with
   * errors.deadletterqueue.context.headers.enable=false, and null for an exception without one.
   */
  private static String reason(SinkRecord record) {
    String message = header(record, "exception.message");
    if (message != null) {
      return message;
    }
    String exceptionClass = header(record, "exception.class.name");
    if (exceptionClass != null) {
      return "no error message header; exception class " + exceptionClass;
    }
    for (Header header : record.headers()) {
      if (header.key().startsWith(PREFIX)) {
        return "no error message header";
      }
    }
    return "no error headers: Connect adds them only with"
        + " errors.deadletterqueue.context.headers.enable=true, and to the records it dead-letters";
  }

  /**
   * A header's text. Connect writes each as UTF-8 text (numbers as decimal text); with
   * ByteArrayConverter as the header converter it arrives as those bytes. Connect's default,
   * SimpleHeaderConverter, parses the text into a value (a number, a date, a map); that value is
   * stored as the converter writes it back, which can differ from the original in form only ("007"
   * is 7). NUL, which a text column cannot hold, is dropped.
   */
  private static String header(SinkRecord record, String name) {
    Header header = record.headers().lastWithName(PREFIX + name);
    if (header == null || header.value() == null) {
      return null;
    }
    Object value = header.value();
    String text =
        value instanceof byte[] b
            ? new String(b, StandardCharsets.UTF_8)
            : Values.convertToString(header.schema(), value);
    return text.replace("\0", "");
  }

  private static Integer integer(String text) {
    try {
      return text == null ? null : Integer.valueOf(text.trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static Long longValue(String text) {
    try {
      return text == null ? null : Long.valueOf(text.trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
