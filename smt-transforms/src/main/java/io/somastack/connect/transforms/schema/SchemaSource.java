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

  /** The text of a document a schema refers to, by its URI; null unless a file or a resource. */
  static String loadReferenced(String uri) {
    if (uri.startsWith(CLASSPATH)) {
      return resource(uri.substring(CLASSPATH.length()));
    }
    if (uri.startsWith("file:")) {
      try {
        return Files.readString(Path.of(URI.create(uri)), StandardCharsets.UTF_8);
      } catch (IOException | IllegalArgumentException e) {
        throw new IllegalArgumentException("cannot read referenced schema '" + uri + "': " + e);
      }
    }
    return null;
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
