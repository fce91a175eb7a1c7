package io.somastack.connect.transforms.util;

import java.util.regex.Pattern;

/**
 * Kafka's rules for topic names, for transforms that name topics: checked when the config is
 * validated wherever the configured text alone decides it, since a topic Kafka refuses fails the
 * record only when it is produced.
 */
public final class TopicNames {

  public static final int MAX_LENGTH = 249;

  private static final Pattern LEGAL = Pattern.compile("[a-zA-Z0-9._-]{1," + MAX_LENGTH + "}");

  /** A placeholder of a template that parsed: "${" up to the next "}", never nested. */
  private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{[^}]*}");

  private TopicNames() {}

  public static boolean isLegal(String topic) {
    return topic != null
        && LEGAL.matcher(topic).matches()
        && !topic.equals(".")
        && !topic.equals("..");
  }

  /**
   * What keeps a parsed template's literal text (outside its placeholders) out of every legal topic
   * name, or null when some values of the placeholders could make a legal name.
   */
  public static String literalProblem(String template) {
    String literals = PLACEHOLDER.matcher(template).replaceAll("");
    if (literals.length() == template.length()) {
      return isLegal(template) ? null : "names no legal topic";
    }
    for (int i = 0; i < literals.length(); i++) {
      if (!LEGAL.matcher(literals.substring(i, i + 1)).matches()) {
        return "its text outside the placeholders holds '"
            + literals.charAt(i)
            + "', but topic names hold only [a-zA-Z0-9._-]";
      }
    }
    return literals.length() <= MAX_LENGTH
        ? null
        : "its text outside the placeholders is longer than a topic name may be ("
            + MAX_LENGTH
            + " characters)";
  }
}
