package io.somastack.connect.outbox;

import static io.somastack.connect.outbox.HandRunSourceContext.relayUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A created_at of type timestamp (without time zone) holds local times: with the database's
 * TimeZone Europe/Berlin, {@code DEFAULT now()} writes 12:00 for 10:00Z. pgjdbc read such a value
 * as UTC, two hours off, and gives the relay's session the worker JVM's zone, not the database's,
 * so the relay cannot know the writers' zone: created.at.time.zone names it, and without it such a
 * column stops the task rather than shift every record timestamp and the backlog age silently.
 */
class LocalCreatedAtTest {

  private static final long HOUR_MS = 3_600_000;

  @RegisterExtension final RelayTask relay = new RelayTask("outbox_localtime_");

  @BeforeEach
  void createOutbox() throws SQLException {
    relay.createDatabase();
    execute("ALTER DATABASE " + relay.db() + " SET timezone = 'Europe/Berlin'");
    execute(
        "CREATE TABLE outbox (id bigserial PRIMARY KEY, topic text, payload jsonb,"
            + " dedupe_key text, created_at timestamp NOT NULL DEFAULT now())");
    execute(DefaultOutbox.script());
  }

  @Test
  void theRecordTimestampIsTheLocalTimeInTheConfiguredZone() throws Exception {
    execute(
        "INSERT INTO outbox(topic, payload, created_at) VALUES ('t', '{}', '2024-06-01 12:00:00')");

    List<SourceRecord> records =
        relayUntil(relay.start(props(Map.of("created.at.time.zone", "Europe/Berlin"))), 1);
    assertEquals(Instant.parse("2024-06-01T10:00:00Z").toEpochMilli(), records.get(0).timestamp());
  }

  /** PostgreSQL reads zone names in any letter case, so the check that the server knows it does. */
  @Test
  void aZoneNamedInOtherLetterCaseIsReadAsTheZone() throws Exception {
    execute(
        "INSERT INTO outbox(topic, payload, created_at) VALUES ('t', '{}', '2024-06-01 12:00:00')");

    List<SourceRecord> records =
        relayUntil(relay.start(props(Map.of("created.at.time.zone", "europe/berlin"))), 1);
    assertEquals(Instant.parse("2024-06-01T10:00:00Z").toEpochMilli(), records.get(0).timestamp());
  }

  @Test
  void theBacklogAgeIsTheLocalTimesAge() throws Exception {
    // written as a session with the database's zone writes it (pgjdbc's sessions get the JVM's)
    try (Connection c = relay.connect();
        Statement s = c.createStatement()) {
      s.execute("SET TIME ZONE 'Europe/Berlin'");
      s.execute(
          "INSERT INTO outbox(topic, payload, created_at)"
              + " VALUES ('t', '{}', now()::timestamp - interval '1 hour')");
    }
    relay.start(props(Map.of("created.at.time.zone", "Europe/Berlin")));

    relay.task().poll();
    double age = relay.context().metric("oldest-unpublished-age-ms");
    assertTrue(age >= HOUR_MS && age < HOUR_MS + 60_000, "an hour old, the gauge says " + age);
  }

  @Test
  void withoutAZoneTheTaskStopsNamingTheColumnAndTheOption() {
    PostgresOutboxSourceTask task = relay.start(props(Map.of()));

    String message = assertThrows(ConnectException.class, task::poll).getMessage();
    assertTrue(message.contains("created_at"), message);
    assertTrue(message.contains("timestamp without time zone"), message);
    assertTrue(message.contains("created.at.time.zone"), message);
  }

  /**
   * AT TIME ZONE looks a name up among the abbreviations (pg_timezone_abbrevs, a fixed offset)
   * before the zone database: 'CET' there is +01:00 all year, while a session of TimeZone CET
   * writes summer times at +02:00, so they were read an hour late. validate refuses the names the
   * Default abbreviations make such, naming their regions; the start-up check asks the session's
   * own set (another timezone_abbreviations may hold more, whose regions the relay does not know),
   * in the validator's words, with the offset the server reads.
   */
  @Test
  void aZoneThatIsAlsoAnAbbreviationIsRefusedInTheValidatorsWords() throws Exception {
    try (Connection c = relay.connect()) {
      String message =
          assertThrows(ConnectException.class, () -> OutboxTableCheck.requireZoneRules(c, "CET"))
              .getMessage();
      assertEquals(
          "created.at.time.zone=CET is "
              + CreatedAtZone.abbreviation("CET", "01:00:00", null)
              + ".",
          message);
      assertTrue(message.contains("the fixed offset 01:00:00"), message);
    }
  }

  /** validate checks only a name's form: whether the zone exists is the server's to say. */
  @Test
  void aZoneTheServerDoesNotKnowStopsTheTask() {
    PostgresOutboxSourceTask task =
        relay.start(props(Map.of("created.at.time.zone", "Mars/Olympus")));

    String message = assertThrows(ConnectException.class, task::poll).getMessage();
    assertTrue(message.contains("created.at.time.zone=Mars/Olympus"), message);
    assertTrue(message.contains("pg_timezone_names"), message);
  }

  @Test
  void utcIsNoAbbreviationThatCouldShift() throws Exception {
    execute(
        "INSERT INTO outbox(topic, payload, created_at) VALUES ('t', '{}', '2024-07-01 12:00:00')");

    List<SourceRecord> records =
        relayUntil(relay.start(props(Map.of("created.at.time.zone", "UTC"))), 1);
    assertEquals(Instant.parse("2024-07-01T12:00:00Z").toEpochMilli(), records.get(0).timestamp());
  }

  @Test
  void aTimestamptzColumnNeedsNoZone() throws Exception {
    execute("ALTER TABLE outbox ALTER COLUMN created_at TYPE timestamptz");
    execute(
        "INSERT INTO outbox(topic, payload, created_at)"
            + " VALUES ('t', '{}', '2024-06-01 12:00:00+02')");

    List<SourceRecord> records = relayUntil(relay.start(props(Map.of())), 1);
    assertEquals(Instant.parse("2024-06-01T10:00:00Z").toEpochMilli(), records.get(0).timestamp());
  }

  private Map<String, String> props(Map<String, String> extra) {
    Map<String, String> props = relay.props();
    props.putAll(extra);
    props.put("outbox.table.create", "false");
    return props;
  }

  private void execute(String sql) throws SQLException {
    try (Connection c = relay.connect();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}
