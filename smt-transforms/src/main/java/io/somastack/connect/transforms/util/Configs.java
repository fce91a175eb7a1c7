package io.somastack.connect.transforms.util;

import io.somastack.connect.common.config.Validators;
import io.somastack.connect.common.path.FieldPath;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * Reading parsed values out of a transform's config, with {@link ConfigException}s that say why.
 */
public final class Configs {

  private Configs() {}

  public static FieldPath path(AbstractConfig config, String key) {
    String text = config.getString(key);
    try {
      return FieldPath.parse(text.trim());
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new ConfigException(key, text, e.getMessage());
    }
  }

  /** An optional path: null when the option is empty. */
  public static FieldPath optionalPath(AbstractConfig config, String key) {
    String text = config.getString(key);
    return text == null || text.isBlank() ? null : path(config, key);
  }

  public static List<FieldPath> paths(AbstractConfig config, String key) {
    List<String> texts = config.getList(key);
    requireSome(key, texts);
    return texts.stream().map(text -> FieldPath.parse(text.trim())).toList();
  }

  private static void requireSome(String key, List<?> paths) {
    if (paths.isEmpty()) {
      throw new ConfigException(key, paths, "list at least one field path");
    }
  }

  public static <E extends Enum<E>> E choice(AbstractConfig config, String key, Class<E> type) {
    return Validators.parseEnum(type, config.getString(key));
  }

  /** A secret as bytes from base64 (standard or URL-safe); the message never echoes it. */
  public static byte[] base64Secret(AbstractConfig config, String key) {
    Password password = config.getPassword(key);
    if (password == null || password.value().isBlank()) {
      throw new ConfigException(key, "[hidden]", "a base64 key is required");
    }
    return decode(key, password.value());
  }

  private static byte[] decode(String key, String secret) {
    String text = secret.trim();
    try {
      return text.indexOf('-') >= 0 || text.indexOf('_') >= 0
          ? Base64.getUrlDecoder().decode(text)
          : Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(key, "[hidden]", "not valid base64");
    }
  }

  /**
   * At least one field path, none of which lies inside or repeats another, as a {@link
   * FieldRewriter} needs: checked when the config is validated, so the mistake shows there rather
   * than when a task starts.
   */
  public static ConfigDef.Validator disjointFieldPaths() {
    ConfigDef.Validator paths = Validators.fieldPaths();
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        paths.ensureValid(name, value);
        if (value instanceof List<?> list) {
          requireSome(name, list);
          try {
            FieldRewriter.requireDisjoint(
                list.stream().map(item -> FieldPath.parse(item.toString().trim())).toList());
          } catch (IllegalArgumentException e) {
            throw new ConfigException(name, value, e.getMessage());
          }
        }
      }

      @Override
      public String toString() {
        return "at least one field path such as metadata.tenant_id, none inside another";
      }
    };
  }

  /** A field path, or empty for an option that can be switched off. */
  public static ConfigDef.Validator optionalFieldPath() {
    ConfigDef.Validator path = Validators.fieldPath();
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        if (value != null && !value.toString().isBlank()) {
          path.ensureValid(name, value.toString().trim());
        }
      }

      @Override
      public String toString() {
        return "a field path such as metadata.tenant_id, or empty";
      }
    };
  }

  /** An optional base64 secret of at least {@code minBytes} bytes; never echoed in errors. */
  public static ConfigDef.Validator base64Secret(int minBytes) {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        if (value == null) {
          return;
        }
        byte[] bytes = decode(name, ((Password) value).value());
        if (bytes.length < minBytes) {
          throw new ConfigException(
              name, "[hidden]", "needs at least " + minBytes + " bytes but has " + bytes.length);
        }
      }

      @Override
      public String toString() {
        return "base64, at least " + minBytes + " bytes";
      }
    };
  }

  /** A validator that rejects blank strings, for required options without a default. */
  public static ConfigDef.Validator nonBlank() {
    return new ConfigDef.NonEmptyString() {
      @Override
      public void ensureValid(String name, Object value) {
        if (value == null || value.toString().isBlank()) {
          throw new ConfigException(name, value, "must not be empty");
        }
      }
    };
  }

  /**
   * A recommender that checks {@code rule}, a check spanning options that configure() runs too,
   * when Connect validates the config (PUT /connector-plugins/{name}/config/validate, and before it
   * creates a connector): Connect checks a transform's options with their own validators and
   * recommenders only, so a rule only configure() ran passed validation and failed every task as it
   * started. ConfigDef.validate shows the ConfigException the rule throws on the option this
   * recommender is given to. Until every option is valid on its own the rule is not run: its
   * options show their own errors, and a rule reading a broken one would only repeat them.
   *
   * @param definition the transform's ConfigDef (a supplier, as the recommender is part of it)
   */
  public static ConfigDef.Recommender checks(
      Supplier<ConfigDef> definition, Consumer<AbstractConfig> rule) {
    return new ConfigDef.Recommender() {
      @Override
      public List<Object> validValues(String name, Map<String, Object> parsed) {
        AbstractConfig config = parsedConfig(definition.get(), parsed);
        if (config != null) {
          rule.accept(config);
        }
        return new ArrayList<>(); // ConfigDef edits the list it gets
      }

      @Override
      public boolean visible(String name, Map<String, Object> parsed) {
        return true;
      }
    };
  }

  /**
   * A recommender that checks {@code rule}, a check spanning options that configure() runs too, on
   * the values ConfigDef.validate parsed, as they are (null for an option unset or unparsable),
   * without building a config as {@link #checks} does: that runs every option's validator again,
   * and a costly one (reading and compiling a schema file) ran once per option this recommender is
   * given to. The rule must take any value an option may parse to, null included; configure()
   * passes it {@link AbstractConfig#values()}.
   */
  public static ConfigDef.Recommender checksValues(Consumer<Map<String, ?>> rule) {
    return new ConfigDef.Recommender() {
      @Override
      public List<Object> validValues(String name, Map<String, Object> parsed) {
        rule.accept(parsed);
        return new ArrayList<>(); // ConfigDef edits the list it gets
      }

      @Override
      public boolean visible(String name, Map<String, Object> parsed) {
        return true;
      }
    };
  }

  /** The config the options parsed for validation make, as configure() would; null if invalid. */
  private static AbstractConfig parsedConfig(ConfigDef definition, Map<String, Object> parsed) {
    Map<String, Object> given = new HashMap<>(parsed);
    // validation parses an option left out and without a default as null: missing, not null
    given.values().removeIf(Objects::isNull);
    try {
      return new AbstractConfig(definition, given, false);
    } catch (ConfigException optionInvalid) {
      return null;
    }
  }
}
