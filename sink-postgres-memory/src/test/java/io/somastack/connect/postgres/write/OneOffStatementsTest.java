package io.somastack.connect.postgres.write;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.somastack.connect.postgres.config.PostgresSinkConfig;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A table's setup names the table in its SQL (its advisory lock, CREATE TABLE, its indexes): run
 * once per table, those statements must not be prepared on the server, where each stayed, named,
 * until the JVM collected its query (about 26 kB of the backend's memory each: a sink writing tens
 * of thousands of tenants' tables held gigabytes per backend).
 */
class OneOffStatementsTest {

  private static final PostgresServer SERVER = PostgresServer.shared();

  @Test
  void settingUpManyTablesLeavesNoStatementNamingThemPreparedOnTheServer() throws SQLException {
    String url = SERVER.createDatabase("one_off_statements");
    Map<String, String> props = new HashMap<>();
    props.put("connection.url", url);
    props.put("connection.user", SERVER.user());
    if (SERVER.password() != null) {
      props.put("connection.password", SERVER.password());
    }
    props.put("topics", "events");
    PostgresSinkConfig config = new PostgresSinkConfig(props);
    SchemaManager schemas = new SchemaManager(config, TableLayout.of(config));
    try (Connection c = DriverManager.getConnection(config.url(), config.connectionProperties())) {
      c.setAutoCommit(false);
      for (int i = 0; i < 20; i++) {
        schemas.ensure(c, "\"public\".\"tenant_" + i + "\"");
      }
      try (Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%tenant\\_%'")) {
        rs.next();
        assertEquals(0, rs.getLong(1), "statements naming a table, prepared on the server");
      }
      c.rollback();
    }
  }
}
