package io.somastack.connect.it.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.deploy.ConnectRestClient;
import io.somastack.connect.deploy.PipelineDeployer;
import io.somastack.connect.deploy.PipelineFile;
import io.somastack.connect.testing.connect.ConnectHarness;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Deploying a fixed config over a pipeline that failed: the deploy code users run must restart what
 * failed and judge the pipeline by its new state, not by the failure it replaced.
 */
class RedeployIT {

  private static final String DB = "redeploy";
  private static final String TOPIC = "memory.redeploy";
  private static final String NAME = "redeploy-memory";
  private static ConnectHarness connect;
  private static PostgresServer postgres;
  private static String url;

  @BeforeAll
  static void start() {
    postgres = PostgresServer.shared();
    url = postgres.createDatabase(DB);
    connect = ConnectHarness.builder("redeploy").start();
    connect.createTopic(TOPIC, 1);
  }

  @AfterAll
  static void stop() {
    if (connect != null) {
      connect.close();
    }
  }

  @Test
  void aFailedPipelineDeployedAgainWithAFixIsRestartedAndReportedRunning() throws Exception {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PipelineDeployer deployer =
        new PipelineDeployer(
            new ConnectRestClient(connect.connect().workers().iterator().next().url(), null, null),
            new PrintStream(log, true, StandardCharsets.UTF_8),
            Duration.ofSeconds(60));
    connect.send(TOPIC, "k", "{\"event_id\":\"e1\",\"text\":\"hello\"}");
    connect.flush();

    // a role that does not exist passes validation, and the task fails when it connects
    deployer.deploy(pipeline("no_such_role"), false);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> connect.status(NAME).tasks().stream().anyMatch(t -> "FAILED".equals(t.state())));

    PipelineDeployer.Outcome fixed = deployer.deploy(pipeline(postgres.user()), false);

    assertTrue(fixed.ok(), log.toString(StandardCharsets.UTF_8));
    await().atMost(Duration.ofSeconds(60)).until(() -> rows() == 1);
    assertEquals("RUNNING", connect.status(NAME).tasks().get(0).state());
  }

  private static PipelineFile pipeline(String user) {
    Map<String, String> config = new LinkedHashMap<>();
    config.put("connector.class", "io.somastack.connect.postgres.PostgresMemorySinkConnector");
    config.put("tasks.max", "1");
    config.put("topics", TOPIC);
    config.put("connection.url", url);
    config.put("connection.user", user);
    if (postgres.password() != null) {
      config.put("connection.password", postgres.password());
    }
    config.put("key.converter", "org.apache.kafka.connect.storage.StringConverter");
    config.put("value.converter", "org.apache.kafka.connect.storage.StringConverter");
    config.put("table.name.format", "memory_redeploy");
    config.put("write.mode", "append");
    config.put("name", NAME);
    return new PipelineFile(Path.of(NAME + ".json"), NAME, config);
  }

  private static long rows() throws SQLException {
    try (Connection c = postgres.connect(DB);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM memory_redeploy")) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      if ("42P01".equals(e.getSQLState())) {
        return 0; // the connector creates the table with its first batch
      }
      throw e;
    }
  }
}
