package io.somastack.connect.common.sql;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * SQL identifiers for PostgreSQL. Identifiers are always quoted, so a table called {@code user} or
 * {@code memory.events} is safe; names derived from topics are sanitised first, so what lands in
 * the catalog is predictable and fits PostgreSQL's 63-byte limit.
 */
public final class SqlIdentifier {

  /** PostgreSQL's NAMEDATALEN - 1. */
  public static final int MAX_BYTES = 63;

  private SqlIdentifier() {}

  /** {@code "name"}, with embedded double quotes doubled. */
  public static String quote(String name) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("an SQL identifier must not be empty");
    }
    if (name.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("an SQL identifier must not contain NUL");
    }
    return '"' + name.replace("\"", "\"\"") + '"';
  }

  /** {@code "schema"."name"}, or just {@code "name"} when schema is null or empty. */
  public static String qualified(String schema, String name) {
    return schema == null || schema.isEmpty() ? quote(name) : quote(schema) + '.' + quote(name);
  }

  /**
   * A name made from free text (a topic, say): lower case, every character other than a-z, 0-9 and
   * underscore replaced by an underscore, a leading digit prefixed with an underscore, and cut to
   * 63 bytes. {@code memory.events} becomes {@code memory_events}.
   */
  public static String sanitize(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (char c : text.toLowerCase(Locale.ROOT).toCharArray()) {
      out.append((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ? c : '_');
    }
    if (out.length() == 0 || Character.isDigit(out.charAt(0))) {
      out.insert(0, '_');
    }
    String name = out.toString();
    return name.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES
        ? name.substring(0, MAX_BYTES)
        : name;
  }
}
