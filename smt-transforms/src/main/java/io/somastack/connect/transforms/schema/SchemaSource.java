package io.somastack.connect.transforms.schema;

import io.somastack.connect.common.text.Utf8;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Where a JSON Schema comes from, written as one string: {@code classpath:schemas/x.schema.json} (a
 * resource of this plugin, such as the schemas it ships), inline JSON starting with <code>{</code>,
 * or else a file path on the worker.
 */
public record SchemaSource(String reference) {

  /**
   * The most bytes one schema document (a schema file, a resource, or a file it refers to) may
   * take: a document is read whole before it is parsed, and a path to a huge file would otherwise
   * run the worker out of memory while the config is validated.
   */
  public static final int MAX_BYTES = 1 << 20;

  /**
   * The deepest one schema document may nest objects and arrays: the validator walks a schema
   * recursively, and a deeper one (the parser alone allows 1000 levels) overflowed the stack of the
   * thread that checked it, so Connect's validate call answered HTTP 500 without saying why.
   */
  public static final int MAX_DEPTH = 100;

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
    return file(Path.of(reference), "schema file '" + reference + "'");
  }

  private static String resource(String name) {
    String path = name.startsWith("/") ? name.substring(1) : name;
    String what = "classpath resource '" + path + "'";
    try (InputStream in = SchemaSource.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalArgumentException("no " + what);
      }
      return text(in, what);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + what + ": " + e);
    }
  }

  /**
   * A file's text; {@code what} names it in the {@link IllegalArgumentException} that says why it
   * cannot be had. Only a regular file is opened: a device such as /dev/zero never ends, and a
   * named pipe blocks the thread that opens it.
   */
  private static String file(Path path, String what) {
    try {
      if (!Files.readAttributes(path, BasicFileAttributes.class).isRegularFile()) {
        throw new IllegalArgumentException("cannot read " + what + ": it is not a regular file");
      }
      try (InputStream in = Files.newInputStream(path)) {
        return text(in, what);
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + what + ": " + e);
    }
  }

  /** At most {@link #MAX_BYTES} of strict UTF-8 from the stream, read no further than one more. */
  private static String text(InputStream in, String what) throws IOException {
    byte[] bytes = in.readNBytes(MAX_BYTES + 1);
    if (bytes.length > MAX_BYTES) {
      throw new IllegalArgumentException(
          what + " is larger than " + MAX_BYTES + " bytes, the most a schema document may take");
    }
    // NUL allowed, as the JDK's strict decoder read it: the JSON parser refuses a raw one itself
    if (Utf8.malformedAt(bytes, true) >= 0) {
      throw new IllegalArgumentException("cannot read " + what + ": it is not UTF-8 text");
    }
    return new String(bytes, StandardCharsets.UTF_8);
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
      Path path;
      try {
        path = Path.of(URI.create(uri));
      } catch (IllegalArgumentException e) {
        throw new UnreadableReference("cannot read referenced schema '" + uri + "': " + e);
      }
      try {
        return file(path, "referenced schema '" + uri + "'");
      } catch (IllegalArgumentException e) {
        throw new UnreadableReference(e.getMessage());
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
