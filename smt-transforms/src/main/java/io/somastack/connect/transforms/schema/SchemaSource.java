package io.somastack.connect.transforms.schema;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a JSON Schema comes from, written as one string: {@code classpath:schemas/x.schema.json} (a
 * resource of this plugin, such as the schemas it ships), inline JSON starting with <code>{</code>,
 * or else a file path on the worker.
 */
public record SchemaSource(String reference) {

  public static final String CLASSPATH = "classpath:";

  public SchemaSource {
    reference = reference.trim();
  }

  public boolean isInline() {
    return reference.startsWith("{");
  }

  /** The schema text; an {@link IllegalArgumentException} says why it cannot be read. */
  public String load() {
    if (isInline()) {
      return reference;
    }
    if (reference.startsWith(CLASSPATH)) {
      return resource(reference.substring(CLASSPATH.length()));
    }
    try {
      return Files.readString(Path.of(reference), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read schema file '" + reference + "': " + e);
    }
  }

  private static String resource(String name) {
    String path = name.startsWith("/") ? name.substring(1) : name;
    try (InputStream in = SchemaSource.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalArgumentException("no classpath resource '" + path + "'");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read classpath resource '" + path + "': " + e);
    }
  }

  /**
   * The URI that relative {@code $ref}s in the schema resolve against: the file's {@code file:}
   * URI, or the {@code classpath:} name; null for inline schemas, which have no location.
   */
  public String location() {
    if (isInline()) {
      return null;
    }
    if (reference.startsWith(CLASSPATH)) {
      String name = reference.substring(CLASSPATH.length());
      return CLASSPATH + (name.startsWith("/") ? name.substring(1) : name);
    }
    return Path.of(reference).toAbsolutePath().normalize().toUri().toString();
  }

  /**
   * The text of a document a schema refers to, by its URI: a file or a resource of this plugin.
   * Anything else is refused, never fetched: a worker opening URLs named in connector config is an
   * SSRF vector, and a schema that changes with a remote server is not the schema that was
   * configured. (The JSON Schema meta-schemas are bundled with the validator and arrive here as
   * classpath: resources.)
   */
  static String loadReferenced(String uri) {
    if (uri.startsWith(CLASSPATH)) {
      return resource(uri.substring(CLASSPATH.length()));
    }
    if (uri.startsWith("file:")) {
      try {
        return Files.readString(Path.of(URI.create(uri)), StandardCharsets.UTF_8);
      } catch (IOException | IllegalArgumentException e) {
        throw new UnreadableReference("cannot read referenced schema '" + uri + "': " + e);
      }
    }
    throw new UnreadableReference(
        "it refers to '"
            + uri
            + "', and remote schemas are not fetched: only files on the worker and classpath: "
            + "resources are read. Save the referenced schema as a file on the worker and refer "
            + "to it there; note that relative $refs resolve against the schema's \"$id\" when "
            + "it has one, not against its file.");
  }

  /** A document a schema refers to cannot or may not be read; the message says which and why. */
  static final class UnreadableReference extends IllegalArgumentException {
    UnreadableReference(String message) {
      super(message);
    }
  }

  /** A short name for headers and messages: inline schemas are not repeated in full. */
  public String label() {
    return isInline() ? "inline schema" : reference;
  }

  @Override
  public String toString() {
    return label();
  }
}
