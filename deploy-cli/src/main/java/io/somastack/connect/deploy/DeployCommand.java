package io.somastack.connect.deploy;

import io.somastack.connect.deploy.strimzi.StrimziCommand;
import io.somastack.connect.deploy.topics.TopicsCommand;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * {@code soma-connect deploy [options] [file or folder ...]}: validates and deploys connector
 * configs to a Connect cluster. Exit status 0 when every pipeline is RUNNING (or, with --dry-run,
 * valid), 1 otherwise, 2 for a usage error.
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
          "  --timeout SECONDS            how long to wait for RUNNING (default 120)",
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
    try {
      ConnectRestClient rest =
          new ConnectRestClient(options.connectUrl, options.basicAuth, options.tls());
      PipelineDeployer deployer = new PipelineDeployer(rest, out, options.timeout);
      boolean ok = true;
      for (Path file : options.files()) {
        ok &= deployer.deploy(PipelineFile.read(file), options.dryRun).ok();
      }
      out.println(
          ok ? "all pipelines " + (options.dryRun ? "valid" : "RUNNING") : "some pipelines failed");
      return ok ? 0 : 1;
    } catch (IOException | GeneralSecurityException e) {
      out.println("deploy failed: " + e.getMessage());
      return 1;
    }
  }

  /** Parsed command-line options. */
  static final class Options {
    URI connectUrl =
        URI.create(System.getenv().getOrDefault("CONNECT_URL", "http://localhost:8083"));
    boolean dryRun;
    boolean help;
    String basicAuth = System.getenv("CONNECT_BASIC_AUTH");
    Path truststore;
    String truststorePassword = System.getenv("CONNECT_TRUSTSTORE_PASSWORD");
    Duration timeout = Duration.ofSeconds(120);
    final List<Path> paths = new ArrayList<>();

    static Options parse(String[] args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--connect-url" -> o.connectUrl = URI.create(value(args, ++i));
          case "--dry-run" -> o.dryRun = true;
          case "--basic-auth" -> o.basicAuth = value(args, ++i);
          case "--truststore" -> o.truststore = Paths.get(value(args, ++i));
          case "--truststore-password" -> o.truststorePassword = value(args, ++i);
          case "--timeout" -> o.timeout = Duration.ofSeconds(Long.parseLong(value(args, ++i)));
          case "-h", "--help" -> o.help = true;
          default -> {
            if (args[i].startsWith("--")) {
              throw new IllegalArgumentException("unknown option " + args[i]);
            }
            o.paths.add(Paths.get(args[i]));
          }
        }
      }
      return o;
    }

    private static String value(String[] args, int i) {
      if (i >= args.length) {
        throw new IllegalArgumentException(args[i - 1] + " needs a value");
      }
      return args[i];
    }

    List<Path> files() throws IOException {
      List<Path> roots = paths.isEmpty() ? List.of(Paths.get("connector-configs")) : paths;
      List<Path> files = new ArrayList<>();
      for (Path root : roots) {
        if (Files.isDirectory(root)) {
          files.addAll(PipelineFile.list(root));
        } else if (Files.isRegularFile(root)) {
          files.add(root);
        } else {
          throw new IOException("no such file or folder: " + root);
        }
      }
      return files;
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
