package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The meter counts the sink's statements, not pgjdbc's housekeeping: a one-off statement that
 * pgjdbc prepared on the server (prepareThreshold=1, as the sink connects) is closed there once the
 * garbage collector has found it unreachable: in front of the next statement or, when that opens a
 * transaction, with a Sync of its own before the BEGIN pgjdbc sends as a simple query. Measured as
 * a statement, it made the round trips of a put depend on when the JVM collected garbage (on the
 * tests run before it): one more than expected now and then.
 */
class WireMeterTest {

  @Test
  void aRoundTripThatOnlyClosesDroppedStatementsIsNoStatement() throws Exception {
    String database = "wire_meter_deallocations";
    try (WireMeter meter = WireMeter.before(SERVER.createDatabase(database));
        Connection c = connect(meter.jdbcUrl(database))) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.execute("CREATE TABLE inserted (n int)");
      }
      c.commit();
      PreparedStatement insert = c.prepareStatement("INSERT INTO inserted VALUES (1)");
      AtomicReference<List<Long>> statements = new AtomicReference<>();
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(10))
          .until(
              () -> {
                try (Statement s = c.createStatement()) {
                  s.execute("SELECT 1"); // prepared on the server, dropped when closed
                }
                c.commit();
                System.gc();
                meter.reset();
                insert.executeUpdate(); // a transaction's first statement
                c.commit();
                statements.set(meter.statements());
                return meter.deallocations() > 0;
              });
      // BEGIN, the INSERT, COMMIT
      assertEquals(3, statements.get().size(), "statements of " + statements.get() + " bytes");
    }
  }

  private static Connection connect(String url) throws Exception {
    Properties props = new Properties();
    props.setProperty("user", SERVER.user());
    if (SERVER.password() != null) {
      props.setProperty("password", SERVER.password());
    }
    props.setProperty("prepareThreshold", "1");
    return DriverManager.getConnection(url, props);
  }
}
