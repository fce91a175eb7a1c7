package io.somastack.connect.transforms.schema;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import com.networknt.schema.resource.SchemaLoader;
import io.somastack.connect.common.json.RecordJson;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.cache.Cache;
import org.apache.kafka.common.cache.LRUCache;
import org.apache.kafka.common.cache.SynchronizedCache;

/**
 * JSON Schemas (draft 2020-12) compiled once per worker and shared by every task and transform that
 * uses the same schema text: compiling is far costlier than validating. The cache is keyed by the
 * text and the location relative {@code $ref}s resolve against, and the files those refs load are
 * read again and compared, so a schema file (or a file it refers to) edited on the worker takes
 * effect when the connector is reconfigured or restarted rather than only when the worker is.
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

  /**
   * How many compiled schemas a worker keeps. Every distinct text validated or configured is
   * compiled; a running transform holds its own schema, so one dropped from here costs only a
   * compile at the next validation or configuration.
   */
  static final int CACHE_SIZE = 64;

  private static final Cache<String, Compiled> CACHE =
      new SynchronizedCache<>(new LRUCache<>(CACHE_SIZE));

  /**
   * A compiled schema with the text of every document its {@code $ref}s loaded, by URI: the cache
   * key holds only the schema's own text, so an edited referenced file must be noticed here.
   */
  private record Compiled(JsonSchema schema, Map<String, String> referenced) {
    boolean isCurrent() {
      try {
        return referenced.entrySet().stream()
            .allMatch(doc -> doc.getValue().equals(SchemaSource.loadReferenced(doc.getKey())));
      } catch (IllegalArgumentException unreadable) {
        return false; // compiling again reports why
      }
    }
  }

  private static final String META_SCHEMA = "https://json-schema.org/draft/2020-12/schema";
  private static final AtomicReference<JsonSchema> META = new AtomicReference<>();

  private CompiledSchemas() {}

  /**
   * The compiled schema, reading the source again on every call (so call it when configuring, not
   * per record); an {@link IllegalArgumentException} says why it cannot be had.
   */
  public static JsonSchema get(SchemaSource source) {
    String text = source.load();
    // relative $refs resolve against the location, so equal text elsewhere may mean another schema
    String key = source.location() + "\n" + text;
    Compiled compiled = CACHE.get(key);
    if (compiled == null || !compiled.isCurrent()) {
      compiled = compileWithOwnClassLoader(source, text);
      CACHE.put(key, compiled);
    }
    return compiled.schema();
  }

  /**
   * The validator finds its bundled meta-schemas through the thread's context class loader. A
   * Connect worker starts tasks with its own delegating loader there, which cannot see this
   * plugin's jars; so compiling runs with the plugin's loader as the context loader.
   */
  private static Compiled compileWithOwnClassLoader(SchemaSource source, String text) {
    Thread thread = Thread.currentThread();
    ClassLoader previous = thread.getContextClassLoader();
    thread.setContextClassLoader(CompiledSchemas.class.getClassLoader());
    try {
      return compile(source, text);
    } finally {
      thread.setContextClassLoader(previous);
    }
  }

  static long cachedCount() {
    return CACHE.size();
  }

  /** The draft 2020-12 meta-schema (bundled with the validator, never fetched). */
  private static JsonSchema metaSchema() {
    return META.updateAndGet(
        meta -> meta != null ? meta : FACTORY.getSchema(SchemaLocation.of(META_SCHEMA)));
  }

  private static Compiled compile(SchemaSource source, String text) {
    String label = source.label();
    JsonNode tree;
    try {
      tree = RecordJson.MAPPER.readTree(text);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(label + " is not valid JSON" + where(source, e));
    }
    if (tree == null || !tree.isObject()) {
      throw new IllegalArgumentException(label + " is not a JSON Schema object");
    }
    Set<ValidationMessage> problems = metaSchema().validate(tree);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          label + " is not a valid draft 2020-12 JSON Schema: " + problems);
    }
    Map<String, String> referenced = new ConcurrentHashMap<>();
    try {
      JsonSchemaFactory factory = recordingFactory(referenced);
      JsonSchema schema =
          source.location() == null
              ? factory.getSchema(tree, CONFIG)
              : factory.getSchema(SchemaLocation.of(source.location()), tree, CONFIG);
      schema.initializeValidators();
      return new Compiled(schema, Map.copyOf(referenced));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(label + " is not a valid JSON Schema: " + reason(e), e);
    }
  }

  /**
   * Where a schema stops being JSON. The parser's own message quotes the token it stopped at: fine
   * for inline text, which is the config's own, but a file can be any file the worker may read, and
   * this message reaches the REST response and the log, so a file is named by position only.
   */
  private static String where(
      SchemaSource source, com.fasterxml.jackson.core.JsonProcessingException e) {
    if (source.isInline()) {
      return ": " + e.getMessage();
    }
    JsonLocation at = e.getLocation();
    return at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
  }

  /** Why compiling failed: the validator wraps what our loader throws in exceptions of its own. */
  private static String reason(RuntimeException e) {
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof SchemaSource.UnreadableReference unreadable) {
        return unreadable.getMessage();
      }
    }
    return e.getMessage();
  }

  /**
   * A factory of its own per compile, so no referenced document is cached beyond this schema, that
   * reads referenced files and resources itself and records their text, and refuses any other URI
   * (see {@link SchemaSource#loadReferenced}) instead of letting the validator fetch it.
   */
  private static JsonSchemaFactory recordingFactory(Map<String, String> referenced) {
    // a SchemaLoader of our own: the validator's map-based loaders swallow exceptions and fall
    // through to its URL loader, which would fetch the very URI this one refuses
    SchemaLoader filesAndResourcesOnly =
        iri -> {
          String uri = iri.toString();
          String text = SchemaSource.loadReferenced(uri);
          referenced.put(uri, text);
          return () -> new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
        };
    return JsonSchemaFactory.getInstance(
        SpecVersion.VersionFlag.V202012,
        builder -> builder.schemaLoaders(loaders -> loaders.add(filesAndResourcesOnly)));
  }
}
