package io.somastack.connect.qdrant;

import io.somastack.connect.common.config.Validators;
import java.net.URI;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * The validators of {@link QdrantSinkConfig}'s options that the shared {@link Validators} do not
 * have. Each one's {@code toString} is the "Valid Values" text of the generated docs.
 */
final class QdrantConfigValidators {

  private static final Pattern INDEX_SPEC = Pattern.compile("[^:]+:[a-z]+");

  private QdrantConfigValidators() {}

  /**
   * A gRPC or HTTP endpoint: the scheme decides TLS, so only http and https are taken. Credentials
   * in it (user:password@host) are refused, naming the option for the key: neither the gRPC client
   * nor HttpClient sends them, and a URL is quoted in errors and logs, where they would show.
   */
  static ConfigDef.Validator url(String example, String apiKeyOption) {
    ConfigDef.Validator url =
        validator(
            "an http:// or https:// URL with a host, a port from 1 to 65535 or none, and no"
                + " user:password@, e.g. "
                + example,
            value -> {
              URI uri = URI.create(value);
              return uri.getHost() != null
                  && ("http".equalsIgnoreCase(uri.getScheme())
                      || "https".equalsIgnoreCase(uri.getScheme()))
                  && isPortOrNone(uri.getPort());
            });
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        if (value != null && hasUserInfo(value.toString())) {
          // the one-argument ConfigException: the others quote the value, credentials and all
          throw new ConfigException(
              "Invalid value for configuration "
                  + name
                  + ": must not hold credentials (user:password@host), which are not sent and"
                  + " would show wherever the URL is quoted; set "
                  + apiKeyOption
                  + " instead");
        }
        url.ensureValid(name, value);
      }

      @Override
      public String toString() {
        return url.toString();
      }
    };
  }

  /**
   * No port (-1), or one a socket can use. URI takes any digits (70000) and 0; gRPC's resolver then
   * dies on the first and the client falls back to 6334 on the second, and either way every call
   * ran out its deadline as if Qdrant were down, for retry.timeout.ms, instead of the option being
   * refused.
   */
  private static boolean isPortOrNone(int port) {
    return port == -1 || (port >= 1 && port <= 65535);
  }

  /**
   * Names, each given and each once: a stray comma ({@code splade,}) made an empty name, refused as
   * if it were the dense vector's (empty) name, and a name twice was declared twice.
   */
  static ConfigDef.Validator distinctNames() {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        if (!(value instanceof List<?> names)) {
          return;
        }
        Set<String> seen = new HashSet<>();
        for (Object item : names) {
          String text = item.toString().trim();
          if (text.isEmpty()) {
            throw new ConfigException(name, value, "must not hold an empty name (a stray comma?)");
          }
          if (!seen.add(text)) {
            throw new ConfigException(name, value, "names " + text + " twice");
          }
        }
      }

      @Override
      public String toString() {
        return "names, each once";
      }
    };
  }

  /**
   * Whether an @ comes after :// and before the query or fragment, parsed or not: not only before
   * the path, since a / in a password ends a parsed authority early (and no host is read then). An
   * endpoint's path holds no @.
   */
  private static boolean hasUserInfo(String url) {
    int start = url.indexOf("://");
    if (start < 0) {
      return false;
    }
    start += 3;
    int end = start;
    while (end < url.length() && "?#".indexOf(url.charAt(end)) < 0) {
      end++;
    }
    return url.substring(start, end).contains("@");
  }

  /**
   * A secret sent as an HTTP header value: printable ASCII without spaces, as API keys are. Checked
   * here because HttpClient refuses any other character with an exception that quotes the whole
   * header, key and all, into the task's error; this one says [hidden] instead.
   */
  static ConfigDef.Validator headerSecret() {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        if (value instanceof Password secret
            && !secret.value().chars().allMatch(c -> c > ' ' && c < 0x7f)) {
          throw new ConfigException(
              name,
              value,
              "must be printable ASCII without spaces: was a character (a non-breaking or"
                  + " zero-width space, a line break) copied with the key?");
        }
      }

      @Override
      public String toString() {
        return "printable ASCII without spaces";
      }
    };
  }

  /**
   * A UUID in its canonical 8-4-4-4-12 form: UUID.fromString also takes shorter groups, which it
   * reads as another UUID than the one meant.
   */
  static ConfigDef.Validator uuid() {
    return validator(
        "a UUID", value -> UUID.fromString(value).toString().equalsIgnoreCase(value.trim()));
  }

  /**
   * A list of field:type pairs, each field once, each type a {@link QdrantSinkConfig.IndexType}.
   */
  static ConfigDef.Validator indexSpecs() {
    ConfigDef.Validator types = Validators.oneOf(QdrantSinkConfig.IndexType.class);
    return validator(
        "field:type pairs, type " + types,
        value -> {
          Set<String> fields = new HashSet<>();
          for (String spec : value.split(",")) {
            String item = spec.trim();
            if (item.isEmpty()) {
              continue;
            }
            if (!INDEX_SPEC.matcher(item).matches()) {
              return false;
            }
            int colon = item.lastIndexOf(':');
            types.ensureValid(
                QdrantSinkConfig.COLLECTION_PAYLOAD_INDEXES, item.substring(colon + 1));
            String field = item.substring(0, colon).trim();
            if (!fields.add(field)) {
              // a field has one index: the last type would win without a word
              throw new IllegalArgumentException("field " + field + " is listed twice");
            }
          }
          return true;
        });
  }

  /** The inner validator, for an option whose empty value means "not set". */
  static ConfigDef.Validator optional(ConfigDef.Validator inner) {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        if (value != null && !value.toString().isBlank()) {
          inner.ensureValid(name, value);
        }
      }

      @Override
      public String toString() {
        return "empty, or " + inner;
      }
    };
  }

  /** A validator from a predicate on the value's text; exceptions count as invalid. */
  private static ConfigDef.Validator validator(String description, Check check) {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        if (value == null) {
          return;
        }
        String text =
            value instanceof List<?> list
                ? String.join(",", list.stream().map(Object::toString).toList())
                : value.toString();
        boolean valid;
        try {
          valid = check.test(text);
        } catch (RuntimeException e) {
          throw new ConfigException(name, value, "must be " + description + ": " + e.getMessage());
        }
        if (!valid) {
          throw new ConfigException(name, value, "must be " + description);
        }
      }

      @Override
      public String toString() {
        return description;
      }
    };
  }

  private interface Check {
    boolean test(String value);
  }
}
