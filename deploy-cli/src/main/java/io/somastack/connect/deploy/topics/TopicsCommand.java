package io.somastack.connect.deploy.topics;

import io.somastack.connect.deploy.Args;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.KafkaException;

/**
 * {@code deploy-cli topics --bootstrap-servers host:9092 [options] [topics.json]}: creates the
 * topics of connector-configs/topics.json that are missing and reports the existing ones whose
 * partition count or declared configs differ. Exit status 0 when done (1 with --strict and a
 * difference), 1 on a failure, 2 for a usage error.
 */
public final class TopicsCommand {

  public static final String USAGE =
      String.join(
          "\n",
          "usage: soma-connect deploy topics --bootstrap-servers HOST:PORT [options] [topics.json]",
          "                                   (default: connector-configs/topics.json)",
          "  --bootstrap-servers LIST     Kafka bootstrap servers (or $KAFKA_BOOTSTRAP_SERVERS)",
          "  --command-config FILE        Admin client properties: security.protocol, sasl.*, ssl.*",
          "  --replication-factor N       override the file's replication factors (e.g. 3)",
          "  --strict                     exit 1 when an existing topic's partitions or configs differ",
          "  --timeout SECONDS            Admin client API timeout (default 60, at most 86400)");

  private TopicsCommand() {}

  public static int run(String[] args, PrintStream out) {
    Path file = Paths.get("connector-configs", "topics.json");
    String bootstrap = System.getenv("KAFKA_BOOTSTRAP_SERVERS");
    Path commandConfig = null;
    Short replication = null;
    boolean strict = false;
    Duration timeout = Duration.ofSeconds(60);
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--bootstrap-servers" -> bootstrap = Args.value(args, ++i);
          case "--command-config" -> commandConfig = Paths.get(Args.value(args, ++i));
          case "--replication-factor" ->
              replication =
                  (short)
                      Args.number(
                          "--replication-factor",
                          Args.value(args, ++i),
                          1,
                          Short.MAX_VALUE,
                          "replicas");
          case "--strict" -> strict = true;
          case "--timeout" -> timeout = Args.seconds("--timeout", Args.value(args, ++i));
          case "-h", "--help" -> {
            out.println(USAGE);
            return 0;
          }
          default -> {
            if (args[i].startsWith("--")) {
              throw new IllegalArgumentException("unknown option " + args[i]);
            }
            file = Paths.get(args[i]);
          }
        }
      }
      if (bootstrap == null || bootstrap.isBlank()) {
        throw new IllegalArgumentException("--bootstrap-servers is required");
      }
    } catch (IllegalArgumentException e) {
      out.println(e.getMessage());
      out.println(USAGE);
      return 2;
    }
    try {
      TopicFile topics = TopicFile.read(file);
      if (replication != null) {
        topics = topics.withReplicationFactor(replication);
      }
      Properties props = new Properties();
      if (commandConfig != null) {
        try (InputStream in = Files.newInputStream(commandConfig)) {
          props.load(in);
        }
      }
      props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      props.putIfAbsent(
          AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(timeout.toMillis()));
      props.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "soma-connect-topics");
      TopicProvisioner.Result result;
      try (Admin admin = Admin.create(props)) {
        result = TopicProvisioner.provision(admin, topics);
      }
      result.created().forEach(t -> out.println("  created  " + t));
      result.existing().forEach(t -> out.println("  exists   " + t));
      result.mismatches().forEach(m -> out.println("  DIFFERS  " + m));
      out.printf(
          "%d topics in %s: %d created, %d already there, %d differences from the file%n",
          topics.topics().size(),
          file,
          result.created().size(),
          result.existing().size(),
          result.mismatches().size());
      return strict && !result.consistent() ? 1 : 0;
    } catch (IOException e) {
      out.println("topics failed: " + e.getMessage());
      return 1;
    } catch (ExecutionException e) {
      out.println("topics failed: " + e.getCause());
      return 1;
    } catch (KafkaException e) {
      // the Admin client refuses its config (a bad --command-config, no resolvable server)
      out.println("topics failed: " + e.getMessage());
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      out.println("topics interrupted");
      return 1;
    }
  }
}
