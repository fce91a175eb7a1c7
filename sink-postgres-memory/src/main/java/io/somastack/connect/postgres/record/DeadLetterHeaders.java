package io.somastack.connect.postgres.record;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.record.Positions;
import io.somastack.connect.common.text.Utf8;
import io.somastack.connect.postgres.config.ColumnType;
import io.somastack.connect.postgres.write.DeadLetterColumns;
import io.somastack.connect.postgres.write.TableLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.connect.data.Schema;
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

  private DeadLetterHeaders() {}

  /**
   * The event column's JSON text, and its event_format ({@link DeadLetterFormat}): JSON as jsonb
   * stores it; text as a JSON string of it; base64 in a JSON string also where jsonb cannot hold
   * the JSON (an escaped NUL, an unpaired surrogate escape such as \ud800, a number beyond
   * numeric).
   */
  private record Stored(String json, String format) {}

  static void fill(SinkRecord record, TableLayout layout, Object[] values, int maxBytes) {
    Stored event = event(record.value(), record.valueSchema(), maxBytes);
    Map<String, Header> headers = errorHeaders(record);
    values[layout.indexOf(DeadLetterColumns.TOPIC)] = text(headers, "topic");
    values[layout.indexOf(DeadLetterColumns.EVENT)] = event.json();
    values[layout.indexOf(DeadLetterColumns.EVENT_FORMAT)] = event.format();
    DeadLetterKey.Stored key = DeadLetterKey.of(record.key(), record.keySchema());
    values[layout.indexOf(DeadLetterColumns.EVENT_KEY)] = key.text();
    values[layout.indexOf(DeadLetterColumns.EVENT_KEY_FORMAT)] = key.format();
    values[layout.indexOf(DeadLetterColumns.EVENT_TIMESTAMP)] = timestamp(record);
    values[layout.indexOf(DeadLetterColumns.ERROR)] = reason(headers);
    values[layout.indexOf(DeadLetterColumns.ERROR_CLASS)] = text(headers, "exception.class.name");
    values[layout.indexOf(DeadLetterColumns.SOURCE_PARTITION)] =
        number(text(headers, "partition"), Integer::valueOf);
    values[layout.indexOf(DeadLetterColumns.SOURCE_OFFSET)] =
        number(text(headers, "offset"), Long::valueOf);
    values[layout.indexOf(DeadLetterColumns.CONNECTOR)] = text(headers, "connector.name");
    values[layout.indexOf(DeadLetterColumns.STAGE)] = text(headers, "stage");
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
  private static Stored event(Object value, Schema schema, int maxBytes) {
    if (value == null) {
      return new Stored("null", DeadLetterFormat.TOMBSTONE);
    }
    if (value instanceof ByteBuffer buffer) {
      // as a key's: not its description
      return event(DeadLetterFormat.bytes(buffer), schema, maxBytes);
    }
    if (value instanceof byte[] bytes) {
      checkSize(bytes.length, maxBytes);
      return fromBytes(bytes, DeadLetterFormat.utf8Text(bytes));
    }
    if (value instanceof String text) {
      // record.max.bytes bounds the dead letter as it came, not what base64 or escapes make of it
      checkSize(Utf8.length(text), maxBytes);
      return fromBytes(text.getBytes(StandardCharsets.UTF_8), text);
    }
    return converted(value, schema, maxBytes);
  }

  /** Bytes as they came, and their text ({@link DeadLetterFormat#utf8Text}, or a String's). */
  private static Stored fromBytes(byte[] bytes, String text) {
    if (text == null || text.indexOf('\0') >= 0) {
      return base64(bytes);
    }
    // parsed from the text, not the bytes: Jackson would also take UTF-16 or UTF-32 for JSON
    JsonNode parsed = DeadLetterFormat.parsedJson(text);
    if (parsed == null) {
      String json = RecordJson.write(JsonNodeFactory.instance.textNode(text));
      return new Stored(json, DeadLetterFormat.TEXT);
    }
    String json = RecordJson.write(parsed);
    return fitsJsonb(json, parsed) ? new Stored(json, DeadLetterFormat.JSON) : base64(bytes);
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
        if (!NumericLimits.fits(node.decimalValue())) {
          return false;
        }
      }
      node.forEach(pending::push); // the elements or field values of a container
    }
    return true;
  }

  private static Stored base64(byte[] bytes) {
    String json = "\"" + Base64.getEncoder().encodeToString(bytes) + "\"";
    return new Stored(json, DeadLetterFormat.BASE64);
  }

  /**
   * A value a converter made (a Map, a Struct, a number, a Timestamp): as JSON, read with its
   * schema as the key is ({@link DeadLetterKey}), so a Long is the number it is and a Timestamp or
   * Date its ISO text, not Java's (time-zone dependent) text of a Date; with the checks bytes get,
   * and as base64 of that JSON's text where jsonb cannot hold it; or as its text when JSON has no
   * form for it (a NaN).
   */
  private static Stored converted(Object value, Schema schema, int maxBytes) {
    JsonNode tree;
    String format = DeadLetterFormat.JSON;
    try {
      tree = RecordJson.convert(value, schema);
    } catch (DataException notJson) {
      tree = JsonNodeFactory.instance.textNode(value.toString()); // NaN, say
      format = DeadLetterFormat.TEXT;
    }
    String json = RecordJson.write(tree);
    checkSize(Utf8.length(json), maxBytes);
    if (!fitsJsonb(json, tree)) {
      return base64(json.getBytes(StandardCharsets.UTF_8));
    }
    return new Stored(json, format);
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

  /**
   * Connect's message, or what is known instead: the outbox source's dlq table has error NOT NULL,
   * and the exception message header is missing for a record put on the topic by hand, or with
   * errors.deadletterqueue.context.headers.enable=false, and null for an exception without one.
   */
  private static String reason(Map<String, Header> headers) {
    String message = text(headers, "exception.message");
    if (message != null) {
      return message;
    }
    String exceptionClass = text(headers, "exception.class.name");
    if (exceptionClass != null) {
      return "no error message header; exception class " + exceptionClass;
    }
    if (!headers.isEmpty()) {
      return "no error message header";
    }
    return "no error headers: Connect adds them only with"
        + " errors.deadletterqueue.context.headers.enable=true, and to the records it dead-letters";
  }

  /**
   * The error context headers by name without the prefix, found in one pass; of headers of one name
   * the last counts, as in {@code Headers.lastWithName}.
   */
  private static Map<String, Header> errorHeaders(SinkRecord record) {
    Map<String, Header> headers = new HashMap<>();
    for (Header header : record.headers()) {
      if (header.key().startsWith(PREFIX)) {
        headers.put(header.key().substring(PREFIX.length()), header);
      }
    }
    return headers;
  }

  /**
   * A header's text. Connect writes each as UTF-8 text (numbers as decimal text); with
   * ByteArrayConverter as the header converter it arrives as those bytes. Connect's default,
   * SimpleHeaderConverter, parses the text into a value (a number, a date, a map); that value is
   * stored as the converter writes it back, which can differ from the original in form only ("007"
   * is 7). NUL, which a text column cannot hold, is dropped.
   */
  private static String text(Map<String, Header> headers, String name) {
    Header header = headers.get(name);
    Object value = header == null ? null : header.value();
    if (value == null) {
      return null;
    }
    String text =
        value instanceof byte[] b
            ? new String(b, StandardCharsets.UTF_8)
            : Values.convertToString(header.schema(), value);
    return text.replace("\0", "");
  }

  /** A header's number, or null when it is missing or not one. */
  private static <T> T number(String text, Function<String, T> parse) {
    try {
      return text == null ? null : parse.apply(text.trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
