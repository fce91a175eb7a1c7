package io.somastack.connect.postgres.write;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Audit mode refuses PostgreSQL before 14: there extract(epoch ...) is double precision, and
 * soma_audit_verify would disagree with the sink's hash of a far-future event time.
 */
class AuditServerVersionTest {

  @Test
  void postgres13IsRefusedNamingItsVersionAndTheMinimum() {
    String problem = AuditSchema.tooOld(130012);
    assertTrue(problem.contains("PostgreSQL 14 or later"), problem);
    assertTrue(problem.contains("PostgreSQL 13.12"), problem);
  }

  @Test
  void postgres12IsRefused() {
    String problem = AuditSchema.tooOld(120017);
    assertTrue(problem.contains("PostgreSQL 12.17"), problem);
  }

  @Test
  void postgres14AndLaterAreAccepted() {
    assertNull(AuditSchema.tooOld(140000));
    assertNull(AuditSchema.tooOld(150008));
    assertNull(AuditSchema.tooOld(170000));
  }
}
