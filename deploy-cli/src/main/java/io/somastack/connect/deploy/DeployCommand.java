package io.somastack.connect.deploy;

import io.somastack.connect.deploy.strimzi.StrimziCommand;
import io.somastack.connect.deploy.topics.TopicsCommand;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * {@code soma-connect deploy [options] [file or folder ...]}: validates and deploys connector
 * configs to a Connect cluster. Every file is deployed even when another fails; the failures are
 * listed at the end, each with its file and reason. Two files declaring one connector are refused
 * before anything is deployed. Exit status 0 when every pipeline is RUNNING (or, with --dry-run,
 * valid), 1 when any failed (or a path or the trust store cannot be read, or two files declare one
 * connector), 2 for a usage error (a bad option or option value).
 *
 * <p>Two subcommands share the jar: {@code topics} ({@link TopicsCommand}: creates the topics of
 * connector-configs/topics.json) and {@code strimzi} ({@link StrimziCommand}: renders strimzi/).
 */
public final class DeployCommand {

  static final String USAGE =
      String.join(
          "\n",
          "usage: soma-connect deploy [options] [file.json | folder ...]   (default: connector-configs/)",
          "  --connect-url URL            Connect REST URL (default $CONNECT_URL or http://localhost:8083)",
          "  --dry-run                    validate only; deploy nothing",
          "  --basic-auth USER:PASSWORD   HTTP basic auth (or $CONNECT_BASIC_AUTH)",
          "  --truststore FILE            PKCS12/JKS trust store for an https URL",
          "  --truststore-password PW     its password (or $CONNECT_TRUSTSTORE_PASSWORD)",
          "  --timeout SECONDS            how long to wait for RUNNING (default 120, at most 86400)",
          "  every file is deployed even when one fails; exit 0 when all are RUNNING (or valid),",
          "  1 when any failed (each listed with its reason at the end), 2 for a usage error;",
          "  two files declaring one connector are refused, and then nothing is deployed",
          "",
          "       soma-connect deploy topics --bootstrap-servers HOST:PORT [topics.json]   (-h: more)",
          "       soma-connect strimzi [--check]                                           (-h: more)");

  private DeployCommand() {}

  public static void main(String[] args) {
    // the Admin client of `topics` logs its whole configuration at INFO: warnings are enough here
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }
    System.exit(dispatch(args, System.out));
  }

  /** The subcommand named first, else deploying. */
  static int dispatch(String[] args, PrintStream out) {
    String[] rest = args.length == 0 ? args : Arrays.copyOfRange(args, 1, args.length);
    if (args.length > 0 && args[0].equals("topics")) {
      return TopicsCommand.run(rest, out);
    }
    if (args.length > 0 && args[0].equals("strimzi")) {
      return StrimziCommand.run(rest, out);
    }
    return run(args, out);
  }

  static int run(String[] args, PrintStream out) {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      out.println(e.getMessage());
      out.println(USAGE);
      return 2;
    }
    if (options.help) {
      out.println(USAGE);
      return 0;
    }
    ConnectRestClient rest;
    List<Path> files;
    try {
      rest = new ConnectRestClient(options.connectUrl, options.basicAuth, options.tls());
      files = options.files();
    } catch (IOException | GeneralSecurityException e) {
      out.println("deploy failed: " + reason(e));
      return 1;
    }
    List<String> failures = new ArrayList<>();
    List<PipelineFile> pipelines = read(files, failures, out);
    List<String> clashes = PipelineFile.sameNames(pipelines);
    if (!clashes.isEmpty()) {
      // the second PUT would silently replace the first's config: which one is meant is not ours
      clashes.forEach(out::println);
      out.println("nothing deployed: one file per connector");
      return 1;
    }
    PipelineDeployer deployer = new PipelineDeployer(rest, out, options.timeout);
    for (PipelineFile pipeline : pipelines) {
      String problem = deploy(deployer, pipeline, options.dryRun, out);
      if (problem != null) {
        failures.add(pipeline.path() + ": " + problem.lines().findFirst().orElse(""));
      }
    }
    if (failures.isEmpty()) {
      out.println("all pipelines " + (options.dryRun ? "valid" : "RUNNING"));
      return 0;
    }
    out.println(failures.size() + " of " + files.size() + " pipelines failed:");
    failures.forEach(f -> out.println("  " + f));
    return 1;
  }

  /**
   * Reads every file before deploying any, so that two files for one connector are found first. A
   * file that cannot be read is this file's failure alone, added to {@code failures}.
   */
  private static List<PipelineFile> read(List<Path> files, List<String> failures, PrintStream out) {
    List<PipelineFile> pipelines = new ArrayList<>();
    for (Path file : files) {
      try {
        pipelines.add(PipelineFile.read(file));
      } catch (IOException e) {
        out.println(file + ": " + reason(e));
        failures.add(file + ": " + reason(e).lines().findFirst().orElse(""));
      }
    }
    return pipelines;
  }

  /**
   * Deploys one file; null when it is valid (dry run) or RUNNING, else why not. An error is this
   * file's alone (a config Connect refuses with a 400, a file that is not a REST body): the other
   * files are deployed all the same, so one run reports every failure.
   */
  private static String deploy(
      PipelineDeployer deployer, PipelineFile pipeline, boolean dryRun, PrintStream out) {
    try {
      PipelineDeployer.Outcome outcome = deployer.deploy(pipeline, dryRun);
      if (outcome.ok()) {
        return null;
      }
      List<String> problems = outcome.problems();
      if (problems.isEmpty()) {
        return "failed";
      }
      String more = problems.size() > 1 ? " (and " + (problems.size() - 1) + " more)" : "";
      return problems.get(0).lines().findFirst().orElse("") + more;
    } catch (IOException e) {
      out.println(pipeline.path() + ": " + reason(e));
      return reason(e);
    }
  }

  /**
   * The exception's message, or its kind where the JDK gives none. A file the JDK cannot find or
   * read comes with its bare path for a message: say what is wrong with it.
   */
  private static String reason(Exception e) {
    if (e instanceof NoSuchFileException missing) {
      return "no such file: " + missing.getFile();
    }
    if (e instanceof AccessDeniedException denied) {
      return "cannot read " + denied.getFile() + ": permission denied";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /** Parsed command-line options. */
  static final class Options {
    URI connectUrl;
    boolean dryRun;
    boolean help;
    String basicAuth = System.getenv("CONNECT_BASIC_AUTH");
    Path truststore;
    String truststorePassword = System.getenv("CONNECT_TRUSTSTORE_PASSWORD");
    Duration timeout = Duration.ofSeconds(120);
    private String connectUrlText = System.getenv("CONNECT_URL");
    private String connectUrlFrom = "$CONNECT_URL";
    private String basicAuthFrom = "$CONNECT_BASIC_AUTH";
    final List<Path> paths = new ArrayList<>();

    static Options parse(String[] args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--connect-url" -> {
            o.connectUrlText = Args.value(args, ++i);
            o.connectUrlFrom = "--connect-url";
          }
          case "--dry-run" -> o.dryRun = true;
          case "--basic-auth" -> {
            o.basicAuth = Args.secret(args, ++i);
            o.basicAuthFrom = "--basic-auth";
          }
          case "--truststore" -> o.truststore = Paths.get(Args.value(args, ++i));
          case "--truststore-password" -> o.truststorePassword = Args.secret(args, ++i);
          case "--timeout" -> o.timeout = Args.seconds("--timeout", Args.value(args, ++i));
          case "-h", "--help" -> o.help = true;
          default -> {
            if (args[i].startsWith("--")) {
              throw new IllegalArgumentException("unknown option " + args[i]);
            }
            o.paths.add(Paths.get(args[i]));
          }
        }
      }
      if (o.basicAuth != null) {
        Args.credentials(o.basicAuthFrom, o.basicAuth);
      }
      o.connectUrl =
          o.connectUrlText == null
              ? URI.create("http://localhost:8083")
              : Args.httpUrl(o.connectUrlFrom, o.connectUrlText);
      return o;
    }

    /** The files to deploy, each once however often it is named (a folder and a file in it). */
    List<Path> files() throws IOException {
      List<Path> roots = paths.isEmpty() ? List.of(Paths.get("connector-configs")) : paths;
      Map<Path, Path> files = new LinkedHashMap<>();
      for (Path root : roots) {
        if (Files.isDirectory(root)) {
          List<Path> pipelines = PipelineFile.list(root);
          if (pipelines.isEmpty()) {
            // e.g. a compose bind mount whose source is missing: deploying nothing is no success
            throw new IOException(
                "no pipeline files in " + root + " (*.json other than topics.json)");
          }
          for (Path pipeline : pipelines) {
            files.putIfAbsent(pipeline.toRealPath(), pipeline);
          }
        } else if (Files.isRegularFile(root)) {
          files.putIfAbsent(root.toRealPath(), root);
        } else {
          throw new IOException("no such file or folder: " + root);
        }
      }
      return List.copyOf(files.values());
    }

    SSLContext tls() throws IOException, GeneralSecurityException {
      if (truststore == null) {
        return null;
      }
      char[] password = truststorePassword == null ? null : truststorePassword.toCharArray();
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      try (InputStream in = Files.newInputStream(truststore)) {
        store.load(in, password);
      }
      TrustManagerFactory trust =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(store);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return context;
    }
  }
}
