package io.somastack.connect.transforms.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.somastack.connect.common.json.RecordJson;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * JSON Schemas (draft 2020-12) compiled once per worker and shared by every task and transform that
 * uses the same schema text: compiling is far costlier than validating. The cache is keyed by the
 * text, not by where it came from, so a schema file edited on the worker takes effect when the
 * connector is reconfigured or restarted rather than only when the worker is.
 */
public final class CompiledSchemas {

  private static final JsonSchemaFactory FACTORY =
      JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);

  // "format" is only an annotation in 2020-12 unless asserted, and the contracts rely on uuid and
  // date-time being checked; JSONPath locations ($.metadata.tenant_id) read like our field paths.
  private static final SchemaValidatorsConfig CONFIG =
      SchemaValidatorsConfig.builder()
          .formatAssertionsEnabled(true)
          .pathType(PathType.JSON_PATH)
          .build();

  private static final Map<String, JsonSchema> CACHE = new ConcurrentHashMap<>();

  private static final String META_SCHEMA = "https://json-schema.org/draft/2020-12/schema";
  private static final AtomicReference<JsonSchema> META = new AtomicReference<>();

  private CompiledSchemas() {}

  /**
   * The compiled schema, reading the source again on every call (so call it when configuring, not
   * per record); an {@link IllegalArgumentException} says why it cannot be had.
   */
  public static JsonSchema get(SchemaSource source) {
    String text = source.load();
    return CACHE.computeIfAbsent(text, t -> compileWithOwnClassLoader(source.label(), t));
  }

  /**
   * The validator finds its bundled meta-schemas through the thread's context class loader. A
   * Connect worker starts tasks with its own delegating loader there, which cannot see this
   * plugin's jars; so compiling runs with the plugin's loader as the context loader.
   */
  private static JsonSchema compileWithOwnClassLoader(String label, String text) {
    Thread thread = Thread.currentThread();
    ClassLoader previous = thread.getContextClassLoader();
    thread.setContextClassLoader(CompiledSchemas.class.getClassLoader());
    try {
      return compile(label, text);
    } finally {
      thread.setContextClassLoader(previous);
    }
  }

  /** The draft 2020-12 meta-schema (bundled with the validator, never fetched). */
  private static JsonSchema metaSchema() {
    return META.updateAndGet(
        meta -> meta != null ? meta : FACTORY.getSchema(SchemaLocation.of(META_SCHEMA)));
  }

  private static JsonSchema compile(String label, String text) {
    JsonNode tree;
    try {
      tree = RecordJson.MAPPER.readTree(text);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(label + " is not valid JSON: " + e.getMessage());
    }
    if (tree == null || !tree.isObject()) {
      throw new IllegalArgumentException(label + " is not a JSON Schema object");
    }
    Set<ValidationMessage> problems = metaSchema().validate(tree);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          label + " is not a valid draft 2020-12 JSON Schema: " + problems);
    }
    try {
      JsonSchema schema = FACTORY.getSchema(tree, CONFIG);
      schema.initializeValidators();
      return schema;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          label + " is not a valid JSON Schema: " + e.getMessage(), e);
    }
  }
}
