package io.somastack.connect.common.config;

/**
 * The version of a plugin, read once from its jar's manifest (Implementation-Version, written by
 * the build), so it is stated in one place: the pom.
 */
public final class Version {

  private Version() {}

  public static String of(Class<?> pluginClass) {
    String version = pluginClass.getPackage().getImplementationVersion();
    return version == null ? "unknown" : version;
  }
}
