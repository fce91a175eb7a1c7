package io.somastack.connect.transforms.schema;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.apache.kafka.common.cache.Cache;
import org.apache.kafka.common.cache.LRUCache;
import org.apache.kafka.common.cache.SynchronizedCache;

/**
 * JSON Schemas compiled once per worker and shared by every task and transform that uses the same
 * schema text: compiling is far costlier than validating. The cache is keyed by the text and the
 * location relative {@code $ref}s resolve against, and the files those refs load are read again and
 * compared, so a schema file (or a file it refers to) edited on the worker takes effect when the
 * connector is reconfigured or restarted rather than only when the worker is.
 *
 * <p>A schema is checked against the meta-schema of the draft its "$schema" declares (draft-04,
 * -06, -07, 2019-09 or 2020-12; 2020-12 when it declares none) and validates records by that
 * draft's rules.
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

  /**
   * The drafts a schema may declare in "$schema", by their URI without scheme and empty fragment
   * (http and https, with or without '#', are all written): the validator bundles their
   * meta-schemas, so none is fetched. A schema without "$schema" is draft 2020-12.
   */
  private static final Map<String, SpecVersion.VersionFlag> DRAFTS =
      Map.of(
          "json-schema.org/draft-04/schema", SpecVersion.VersionFlag.V4,
          "json-schema.org/draft-06/schema", SpecVersion.VersionFlag.V6,
          "json-schema.org/draft-07/schema", SpecVersion.VersionFlag.V7,
          "json-schema.org/draft/2019-09/schema", SpecVersion.VersionFlag.V201909,
          "json-schema.org/draft/2020-12/schema", SpecVersion.VersionFlag.V202012);

  /** The "$schema" URIs of the supported drafts, for messages. */
  private static final String SUPPORTED =
      Arrays.stream(SpecVersion.VersionFlag.values())
          .map(SpecVersion.VersionFlag::getId)
          .collect(Collectors.joining(", "));

  private static final Map<SpecVersion.VersionFlag, JsonSchema> META = new ConcurrentHashMap<>();

  /** Schema documents are read as records are, but nested no deeper than the validator walks. */
  private static final ObjectMapper SCHEMA_MAPPER = depthBoundedMapper();

  private static ObjectMapper depthBoundedMapper() {
    ObjectMapper mapper = RecordJson.MAPPER.copy();
    mapper
        .getFactory()
        .setStreamReadConstraints(
            StreamReadConstraints.builder().maxNestingDepth(SchemaSource.MAX_DEPTH).build());
    return mapper;
  }

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

  /** A draft's meta-schema (bundled with the validator, never fetched). */
  private static JsonSchema metaSchema(SpecVersion.VersionFlag draft) {
    return META.computeIfAbsent(
        draft, version -> FACTORY.getSchema(SchemaLocation.of(version.getId())));
  }

  /**
   * The draft a schema declares in "$schema", whose rules the validator applies to it and to the
   * records; one this transform has no meta-schema for fails here, rather than having the validator
   * fetch it or take the schema for a draft it is not.
   */
  private static SpecVersion.VersionFlag declaredDraft(JsonNode tree, String label) {
    JsonNode declared = tree.get("$schema");
    if (declared == null) {
      return SpecVersion.VersionFlag.V202012;
    }
    SpecVersion.VersionFlag draft =
        declared.isTextual() ? DRAFTS.get(withoutSchemeAndFragment(declared.textValue())) : null;
    if (draft == null) {
      throw new IllegalArgumentException(
          label
              + " declares \"$schema\": "
              + (declared.isTextual()
                  ? "'" + declared.textValue() + "'"
                  : "a " + declared.getNodeType().name().toLowerCase(Locale.ROOT))
              + ", which is no draft this transform knows (meta-schemas are not fetched): use one "
              + "of "
              + SUPPORTED
              + ", or leave \"$schema\" out for draft 2020-12");
    }
    return draft;
  }

  private static String withoutSchemeAndFragment(String uri) {
    String name = uri.endsWith("#") ? uri.substring(0, uri.length() - 1) : uri;
    for (String scheme : List.of("http://", "https://")) {
      if (name.startsWith(scheme)) {
        return name.substring(scheme.length());
      }
    }
    return name;
  }

  /** "draft-07", "draft 2020-12": as the drafts call themselves. */
  private static String draftName(SpecVersion.VersionFlag draft) {
    return switch (draft) {
      case V4 -> "draft-04";
      case V6 -> "draft-06";
      case V7 -> "draft-07";
      case V201909 -> "draft 2019-09";
      case V202012 -> "draft 2020-12";
    };
  }

  /**
   * Compiles a schema; whatever goes wrong is an {@link IllegalArgumentException}, the one failure
   * the config validators turn into an explained error: anything else escapes Connect's validate
   * call as HTTP 500.
   */
  private static Compiled compile(SchemaSource source, String text) {
    String label = source.label();
    try {
      return compile(source, label, parse(text, label, source.isInline()));
    } catch (StackOverflowError e) {
      // a thread with little stack, or a chain of $refs, can run out within the depth allowed
      throw new IllegalArgumentException(
          label
              + " is nested too deeply for the validator to walk (it ran out of stack compiling "
              + "it and the documents its $refs lead to): nest it less deeply");
    }
  }

  private static Compiled compile(SchemaSource source, String label, JsonNode tree) {
    if (tree == null || !tree.isObject()) {
      throw new IllegalArgumentException(label + " is not a JSON Schema object");
    }
    SpecVersion.VersionFlag draft = declaredDraft(tree, label);
    Map<String, String> referenced = new ConcurrentHashMap<>();
    try {
      Set<ValidationMessage> problems = metaSchema(draft).validate(tree);
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException(
            label + " is not a valid " + draftName(draft) + " JSON Schema: " + problems);
      }
      JsonSchemaFactory factory = recordingFactory(referenced, draft);
      JsonSchema schema =
          source.location() == null
              ? factory.getSchema(tree, CONFIG)
              : factory.getSchema(SchemaLocation.of(source.location()), tree, CONFIG);
      schema.initializeValidators();
      return new Compiled(schema, Map.copyOf(referenced));
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(label + " is not a valid JSON Schema: " + reason(e), e);
    }
  }

  /**
   * A schema document's tree, parsed no deeper than {@link SchemaSource#MAX_DEPTH}; {@code what}
   * names it in the {@link IllegalArgumentException} that says why it is not JSON. The parser's own
   * message quotes the token it stopped at: fine for inline text ({@code quotable}), which is the
   * config's own, but a file can be any file the worker may read, and this message reaches the REST
   * response and the log, so a file is named by position only.
   */
  private static JsonNode parse(String text, String what, boolean quotable) {
    try {
      return SCHEMA_MAPPER.readTree(text);
    } catch (StreamConstraintsException e) {
      throw new IllegalArgumentException(
          what
              + " nests objects and arrays deeper than "
              + SchemaSource.MAX_DEPTH
              + " levels, the most a schema document may"
              + position(e));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          what + " is not valid JSON" + (quotable ? ": " + e.getMessage() : position(e)));
    }
  }

  private static String position(JsonProcessingException e) {
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
  private static JsonSchemaFactory recordingFactory(
      Map<String, String> referenced, SpecVersion.VersionFlag draft) {
    // a SchemaLoader of our own: the validator's map-based loaders swallow exceptions and fall
    // through to its URL loader, which would fetch the very URI this one refuses
    SchemaLoader filesAndResourcesOnly =
        iri -> {
          String uri = iri.toString();
          String text = SchemaSource.loadReferenced(uri);
          // parsed here first: the validator logs its own parser's message when a document is no
          // JSON, and that message quotes the start of the file (any file the worker may read)
          try {
            parse(text, "referenced schema '" + uri + "'", false);
          } catch (IllegalArgumentException notJson) {
            throw new SchemaSource.UnreadableReference(notJson.getMessage());
          }
          referenced.put(uri, text);
          return () -> new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
        };
    // the schema's own draft is the default: a file it refers to that declares no "$schema" (the
    // definitions of a draft-07 schema split into files) is read by the same draft's rules
    return JsonSchemaFactory.getInstance(
        draft, builder -> builder.schemaLoaders(loaders -> loaders.add(filesAndResourcesOnly)));
  }
}
