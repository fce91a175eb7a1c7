package io.somastack.connect.deploy.strimzi;

import static io.somastack.connect.deploy.strimzi.Yaml.key;
import static io.somastack.connect.deploy.strimzi.Yaml.quote;

import io.somastack.connect.deploy.Args;
import io.somastack.connect.deploy.PipelineFile;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Renders strimzi/ from the project's own files, so the Strimzi resources can never drift from what
 * the REST path deploys:
 *
 * <ul>
 *   <li>{@code strimzi/connectors/<name>.yaml}: one {@code KafkaConnector} per file of
 *       connector-configs/ (the very same config, less what Strimzi takes from the resource);
 *   <li>{@code strimzi/kafka-connect.yaml}: the {@code KafkaConnect} cluster that builds its image
 *       with one zip artifact per plugin module, the env config provider, the SOMA_* variables from
 *       a Secret and the JMX Prometheus exporter;
 *   <li>{@code strimzi/metrics-config.yaml}: the exporter's rules as a ConfigMap, the same rules
 *       file the docker-compose worker uses (docker/connect/jmx-exporter.yml).
 * </ul>
 *
 * Regenerate with {@code ./soma-connect strimzi}; StrimziResourcesTest fails the build when the
 * committed files differ from what this renders.
 */
public final class StrimziResources {

  /** The KafkaConnect resource's name, which every KafkaConnector names in its label. */
  public static final String CLUSTER = "soma-connect";

  /**
   * The Kafka version Strimzi runs the workers on. Our plugins need Connect 4.1+ (KIP-877
   * PluginMetrics); 4.3.1 is the version the project builds and tests against, supported by Strimzi
   * 1.2 and later.
   */
  public static final String KAFKA_VERSION = "4.3.1";

  /**
   * Where a release's plugin archives are downloaded from, by default: the GitHub release of the
   * version, which exists only once that release is published.
   */
  public static final String RELEASE_BASE_URL =
      "https://github.com/somastack/soma-connect/releases/download/v%s";

  /** The Secret the workers take the SOMA_* variables from. */
  public static final String ENV_SECRET = "soma-connect-env";

  public static final String METRICS_CONFIG_MAP = "soma-connect-metrics";
  public static final String METRICS_KEY = "metrics-config.yml";

  /** The variables the docs promise, whether or not a pipeline uses them yet. */
  static final List<String> DOCUMENTED_ENV =
      List.of(
          "SOMA_PG_URL",
          "SOMA_PG_USER",
          "SOMA_PG_PASSWORD",
          StrimziResources.PG_SSLROOTCERT_ENV, // qualified: declared below
          "SOMA_PG_SSLPASSWORD",
          "SOMA_QDRANT_URL",
          "SOMA_QDRANT_API_KEY",
          "SOMA_ENCRYPTION_KEYS",
          "SOMA_ENCRYPTION_KEY_ID",
          "SOMA_REDACT_KEY");

  /**
   * The variable the PostgreSQL pipelines read connection.sslrootcert from. Not taken from the
   * Secret: it is the path of a file in the worker pods, which only this resource can mount, so it
   * is rendered here, empty (pgjdbc's default, no root certificate given) unless a {@link PgCa} is
   * mounted. A variable left unset would reach the connectors as the literal ${env:...}.
   */
  public static final String PG_SSLROOTCERT_ENV = "SOMA_PG_SSLROOTCERT";

  /** The volume of the PostgreSQL CA Secret, and where the workers see it (Strimzi: /mnt/...). */
  static final String PG_CA_VOLUME = "soma-pg-ca";

  static final String PG_CA_MOUNT = "/mnt/" + PG_CA_VOLUME;

  /** A Secret key's name, as Kubernetes allows it. */
  private static final Pattern SECRET_KEY = Pattern.compile("[-._a-zA-Z0-9]+");

  /**
   * The Secret holding the CA certificate (PEM) that signed PostgreSQL's server certificate, for
   * sslmode=verify-ca and verify-full: mounted read-only into every worker at {@link #PG_CA_MOUNT},
   * its {@code key} becoming connection.sslrootcert through {@link #PG_SSLROOTCERT_ENV}.
   */
  public record PgCa(String secret, String key) {
    public static final String DEFAULT_KEY = "ca.crt";

    /** The names checked as Kubernetes checks them, so a bad one is a usage error here. */
    public PgCa {
      if (secret == null || secret.length() > 253 || !RESOURCE_NAME.matcher(secret).matches()) {
        throw new IllegalArgumentException(
            "--pg-ca-secret takes a Secret's name (lower case letters, digits, '-' and '.'), not "
                + quote(String.valueOf(secret)));
      }
      if (key == null
          || key.equals(".")
          || key.equals("..")
          || !SECRET_KEY.matcher(key).matches()) {
        throw new IllegalArgumentException(
            "--pg-ca-key takes a key of the Secret (letters, digits, '-', '_' and '.'), not "
                + quote(String.valueOf(key)));
      }
    }

    /** Where the workers read the certificate. */
    public String path() {
      return PG_CA_MOUNT + "/" + key;
    }
  }

  /** Config keys Strimzi takes from the KafkaConnector resource itself. */
  private static final Set<String> FROM_RESOURCE = Set.of("connector.class", "tasks.max", "name");

  private static final Pattern ENV_REFERENCE =
      Pattern.compile("\\$\\{env:(?:[^:}]*:)?([A-Za-z_][A-Za-z0-9_]*)}");

  /** A Kubernetes object name (DNS-1123 subdomain), which a KafkaConnector's name must be. */
  private static final Pattern RESOURCE_NAME =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  private static final String GENERATOR =
      "./soma-connect strimzi (" + StrimziResources.class.getName() + ")";

  /** One plugin module and the SHA-512 of its archive, when known. */
  public record Plugin(String module, String sha512) {}

  private StrimziResources() {}

  // ---------------------------------------------------------------- what the project holds

  /** The plugin modules: the folders with a Confluent Hub manifest, in name order. */
  public static List<String> pluginModules(Path root) throws IOException {
    try (Stream<Path> dirs = Files.list(root)) {
      return dirs.filter(d -> Files.isRegularFile(d.resolve("src/main/plugin/manifest.json")))
          .map(d -> d.getFileName().toString())
          .sorted()
          .toList();
    }
  }

  /** The plugins with the SHA-512 of target/plugin-archives/somastack-MODULE-VERSION.zip. */
  public static List<Plugin> pluginsFromArchives(Path root, String version) throws IOException {
    List<Plugin> plugins = new ArrayList<>();
    for (String module : pluginModules(root)) {
      Path zip =
          root.resolve("target/plugin-archives/somastack-" + module + "-" + version + ".zip");
      plugins.add(new Plugin(module, Files.isRegularFile(zip) ? sha512(zip) : null));
    }
    return plugins;
  }

  /**
   * The plugins with the checksums a committed kafka-connect.yaml already carries for this very
   * version: a checksum under another version's URL is that release's zip's, which the new URL's
   * zip cannot match (and Strimzi's build would fail on it).
   */
  public static List<Plugin> pluginsFromCommitted(
      Path root, String committedKafkaConnect, String version) throws IOException {
    return pluginsFromCommitted(root, committedKafkaConnect, version, releaseBaseUrl(version));
  }

  /** As above, for archives downloaded from {@code baseUrl}: a checksum belongs to one URL. */
  public static List<Plugin> pluginsFromCommitted(
      Path root, String committedKafkaConnect, String version, String baseUrl) throws IOException {
    Map<String, String> sums = new LinkedHashMap<>();
    Map<String, String> urls = new LinkedHashMap<>();
    String current = null;
    for (String line : committedKafkaConnect.split("\n")) {
      String trimmed = line.trim();
      if (trimmed.startsWith("- name: ")) {
        current = unquote(trimmed.substring("- name: ".length())).replaceFirst("^somastack-", "");
      } else if (trimmed.startsWith("url: ") && current != null) {
        urls.put(current, unquote(trimmed.substring("url: ".length())));
      } else if (trimmed.startsWith("sha512sum: ") && current != null) {
        sums.put(current, unquote(trimmed.substring("sha512sum: ".length())));
      }
    }
    List<Plugin> plugins = new ArrayList<>();
    for (String module : pluginModules(root)) {
      boolean sameRelease = pluginUrl(baseUrl, version, module).equals(urls.get(module));
      plugins.add(new Plugin(module, sameRelease ? sums.get(module) : null));
    }
    return plugins;
  }

  /**
   * Whether a version is a Maven snapshot: no GitHub release holds its zips, so its plugin URLs
   * name nothing and no checksum can match them.
   */
  public static boolean isSnapshot(String version) {
    return version.endsWith("-SNAPSHOT");
  }

  /** The GitHub release of {@code version}, where its plugin archives are attached. */
  public static String releaseBaseUrl(String version) {
    return String.format(RELEASE_BASE_URL, version);
  }

  /** The archive of one plugin module under {@code baseUrl}, named as the build names it. */
  static String pluginUrl(String baseUrl, String version, String module) {
    return baseUrl + "/somastack-" + module + "-" + version + ".zip";
  }

  /**
   * A --plugin-base-url as the artifacts' URLs start: http(s) with a host, no query or fragment
   * (the file name is appended), without a trailing slash.
   */
  public static String pluginBaseUrl(String value) {
    URI uri = Args.httpUrl("--plugin-base-url", value);
    if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new IllegalArgumentException(
          "--plugin-base-url takes no query or fragment: the zip's name is appended to it");
    }
    return uri.toString().replaceAll("/+$", "");
  }

  /**
   * The plugins to render: with {@code release}, the checksums of this build's archives (every one
   * must be there); otherwise those strimzi/kafka-connect.yaml already carries for this version, so
   * regenerating for a new pipeline does not churn them (the archives' when there is no such file
   * yet). A SNAPSHOT version gets none (see {@link #isSnapshot}), and cannot be released.
   */
  public static List<Plugin> plugins(Path root, String version, boolean release)
      throws IOException {
    return plugins(root, version, release, releaseBaseUrl(version));
  }

  /** As above, for archives downloaded from {@code baseUrl}. */
  public static List<Plugin> plugins(Path root, String version, boolean release, String baseUrl)
      throws IOException {
    if (isSnapshot(version)) {
      if (release) {
        throw new IllegalArgumentException(snapshotRelease(version));
      }
      return pluginModules(root).stream().map(module -> new Plugin(module, null)).toList();
    }
    Path committed = root.resolve("strimzi/kafka-connect.yaml");
    if (!release && Files.isRegularFile(committed)) {
      return pluginsFromCommitted(
          root, Files.readString(committed, StandardCharsets.UTF_8), version, baseUrl);
    }
    List<Plugin> plugins = pluginsFromArchives(root, version);
    if (release) {
      for (Plugin plugin : plugins) {
        if (plugin.sha512() == null) {
          throw new IOException(
              "no target/plugin-archives/somastack-"
                  + plugin.module()
                  + "-"
                  + version
                  + ".zip: build the release first (mvn -DskipTests package)");
        }
      }
    }
    return plugins;
  }

  /** Why --release refuses a SNAPSHOT version. */
  public static String snapshotRelease(String version) {
    return "--release needs a release version, not "
        + version
        + ": no GitHub release holds a SNAPSHOT's zips, and they change with every commit, so their"
        + " checksums could match nothing; set the release version in the poms first"
        + " (docs/deployment.md)";
  }

  static String sha512(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest digest = MessageDigest.getInstance("SHA-512");
      byte[] buffer = new byte[1 << 16];
      for (int n; (n = in.read(buffer)) > 0; ) {
        digest.update(buffer, 0, n);
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String unquote(String value) {
    String v = value.trim();
    return v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")
        ? v.substring(1, v.length() - 1)
        : v;
  }

  // ---------------------------------------------------------------- rendering

  /** Every generated file, keyed by its path under the project root. */
  public static Map<String, String> render(Path root, String version, List<Plugin> plugins)
      throws IOException {
    return render(root, version, plugins, releaseBaseUrl(version), null);
  }

  /**
   * As above, with the plugin archives downloaded from {@code baseUrl}, mounting PostgreSQL's CA
   * certificate from {@code pgCa} (null: none).
   */
  public static Map<String, String> render(
      Path root, String version, List<Plugin> plugins, String baseUrl, PgCa pgCa)
      throws IOException {
    Map<String, String> files = new TreeMap<>();
    List<PipelineFile> pipelines = new ArrayList<>();
    for (Path json : PipelineFile.list(root.resolve("connector-configs"))) {
      pipelines.add(PipelineFile.read(json));
    }
    List<String> clashes = PipelineFile.sameNames(pipelines);
    if (!clashes.isEmpty()) {
      throw new IOException(String.join("; ", clashes));
    }
    for (PipelineFile pipeline : pipelines) {
      files.put("strimzi/connectors/" + pipeline.name() + ".yaml", connector(pipeline));
    }
    files.put(
        "strimzi/kafka-connect.yaml", kafkaConnect(version, plugins, pipelines, baseUrl, pgCa));
    files.put(
        "strimzi/metrics-config.yaml",
        metricsConfig(
            Files.readString(
                root.resolve("docker/connect/jmx-exporter.yml"), StandardCharsets.UTF_8)));
    return files;
  }

  /** The KafkaConnector of one pipeline file. */
  public static String connector(PipelineFile pipeline) throws IOException {
    String name = pipeline.name();
    if (name.length() > 253 || !RESOURCE_NAME.matcher(name).matches()) {
      throw new IOException(
          pipeline.path()
              + ": pipeline name "
              + quote(name)
              + " is not a Kubernetes resource name (lower case letters, digits, '-' and '.')");
    }
    int tasksMax;
    try {
      tasksMax = pipeline.tasksMax();
    } catch (NumberFormatException e) {
      throw new IOException(pipeline.path() + ": tasks.max is not a number", e);
    }
    String source = "connector-configs/" + pipeline.path().getFileName();
    StringBuilder y = new StringBuilder();
    y.append("# Generated from ").append(source).append(" by ./soma-connect strimzi\n");
    y.append("# (").append(StrimziResources.class.getName()).append("); do not edit: edit the\n");
    y.append("# JSON file and regenerate. The build fails when the two differ.\n");
    y.append("apiVersion: kafka.strimzi.io/v1\n");
    y.append("kind: KafkaConnector\n");
    y.append("metadata:\n");
    y.append("  name: ").append(quote(name)).append('\n');
    y.append("  labels:\n");
    y.append("    strimzi.io/cluster: ").append(CLUSTER).append('\n');
    y.append("spec:\n");
    y.append("  class: ").append(quote(pipeline.connectorClass())).append('\n');
    y.append("  tasksMax: ").append(tasksMax).append('\n');
    y.append("  config:\n");
    for (Map.Entry<String, String> e : pipeline.config().entrySet()) {
      if (!FROM_RESOURCE.contains(e.getKey())) {
        y.append("    ").append(key(e.getKey())).append(": ").append(quote(e.getValue()));
        y.append('\n');
      }
    }
    return y.toString();
  }

  /** The SOMA_* (and any other) variables the pipelines read through ${env:...}. */
  static Set<String> referencedEnv(List<PipelineFile> pipelines) {
    Set<String> names = new TreeSet<>();
    for (PipelineFile pipeline : pipelines) {
      for (String value : pipeline.config().values()) {
        Matcher m = ENV_REFERENCE.matcher(value);
        while (m.find()) {
          names.add(m.group(1));
        }
      }
    }
    return names;
  }

  /** The KafkaConnect cluster. */
  public static String kafkaConnect(
      String version, List<Plugin> plugins, List<PipelineFile> pipelines) {
    return kafkaConnect(version, plugins, pipelines, releaseBaseUrl(version), null);
  }

  /**
   * The KafkaConnect cluster, its plugin archives downloaded from {@code baseUrl}, mounting
   * PostgreSQL's CA certificate from {@code pgCa} (null: none).
   */
  public static String kafkaConnect(
      String version,
      List<Plugin> plugins,
      List<PipelineFile> pipelines,
      String baseUrl,
      PgCa pgCa) {
    Set<String> required = referencedEnv(pipelines);
    Set<String> env = new TreeSet<>(DOCUMENTED_ENV);
    env.addAll(required);
    StringBuilder y = new StringBuilder();
    y.append("# Generated by ").append(GENERATOR).append('\n');
    y.append("# from the plugin modules, connector-configs/ and target/plugin-archives/;");
    y.append(" do not edit.\n");
    y.append("#\n");
    y.append(
        "# The sha512sum values must be those of the zips attached to the GitHub release. The\n");
    y.append(
        "# zips change with every commit (one commit builds the same bytes anywhere), so the\n");
    y.append("# build's drift check compares everything here but them, and setting them is a\n");
    y.append("# release step: with the release version in the poms, run ./soma-connect strimzi\n");
    y.append("# --release (builds, then hashes target/plugin-archives/) and upload those zips.\n");
    y.append("# A SNAPSHOT version has no release, so no checksums.\n");
    y.append("#\n");
    if (baseUrl.equals(releaseBaseUrl(version))) {
      y.append("# The plugin URLs name the GitHub release v").append(version).append(":\n");
      y.append("# Strimzi can build the image only once that release is published (never, for\n");
      y.append(
          "# a SNAPSHOT). For zips hosted elsewhere (those of mvn package, on an HTTP server\n");
      y.append("# or artifact repository of yours), regenerate with\n");
      y.append("# ./soma-connect strimzi --plugin-base-url URL (docs/deployment.md).\n");
    } else {
      y.append("# The plugin zips are downloaded from ").append(baseUrl).append('\n');
      y.append("# (--plugin-base-url): upload target/plugin-archives/*.zip there.\n");
    }
    y.append("#\n");
    y.append("# Needs Strimzi 1.2+ (the v1 API, Kafka ").append(KAFKA_VERSION).append(").");
    y.append(" The connectors of this cluster are\n");
    y.append(
        "# managed by KafkaConnector resources (strimzi/connectors/): do not also deploy to it\n");
    y.append("# by REST (./soma-connect deploy), the operator would revert or delete them.\n");
    y.append("apiVersion: kafka.strimzi.io/v1\n");
    y.append("kind: KafkaConnect\n");
    y.append("metadata:\n");
    y.append("  name: ").append(CLUSTER).append('\n');
    y.append("  annotations:\n");
    y.append("    strimzi.io/use-connector-resources: \"true\"\n");
    y.append("spec:\n");
    y.append("  version: ").append(KAFKA_VERSION).append('\n');
    y.append("  replicas: 2\n");
    y.append(
        "  # the bootstrap service of a Strimzi Kafka cluster named soma-kafka; change to yours\n");
    y.append("  bootstrapServers: soma-kafka-kafka-bootstrap:9092\n");
    y.append("  groupId: soma-connect\n");
    y.append("  configStorageTopic: soma-connect-configs\n");
    y.append("  offsetStorageTopic: soma-connect-offsets\n");
    y.append("  statusStorageTopic: soma-connect-status\n");
    y.append("  config:\n");
    y.append("    # -1: the brokers' default replication factor\n");
    y.append("    config.storage.replication.factor: -1\n");
    y.append("    offset.storage.replication.factor: -1\n");
    y.append("    status.storage.replication.factor: -1\n");
    y.append("    key.converter: org.apache.kafka.connect.storage.StringConverter\n");
    y.append("    value.converter: org.apache.kafka.connect.json.JsonConverter\n");
    y.append("    value.converter.schemas.enable: false\n");
    y.append(
        "    # connector-configs/ read every connection setting and secret as ${env:SOMA_...}\n");
    y.append("    config.providers: env\n");
    y.append(
        "    config.providers.env.class:"
            + " org.apache.kafka.common.config.provider.EnvVarConfigProvider\n");
    y.append("    # and no other variable of the worker's environment\n");
    y.append("    config.providers.env.param.allowlist.pattern: \"SOMA_.*\"\n");
    y.append("    # the outbox source connector writes its records transactionally\n");
    y.append("    exactly.once.source.support: enabled\n");
    y.append(
        "    # sinks read the outbox relay's transactional topics: no record of an aborted"
            + " transaction\n");
    y.append("    consumer.isolation.level: read_committed\n");
    y.append("    # the pipelines tune their consumers with consumer.override.*\n");
    y.append("    connector.client.config.override.policy: All\n");
    y.append("    # only the plugins' ServiceLoader manifests are scanned: faster worker start\n");
    y.append("    plugin.discovery: service_load\n");
    y.append("  resources:\n");
    y.append("    requests:\n");
    y.append("      cpu: 500m\n");
    y.append("      memory: 1Gi\n");
    y.append("    limits:\n");
    y.append("      memory: 2Gi\n");
    y.append("  metricsConfig:\n");
    y.append("    type: jmxPrometheusExporter\n");
    y.append("    valueFrom:\n");
    y.append("      configMapKeyRef:\n");
    y.append("        name: ")
        .append(METRICS_CONFIG_MAP)
        .append("  # strimzi/metrics-config.yaml\n");
    y.append("        key: ").append(METRICS_KEY).append('\n');
    y.append("  template:\n");
    if (pgCa != null) {
      y.append("    pod:\n");
      y.append("      volumes:\n");
      y.append("        # PostgreSQL's CA certificate (--pg-ca-secret, --pg-ca-key)\n");
      y.append("        - name: ").append(PG_CA_VOLUME).append('\n');
      y.append("          secret:\n");
      y.append("            secretName: ").append(pgCa.secret()).append('\n');
    }
    y.append("    connectContainer:\n");
    if (pgCa != null) {
      y.append("      volumeMounts:\n");
      y.append("        - name: ").append(PG_CA_VOLUME).append('\n');
      y.append("          mountPath: ").append(PG_CA_MOUNT).append('\n');
      y.append("          readOnly: true\n");
    }
    y.append("      # from the Secret ").append(ENV_SECRET);
    y.append(" (strimzi/soma-connect-env.example.yaml); the ones\n");
    y.append("      # no pipeline reads yet are optional. ").append(PG_SSLROOTCERT_ENV);
    y.append(" is set here:\n");
    y.append("      # the path of a certificate this resource mounts, empty without one\n");
    y.append("      # (./soma-connect strimzi --pg-ca-secret NAME, docs/deployment.md)\n");
    y.append("      env:\n");
    for (String name : env) {
      y.append("        - name: ").append(name).append('\n');
      if (name.equals(PG_SSLROOTCERT_ENV)) {
        y.append("          value: ").append(quote(pgCa == null ? "" : pgCa.path())).append('\n');
        continue;
      }
      y.append("          valueFrom:\n");
      y.append("            secretKeyRef:\n");
      y.append("              name: ").append(ENV_SECRET).append('\n');
      y.append("              key: ").append(name).append('\n');
      if (!required.contains(name)) {
        y.append("              optional: true\n");
      }
    }
    y.append("  build:\n");
    y.append("    output:\n");
    y.append("      type: docker\n");
    y.append(
        "      # a registry the cluster can push to and pull from; add pushSecret: <secret>\n");
    y.append("      # (a kubernetes.io/dockerconfigjson Secret) when it needs credentials\n");
    y.append("      image: registry.example.com/somastack/soma-connect:")
        .append(version)
        .append('\n');
    y.append("    plugins:\n");
    for (Plugin plugin : plugins) {
      y.append("      - name: somastack-").append(plugin.module()).append('\n');
      y.append("        artifacts:\n");
      y.append("          - type: zip\n");
      y.append("            url: ")
          .append(quote(pluginUrl(baseUrl, version, plugin.module())))
          .append('\n');
      if (plugin.sha512() != null) {
        y.append("            sha512sum: ").append(quote(plugin.sha512())).append('\n');
      }
    }
    return y.toString();
  }

  /** The exporter's rules file as the ConfigMap the KafkaConnect refers to. */
  public static String metricsConfig(String rules) {
    StringBuilder y = new StringBuilder();
    y.append("# Generated by ").append(GENERATOR).append(" from\n");
    y.append(
        "# docker/connect/jmx-exporter.yml (the docker-compose worker's rules); do not edit.\n");
    y.append("apiVersion: v1\n");
    y.append("kind: ConfigMap\n");
    y.append("metadata:\n");
    y.append("  name: ").append(METRICS_CONFIG_MAP).append('\n');
    y.append("  labels:\n");
    y.append("    app: soma-connect\n");
    y.append("data:\n");
    y.append("  ").append(METRICS_KEY).append(": |\n");
    for (String line : rules.split("\n", -1)) {
      if (!line.isEmpty()) {
        y.append("    ").append(line);
      }
      y.append('\n');
    }
    // one final newline, however the rules file ends
    while (y.length() > 1 && y.charAt(y.length() - 1) == '\n' && y.charAt(y.length() - 2) == '\n') {
      y.setLength(y.length() - 1);
    }
    return y.toString();
  }

  // ---------------------------------------------------------------- writing and checking

  /**
   * Compares strimzi/ with what renders now: the files that differ, are missing, or are left over
   * in strimzi/connectors/. With {@code update} it writes them instead and returns what it changed.
   */
  public static List<String> sync(Path root, Map<String, String> rendered, boolean update)
      throws IOException {
    List<String> changes = new ArrayList<>();
    for (Map.Entry<String, String> file : rendered.entrySet()) {
      Path path = root.resolve(file.getKey());
      String committed =
          Files.isRegularFile(path) ? Files.readString(path, StandardCharsets.UTF_8) : null;
      if (file.getValue().equals(committed)) {
        continue;
      }
      changes.add((committed == null ? "missing: " : "differs: ") + file.getKey());
      if (update) {
        Files.createDirectories(path.getParent());
        Files.writeString(path, file.getValue(), StandardCharsets.UTF_8);
      }
    }
    Path connectors = root.resolve("strimzi/connectors");
    if (Files.isDirectory(connectors)) {
      try (Stream<Path> files = Files.list(connectors)) {
        for (Path path : files.sorted().toList()) {
          String relative = "strimzi/connectors/" + path.getFileName();
          if (!rendered.containsKey(relative)) {
            changes.add("no pipeline for: " + relative);
            if (update) {
              Files.delete(path);
            }
          }
        }
      }
    }
    return changes;
  }
}
