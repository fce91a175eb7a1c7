package io.somastack.connect.testing.connect;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.stream.Stream;

/** Where the build leaves the packaged plugins: {@code target/plugin-path} at the project root. */
public final class PackagedPlugins {

  private PackagedPlugins() {}

  /**
   * The plugin.path folder: the {@code soma.plugin.path} system property when set (the build sets
   * it for integration tests), else {@code target/plugin-path} in the nearest folder above the
   * working directory that has one. Fails, saying how to build it, when it is missing or empty.
   */
  public static Path pluginPath() {
    String configured = System.getProperty("soma.plugin.path");
    Path path = configured != null ? Paths.get(configured) : search();
    if (path == null || !Files.isDirectory(path) || isEmpty(path)) {
      throw new IllegalStateException(
          "No packaged plugins at "
              + path
              + ". Build them first: mvn -DskipTests package (from the project root).");
    }
    return path.toAbsolutePath().normalize();
  }

  /** The project's root folder (the one holding connector-configs/). */
  public static Path projectRoot() {
    String configured = System.getProperty("soma.project.root");
    if (configured != null) {
      return Paths.get(configured).toAbsolutePath().normalize();
    }
    return pluginPath().getParent().getParent();
  }

  private static Path search() {
    for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("target").resolve("plugin-path");
      if (Files.isDirectory(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  private static boolean isEmpty(Path dir) {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.findAny().isEmpty();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
