package io.somastack.connect.transforms.schema;

import com.networknt.schema.ValidationMessage;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Schema violations as text that names where and which rule, never what the record holds: the text
 * ends up in logs, exceptions and dead-letter headers. The validator's own message is kept only for
 * keywords whose message arguments all come from the schema (a type name, a bound, the enum, a
 * required property); any other keyword is reported as its location and name alone.
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

  /** Up to {@code limit} violations, one per entry, in the validator's order. */
  public static List<String> describe(Collection<ValidationMessage> messages, int limit) {
    List<String> lines =
        messages.stream().limit(limit).map(Violations::describe).collect(Collectors.toList());
    if (messages.size() > limit) {
      lines.add("... and " + (messages.size() - limit) + " more");
    }
    return lines;
  }

  static String describe(ValidationMessage message) {
    String keyword = message.getType();
    if (SAFE_MESSAGES.contains(keyword)) {
      return message.getMessage();
    }
    return message.getInstanceLocation() + ": fails '" + keyword + "'";
  }
}
