package io.somastack.connect.common.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.FileNotFoundException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

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

  /**
   * pgjdbc refuses a TLS mode it does not know with 08001, the class of a lost connection. The
   * URL's validator refuses such an sslmode, but a pg_service.conf can still bring one; the
   * driver's own exception is taken here, from a connection it refuses to open.
   */
  @Test
  void anSslmodeTheDriverDoesNotKnowIsNeverRetried() {
    assertUnknownSslmodeIsPermanentAndARefusedPortTransient("verify_full", "");
  }

  /**
   * With loginTimeout set pgjdbc connects in a task of its own and rethrows the task's exception
   * with a fresh stack trace, so SslMode is no longer its top frame: the message tells it apart. A
   * server that cannot be reached under the same loginTimeout stays transient.
   */
  @Test
  void anSslmodeTheDriverDoesNotKnowIsNeverRetriedUnderALoginTimeout() {
    assertUnknownSslmodeIsPermanentAndARefusedPortTransient("bogus", "?loginTimeout=5");
  }

  /**
   * The driver's own 08001 for an unknown sslmode is not transient; its 08001 for a server that
   * cannot be reached (a port nobody listens on), with the same URL parameters, still is.
   */
  private static void assertUnknownSslmodeIsPermanentAndARefusedPortTransient(
      String sslmode, String parameters) {
    Properties props = new Properties();
    props.setProperty("user", "postgres");
    props.setProperty("sslmode", sslmode);
    SQLException unknown = connectFailing("127.0.0.1:5432", parameters, props);
    assertEquals("08001", unknown.getSQLState());
    assertFalse(SqlStates.isTransient(unknown));
    props.setProperty("sslmode", "disable");
    SQLException refused = connectFailing("127.0.0.1:1", parameters, props);
    assertEquals("08001", refused.getSQLState());
    assertTrue(SqlStates.isTransient(refused));
  }

  private static SQLException connectFailing(String host, String parameters, Properties props) {
    return assertThrows(
        SQLException.class,
        () ->
            DriverManager.getConnection(
                "jdbc:postgresql://" + host + "/postgres" + parameters, props));
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

  /** How pgjdbc's MakeSSL reports a failed handshake: "SSL error: ...", 08006, the cause. */
  private static SQLException sslError(Throwable cause) {
    return new PSQLException(
        "SSL error: " + cause.getMessage(), PSQLState.CONNECTION_FAILURE, cause);
  }

  private static SSLHandshakeException handshake(String message, Throwable cause) {
    SSLHandshakeException e = new SSLHandshakeException(message);
    e.initCause(cause);
    return e;
  }

  /**
   * A proxy, PgBouncer or a pod going away closes the socket in the middle of the TLS handshake:
   * the JDK reports "Remote host terminated the handshake" caused by an EOFException. A network
   * fault that passes, not a certificate that does not verify.
   */
  @Test
  void aHandshakeCutByTheNetworkIsTransient() {
    assertTrue(
        SqlStates.isTransient(
            sslError(
                handshake(
                    "Remote host terminated the handshake",
                    new EOFException("SSL peer shut down incorrectly")))));
    assertTrue(
        SqlStates.isTransient(
            sslError(
                new SSLException("Connection reset", new SocketException("Connection reset")))));
    assertTrue(
        SqlStates.isTransient(
            sslError(new SSLException("Read timed out", new SocketTimeoutException("timeout")))));
  }

  @Test
  void certificateTrustAndProtocolFailuresStayPermanent() {
    // PKIX path building failed: ValidatorException is a GeneralSecurityException
    assertFalse(
        SqlStates.isTransient(
            sslError(
                handshake(
                    "PKIX path building failed",
                    new CertPathValidatorException("unable to find valid certification path")))));
    assertFalse(
        SqlStates.isTransient(
            sslError(handshake("bad certificate", new CertificateException("expired")))));
    // no TLS version in common, a fatal alert from the server: no network cause in the chain
    assertFalse(SqlStates.isTransient(sslError(handshake("No appropriate protocol", null))));
    assertFalse(
        SqlStates.isTransient(
            sslError(handshake("Received fatal alert: handshake_failure", null))));
    // a certificate failure is permanent even if a socket error shows up further down
    assertFalse(
        SqlStates.isTransient(
            sslError(
                new SSLException(
                    "x", new CertificateException("bad", new SocketException("reset"))))));
  }

  /**
   * Classes 25, 55, 57 and 58 hold both faults that pass and states that retrying meets for ever:
   * each is listed alone.
   */
  @Test
  void onlyTheStatesThatPassInClasses25To58AreTransient() {
    for (String state :
        new String[] {
          "25006", "25P03", "25P04", "55P03", "55006", "57P01", "57P02", "57P03", "57P05", "57014",
          "58030"
        }) {
      assertTrue(SqlStates.isTransient(state(state)), state);
    }
    for (String state :
        new String[] {"55P02", "55000", "25001", "25P01", "25P02", "57P04", "58P01"}) {
      assertFalse(SqlStates.isTransient(state(state)), state);
    }
  }

  /**
   * One rule for what may quote a row's value, for the sink's task errors and dead letters alike:
   * data exceptions, integrity violations, a trigger's RAISE, unsupported conversions, and the
   * lookups a reg* column's value makes; never a state whose message names only objects.
   */
  @Test
  void messagesThatMayQuoteAValueAreToldBySqlState() {
    for (String state :
        new String[] {"22P02", "22003", "23514", "0A000", "P0001", "42P01", "42883", "42704"}) {
      assertTrue(SqlStates.messageMayQuoteValue(state), state);
    }
    assertTrue(SqlStates.messageMayQuoteValue("3F000"));
    // 'a.b.c.d'::regclass, a tsquery's syntax, 'abs'::regproc
    assertTrue(SqlStates.messageMayQuoteValue("42601"));
    assertTrue(SqlStates.messageMayQuoteValue("42725"));
    for (String state : new String[] {"42703", "42804", "42P10", "42501", "08006", "54000"}) {
      assertFalse(SqlStates.messageMayQuoteValue(state), state);
    }
    assertFalse(SqlStates.messageMayQuoteValue(null));
    assertFalse(SqlStates.quotesNameLookedUp(null));
    assertTrue(SqlStates.quotesNameLookedUp("42P01"));
    assertFalse(SqlStates.quotesNameLookedUp("22P02"), "a data exception is no lookup");
    assertFalse(SqlStates.messageMayQuoteValue("22"), "not a SQLSTATE");
  }

  @Test
  void aPreparedStatementMissingOrTakenHintsAtAPoolerInTransactionMode() {
    assertTrue(SqlStates.preparedStatementHint("26000").contains("prepareThreshold=0"));
    assertTrue(SqlStates.preparedStatementHint("42P05").contains("prepareThreshold=0"));
    assertEquals("", SqlStates.preparedStatementHint("23505"));
    assertEquals("", SqlStates.preparedStatementHint(null));
  }

  /** A retry's warning on 25006 says what it most often means and what to do. */
  @Test
  void aReadOnlyServerIsExplainedInTheRetryHint() {
    assertTrue(SqlStates.readOnlyHint("25006").contains("list every host in connection.url"));
    assertTrue(SqlStates.readOnlyHint("25006").contains("targetServerType=primary"));
    assertEquals("", SqlStates.readOnlyHint("08006"));
    assertEquals("", SqlStates.readOnlyHint(null));
  }
}
