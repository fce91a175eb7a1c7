package io.somastack.connect.deploy.strimzi;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/** Just enough YAML writing for the Strimzi resources: scalars that read back exactly. */
final class Yaml {

  private static final Pattern PLAIN_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_./-]*");

  /** Words YAML 1.1 readers (Kubernetes' among them) would take for booleans or null. */
  private static final Set<String> RESERVED =
      Set.of("y", "n", "yes", "no", "true", "false", "on", "off", "null", "~");

  private Yaml() {}

  /** A double-quoted scalar: every character escaped that YAML could read otherwise. */
  static String quote(String value) {
    StringBuilder out = new StringBuilder(value.length() + 2).append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029 || c == 0xfeff) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }

  /** A mapping key: plain when that is unambiguous, else quoted. */
  static String key(String key) {
    return PLAIN_KEY.matcher(key).matches() && !RESERVED.contains(key.toLowerCase(Locale.ROOT))
        ? key
        : quote(key);
  }
}
