package io.somastack.connect.qdrant.mapping;

import io.somastack.connect.common.json.JsonValueException;
import org.apache.kafka.connect.errors.DataException;

/**
 * A payload field refused for its value: the message names the field's full path, for the dead
 * letter; {@link #loggedMessage()} the same with every map key written as [key], since keys are
 * record data (an email keying a score), for the log and the task's errors.
 */
final class PayloadFieldException extends DataException {

  private final String loggedMessage;

  PayloadFieldException(JsonValueException e) {
    super(reason(e.path(), e), e);
    this.loggedMessage = reason(e.loggedPath(), e);
  }

  private static String reason(String path, JsonValueException e) {
    return "payload field '" + path + "': " + e.getMessage();
  }

  String loggedMessage() {
    return loggedMessage;
  }
}
