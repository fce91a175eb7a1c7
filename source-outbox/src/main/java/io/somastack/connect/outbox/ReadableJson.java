package io.somastack.connect.outbox;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.somastack.connect.common.json.RecordJson;
import java.io.IOException;

/**
 * Whether a payload relayed as its text (value.format string or bytes) is JSON that Kafka Connect's
 * JSON tooling reads: connect-common's {@link RecordJson}, with which the project's transforms
 * (KeyFromField in the shipped outbox-relay.json) parse it, and Kafka's JsonConverter, both with
 * Jackson's limits. PostgreSQL stores more: jsonb nested deeper than 1000 levels or numbers longer
 * than 1000 digits, and in a json or text column duplicate keys or text that is no JSON at all.
 * Relayed, such a payload fails the first transform that reads it, and with it the task, at that
 * row after every restart; it is a bad row instead.
 *
 * <p>Reads with RecordJson's own parser settings (limits, duplicate keys refused, no comments) as a
 * stream of tokens, building no tree: only what a tree would also decode is decoded, decimals (read
 * as BigDecimal, which fails for an exponent beyond an int) and, where the text is long enough to
 * hold one over the limit, strings.
 */
final class ReadableJson {

  private static final JsonFactory PARSERS = RecordJson.MAPPER.getFactory();
  private static final StreamReadConstraints LIMITS = PARSERS.streamReadConstraints();

  /** What the reasons call what they read, as RecordJson's call it "value". */
  private static final String SUBJECT = "payload";

  private ReadableJson() {}

  /**
   * Why the text is not JSON RecordJson reads, or null: {@link RecordJson#reason}, which never
   * quotes the text.
   */
  static String problem(String text) {
    try (JsonParser parser = PARSERS.createParser(text)) {
      return problem(parser, text.length());
    } catch (IOException e) {
      return RecordJson.reason(e, SUBJECT);
    }
  }

  /**
   * Why the UTF-8 bytes are not JSON RecordJson reads, or null. Read as bytes, as a transform reads
   * a bytes value: Jackson counts a field name's length in bytes then, in characters in text.
   */
  static String problem(byte[] utf8) {
    try (JsonParser parser = PARSERS.createParser(utf8)) {
      return problem(parser, utf8.length);
    } catch (IOException e) {
      return RecordJson.reason(e, SUBJECT);
    }
  }

  /**
   * Reads the one value the input holds. Blank input is no value, which RecordJson reads as a
   * missing node (and a transform as a value without the field), so it is no problem here either.
   */
  private static String problem(JsonParser parser, int inputLength) throws IOException {
    boolean longStrings = inputLength > LIMITS.getMaxStringLength();
    JsonToken token = parser.nextToken();
    if (token == null) {
      return null;
    }
    try {
      decode(parser, token, longStrings);
      while (!parser.getParsingContext().inRoot()) {
        token = parser.nextToken();
        if (token == null) { // a tree read throws here
          return SUBJECT + " is not valid JSON: it ends inside an object or array";
        }
        decode(parser, token, longStrings);
      }
    } catch (NumberFormatException e) {
      return RecordJson.reason(e, SUBJECT);
    }
    if (parser.nextToken() != null) {
      return SUBJECT
          + " is not valid JSON: more follows its value"
          + RecordJson.where(parser.currentLocation());
    }
    return null;
  }

  /** Decodes what a tree decodes and the tokens alone do not check. */
  private static void decode(JsonParser parser, JsonToken token, boolean longStrings)
      throws IOException {
    if (token == JsonToken.VALUE_NUMBER_FLOAT) {
      parser.getDecimalValue(); // RecordJson reads decimals as BigDecimal
    } else if (token == JsonToken.VALUE_STRING && longStrings) {
      parser.getText(); // the string length limit is checked when its text is made
    }
  }
}
