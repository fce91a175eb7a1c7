package io.somastack.connect.common.config;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.common.config.ConfigDef;

/**
 * Recommenders for {@link ConfigDef}s: the values an option may take, and whether an option applies
 * given the others, which {@code PUT /connector-plugins/{name}/config/validate} reports so that UIs
 * can list choices and hide what does not apply. An option whose deciding option is unset or not
 * one of its values stays visible: a mistake there hides nothing.
 */
public final class Recommenders {

  private Recommenders() {}

  /** An enum's constants in lower case, as configs write them; always visible. */
  public static <E extends Enum<E>> ConfigDef.Recommender enumValues(Class<E> type) {
    List<Object> names =
        Arrays.stream(type.getEnumConstants())
            .map(e -> (Object) e.name().toLowerCase(Locale.ROOT))
            .toList();
    return recommender(names, parsed -> true);
  }

  /**
   * An enum's constants, for an option shown only when {@code visibility} says (a {@link
   * #visibleWhen}): an option has one recommender, which must give both.
   */
  public static <E extends Enum<E>> ConfigDef.Recommender enumValues(
      Class<E> type, ConfigDef.Recommender visibility) {
    ConfigDef.Recommender values = enumValues(type);
    return new ConfigDef.Recommender() {
      @Override
      public List<Object> validValues(String name, Map<String, Object> parsedConfig) {
        return values.validValues(name, parsedConfig);
      }

      @Override
      public boolean visible(String name, Map<String, Object> parsedConfig) {
        return visibility.visible(name, parsedConfig);
      }
    };
  }

  /** The values given, for a choice that is no enum (a TLS mode such as verify-full). */
  public static ConfigDef.Recommender values(String... values) {
    return recommender(List.of((Object[]) values), parsed -> true);
  }

  /** Visible only while the enum option {@code deciding} is one of {@code values}. */
  @SafeVarargs
  public static <E extends Enum<E>> ConfigDef.Recommender visibleWhen(
      String deciding, E... values) {
    Class<E> type = values[0].getDeclaringClass();
    List<E> applying = List.of(values);
    return recommender(
        List.of(),
        parsed -> {
          Object chosen = parsed.get(deciding);
          if (chosen == null) {
            return true;
          }
          try {
            return applying.contains(Validators.parseEnum(type, chosen.toString()));
          } catch (IllegalArgumentException notOneOfThem) {
            return true;
          }
        });
  }

  /** Visible unless the boolean option {@code deciding} is false. */
  public static ConfigDef.Recommender visibleUnlessFalse(String deciding) {
    return recommender(List.of(), parsed -> !Boolean.FALSE.equals(parsed.get(deciding)));
  }

  private static ConfigDef.Recommender recommender(
      List<Object> values, Predicate<Map<String, Object>> visible) {
    return new ConfigDef.Recommender() {
      @Override
      public List<Object> validValues(String name, Map<String, Object> parsedConfig) {
        return new ArrayList<>(values); // ConfigDef edits the list it gets
      }

      @Override
      public boolean visible(String name, Map<String, Object> parsedConfig) {
        return visible.test(parsedConfig);
      }
    };
  }
}
