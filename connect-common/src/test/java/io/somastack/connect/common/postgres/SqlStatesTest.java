package io.somastack.connect.common.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
