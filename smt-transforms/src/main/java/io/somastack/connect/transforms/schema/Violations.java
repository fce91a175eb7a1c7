package io.somastack.connect.transforms.schema;

import com.networknt.schema.ValidationMessage;
import io.somastack.connect.common.text.Utf8;
import java.util.Collection;
import java.util.Set;

/**
 * Schema violations as text that names where and which rule, never what the record holds: the text
 * ends up in logs, exceptions and dead-letter headers. The validator's own message is kept only for
 * keywords whose message arguments all come from the schema (a type name, a bound, the enum, a
 * required property) or, for additionalProperties and unevaluatedProperties, name the refused
 * property, as its location would; any other keyword is reported as its location and name alone.
 * Locations hold the record's property names: a record whose keys are data (a map keyed by e-mail
 * addresses) shows them.
 */
public final class Violations {

  private static final Set<String> SAFE_MESSAGES =
      Set.of(
          "required",
          "type",
          "enum",
          "const",
          "format",
          "pattern",
          "minimum",
          "maximum",
          "exclusiveMinimum",
          "exclusiveMaximum",
          "multipleOf",
          "minLength",
          "maxLength",
          "minItems",
          "maxItems",
          "uniqueItems",
          "minProperties",
          "maxProperties",
          "additionalProperties",
          "unevaluatedProperties",
          "dependentRequired");

  private Violations() {}

  /**
   * The most UTF-8 bytes the violations of one record take: they go into a dead-letter header or an
   * exception message, and a long path repeated per violation must not push the record past the
   * broker's max.message.bytes.
   */
  public static final int MAX_BYTES = 4096;

  private static final String SEPARATOR = "; ";
  private static final String CUT = "...";

  /** Room kept for "; ... and N more" (N is an int), so the summary never exceeds its budget. */
  private static final int MORE_BYTES = 32;

  /**
   * Up to {@code limit} violations in the validator's order, joined by "; " into at most {@code
   * maxBytes} bytes of UTF-8, ending with "... and N more" when some are left out. A first
   * violation too long on its own is cut, between characters, and ends with "...".
   */
  public static String summary(Collection<ValidationMessage> messages, int limit, int maxBytes) {
    int budget = maxBytes - MORE_BYTES;
    StringBuilder out = new StringBuilder();
    int bytes = 0;
    int shown = 0;
    for (ValidationMessage message : messages) {
      String entry = (shown == 0 ? "" : SEPARATOR) + describe(message);
      int size = Utf8.length(entry);
      if (shown == limit || bytes + size > budget) {
        if (shown == 0 && limit > 0) {
          out.append(Utf8.truncate(entry, budget, CUT));
          shown = 1;
        }
        break;
      }
      out.append(entry);
      bytes += size;
      shown++;
    }
    int more = messages.size() - shown;
    if (more > 0) {
      out.append(shown == 0 ? "" : SEPARATOR).append("... and ").append(more).append(" more");
    }
    return out.toString();
  }

  static String describe(ValidationMessage message) {
    String keyword = message.getType();
    if (SAFE_MESSAGES.contains(keyword)) {
      return message.getMessage();
    }
    return message.getInstanceLocation() + ": fails '" + keyword + "'";
  }
}
