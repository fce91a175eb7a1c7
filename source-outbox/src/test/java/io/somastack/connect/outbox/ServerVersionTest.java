package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.common.postgres.ServerVersion;
import io.somastack.connect.testing.postgres.PostgresServer;
import java.sql.Connection;
import org.junit.jupiter.api.Test;

/**
 * xid8 and pg_current_xact_id() came with PostgreSQL 13 and CREATE OR REPLACE TRIGGER with 14: on
 * an older server the relay fails at once, saying so, not with a syntax error from the middle of
 * its DDL or its first read.
 */
class ServerVersionTest {

  @Test
  void aServerBefore14IsRefusedNamingTheMinimum() {
    String message = tooOld(130012);
    assertNotNull(message);
    assertTrue(message.contains("PostgreSQL 14"), message);
    assertTrue(message.contains("13.12"), message);
    assertTrue(tooOld(90624).contains("9.6.24"), tooOld(90624));
  }

  @Test
  void fourteenAndLaterAreTaken() {
    assertNull(tooOld(140000));
    assertNull(tooOld(170002));
  }

  @Test
  void theLocalServerPasses() throws Exception {
    PostgresServer pg = PostgresServer.shared();
    try (Connection c = pg.connect("postgres")) {
      assertDoesNotThrow(
          () ->
              ServerVersion.require(
                  c, OutboxReader.MINIMUM_SERVER_VERSION, OutboxReader.NEEDS_SERVER_VERSION));
    }
  }

  private static String tooOld(int versionNum) {
    return ServerVersion.tooOld(
        versionNum, OutboxReader.MINIMUM_SERVER_VERSION, OutboxReader.NEEDS_SERVER_VERSION);
  }
}
