package io.somastack.connect.it.outbox;

import io.somastack.connect.testing.connect.PackagedPlugins;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import javax.management.AttributeNotFoundException;
import javax.management.InstanceNotFoundException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Shared set-up of the outbox integration tests: database, connector config, reading back. */
final class OutboxItSupport {

  static final String CONNECTOR_CLASS = "io.somastack.connect.outbox.PostgresOutboxSourceConnector";
  static final List<String> TOPICS =
      List.of("somastack.tools", "somastack.delegation", "somastack.events.audit");

  /** How long reading a topic up to its end offsets may take (a handful of partitions). */
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(60);

  private OutboxItSupport() {}

  /** A fresh database with the shipped sql/outbox.sql applied. */
  static String createDatabase(PostgresServer pg, String name) throws Exception {
    pg.createDatabase(name);
    String ddl =
        Files.readString(
            PackagedPlugins.projectRoot().resolve("source-outbox/sql/outbox.sql"),
            StandardCharsets.UTF_8);
    try (Connection c = pg.connect(name);
        Statement s = c.createStatement()) {
      s.execute(ddl);
    }
    return pg.jdbcUrl(name);
  }

  /** Exactly-once, topic creation with the seeds' partitions and retention, fast retries. */
  static Map<String, String> connectorConfig(PostgresServer pg, String url) {
    Map<String, String> config = new HashMap<>();
    config.put("connector.class", CONNECTOR_CLASS);
    config.put("tasks.max", "1");
    config.put("connection.url", url);
    config.put("connection.user", pg.user());
    if (pg.password() != null) {
      config.put("connection.password", pg.password());
    }
    config.put("key.converter", "org.apache.kafka.connect.storage.StringConverter");
    config.put("value.converter", "org.apache.kafka.connect.storage.StringConverter");
    config.put("exactly.once.support", "required");
    config.put("poll.interval.ms", "500");
    config.put("retry.backoff.initial.ms", "50");
    config.put("retry.backoff.max.ms", "1000");
    config.put("metrics.backlog.interval.ms", "500");
    config.put("topic.creation.default.replication.factor", "1");
    config.put("topic.creation.default.partitions", "3");
    config.put(
        "topic.creation.default.retention.ms", String.valueOf(Duration.ofDays(7).toMillis()));
    config.put("topic.creation.groups", "delegation,audit");
    config.put("topic.creation.delegation.include", "somastack\\.delegation");
    config.put(
        "topic.creation.delegation.retention.ms", String.valueOf(Duration.ofDays(3).toMillis()));
    config.put("topic.creation.audit.include", "somastack\\.events\\.audit");
    config.put("topic.creation.audit.retention.ms", String.valueOf(Duration.ofDays(30).toMillis()));
    return config;
  }

  /**
   * Every committed record of the topics, read_committed from the beginning up to their end offsets
   * at the time of the call: under read_committed those are the last stable offsets, so this is
   * every record of every transaction committed by then, and nothing of one still open. Call it
   * once the relay shows it is done (its rows deleted or marked: it does that only after Kafka
   * committed their records) rather than waiting for a quiet spell.
   */
  static List<ConsumerRecord<String, String>> readCommitted(String bootstrap, List<String> topics) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
    List<ConsumerRecord<String, String>> records = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (String topic : topics) {
        for (PartitionInfo partition : consumer.partitionsFor(topic)) {
          partitions.add(new TopicPartition(topic, partition.partition()));
        }
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
      while (!partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p))) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("not read up to the end offsets " + end + " in " + READ_TIMEOUT);
        }
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    return records;
  }

  static String header(ConsumerRecord<?, ?> record, String name) {
    Header header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  static long count(PostgresServer pg, String db, String sql) throws SQLException {
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static List<String> strings(PostgresServer pg, String db, String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = pg.connect(db);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  /**
   * A plugin metric of the connector's task, read over JMX from the embedded workers (same JVM), or
   * null while the connector has no such metric (so a gauge that reads 0 is told apart from one
   * that is not registered).
   */
  static Double pluginMetric(String connector, String attribute) throws Exception {
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    for (ObjectName name : server.queryNames(new ObjectName("kafka.connect:*"), null)) {
      if (connector.equals(name.getKeyProperty("connector"))) {
        try {
          if (server.getAttribute(name, attribute) instanceof Number number) {
            return number.doubleValue();
          }
        } catch (AttributeNotFoundException | InstanceNotFoundException e) {
          // another of the connector's metric groups, or one just unregistered
        }
      }
    }
    return null;
  }
}
