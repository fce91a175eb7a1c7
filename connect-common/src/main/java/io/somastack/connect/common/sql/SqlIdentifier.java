package io.somastack.connect.common.sql;

import io.somastack.connect.common.text.Utf8;
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
   * The name of an object that belongs to {@code base} (a partition, an index): {@code base +
   * suffix} when that fits 63 bytes; otherwise base is cut short and a hash of all of it added
   * before the suffix, so the name keeps its suffix and stays apart from its siblings and from base
   * itself (PostgreSQL would cut the plain concatenation back to base's own 63 bytes).
   */
  public static String withSuffix(String base, String suffix) {
    String plain = base + suffix;
    if (Utf8.length(plain) <= MAX_BYTES) {
      return plain;
    }
    String hash = String.format("_%08x", base.hashCode());
    int room = MAX_BYTES - hash.length() - Utf8.length(suffix);
    if (room < 0) {
      // the name would come out too long, and PostgreSQL would cut it to one its siblings share
      throw new IllegalArgumentException(
          "suffix '" + suffix + "' leaves no room for a name within " + MAX_BYTES + " bytes");
    }
    return Utf8.prefix(base, room) + hash + suffix;
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
    return Utf8.length(name) > MAX_BYTES ? name.substring(0, MAX_BYTES) : name;
  }
}
