package io.somastack.connect.postgres;

import io.somastack.connect.common.postgres.ServerErrors;
import io.somastack.connect.common.postgres.SqlStates;
import io.somastack.connect.common.record.Positions;
import io.somastack.connect.common.text.Utf8;
import io.somastack.connect.postgres.record.BadRecordException;
import io.somastack.connect.postgres.write.Batch;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A batch's bad records on their way to the dead-letter queue, and the reasons they carry there:
 * what the database said of a row, without the values it may quote.
 */
final class DeadLetters {

  // the task's logger: these lines are the task's, and operators filter them by its name
  private static final Logger log = LoggerFactory.getLogger(PostgresMemorySinkTask.class);

  /** A dead letter's reason goes into two of its headers (message, stack trace): kept small. */
  private static final int MAX_REASON_BYTES = 1024;

  /** Connect's dead-letter queue, or null: none configured, or a worker older than Kafka 2.6. */
  private final ErrantRecordReporter reporter;

  private final SinkMetrics metrics;

  DeadLetters(ErrantRecordReporter reporter, SinkMetrics metrics) {
    this.reporter = reporter;
    this.metrics = metrics;
  }

  /**
   * Sends the batch's bad records to the dead-letter queue and waits until Kafka has them, so their
   * offsets are committed with the batch only once they are safe. Without a dead-letter queue the
   * task stops, naming the record and the reason.
   */
  void send(Batch batch) {
    if (batch.rejected().isEmpty()) {
      return;
    }
    List<Future<Void>> sent = new ArrayList<>();
    for (Batch.Rejected bad : batch.rejected()) {
      String where = Positions.of(bad.record());
      if (reporter == null) {
        throw new ConnectException(
            "Record "
                + where
                + " cannot be written: "
                + reasonForLog(bad.reason())
                + ". Configure errors.tolerance=all and errors.deadletterqueue.topic.name to"
                + " dead-letter such records instead of stopping.");
      }
      log.warn("Dead-lettering record {}: {}", where, reasonForLog(bad.reason()));
      sent.add(reporter.report(bad.record(), bad.reason()));
    }
    awaitAll(sent);
    metrics.deadLettered.record(batch.rejected().size());
  }

  private static void awaitAll(List<Future<Void>> sent) {
    for (Future<Void> future : sent) {
      try {
        future.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ConnectException("interrupted while dead-lettering", e);
      } catch (ExecutionException e) {
        throw new ConnectException("could not dead-letter a record", e.getCause());
      }
    }
  }

  /**
   * Why the database refused a row, as a dead letter's reason: the SQLSTATE and the server's
   * message (its detail, which quotes the row, is off: see the connection properties), within
   * {@link #MAX_REASON_BYTES}. Never for a log line. Where the message may quote a value ({@link
   * SqlStates#messageMayQuoteValue}: 'value "..." is out of range for type integer', or 'relation
   * "..." does not exist' for a regclass column's value), the reason keeps only the names the
   * server gives, and drops the driver's exception as its cause.
   */
  static BadRecordException rejection(SQLException e) {
    String state = SqlStates.rootState(e);
    if (SqlStates.messageMayQuoteValue(state)) {
      return new BadRecordException(
          "database rejected the row (SQLSTATE "
              + state
              + ServerErrors.names(e)
              + "): a value its column"
              + " cannot take");
    }
    String reason = "database rejected the row (SQLSTATE " + state + "): " + e.getMessage();
    return new BadRecordException(Utf8.truncate(reason, MAX_REASON_BYTES, "..."), e);
  }

  /** A database error's message may quote the value; logs get only its SQLSTATE. */
  private static String reasonForLog(Throwable reason) {
    if (reason.getCause() instanceof SQLException e) {
      return "database rejected the row (SQLSTATE " + SqlStates.rootState(e) + ")";
    }
    return reason.getMessage();
  }
}
