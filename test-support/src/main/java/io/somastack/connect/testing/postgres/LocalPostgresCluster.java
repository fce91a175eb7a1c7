package io.somastack.connect.testing.postgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A throwaway PostgreSQL cluster made with the binaries installed on this machine: initdb into a
 * folder under {@code target/}, pg_ctl start on a free loopback port, removed on close. When the
 * JVM runs as root (PostgreSQL refuses to), the commands run as the {@code postgres} OS user.
 */
public final class LocalPostgresCluster implements PostgresServer {

  private static final Logger log = LoggerFactory.getLogger(LocalPostgresCluster.class);
  private static final String SERVICE_USER = "postgres";

  private final Path bin;
  private final Path dataDir;
  private final int port;
  private final boolean asServiceUser;
  private boolean running;

  private LocalPostgresCluster(Path bin, Path dataDir, int port, boolean asServiceUser) {
    this.bin = bin;
    this.dataDir = dataDir;
    this.port = port;
    this.asServiceUser = asServiceUser;
  }

  /** The folder holding initdb and pg_ctl: $SOMA_PG_BINDIR, Debian's layout, or the PATH. */
  public static Optional<Path> findBinaries() {
    List<Path> candidates = new ArrayList<>();
    String configured = System.getenv("SOMA_PG_BINDIR");
    if (configured != null && !configured.isBlank()) {
      candidates.add(Paths.get(configured));
    }
    Path debian = Paths.get("/usr/lib/postgresql");
    if (Files.isDirectory(debian)) {
      try (Stream<Path> versions = Files.list(debian)) {
        versions
            .sorted(Comparator.comparing(LocalPostgresCluster::majorVersion).reversed())
            .map(v -> v.resolve("bin"))
            .forEach(candidates::add);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!dir.isEmpty()) {
        candidates.add(Paths.get(dir));
      }
    }
    return candidates.stream()
        .filter(
            d -> Files.isExecutable(d.resolve("initdb")) && Files.isExecutable(d.resolve("pg_ctl")))
        .findFirst();
  }

  private static int majorVersion(Path dir) {
    try {
      return Integer.parseInt(dir.getFileName().toString());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** Makes and starts a new cluster under {@code target/} (or $SOMA_PG_WORKDIR). */
  public static LocalPostgresCluster create(Path bin) {
    try {
      Path parent = Paths.get(System.getenv().getOrDefault("SOMA_PG_WORKDIR", "target"));
      Files.createDirectories(parent);
      boolean asServiceUser = "root".equals(System.getProperty("user.name"));
      if (asServiceUser && !serviceUserCanEnter(parent.toAbsolutePath())) {
        // e.g. a checkout under /root: the postgres user cannot reach target/ there
        parent = Paths.get(System.getProperty("java.io.tmpdir"));
        log.info("The postgres user cannot reach target/; making the cluster under {}", parent);
      }
      Path dataDir = Files.createTempDirectory(parent.toAbsolutePath(), "pg-");
      LocalPostgresCluster cluster =
          new LocalPostgresCluster(bin, dataDir, freePort(), asServiceUser);
      cluster.init();
      cluster.start();
      return cluster;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make a PostgreSQL cluster", e);
    }
  }

  private static boolean serviceUserCanEnter(Path dir) {
    try {
      Process p =
          new ProcessBuilder("runuser", "-u", SERVICE_USER, "--", "test", "-x", dir.toString())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private void init() throws IOException {
    if (asServiceUser) {
      run(List.of("chown", SERVICE_USER, dataDir.toString()), false);
    }
    run(
        List.of(
            bin.resolve("initdb").toString(),
            "-D",
            dataDir.toString(),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync"),
        true);
    // Test settings: loopback only, no Unix socket (paths under target/ can exceed its length
    // limit), room for many connector tasks, and no fsync (tests restart the server cleanly).
    String settings =
        String.join(
            "\n",
            "listen_addresses = '127.0.0.1'",
            "port = " + port,
            "unix_socket_directories = ''",
            "max_connections = 200",
            "fsync = off",
            "synchronous_commit = off",
            "full_page_writes = off",
            "shared_buffers = 256MB",
            "");
    Path conf = dataDir.resolve("postgresql.auto.conf");
    if (asServiceUser) {
      // the file belongs to the service user; append through a shell running as that user
      run(List.of("sh", "-c", "cat >> '" + conf + "' <<'EOF'\n" + settings + "EOF\n"), true);
    } else {
      Files.writeString(conf, settings, java.nio.file.StandardOpenOption.APPEND);
    }
  }

  /**
   * Turns TLS on: a throwaway CA signs a certificate for 127.0.0.1 and localhost, the server
   * restarts with it, and the CA's certificate is returned for clients to verify the server
   * (sslmode=verify-full). Plain connections keep working for other tests.
   */
  public synchronized Path enableTls() {
    try {
      Path tls = Files.createTempDirectory(dataDir.getParent(), "tls-");
      String ext = "subjectAltName=IP:127.0.0.1,DNS:localhost";
      openssl(
          tls,
          "req",
          "-new",
          "-x509",
          "-days",
          "2",
          "-nodes",
          "-subj",
          "/CN=soma-test-ca",
          "-keyout",
          "ca.key",
          "-out",
          "ca.crt");
      openssl(
          tls,
          "req",
          "-new",
          "-nodes",
          "-subj",
          "/CN=127.0.0.1",
          "-keyout",
          "server.key",
          "-out",
          "server.csr");
      Files.writeString(tls.resolve("san.ext"), ext + "\n");
      openssl(
          tls,
          "x509",
          "-req",
          "-in",
          "server.csr",
          "-CA",
          "ca.crt",
          "-CAkey",
          "ca.key",
          "-CAcreateserial",
          "-days",
          "2",
          "-out",
          "server.crt",
          "-extfile",
          "san.ext");
      // a throwaway test key: the postgres user must read it to copy it into its data folder
      try (Stream<Path> files = Files.list(tls)) {
        for (Path file : files.toList()) {
          Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        }
      }
      Files.setPosixFilePermissions(tls, PosixFilePermissions.fromString("rwxr-xr-x"));
      String install =
          "cp '"
              + tls.resolve("server.crt")
              + "' '"
              + tls.resolve("server.key")
              + "' '"
              + dataDir
              + "/' && chmod 600 '"
              + dataDir.resolve("server.key")
              + "' && printf \"ssl = on\\n"
              + "ssl_cert_file = 'server.crt'\\nssl_key_file = 'server.key'\\n\" >> '"
              + dataDir.resolve("postgresql.auto.conf")
              + "'";
      run(List.of("sh", "-c", install), true);
      restart();
      return tls.resolve("ca.crt");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot enable TLS", e);
    }
  }

  private void openssl(Path dir, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add("openssl");
    command.addAll(List.of(args));
    Process process =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    try {
      String output = new String(process.getInputStream().readAllBytes());
      if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IOException("openssl " + args[0] + " failed: " + output);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  @Override
  public synchronized void start() {
    if (running) {
      return;
    }
    pgCtl("start", "-w", "-t", "60", "-l", dataDir.resolve("server.log").toString());
    running = true;
    log.info("PostgreSQL started on 127.0.0.1:{} (data in {})", port, dataDir);
  }

  @Override
  public synchronized void stop() {
    if (!running) {
      return;
    }
    pgCtl("stop", "-w", "-m", "fast");
    running = false;
  }

  @Override
  public synchronized void restart() {
    stop();
    start();
  }

  @Override
  public boolean canRestart() {
    return true;
  }

  @Override
  public synchronized void close() {
    try {
      if (running) {
        pgCtl("stop", "-w", "-m", "immediate");
        running = false;
      }
    } finally {
      deleteQuietly(dataDir);
    }
  }

  @Override
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  public int port() {
    return port;
  }

  @Override
  public String user() {
    return "postgres";
  }

  @Override
  public String password() {
    return null;
  }

  private void pgCtl(String action, String... options) {
    List<String> command = new ArrayList<>();
    command.add(bin.resolve("pg_ctl").toString());
    command.add(action);
    command.add("-D");
    command.add(dataDir.toString());
    command.addAll(List.of(options));
    try {
      run(command, true);
    } catch (IOException e) {
      throw new UncheckedIOException("pg_ctl " + action + " failed", e);
    }
  }

  private void run(List<String> command, boolean asService) throws IOException {
    List<String> full = new ArrayList<>();
    if (asService && asServiceUser) {
      full.addAll(List.of("runuser", "-u", SERVICE_USER, "--"));
    }
    full.addAll(command);
    Path output = Files.createTempFile("pg-cmd", ".log");
    try {
      Process process =
          new ProcessBuilder(full)
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .directory(dataDir.getParent().toFile())
              .start();
      if (!process.waitFor(120, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException("timed out: " + String.join(" ", full));
      }
      if (process.exitValue() != 0) {
        throw new IOException(
            "failed ("
                + process.exitValue()
                + "): "
                + String.join(" ", full)
                + "\n"
                + Files.readString(output));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + String.join(" ", full), e);
    } finally {
      Files.deleteIfExists(output);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    }
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      log.warn("could not remove {}: {}", dir, e.toString());
    }
  }
}
