package io.somastack.connect.postgres.record;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.postgres.write.TableLayout;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * Reads a record of a Connect dead-letter topic: its value (kept as JSON when it is JSON, else as a
 * JSON string of its text, or of its base64 when it is not even text) and the error context headers
 * Connect adds with {@code errors.deadletterqueue.context.headers.enable=true}.
 */
final class DeadLetterHeaders {

  private static final String PREFIX = "__connect.errors.";

  private DeadLetterHeaders() {}

  static void fill(SinkRecord record, TableLayout layout, Object[] values, int maxBytes) {
    values[layout.indexOf("topic")] = header(record, "topic");
    values[layout.indexOf("event")] = eventText(record.value(), maxBytes);
    values[layout.indexOf("error")] = header(record, "exception.message");
    values[layout.indexOf("error_class")] = header(record, "exception.class.name");
    values[layout.indexOf("source_partition")] = integer(header(record, "partition"));
    values[layout.indexOf("source_offset")] = longValue(header(record, "offset"));
    values[layout.indexOf("connector")] = header(record, "connector.name");
    values[layout.indexOf("stage")] = header(record, "stage");
  }

  private static String eventText(Object value, int maxBytes) {
    JsonNode event;
    if (value == null) {
      event = JsonNodeFactory.instance.nullNode();
    } else {
      try {
        event = RecordJson.toJson(value, null);
      } catch (DataException notJson) {
        event = JsonNodeFactory.instance.textNode(asText(value));
      }
    }
    String text = RecordJson.write(event);
    if (text.contains("\\u0000")) {
      // jsonb cannot hold NUL: keep the evidence, as base64 of the original text
      text =
          RecordJson.write(
              JsonNodeFactory.instance.textNode(
                  Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8))));
    }
    if (text.length() > maxBytes) {
      throw new BadRecordException(
          "dead letter is larger than record.max.bytes (" + maxBytes + ")");
    }
    return text;
  }

  private static String asText(Object value) {
    if (value instanceof byte[] bytes) {
      try {
        return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
      } catch (CharacterCodingException e) {
        return Base64.getEncoder().encodeToString(bytes);
      }
    }
    return value.toString();
  }

  private static String header(SinkRecord record, String name) {
    Header header = record.headers().lastWithName(PREFIX + name);
    if (header == null || header.value() == null) {
      return null;
    }
    Object value = header.value();
    String text =
        value instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : value.toString();
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
