package io.somastack.connect.common.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileNotFoundException;
import java.sql.SQLException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

class SqlStatesTest {

  private static SQLException state(String state) {
    return new SQLException("x", state);
  }

  @Test
  void faultsThatPassAreTransient() {
    for (String state :
        new String[] {
          "08006", "08001", "40001", "40P01", "53300", "55P03", "57P01", "57P03", "25P03"
        }) {
      assertTrue(SqlStates.isTransient(state(state)), state);
    }
    assertTrue(SqlStates.isTransient(new SQLException("no answer")));
  }

  @Test
  void configurationAndDataErrorsAreNot() {
    for (String state : new String[] {"28P01", "42P01", "42501", "23505", "22P02", "XX000"}) {
      assertFalse(SqlStates.isTransient(state(state)), state);
    }
  }

  @Test
  void aCertificateThatDoesNotVerifyIsNeverRetried() {
    SQLException e = new SQLException("SSL error", "08006", new SSLHandshakeException("PKIX"));
    assertFalse(SqlStates.isTransient(e));
  }

  /** Configuration errors pgjdbc reports in class 08: retrying them would retry for ever. */
  @Test
  void aConnectionTheDriverCannotSetUpIsNeverRetried() {
    // 08004: no password given, sslmode=require against a server without TLS, unknown auth
    assertFalse(SqlStates.isTransient(state("08004")));
    // connection.sslrootcert naming a file that is not there
    SQLException missingCa =
        new SQLException(
            "Could not open SSL root certificate file /certs/ca.pem.",
            "08006",
            new FileNotFoundException("/certs/ca.pem (No such file or directory)"));
    assertFalse(SqlStates.isTransient(missingCa));
    assertTrue(SqlStates.isTransient(state("08006")));
  }

  @Test
  void dataErrorsAreClasses22And23() {
    assertTrue(SqlStates.isDataError(state("23514")));
    assertTrue(SqlStates.isDataError(state("22021")));
    assertFalse(SqlStates.isDataError(state("42P01")));
    SQLException chained = new SQLException("batch");
    chained.setNextException(state("23505"));
    assertEquals("23505", SqlStates.rootState(chained));
  }
}
