package io.somastack.connect.postgres.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.TextNode;
import io.somastack.connect.postgres.record.BadRecordException;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A timestamptz column's text is read as PostgreSQL reads it: for each form the sink takes, the
 * instant it stores is the one {@code $1::timestamptz} gives on the real server (session TimeZone
 * UTC), so the typed column equals {@code (payload->>'f')::timestamptz} and an audit event lands in
 * the month PostgreSQL would put it in.
 */
class TimestampTextTest {

  private static Connection postgres;

  @BeforeAll
  static void connect() throws SQLException {
    postgres = PostgresServer.shared().connect("postgres");
    try (Statement s = postgres.createStatement()) {
      s.execute("SET TimeZone = 'UTC'");
    }
  }

  @AfterAll
  static void close() throws SQLException {
    postgres.close();
  }

  /** Forms producers write, each read by the sink as PostgreSQL reads it. */
  private static final List<String> ACCEPTED =
      List.of(
          "2024-01-01T00:00:00Z",
          "2024-01-01T00:00Z", // no seconds
          "2024-01-01T00:00:00.Z", // a point without digits
          "2024-01-01T00:00:00+0545", // basic offset
          "2024-01-01T00:00:00.123+0545",
          "2024-01-01 00:00:00+00:00", // space: Python's str(datetime)
          "2024-01-01 00:00:00.5-03:30",
          "2024-01-01 12:34:56.789012+01:00",
          "2024-01-01T00:00:00+05", // hour-only offset
          "2024-01-01T00:00+05",
          "2024-01-01T00:00:00.5+01",
          "2024-01-01t00:00:00z", // lower case
          "2024-01-01T00:00:00-00:00",
          "2024-01-01T00:00:00+05:45:30", // offset with seconds
          "2024-01-01T00:00:00+15:59:59", // PostgreSQL's widest offset
          "2024-01-01T00:00:00-15:59",
          "2024-01-01T23:59:60Z", // leap second: the next minute's :00
          "2016-12-31T23:59:60.000000Z",
          "2024-01-01T12:30:60.5Z",
          "2024-01-01T12:30:60.9999995Z",
          "2024-01-01T24:00:00Z", // the next day's midnight
          "2024-01-01T24:00:00.000Z",
          "2024-01-01T24:00:00.0000005Z",
          "2024-02-29T10:00:00Z",
          "2000-02-29T10:00:00Z",
          // beyond microseconds: rounded as PostgreSQL rounds (rint of the double), not cut
          "1969-12-31T23:59:59.9999995Z",
          "2024-01-01T23:59:59.9999996Z",
          "1970-01-01T00:00:00.0000005Z",
          "1970-01-01T00:00:00.0000015Z",
          "1970-01-01T00:00:00.0000025Z",
          "1970-01-01T00:00:00.0000035Z",
          "2024-01-01T00:00:00.1234565Z",
          "2024-01-01T00:00:00.1234567891Z",
          "2024-01-01T00:00:00.9999994999999999999Z",
          "2024-01-01T00:00:00.000000000000000000001Z",
          "2024-01-01T00:00:00." + "1".repeat(64) + "Z",
          "1969-07-20T20:17:40.1234564-05:00",
          "0001-01-01T00:00:00Z",
          "0001-01-01T00:00:00-01:00",
          "9999-12-31T23:59:59.999999Z",
          "9999-12-31T23:59:59.9999994Z");

  @Test
  void eachFormIsReadAsPostgresqlReadsIt() throws SQLException {
    for (String text : ACCEPTED) {
      assertEquals(postgresInstant(text), sinkInstant(text), text);
    }
  }

  /** Text PostgreSQL refuses too: the record is dead-lettered, as its cast would fail. */
  @Test
  void textPostgresqlRefusesIsRefused() {
    for (String text :
        List.of(
            "2024-01-01T23:59:60.5Z", // past 24:00:00
            "2024-01-01T24:00:01Z",
            "2024-01-01T24:00:00.9999996Z", // rounds past 24:00:00
            "2024-01-01T23:60:00Z",
            "2024-01-01T00:00:00+16:00", // beyond PostgreSQL's offsets
            "2024-01-01T00:00:00+05:60",
            "2024-01-01T00:00:00+05:45:60",
            "2024-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T00:00:00+0545Z",
            "2024-01-01T00:00:00,5Z",
            "2024-01-01T00:00:00." + "1".repeat(200) + "Z")) {
      assertThrows(SQLException.class, () -> postgresInstant(text), text);
      assertThrows(BadRecordException.class, () -> sinkInstant(text), text);
    }
  }

  /**
   * Text without an offset (PostgreSQL reads it in the session's time zone: which instant it is
   * depends on the reader), and forms outside the documented ones, are refused.
   */
  @Test
  void textWithoutAnOffsetOrOfOtherFormsIsRefused() {
    for (String text :
        List.of(
            "2024-01-01T00:00:00",
            "2024-01-01 00:00:00",
            "2024-01-01",
            "2024-01-01T00:00:00+5",
            "2024-01-01T00:00:00+054",
            "2024-01-01T00:00:00+054530",
            "2024-01-01T0:00:00Z",
            "2024-1-01T00:00:00Z",
            "2024-01-01  00:00:00Z",
            "2024-01-01T00:00:00 Z",
            "2024-01-01T00:00.5Z",
            " 2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00Z ",
            "2024-01-01T00:00:00." + "1".repeat(65) + "Z",
            "2024-01-01X00:00:00Z",
            "+2024-01-01T00:00:00Z",
            "",
            "Z")) {
      BadRecordException e = assertThrows(BadRecordException.class, () -> sinkInstant(text), text);
      assertTrue(e.getMessage().contains("not timestamptz"), e.getMessage());
    }
  }

  @Test
  void yearsOutsideOneTo9999AreOutOfRange() {
    for (String text :
        List.of(
            "+12026-01-01T00:00:00Z",
            "-0001-01-01T00:00:00Z",
            "0000-12-31T23:59:59.999999Z",
            "0001-01-01T00:00:00+00:01",
            "9999-12-31T23:59:59.9999995Z", // rounds into the year 10000
            "9999-12-31T23:59:60Z",
            "9999-12-31T24:00:00Z")) {
      BadRecordException e = assertThrows(BadRecordException.class, () -> sinkInstant(text), text);
      assertTrue(e.getMessage().contains("outside the years 1 to 9999"), e.getMessage());
    }
  }

  private static Instant sinkInstant(String text) {
    return Instant.parse((String) ColumnType.TIMESTAMPTZ.convert(TextNode.valueOf(text), "f"));
  }

  private static Instant postgresInstant(String text) throws SQLException {
    try (PreparedStatement s =
        postgres.prepareStatement(
            "SELECT (extract(epoch FROM ?::text::timestamptz) * 1000000)::bigint")) {
      s.setString(1, text);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        long micros = rs.getLong(1);
        return Instant.ofEpochSecond(
            Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
      }
    }
  }
}
