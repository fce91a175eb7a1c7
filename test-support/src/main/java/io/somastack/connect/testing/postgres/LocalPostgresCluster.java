package io.somastack.connect.testing.postgres;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
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

  /** The folder of the CA {@link #enableTls()} made last (its key signs client certificates). */
  private Path tls;

  /** Whether the server checks client certificates against that CA (ssl_ca_file). */
  private boolean checksClientCertificates;

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
      this.tls = tls;
      checksClientCertificates = false;
      return tls.resolve("ca.crt");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot enable TLS", e);
    }
  }

  /** A client certificate the test CA signed, and its key: encrypted PKCS#8 DER (.pk8). */
  public record ClientCertificate(Path certificate, Path key) {}

  /** How {@link #issueClientCertificate} encrypts the key (openssl pkcs8 -topk8 options). */
  public enum KeyEncryption {
    /**
     * PKCS#12's PBE with SHA-1 and triple DES (-v1 PBE-SHA1-3DES): a scheme Java names by itself
     * (PBEWithSHA1AndDESede), so pgjdbc's default key manager opens it with sslpassword. pgjdbc's
     * documented -v1 PBE-MD5-DES needs OpenSSL 3's legacy provider.
     */
    PBE_SHA1_3DES("-v1", "PBE-SHA1-3DES"),
    /**
     * PBES2 with AES-256-CBC (-v2 aes-256-cbc), OpenSSL 3's default: pgjdbc asks Java for a cipher
     * named PBES2, which Java 17 has not, so it cannot open this key whatever the password.
     */
    PBES2_AES_256("-v2", "aes-256-cbc");

    private final String option;
    private final String scheme;

    KeyEncryption(String option, String scheme) {
      this.option = option;
      this.scheme = scheme;
    }
  }

  /** {@link #issueClientCertificate(String, String, KeyEncryption)} with a key pgjdbc opens. */
  public ClientCertificate issueClientCertificate(String user, String keyPassword) {
    return issueClientCertificate(user, keyPassword, KeyEncryption.PBE_SHA1_3DES);
  }

  /**
   * Issues a client certificate for {@code user} (its CN, which the server's cert authentication
   * matches to the database user) signed by the CA of {@link #enableTls()}, with its key written as
   * PKCS#8 DER encrypted with {@code keyPassword} as {@code encryption} says. Both files belong to
   * this JVM's user, the key readable by it alone (pgjdbc refuses a key others may read).
   */
  public synchronized ClientCertificate issueClientCertificate(
      String user, String keyPassword, KeyEncryption encryption) {
    requireTls();
    checkName(user);
    try {
      Path dir = Files.createTempDirectory(tls, "client-" + user + "-");
      openssl(
          dir,
          "req",
          "-new",
          "-nodes",
          "-subj",
          "/CN=" + user,
          "-keyout",
          "client.key",
          "-out",
          "client.csr");
      openssl(
          dir,
          "x509",
          "-req",
          "-in",
          "client.csr",
          "-CA",
          tls.resolve("ca.crt").toString(),
          "-CAkey",
          tls.resolve("ca.key").toString(),
          "-CAcreateserial",
          "-days",
          "2",
          "-out",
          "client.crt");
      // the password through the environment, never on a command line others can list
      openssl(
          dir,
          Map.of("SOMA_TEST_KEY_PASSWORD", keyPassword),
          "pkcs8",
          "-topk8",
          "-inform",
          "PEM",
          "-outform",
          "DER",
          encryption.option,
          encryption.scheme,
          "-in",
          "client.key",
          "-out",
          "client.pk8",
          "-passout",
          "env:SOMA_TEST_KEY_PASSWORD");
      Files.delete(dir.resolve("client.key")); // only the encrypted key is left
      Files.delete(dir.resolve("client.csr"));
      // pgjdbc refuses a key file others may read
      Files.setPosixFilePermissions(
          dir.resolve("client.pk8"), PosixFilePermissions.fromString("rw-------"));
      return new ClientCertificate(dir.resolve("client.crt"), dir.resolve("client.pk8"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot issue a client certificate", e);
    }
  }

  /**
   * Makes TLS connections of {@code user} to {@code database} from 127.0.0.1 authenticate with a
   * client certificate the CA of {@link #enableTls()} signed, whose CN is the user (pg_hba.conf's
   * cert method): a line placed before initdb's trust lines, so other users, other databases and
   * connections without TLS keep connecting as before. The server reloads its configuration
   * (sessions stay open); this returns once new connections see the line.
   */
  public synchronized void requireClientCertificate(String database, String user) {
    requireTls();
    checkName(database);
    checkName(user);
    try {
      StringBuilder script = new StringBuilder();
      if (!checksClientCertificates) {
        // the CA the server checks client certificates against; read on reload
        script
            .append("cp '")
            .append(tls.resolve("ca.crt"))
            .append("' '")
            .append(dataDir.resolve("client-ca.crt"))
            .append("' && printf \"ssl_ca_file = 'client-ca.crt'\\n\" >> '")
            .append(dataDir.resolve("postgresql.auto.conf"))
            .append("' && ");
      }
      Path hba = dataDir.resolve("pg_hba.conf");
      script
          .append("{ printf '%s\\n' 'hostssl ")
          .append(database)
          .append(' ')
          .append(user)
          .append(" 127.0.0.1/32 cert'; cat '")
          .append(hba)
          .append("'; } > '")
          .append(hba)
          .append(".new' && mv '")
          .append(hba)
          .append(".new' '")
          .append(hba)
          .append("'");
      run(List.of("sh", "-c", script.toString()), true);
      checksClientCertificates = true;
      reload();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot require a client certificate", e);
    }
  }

  /**
   * Has the server read its configuration files again, and waits until a new session shows the
   * reload: pg_ctl reload only signals the postmaster. A session forked after it handled the
   * signal, with pg_hba.conf and the TLS files read again, reports a later pg_conf_load_time().
   */
  private void reload() {
    try {
      Timestamp before = confLoadTime();
      pgCtl("reload");
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(50))
          .until(() -> confLoadTime().after(before));
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read the server's configuration load time", e);
    }
  }

  private Timestamp confLoadTime() throws SQLException {
    try (Connection c = connect("postgres");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT pg_conf_load_time()")) {
      rs.next();
      return rs.getTimestamp(1);
    }
  }

  private void requireTls() {
    if (tls == null) {
      throw new IllegalStateException("enableTls() first: its CA signs the client certificates");
    }
  }

  /** A plain lower-case name, written into pg_hba.conf and a shell command unquoted. */
  private static void checkName(String name) {
    if (!name.matches("[a-z_][a-z0-9_]*")) {
      throw new IllegalArgumentException("not a plain lower-case name: " + name);
    }
  }

  private void openssl(Path dir, String... args) throws IOException {
    openssl(dir, Map.of(), args);
  }

  private void openssl(Path dir, Map<String, String> env, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add("openssl");
    command.addAll(List.of(args));
    ProcessBuilder builder =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
    builder.environment().putAll(env);
    Process process = builder.start();
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
