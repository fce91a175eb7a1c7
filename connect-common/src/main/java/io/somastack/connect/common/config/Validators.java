package io.somastack.connect.common.config;

import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.common.postgres.JdbcUrl;
import io.somastack.connect.common.postgres.SslModes;
import io.somastack.connect.common.template.RecordTemplate;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * Validators for {@link ConfigDef}s. Each has a {@code toString()} that reads well in generated
 * docs and in {@code PUT /connector-plugins/{name}/config/validate} answers.
 */
public final class Validators {

  private Validators() {}

  /** One of an enum's constants, case-insensitive, written in lower case in configs. */
  public static <E extends Enum<E>> ConfigDef.Validator oneOf(Class<E> type) {
    List<String> names =
        Arrays.stream(type.getEnumConstants())
            .map(e -> e.name().toLowerCase(Locale.ROOT))
            .collect(Collectors.toList());
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        if (value == null) {
          return;
        }
        String text = value.toString().trim().toLowerCase(Locale.ROOT);
        if (!names.contains(text)) {
          throw new ConfigException(name, value, "must be one of " + names);
        }
      }

      @Override
      public String toString() {
        return "one of " + String.join(", ", names);
      }
    };
  }

  /** Parses a lower-case config value into an enum constant. */
  public static <E extends Enum<E>> E parseEnum(Class<E> type, String value) {
    return Enum.valueOf(type, value.trim().toUpperCase(Locale.ROOT));
  }

  /** A list of field paths, each parseable by {@link FieldPath#parse}. */
  public static ConfigDef.Validator fieldPaths() {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        if (value == null) {
          return;
        }
        Iterable<?> items = value instanceof List<?> list ? list : List.of(value);
        for (Object item : items) {
          try {
            FieldPath.parse(item.toString().trim());
          } catch (IllegalArgumentException e) {
            throw new ConfigException(name, value, e.getMessage());
          }
        }
      }

      @Override
      public String toString() {
        return "field paths such as metadata.tenant_id";
      }
    };
  }

  /** A single field path; null allowed when the option is optional. */
  public static ConfigDef.Validator fieldPath() {
    return fieldPaths();
  }

  /**
   * A non-blank {@link RecordTemplate}, e.g. {@code ${topic}} or {@code
   * memories_${value.tenant_id}}.
   */
  public static ConfigDef.Validator recordTemplate(String description) {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        if (value == null || value.toString().isBlank()) {
          throw new ConfigException(name, value, "must be " + description);
        }
        try {
          RecordTemplate.parse(value.toString());
        } catch (IllegalArgumentException e) {
          throw new ConfigException(name, value, e.getMessage());
        }
      }

      @Override
      public String toString() {
        return description;
      }
    };
  }

  /** A Java regular expression that compiles. */
  public static ConfigDef.Validator regex() {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        if (value == null) {
          return;
        }
        try {
          Pattern.compile(value.toString());
        } catch (PatternSyntaxException e) {
          throw new ConfigException(
              name, value, "not a valid regular expression: " + e.getDescription());
        }
      }

      @Override
      public String toString() {
        return "a Java regular expression";
      }
    };
  }

  /**
   * A JDBC URL for PostgreSQL. The message never repeats the value: a URL may carry a password (a
   * libpq URL such as postgresql://user:secret@db/soma is the usual mistake), and the message
   * reaches logs and the REST validate answer.
   */
  public static ConfigDef.Validator postgresUrl() {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        if (value == null || !value.toString().startsWith("jdbc:postgresql:")) {
          throw new ConfigException(
              "Invalid value for configuration "
                  + name
                  + ": must be a jdbc:postgresql:// URL (the value is not shown: it may hold"
                  + " credentials)");
        }
        JdbcUrl url = JdbcUrl.parse(value.toString());
        if (url.hasUserInfo()) {
          // pgjdbc cannot parse it and fails with "Unable to parse URL" and the whole URL, which
          // would reach the task's status and the logs, password and all
          throw new ConfigException(
              "Invalid value for configuration "
                  + name
                  + ": a user name or password before the host (user:password@host) is not read"
                  + " by the JDBC driver; set them in connection.user and connection.password"
                  + " (the value is not shown: it may hold credentials)");
        }
        String unparsable = url.unparsable();
        if (unparsable != null) {
          // pgjdbc would refuse it at connect, quoting it whole in its error and its log line
          throw new ConfigException(
              "Invalid value for configuration "
                  + name
                  + ": the URL "
                  + unparsable
                  + ", so the JDBC driver could not parse it (the value is not shown: it may hold"
                  + " credentials)");
        }
        // the connectors log their settings at start, and connection.url is no PASSWORD option
        if (url.hasParameterLike("password")) {
          throw new ConfigException(
              "Invalid value for configuration "
                  + name
                  + ": a password= parameter would be logged with the connector's settings; set"
                  + " the password in connection.password, which is never shown (the value is not"
                  + " shown: it may hold credentials)");
        }
        if (url.hasParameterLike("sslpassword")) {
          throw new ConfigException(
              "Invalid value for configuration "
                  + name
                  + ": an sslpassword= parameter would be logged with the connector's settings;"
                  + " set the client certificate key's password in connection.sslpassword, which"
                  + " is never shown (the value is not shown: it may hold credentials)");
        }
        // pgjdbc refuses an unknown sslmode only when connecting, with a connection error's
        // SQLSTATE (08001) that the connectors would retry for ever
        String sslmode = url.parameter("sslmode");
        if (sslmode != null && SslModes.named(sslmode) == null) {
          throw new ConfigException(
              "Invalid value for configuration "
                  + name
                  + ": its sslmode parameter is none of "
                  + SslModes.list()
                  + " (in any case), so the JDBC driver would refuse every connection (the value"
                  + " is not shown: it may hold credentials)");
        }
      }

      @Override
      public String toString() {
        return "a jdbc:postgresql:// URL";
      }
    };
  }
}
