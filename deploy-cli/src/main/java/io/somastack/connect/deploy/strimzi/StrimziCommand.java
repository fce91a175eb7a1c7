package io.somastack.connect.deploy.strimzi;

import io.somastack.connect.deploy.Args;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;

/**
 * {@code deploy-cli strimzi [--project-root DIR] [--version V] [--plugin-base-url URL]
 * [--pg-ca-secret NAME [--pg-ca-key KEY]] [--release | --check]}: regenerates strimzi/ from
 * connector-configs/, the plugin modules and docker/connect/jmx-exporter.yml; with --release also
 * the plugin checksums from target/plugin-archives/ (refused for a SNAPSHOT version, whose zips no
 * release holds); with --pg-ca-secret the KafkaConnect mounts PostgreSQL's CA certificate from that
 * Secret and points the connectors' connection.sslrootcert at it; with --check it only says whether
 * strimzi/ is up to date (checksums aside) with what these options render.
 */
public final class StrimziCommand {

  public static final String USAGE =
      String.join(
          "\n",
          "usage: soma-connect strimzi [--project-root DIR] [--version V] [--plugin-base-url URL]"
              + " [--pg-ca-secret NAME [--pg-ca-key KEY]] [--release | --check]",
          "  --project-root DIR   the soma-connect checkout (default: .)",
          "  --version V          the release the plugin URLs name (default: this jar's version)",
          "  --plugin-base-url URL  where Strimzi downloads the plugin zips (those of",
          "                       target/plugin-archives/, as URL/somastack-MODULE-VERSION.zip);",
          "                       default: the GitHub release of the version, which exists only",
          "                       once that release is published",
          "  --pg-ca-secret NAME  mount the Secret NAME (PostgreSQL's CA certificate, PEM) into the",
          "                       workers at /mnt/soma-pg-ca and set SOMA_PG_SSLROOTCERT, which the",
          "                       PostgreSQL pipelines read as connection.sslrootcert, to it: for",
          "                       sslmode=verify-full (or verify-ca) in SOMA_PG_URL",
          "  --pg-ca-key KEY      the Secret's key holding the certificate (default: ca.crt)",
          "  --release            set the sha512sum values from target/plugin-archives/ (a release",
          "                       step, refused for a SNAPSHOT version; otherwise those",
          "                       strimzi/kafka-connect.yaml carries for this version are kept)",
          "  --check              change nothing; exit 1 when strimzi/ is out of date");

  private StrimziCommand() {}

  public static int run(String[] args, PrintStream out) {
    Path root = Paths.get(".");
    String version = StrimziCommand.class.getPackage().getImplementationVersion();
    boolean check = false;
    boolean release = false;
    String baseUrl = null;
    String pgCaSecret = null;
    String pgCaKey = null;
    StrimziResources.PgCa pgCa = null;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--project-root" -> root = Paths.get(Args.value(args, ++i));
          case "--version" -> version = Args.value(args, ++i);
          case "--plugin-base-url" ->
              baseUrl = StrimziResources.pluginBaseUrl(Args.value(args, ++i));
          case "--pg-ca-secret" -> pgCaSecret = Args.value(args, ++i);
          case "--pg-ca-key" -> pgCaKey = Args.value(args, ++i);
          case "--check" -> check = true;
          case "--release" -> release = true;
          case "-h", "--help" -> {
            out.println(USAGE);
            return 0;
          }
          default -> throw new IllegalArgumentException("unknown argument " + args[i]);
        }
      }
      if (pgCaKey != null && pgCaSecret == null) {
        throw new IllegalArgumentException("--pg-ca-key needs --pg-ca-secret");
      }
      if (pgCaSecret != null) {
        pgCa =
            new StrimziResources.PgCa(
                pgCaSecret, pgCaKey == null ? StrimziResources.PgCa.DEFAULT_KEY : pgCaKey);
      }
    } catch (IllegalArgumentException e) {
      out.println(e.getMessage());
      out.println(USAGE);
      return 2;
    }
    if (version == null) {
      out.println("no version known: pass --version");
      return 2;
    }
    if (release && StrimziResources.isSnapshot(version)) {
      out.println(StrimziResources.snapshotRelease(version));
      return 2;
    }
    if (baseUrl == null) {
      baseUrl = StrimziResources.releaseBaseUrl(version);
    }
    try {
      List<StrimziResources.Plugin> plugins =
          StrimziResources.plugins(root, version, release && !check, baseUrl);
      Map<String, String> rendered = StrimziResources.render(root, version, plugins, baseUrl, pgCa);
      List<String> changes = StrimziResources.sync(root, rendered, !check);
      changes.forEach(c -> out.println("  " + c));
      if (check) {
        out.println(
            changes.isEmpty()
                ? "strimzi/ is up to date"
                : "strimzi/ is out of date: regenerate it with ./soma-connect strimzi");
        return changes.isEmpty() ? 0 : 1;
      }
      out.println(
          "strimzi/: "
              + rendered.size()
              + " files for version "
              + version
              + (changes.isEmpty() ? ", nothing changed" : ", " + changes.size() + " changed"));
      return 0;
    } catch (IOException e) {
      out.println("strimzi failed: " + e.getMessage());
      return 1;
    }
  }
}
