package io.somastack.connect.deploy;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;

/**
 * Reading option values, shared by the subcommands: a bad value throws an {@link
 * IllegalArgumentException} whose message says what the option needs, which every command prints
 * with its usage and exit status 2.
 */
public final class Args {

  /** The longest wait an option takes: a deploy or an Admin call waiting a day is a mistake. */
  public static final long MAX_SECONDS = 86_400;

  private Args() {}

  /**
   * The value after an option. The next option is no value: {@code --timeout --dry-run} would
   * otherwise read "--dry-run" as the number of seconds.
   */
  public static String value(String[] args, int i) {
    if (i >= args.length || args[i].startsWith("--")) {
      throw new IllegalArgumentException(args[i - 1] + " needs a value");
    }
    return args[i];
  }

  /**
   * The value after an option that takes secrets (a password may well start with "--"): any next
   * word, only its absence is an error.
   */
  public static String secret(String[] args, int i) {
    if (i >= args.length) {
      throw new IllegalArgumentException(args[i - 1] + " needs a value");
    }
    return args[i];
  }

  /**
   * USER:PASSWORD: without the colon it is no credentials, and most likely the next option taken
   * for them ({@code --basic-auth --dry-run} would otherwise do a real run). Never echoed.
   */
  public static String credentials(String option, String text) {
    if (text.indexOf(':') < 0) {
      throw new IllegalArgumentException(option + " needs USER:PASSWORD");
    }
    return text;
  }

  /** A whole number from min to max; the message names the option and the range. */
  public static long number(String option, String text, long min, long max, String unit) {
    long n;
    try {
      n = Long.parseLong(text.trim());
    } catch (NumberFormatException e) {
      n = Long.MIN_VALUE;
    }
    if (n < min || n > max) {
      throw new IllegalArgumentException(
          option + " needs a whole number of " + unit + " from " + min + " to " + max);
    }
    return n;
  }

  /** A positive number of seconds, at most {@link #MAX_SECONDS}. */
  public static Duration seconds(String option, String text) {
    return Duration.ofSeconds(number(option, text, 1, MAX_SECONDS, "seconds"));
  }

  /** An http:// or https:// URL with a host, the only kind Java's HTTP client sends to. */
  public static URI httpUrl(String option, String text) {
    try {
      URI uri = new URI(text.trim());
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase();
      if ((scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null) {
        return uri;
      }
    } catch (URISyntaxException e) {
      // the same answer as for a URL of another kind
    }
    throw new IllegalArgumentException(
        option + " needs an http:// or https:// URL with a host, e.g. http://localhost:8083");
  }
}
