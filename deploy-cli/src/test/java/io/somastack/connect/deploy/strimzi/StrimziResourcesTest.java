package io.somastack.connect.deploy.strimzi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.somastack.connect.deploy.PipelineFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * strimzi/ is generated from connector-configs/ and the plugin modules: this test fails the build
 * when the committed files differ from what StrimziResources renders now (the KafkaConnect's
 * sha512sum values aside: they belong to release archives, see kafka-connect.yaml), and checks that
 * what it renders reads back as the very same configuration.
 */
class StrimziResourcesTest {

  private static final Path ROOT = Path.of("..");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final String UPDATE_PROPERTY = "soma.docs.update";

  @TempDir Path tmp;

  static String version() throws IOException {
    String version = System.getProperty("soma.version");
    if (version != null) {
      return version;
    }
    Matcher m =
        Pattern.compile("<parent>.*?<version>([^<]+)</version>", Pattern.DOTALL)
            .matcher(Files.readString(Path.of("pom.xml")));
    assertTrue(m.find(), "no version in deploy-cli/pom.xml");
    return m.group(1);
  }

  @Test
  void committedResourcesAreWhatTheConnectorConfigsRender() throws IOException {
    boolean update = Boolean.getBoolean(UPDATE_PROPERTY);
    // the committed checksums (release archives' values, not this build's), see kafka-connect.yaml
    List<StrimziResources.Plugin> plugins = StrimziResources.plugins(ROOT, version(), false);
    Map<String, String> rendered = StrimziResources.render(ROOT, version(), plugins);
    List<String> changes = StrimziResources.sync(ROOT, rendered, update);
    assertTrue(
        update || changes.isEmpty(),
        "strimzi/ is out of date with connector-configs/ (or the plugin modules, or"
            + " docker/connect/jmx-exporter.yml): "
            + changes
            + "; regenerate it with ./soma-connect strimzi, or mvn -pl deploy-cli -am test -D"
            + UPDATE_PROPERTY
            + "=true");
  }

  @Test
  void everyConnectorReadsBackAsItsPipelineFile() throws IOException {
    List<Path> files = PipelineFile.list(ROOT.resolve("connector-configs"));
    assertFalse(files.isEmpty());
    for (Path file : files) {
      assertReadsBack(PipelineFile.read(file));
    }
  }

  @Test
  void valuesThatYamlWouldMisreadSurviveQuoting() throws IOException {
    Map<String, String> config = new LinkedHashMap<>();
    config.put("connector.class", "io.somastack.Example");
    config.put("tasks.max", "4");
    config.put("topics.regex", ".*\\.dlq");
    config.put("table.name.format", "${topic}");
    config.put("quote", "say \"hi\" # not a comment: really");
    config.put("yes", "no");
    config.put("number", "0012");
    config.put("float", "1e3");
    config.put("empty", "");
    config.put("null.value", "null");
    config.put("multi", "line one\nline two\ttabbed\r");
    config.put("flow", "[a, b] {c: d} & *alias !tag | > % @ `");
    config.put("key with: colon", "  leading and trailing spaces  ");
    config.put("unicode", "héllo \u2028 \u0007 ✓");
    assertReadsBack(new PipelineFile(Path.of("tricky.json"), "tricky", config));
  }

  private static void assertReadsBack(PipelineFile pipeline) throws IOException {
    JsonNode node = YAML.readTree(StrimziResources.connector(pipeline));
    assertEquals("kafka.strimzi.io/v1", node.path("apiVersion").asText());
    assertEquals("KafkaConnector", node.path("kind").asText());
    assertEquals(pipeline.name(), node.path("metadata").path("name").asText());
    assertEquals(
        StrimziResources.CLUSTER,
        node.path("metadata").path("labels").path("strimzi.io/cluster").asText());
    assertEquals(pipeline.connectorClass(), node.path("spec").path("class").asText());
    assertTrue(node.path("spec").path("tasksMax").isInt());
    assertEquals(pipeline.tasksMax(), node.path("spec").path("tasksMax").asInt());
    Map<String, String> expected = new LinkedHashMap<>(pipeline.config());
    expected.remove("connector.class");
    expected.remove("tasks.max");
    expected.remove("name");
    Map<String, String> actual = new LinkedHashMap<>();
    node.path("spec")
        .path("config")
        .fields()
        .forEachRemaining(
            e -> {
              assertTrue(e.getValue().isTextual(), e.getKey() + " should read back as a string");
              actual.put(e.getKey(), e.getValue().asText());
            });
    assertEquals(expected, actual, pipeline.path().toString());
  }

  @Test
  void kafkaConnectBuildsEveryPluginAndTakesTheEnvFromASecret() throws IOException {
    List<StrimziResources.Plugin> plugins = new ArrayList<>();
    for (String module : StrimziResources.pluginModules(ROOT)) {
      plugins.add(
          new StrimziResources.Plugin(module, module.equals("smt-transforms") ? null : "ab"));
    }
    List<PipelineFile> pipelines = new ArrayList<>();
    for (Path file : PipelineFile.list(ROOT.resolve("connector-configs"))) {
      pipelines.add(PipelineFile.read(file));
    }
    JsonNode node = YAML.readTree(StrimziResources.kafkaConnect("1.2.3", plugins, pipelines));
    assertEquals("kafka.strimzi.io/v1", node.path("apiVersion").asText());
    assertEquals("KafkaConnect", node.path("kind").asText());
    assertEquals(
        "true",
        node.path("metadata")
            .path("annotations")
            .path("strimzi.io/use-connector-resources")
            .asText());
    JsonNode spec = node.path("spec");
    assertEquals(StrimziResources.KAFKA_VERSION, spec.path("version").asText());
    assertTrue(spec.path("replicas").asInt() >= 1);
    for (String field : List.of("groupId", "configStorageTopic", "offsetStorageTopic")) {
      assertFalse(spec.path(field).asText().isEmpty(), field);
    }
    assertEquals("env", spec.path("config").path("config.providers").asText());
    assertEquals(
        "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
        spec.path("config").path("config.providers.env.class").asText());
    assertEquals("jmxPrometheusExporter", spec.path("metricsConfig").path("type").asText());

    JsonNode built = spec.path("build").path("plugins");
    assertEquals(plugins.size(), built.size());
    assertTrue(plugins.size() >= 4, "the four plugin modules");
    for (int i = 0; i < plugins.size(); i++) {
      String module = plugins.get(i).module();
      JsonNode artifact = built.get(i).path("artifacts").get(0);
      assertEquals("somastack-" + module, built.get(i).path("name").asText());
      assertEquals("zip", artifact.path("type").asText());
      assertEquals(
          "https://github.com/somastack/soma-connect/releases/download/v1.2.3/somastack-"
              + module
              + "-1.2.3.zip",
          artifact.path("url").asText());
      if (module.equals("smt-transforms")) {
        assertTrue(artifact.path("sha512sum").isMissingNode());
      } else {
        assertEquals("ab", artifact.path("sha512sum").asText());
      }
    }

    Map<String, JsonNode> env = new LinkedHashMap<>();
    spec.path("template")
        .path("connectContainer")
        .path("env")
        .forEach(e -> env.put(e.path("name").asText(), e));
    assertTrue(env.keySet().containsAll(StrimziResources.DOCUMENTED_ENV), env.keySet().toString());
    JsonNode pgUrl = env.get("SOMA_PG_URL").path("valueFrom").path("secretKeyRef");
    assertEquals(StrimziResources.ENV_SECRET, pgUrl.path("name").asText());
    assertEquals("SOMA_PG_URL", pgUrl.path("key").asText());
    assertTrue(pgUrl.path("optional").isMissingNode(), "the pipelines read SOMA_PG_URL");
  }

  private static Map<String, JsonNode> env(JsonNode kafkaConnect) {
    Map<String, JsonNode> env = new LinkedHashMap<>();
    kafkaConnect
        .path("spec")
        .path("template")
        .path("connectContainer")
        .path("env")
        .forEach(e -> env.put(e.path("name").asText(), e));
    return env;
  }

  /**
   * The workers fail to start when the Secret lacks a key they take from it without optional: the
   * example, which users copy and fill in, carries every one of them.
   */
  @Test
  void theExampleSecretCarriesEveryVariableTheWorkersRequireOfIt() throws IOException {
    JsonNode secret = YAML.readTree(ROOT.resolve("strimzi/soma-connect-env.example.yaml").toFile());
    assertEquals(StrimziResources.ENV_SECRET, secret.path("metadata").path("name").asText());
    JsonNode data = secret.path("stringData");
    JsonNode kafkaConnect = YAML.readTree(ROOT.resolve("strimzi/kafka-connect.yaml").toFile());
    List<String> missing = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : env(kafkaConnect).entrySet()) {
      JsonNode ref = e.getValue().path("valueFrom").path("secretKeyRef");
      if (!ref.isMissingNode() && !ref.path("optional").asBoolean(false)) {
        assertEquals(StrimziResources.ENV_SECRET, ref.path("name").asText(), e.getKey());
        if (!data.has(ref.path("key").asText())) {
          missing.add(ref.path("key").asText());
        }
      }
    }
    assertEquals(List.of(), missing, "keys the workers need that the example Secret lacks");
  }

  /** A project whose one pipeline reads the TLS variables, as the PostgreSQL pipelines do. */
  private Path postgresProject() throws IOException {
    Path root = project("1.0");
    Files.writeString(
        root.resolve("connector-configs/a.json"),
        "{\"name\": \"a\", \"config\": {\"connector.class\": \"x.Y\","
            + " \"connection.url\": \"${env:SOMA_PG_URL}\","
            + " \"connection.sslrootcert\": \"${env:SOMA_PG_SSLROOTCERT}\","
            + " \"connection.sslpassword\": \"${env:SOMA_PG_SSLPASSWORD}\"}}");
    return root;
  }

  /**
   * SOMA_PG_SSLROOTCERT names a file in the worker pods, which only the KafkaConnect can mount:
   * without --pg-ca-secret it is set empty (no root certificate given), never left unset, which
   * would hand the connectors the literal ${env:SOMA_PG_SSLROOTCERT} as a path.
   */
  @Test
  void withoutACaSecretTheRootCertificateIsSetEmpty() throws IOException {
    Path root = postgresProject();
    StringBuilder output = new StringBuilder();

    assertEquals(0, strimzi(output, "--project-root", root.toString(), "--version", "1.0"));

    JsonNode node = YAML.readTree(root.resolve("strimzi/kafka-connect.yaml").toFile());
    JsonNode rootCert = env(node).get("SOMA_PG_SSLROOTCERT");
    assertTrue(rootCert.path("value").isTextual(), rootCert.toString());
    assertEquals("", rootCert.path("value").asText());
    assertTrue(rootCert.path("valueFrom").isMissingNode(), rootCert.toString());
    assertTrue(node.path("spec").path("template").path("pod").isMissingNode());
    JsonNode keyPassword =
        env(node).get("SOMA_PG_SSLPASSWORD").path("valueFrom").path("secretKeyRef");
    assertEquals("SOMA_PG_SSLPASSWORD", keyPassword.path("key").asText());
  }

  /**
   * With sslmode=verify-full every PostgreSQL connector failed ("Could not open SSL root
   * certificate file"): the CA had to be mounted by editing the generated kafka-connect.yaml, which
   * the next regeneration undid. --pg-ca-secret renders the Secret's volume, its mount and the path
   * the connectors read, and --check judges strimzi/ by the same options.
   */
  @Test
  void aCaSecretIsMountedAndBecomesTheConnectorsRootCertificate() throws IOException {
    Path root = postgresProject();
    StringBuilder output = new StringBuilder();
    String[] withCa = {
      "--project-root", root.toString(), "--version", "1.0", "--pg-ca-secret", "pg-ca"
    };

    assertEquals(0, strimzi(output, withCa), output.toString());

    JsonNode template =
        YAML.readTree(root.resolve("strimzi/kafka-connect.yaml").toFile())
            .path("spec")
            .path("template");
    JsonNode volume = template.path("pod").path("volumes").get(0);
    assertEquals("soma-pg-ca", volume.path("name").asText());
    assertEquals("pg-ca", volume.path("secret").path("secretName").asText());
    JsonNode mount = template.path("connectContainer").path("volumeMounts").get(0);
    assertEquals("soma-pg-ca", mount.path("name").asText());
    assertEquals("/mnt/soma-pg-ca", mount.path("mountPath").asText());
    assertTrue(mount.path("readOnly").asBoolean());
    Map<String, JsonNode> env = new LinkedHashMap<>();
    template.path("connectContainer").path("env").forEach(e -> env.put(e.path("name").asText(), e));
    assertEquals("/mnt/soma-pg-ca/ca.crt", env.get("SOMA_PG_SSLROOTCERT").path("value").asText());

    String[] check = Arrays.copyOf(withCa, withCa.length + 1);
    check[withCa.length] = "--check";
    assertEquals(0, strimzi(output, check), output.toString());
    assertEquals(
        1,
        strimzi(output, "--project-root", root.toString(), "--version", "1.0", "--check"),
        "without the option the KafkaConnect renders without the mount");

    String[] otherKey = Arrays.copyOf(withCa, withCa.length + 2);
    otherKey[withCa.length] = "--pg-ca-key";
    otherKey[withCa.length + 1] = "root.pem";
    assertEquals(0, strimzi(output, otherKey), output.toString());
    assertTrue(
        Files.readString(root.resolve("strimzi/kafka-connect.yaml"))
            .contains("value: \"/mnt/soma-pg-ca/root.pem\""));
  }

  @Test
  void badCaSecretOptionsAreUsageErrors() throws IOException {
    Path root = postgresProject();
    List<List<String>> bad =
        List.of(
            List.of("--pg-ca-key", "ca.crt"),
            List.of("--pg-ca-secret", "PG_CA"),
            List.of("--pg-ca-secret", "pg-ca", "--pg-ca-key", "a/b"),
            List.of("--pg-ca-secret", "pg-ca", "--pg-ca-key", ".."),
            List.of("--pg-ca-secret"));
    for (List<String> options : bad) {
      List<String> args = new ArrayList<>(List.of("--project-root", root.toString()));
      args.addAll(options);
      StringBuilder output = new StringBuilder();
      assertEquals(2, strimzi(output, args.toArray(String[]::new)), options + ": " + output);
      assertTrue(output.toString().startsWith("--pg-ca-"), output.toString());
    }
    assertFalse(Files.exists(root.resolve("strimzi")), "nothing written");
  }

  @Test
  void checksumsComeFromTheArchivesOrTheCommittedFile() throws IOException {
    Path root = Files.createDirectories(tmp.resolve("project"));
    Files.createDirectories(root.resolve("sink-a/src/main/plugin"));
    Files.writeString(root.resolve("sink-a/src/main/plugin/manifest.json"), "{}");
    Files.createDirectories(root.resolve("smt-b/src/main/plugin"));
    Files.writeString(root.resolve("smt-b/src/main/plugin/manifest.json"), "{}");
    Files.createDirectories(root.resolve("not-a-plugin/src/main/java"));
    Path archives = Files.createDirectories(root.resolve("target/plugin-archives"));
    Files.writeString(archives.resolve("somastack-sink-a-9.9.zip"), "zip bytes");

    List<StrimziResources.Plugin> fromArchives = StrimziResources.pluginsFromArchives(root, "9.9");
    assertEquals(
        List.of("sink-a", "smt-b"),
        fromArchives.stream().map(StrimziResources.Plugin::module).toList());
    assertEquals(
        StrimziResources.sha512(archives.resolve("somastack-sink-a-9.9.zip")),
        fromArchives.get(0).sha512());
    assertEquals(128, fromArchives.get(0).sha512().length());
    assertNull(fromArchives.get(1).sha512());

    String rendered = StrimziResources.kafkaConnect("9.9", fromArchives, List.of());
    List<StrimziResources.Plugin> fromCommitted =
        StrimziResources.pluginsFromCommitted(root, rendered, "9.9");
    assertEquals(fromArchives, fromCommitted);
    assertEquals(rendered, StrimziResources.kafkaConnect("9.9", fromCommitted, List.of()));
  }

  /** A project with one plugin module, one pipeline and the module's archive for VERSION. */
  private Path project(String version) throws IOException {
    Path root = Files.createDirectories(tmp.resolve("p-" + version));
    Files.createDirectories(root.resolve("sink-a/src/main/plugin"));
    Files.writeString(root.resolve("sink-a/src/main/plugin/manifest.json"), "{}");
    Files.createDirectories(root.resolve("connector-configs"));
    Files.writeString(
        root.resolve("connector-configs/a.json"),
        "{\"name\": \"a\", \"config\": {\"connector.class\": \"x.Y\"}}");
    Files.createDirectories(root.resolve("docker/connect"));
    Files.writeString(root.resolve("docker/connect/jmx-exporter.yml"), "rules: []\n");
    Path archives = Files.createDirectories(root.resolve("target/plugin-archives"));
    Files.writeString(archives.resolve("somastack-sink-a-" + version + ".zip"), "zip " + version);
    return root;
  }

  private static int strimzi(StringBuilder output, String... args) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int status = StrimziCommand.run(args, new PrintStream(bytes, true, StandardCharsets.UTF_8));
    output.append(bytes.toString(StandardCharsets.UTF_8));
    return status;
  }

  /**
   * --release with a SNAPSHOT version wrote the checksum of a zip that no release holds (its URL
   * names a GitHub release v...-SNAPSHOT that is never made) and whose bytes change with the next
   * commit: a checksum nothing can match.
   */
  @Test
  void releaseIsRefusedForASnapshotVersion() throws IOException {
    Path root = project("1.0-SNAPSHOT");
    StringBuilder output = new StringBuilder();

    int status =
        strimzi(
            output, "--project-root", root.toString(), "--version", "1.0-SNAPSHOT", "--release");

    assertEquals(2, status, output.toString());
    assertTrue(
        output.toString().startsWith("--release needs a release version, not 1.0-SNAPSHOT"),
        output.toString());
    assertFalse(Files.exists(root.resolve("strimzi")), "nothing written");
  }

  @Test
  void releaseWritesTheChecksumOfTheReleaseArchive() throws IOException {
    Path root = project("1.0");
    StringBuilder output = new StringBuilder();

    int status =
        strimzi(output, "--project-root", root.toString(), "--version", "1.0", "--release");

    assertEquals(0, status, output.toString());
    String sha =
        StrimziResources.sha512(root.resolve("target/plugin-archives/somastack-sink-a-1.0.zip"));
    assertTrue(
        Files.readString(root.resolve("strimzi/kafka-connect.yaml"))
            .contains("sha512sum: \"" + sha + "\""),
        output.toString());
  }

  /**
   * Regenerating after a version bump kept the old release's checksums under the new release's
   * URLs: Strimzi's build would download the new zips and fail them all on their checksum.
   */
  @Test
  void checksumsAreKeptOnlyForTheVersionTheyWereComputedFor() throws IOException {
    Path root = project("1.0");
    StringBuilder output = new StringBuilder();
    assertEquals(
        0, strimzi(output, "--project-root", root.toString(), "--version", "1.0", "--release"));

    assertEquals(0, strimzi(output, "--project-root", root.toString(), "--version", "1.0"));
    assertTrue(
        Files.readString(root.resolve("strimzi/kafka-connect.yaml")).contains("sha512sum: "));

    assertEquals(
        0,
        strimzi(output, "--project-root", root.toString(), "--version", "1.1"),
        output.toString());
    String bumped = Files.readString(root.resolve("strimzi/kafka-connect.yaml"));
    assertTrue(bumped.contains("/v1.1/somastack-sink-a-1.1.zip"), bumped);
    assertFalse(bumped.contains("sha512sum: "), bumped);
  }

  /**
   * The plugin URLs named only a GitHub release, which no SNAPSHOT (and no unpublished version)
   * has: the committed kafka-connect.yaml could not be applied. --plugin-base-url points them at
   * the zips of mvn package on a host of the user's.
   */
  @Test
  void pluginBaseUrlPointsTheArtifactsAtZipsHostedElsewhere() throws IOException {
    Path root = project("1.0-SNAPSHOT");
    StringBuilder output = new StringBuilder();
    String base = "https://artifacts.example.com/soma-connect/";

    int status =
        strimzi(
            output,
            "--project-root",
            root.toString(),
            "--version",
            "1.0-SNAPSHOT",
            "--plugin-base-url",
            base);

    assertEquals(0, status, output.toString());
    JsonNode node = YAML.readTree(root.resolve("strimzi/kafka-connect.yaml").toFile());
    assertEquals(
        "https://artifacts.example.com/soma-connect/somastack-sink-a-1.0-SNAPSHOT.zip",
        node.path("spec")
            .path("build")
            .path("plugins")
            .get(0)
            .path("artifacts")
            .get(0)
            .path("url")
            .asText());
    String[] check = {"--project-root", root.toString(), "--version", "1.0-SNAPSHOT", "--check"};
    assertEquals(1, strimzi(output, check), "the release URLs differ");
    String[] same = {
      "--project-root",
      root.toString(),
      "--version",
      "1.0-SNAPSHOT",
      "--check",
      "--plugin-base-url",
      base
    };
    assertEquals(0, strimzi(output, same), output.toString());
  }

  /** A checksum belongs to the zip at one URL: moving the URLs drops it. */
  @Test
  void checksumsAreKeptOnlyForTheBaseUrlTheyWereComputedFor() throws IOException {
    Path root = project("1.0");
    StringBuilder output = new StringBuilder();
    String[] hosted = {
      "--project-root",
      root.toString(),
      "--version",
      "1.0",
      "--plugin-base-url",
      "http://nexus.internal:8081/repository/soma"
    };
    String[] released = Arrays.copyOf(hosted, hosted.length + 1);
    released[hosted.length] = "--release";
    assertEquals(0, strimzi(output, released), output.toString());
    assertEquals(0, strimzi(output, hosted), output.toString());
    String kept = Files.readString(root.resolve("strimzi/kafka-connect.yaml"));
    assertTrue(kept.contains("sha512sum: "), kept);
    assertTrue(
        kept.contains("\"http://nexus.internal:8081/repository/soma/somastack-sink-a-1.0.zip\""));

    assertEquals(0, strimzi(output, "--project-root", root.toString(), "--version", "1.0"));
    assertFalse(
        Files.readString(root.resolve("strimzi/kafka-connect.yaml")).contains("sha512sum: "));
  }

  @Test
  void aPluginBaseUrlThatIsNotHttpIsAUsageError() throws IOException {
    Path root = project("1.0");
    for (String bad : List.of("ftp://host/soma", "artifacts/soma", "https://h/soma?x=1")) {
      StringBuilder output = new StringBuilder();
      int status = strimzi(output, "--project-root", root.toString(), "--plugin-base-url", bad);
      assertEquals(2, status, bad + ": " + output);
      assertTrue(output.toString().startsWith("--plugin-base-url "), output.toString());
    }
    assertFalse(Files.exists(root.resolve("strimzi")), "nothing written");
  }

  /** Checksums a committed file carries for a SNAPSHOT version are dropped: they cannot match. */
  @Test
  void aSnapshotVersionCarriesNoChecksum() throws IOException {
    Path root = project("1.0-SNAPSHOT");
    String committed =
        StrimziResources.kafkaConnect(
            "1.0-SNAPSHOT", List.of(new StrimziResources.Plugin("sink-a", "ab")), List.of());
    Files.createDirectories(root.resolve("strimzi"));
    Files.writeString(root.resolve("strimzi/kafka-connect.yaml"), committed);

    assertEquals(
        List.of(new StrimziResources.Plugin("sink-a", null)),
        StrimziResources.plugins(root, "1.0-SNAPSHOT", false));
  }

  @Test
  void syncFindsMissingChangedAndLeftOverFiles() throws IOException {
    Path root = tmp.resolve("sync");
    Files.createDirectories(root.resolve("strimzi/connectors"));
    Files.writeString(root.resolve("strimzi/connectors/gone.yaml"), "old");
    Files.writeString(root.resolve("strimzi/connectors/same.yaml"), "same");
    Files.writeString(root.resolve("strimzi/connectors/changed.yaml"), "before");
    Map<String, String> rendered =
        Map.of(
            "strimzi/connectors/same.yaml", "same",
            "strimzi/connectors/changed.yaml", "after",
            "strimzi/connectors/new.yaml", "new");
    List<String> changes = StrimziResources.sync(root, rendered, false);
    assertEquals(3, changes.size(), changes.toString());
    assertTrue(Files.exists(root.resolve("strimzi/connectors/gone.yaml")));

    StrimziResources.sync(root, rendered, true);
    assertTrue(StrimziResources.sync(root, rendered, false).isEmpty());
    assertFalse(Files.exists(root.resolve("strimzi/connectors/gone.yaml")));
    assertEquals("after", Files.readString(root.resolve("strimzi/connectors/changed.yaml")));
  }

  @Test
  void metricsConfigMapCarriesTheRulesFileVerbatim() throws IOException {
    String rules = Files.readString(ROOT.resolve("docker/connect/jmx-exporter.yml"));
    JsonNode node = YAML.readTree(StrimziResources.metricsConfig(rules));
    assertEquals("ConfigMap", node.path("kind").asText());
    assertEquals(StrimziResources.METRICS_CONFIG_MAP, node.path("metadata").path("name").asText());
    String embedded = node.path("data").path(StrimziResources.METRICS_KEY).asText();
    assertEquals(YAML.readTree(rules), YAML.readTree(embedded));
    assertTrue(YAML.readTree(embedded).path("rules").size() > 0);
  }

  @Test
  void refusesPipelineNamesKubernetesWouldRefuse() {
    Map<String, String> config = Map.of("connector.class", "x.Y", "tasks.max", "1");
    assertThrows(
        IOException.class,
        () -> StrimziResources.connector(new PipelineFile(Path.of("a.json"), "Memory_KV", config)));
    assertThrows(
        IOException.class,
        () ->
            StrimziResources.connector(
                new PipelineFile(
                    Path.of("a.json"),
                    "ok",
                    Map.of("connector.class", "x.Y", "tasks.max", "${env:TASKS}"))));
  }

  @Test
  void envReferencesAreFound() {
    PipelineFile pipeline =
        new PipelineFile(
            Path.of("a.json"),
            "a",
            Map.of(
                "connector.class", "x.Y",
                "a", "${env:SOMA_PG_URL}",
                "b", "prefix-${env:SOMA_NEW_THING}-${env::OTHER}",
                "c", "${file:/etc/x:key}"));
    assertEquals(
        List.of("OTHER", "SOMA_NEW_THING", "SOMA_PG_URL"),
        List.copyOf(StrimziResources.referencedEnv(List.of(pipeline))));
  }
}
