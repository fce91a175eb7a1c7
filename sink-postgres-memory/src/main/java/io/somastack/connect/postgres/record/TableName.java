package io.somastack.connect.postgres.record;

import io.somastack.connect.common.sql.SqlIdentifier;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/** The table name a rendered {@code table.name.format} stands for. */
public final class TableName {

  /** An underscore and 8 hex digits of a hash of the whole name. */
  private static final int HASH_LENGTH = 9;

  private TableName() {}

  /**
   * The sanitised name, within PostgreSQL's 63 bytes. A name that does not fit is cut and ends with
   * a hash of all of it: cut plainly, two long topics that start alike (…events.v1, …events.v2)
   * would share one table, mixing their rows, and in append mode dropping one topic's events whose
   * ids the other's already used.
   */
  public static String of(String rendered) {
    String sanitized = SqlIdentifier.sanitize(rendered);
    if (!cut(rendered)) {
      return sanitized;
    }
    // sanitised names are ASCII: characters are bytes
    return sanitized.substring(0, SqlIdentifier.MAX_BYTES - HASH_LENGTH) + "_" + hash(rendered);
  }

  /**
   * Whether {@link SqlIdentifier#sanitize} cut the name: it makes one character of each character
   * of the lower-cased name, and puts an underscore before a leading digit.
   */
  private static boolean cut(String rendered) {
    String lower = rendered.toLowerCase(Locale.ROOT);
    boolean leadingDigit = !lower.isEmpty() && lower.charAt(0) >= '0' && lower.charAt(0) <= '9';
    return lower.length() + (leadingDigit ? 1 : 0) > SqlIdentifier.MAX_BYTES;
  }

  private static String hash(String name) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, (HASH_LENGTH - 1) / 2);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
