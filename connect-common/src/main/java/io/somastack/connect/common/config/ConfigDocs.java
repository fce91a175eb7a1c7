package io.somastack.connect.common.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;

/**
 * Markdown reference of a {@link ConfigDef}: one table per group, in the order the options were
 * defined. Each plugin renders its page under {@code docs/} with it, and a unit test compares the
 * committed page with a fresh rendering, so the docs cannot drift from the code.
 */
public final class ConfigDocs {

  /** System property that makes {@link #check} rewrite the page instead of failing. */
  public static final String UPDATE_PROPERTY = "soma.docs.update";

  private ConfigDocs() {}

  /** A table per group (options without a group first), with type, default and validator. */
  public static String tables(ConfigDef def) {
    Map<String, List<ConfigDef.ConfigKey>> groups = new LinkedHashMap<>();
    for (ConfigDef.ConfigKey key : def.configKeys().values()) {
      if (key.internalConfig) {
        continue; // set by the connector for its tasks, never by users
      }
      groups.computeIfAbsent(key.group == null ? "" : key.group, g -> new ArrayList<>()).add(key);
    }
    StringBuilder out = new StringBuilder();
    groups.forEach(
        (group, keys) -> {
          if (!group.isEmpty()) {
            out.append("\n### ").append(group).append("\n\n");
          }
          out.append("| Option | Type | Default | Valid values | Importance | Description |\n");
          out.append("|---|---|---|---|---|---|\n");
          keys.sort(java.util.Comparator.comparingInt(k -> k.orderInGroup));
          keys.forEach(key -> row(out, key));
        });
    return out.toString();
  }

  private static void row(StringBuilder out, ConfigDef.ConfigKey key) {
    out.append("| `")
        .append(key.name)
        .append("` | ")
        .append(key.type.name().toLowerCase(Locale.ROOT))
        .append(" | ")
        .append(defaultOf(key))
        .append(" | ")
        .append(cell(key.validator == null ? "" : key.validator.toString()))
        .append(" | ")
        .append(key.importance.name().toLowerCase(Locale.ROOT))
        .append(" | ")
        .append(cell(key.documentation))
        .append(" |\n");
  }

  private static String defaultOf(ConfigDef.ConfigKey key) {
    if (!key.hasDefault()) {
      return "(required)";
    }
    if (key.defaultValue == null) {
      return "null";
    }
    String text =
        key.type == ConfigDef.Type.PASSWORD
            ? "[hidden]"
            : ConfigDef.convertToString(key.defaultValue, key.type);
    return text.isEmpty() ? "\"\"" : "`" + text + "`";
  }

  /** Text safe inside a Markdown table cell. */
  public static String cell(String text) {
    return text == null
        ? ""
        : text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;");
  }

  /**
   * Compares the committed page with what the code renders now. Returns null when they agree, else
   * a message saying how to regenerate; with {@code -Dsoma.docs.update=true} it rewrites the page
   * instead.
   */
  public static String check(Path page, String rendered) throws IOException {
    String committed = Files.exists(page) ? Files.readString(page, StandardCharsets.UTF_8) : "";
    if (committed.equals(rendered)) {
      return null;
    }
    if (Boolean.getBoolean(UPDATE_PROPERTY)) {
      Files.createDirectories(page.getParent());
      Files.writeString(page, rendered, StandardCharsets.UTF_8);
      return null;
    }
    return page.normalize()
        + " is out of date with the ConfigDef; regenerate it with: mvn -pl <module> -am test"
        + " -D"
        + UPDATE_PROPERTY
        + "=true";
  }
}
