package io.somastack.connect.common.postgres;

/**
 * pgjdbc's TLS modes (its sslmode), as it reads them: a value in any case names the mode, and any
 * other value makes it refuse every connection ("Invalid sslmode value", SQLSTATE 08001, the class
 * of a lost connection), which a connector would retry for ever.
 */
public final class SslModes {

  /** The modes, weakest first. */
  static final String[] ALL = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"};

  /** What pgjdbc reads ssl=true, or a bare ssl, as when no sslmode is given. */
  static final String SSL_TRUE = "verify-full";

  private SslModes() {}

  /**
   * The mode {@code value} names, in lower case as {@link #ALL} has it, or null for none. Compared
   * as pgjdbc compares (equalsIgnoreCase), so that what it takes is taken here and nothing more.
   */
  public static String named(String value) {
    for (String mode : ALL) {
      if (mode.equalsIgnoreCase(value)) {
        return mode;
      }
    }
    return null;
  }

  /** The modes, comma-separated, for a message. */
  public static String list() {
    return String.join(", ", ALL);
  }
}
