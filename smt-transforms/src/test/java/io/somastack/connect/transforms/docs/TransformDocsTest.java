package io.somastack.connect.transforms.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.common.config.ConfigDocs;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.transforms.Transformation;
import org.apache.kafka.connect.transforms.predicates.Predicate;
import org.junit.jupiter.api.Test;

class TransformDocsTest {

  private static final Path DOCS = Path.of("..", "docs", "transforms.md");

  @Test
  void committedReferenceIsCurrent() throws IOException {
    assertNull(ConfigDocs.check(DOCS, TransformDocs.render()));
  }

  @Test
  void everyOptionHasDocumentation() {
    for (TransformDocs.Plugin plugin : TransformDocs.PLUGINS) {
      for (ConfigDef.ConfigKey key : plugin.config().configKeys().values()) {
        assertTrue(
            key.documentation != null && key.documentation.length() > 10,
            plugin.title() + "." + key.name);
      }
    }
  }

  @Test
  void serviceFilesListEveryDocumentedPlugin() throws Exception {
    List<String> transforms = services(Transformation.class);
    List<String> predicates = services(Predicate.class);
    List<String> documented =
        TransformDocs.PLUGINS.stream()
            .flatMap(p -> p.classes().stream())
            .map(Class::getName)
            .collect(Collectors.toList());
    List<String> listed =
        java.util.stream.Stream.concat(transforms.stream(), predicates.stream()).toList();
    assertEquals(documented, listed);
    for (String name : transforms) {
      assertTrue(Transformation.class.isAssignableFrom(instantiate(name).getClass()), name);
    }
    for (String name : predicates) {
      assertTrue(Predicate.class.isAssignableFrom(instantiate(name).getClass()), name);
    }
  }

  private static Object instantiate(String name) throws Exception {
    return Class.forName(name).getConstructor().newInstance();
  }

  private static List<String> services(Class<?> type) throws IOException {
    try (InputStream in =
        TransformDocsTest.class.getResourceAsStream("/META-INF/services/" + type.getName())) {
      return Arrays.stream(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n"))
          .map(String::trim)
          .filter(line -> !line.isEmpty())
          .toList();
    }
  }

  @Test
  void rendersEveryPluginWithItsOptions() {
    String docs = TransformDocs.render();
    for (TransformDocs.Plugin plugin : TransformDocs.PLUGINS) {
      assertTrue(docs.contains("## " + plugin.title()), plugin.title());
      for (Map.Entry<String, ConfigDef.ConfigKey> key : plugin.config().configKeys().entrySet()) {
        assertTrue(docs.contains("| `" + key.getKey() + "` |"), key.getKey());
      }
    }
  }
}
