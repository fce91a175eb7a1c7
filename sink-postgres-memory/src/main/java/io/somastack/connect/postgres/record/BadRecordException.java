package io.somastack.connect.postgres.record;

import org.apache.kafka.connect.errors.DataException;

/**
 * A record that can never be written, whatever is retried: it goes to the dead-letter queue with
 * this message as the reason. Messages name fields, never their values.
 */
public class BadRecordException extends DataException {
  private static final long serialVersionUID = 1L;

  public BadRecordException(String reason) {
    super(reason);
  }

  public BadRecordException(String reason, Throwable cause) {
    super(reason, cause);
  }
}
