package io.somastack.connect.common.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class ServerVersionTest {

  private static final String NEEDS = "the thing needs PostgreSQL 14 or later (a reason)";

  @Test
  void anOlderServerIsRefusedNamingItsVersion() {
    assertEquals(
        NEEDS + "; this server is PostgreSQL 13.12", ServerVersion.tooOld(130012, 140000, NEEDS));
    assertEquals(
        NEEDS + "; this server is PostgreSQL 9.6.24", ServerVersion.tooOld(90624, 140000, NEEDS));
  }

  @Test
  void theMinimumAndLaterAreTaken() {
    assertNull(ServerVersion.tooOld(140000, 140000, NEEDS));
    assertNull(ServerVersion.tooOld(170002, 140000, NEEDS));
  }
}
