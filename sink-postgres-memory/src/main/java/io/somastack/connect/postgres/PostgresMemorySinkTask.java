package io.somastack.connect.postgres;

import io.somastack.connect.common.config.DeadLetterQueue;
import io.somastack.connect.common.config.Version;
import io.somastack.connect.common.postgres.ServerErrors;
import io.somastack.connect.common.postgres.SqlStates;
import io.somastack.connect.common.record.ClosedPartitions;
import io.somastack.connect.common.record.OffsetRanges;
import io.somastack.connect.common.record.Positions;
import io.somastack.connect.common.retry.Backoff;
import io.somastack.connect.common.retry.RetryClock;
import io.somastack.connect.common.retry.RetryTimeout;
import io.somastack.connect.postgres.config.PostgresSinkConfig;
import io.somastack.connect.postgres.config.WriteMode;
import io.somastack.connect.postgres.record.BadRecordException;
import io.somastack.connect.postgres.record.EventRow;
import io.somastack.connect.postgres.record.RowMapper;
import io.somastack.connect.postgres.write.AuditChain;
import io.somastack.connect.postgres.write.Batch;
import io.somastack.connect.postgres.write.BatchWriter;
import io.somastack.connect.postgres.write.OffsetStore;
import io.somastack.connect.postgres.write.PostgresSession;
import io.somastack.connect.postgres.write.SchemaManager;
import io.somastack.connect.postgres.write.StatementChunks;
import io.somastack.connect.postgres.write.TableChanged;
import io.somastack.connect.postgres.write.TableLayout;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each put() as one PostgreSQL transaction holding the rows and the Kafka offsets they
 * cover. The database, not the consumer group, says where to resume: on open() each partition is
 * sought to its stored offset, records below it are skipped, and preCommit reports only offsets
 * that are committed in the database. So no restart, rebalance, crash or rewind writes a record
 * twice or skips one.
 */
public class PostgresMemorySinkTask extends SinkTask {

  private static final Logger log = LoggerFactory.getLogger(PostgresMemorySinkTask.class);

  private PostgresSinkConfig config;
  private TableLayout layout;
  private RowMapper mapper;
  private BatchWriter writer;
  private SchemaManager schemas;
  private AuditChain audit;
  private PartitionOffsets offsets;
  private PostgresSession session;
  private SinkMetrics metrics;
  private Backoff backoff;
  private DeadLetters deadLetters;
  private final ClosedPartitions closedPartitions = new ClosedPartitions();

  /** A failure that is not transient: rethrown by every later put(), never skipped. */
  private ConnectException failure;

  /** The run of transient failures going on: retried until retry.timeout.ms has passed. */
  private RetryClock retries;

  /**
   * Batches to write with savepoints since one met an event id already stored, or held two keys
   * that are one row of the table.
   */
  private int guardedBatches;

  private static final int GUARDED_AFTER_STORED_ID = 100;

  /**
   * Missing tables whose tombstones were logged: each once. Bounded, as keys may name any number of
   * tables; past the bound such tombstones are only counted.
   */
  private final Set<String> tablesMissingLogged = new HashSet<>();

  private static final int MISSING_TABLES_LOGGED = 1024;

  /**
   * Whether failed records go to a dead letter queue (not only to the errant record reporter, which
   * Connect also makes for errors.log.enable alone).
   */
  private boolean deadLetterQueue;

  /** What the last writeRows() did, for the metrics. */
  private int lastApplied;

  private int lastUnchanged;

  private int lastCopiedBinary;

  /** Whether the batch in hand is being written after the task read its catalog again. */
  private TableChanged.Moment moment = TableChanged.Moment.FIRST_TRY;

  /** Reads the time for retry.timeout.ms: System::nanoTime, or a test's hand-moved clock. */
  private final LongSupplier nanoTime;

  public PostgresMemorySinkTask() {
    this(System::nanoTime);
  }

  PostgresMemorySinkTask(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
  }

  @Override
  public String version() {
    return Version.of(getClass());
  }

  @Override
  public void start(Map<String, String> props) {
    config = new PostgresSinkConfig(props);
    layout = TableLayout.of(config);
    mapper = new RowMapper(config, layout);
    // the audit chain cuts its statements where the writer does: each chunk linked, then written
    StatementChunks chunks =
        new StatementChunks(layout, config.batchMaxRecords(), config.batchMaxBytes());
    writer = new BatchWriter(layout, chunks);
    schemas = new SchemaManager(config, layout);
    audit =
        config.writeMode() == WriteMode.AUDIT
            ? new AuditChain(layout, chunks, config.recordMaxBytes(), config.batchMaxBytes())
            : null;
    session = new PostgresSession(config);
    offsets = new PartitionOffsets(OffsetStore.of(config), session, context);
    metrics = new SinkMetrics(context.pluginMetrics());
    backoff =
        new Backoff(
            Duration.ofMillis(config.backoffInitialMs()), Duration.ofMillis(config.backoffMaxMs()));
    retries = RetryTimeout.clock(config.retryTimeoutMs(), nanoTime);
    deadLetters = new DeadLetters(errantRecordReporter(), metrics);
    deadLetterQueue = DeadLetterQueue.configured(props);
    for (String ignored : config.ignoredOptions()) {
      log.warn("{}", ignored);
    }
  }

  private ErrantRecordReporter errantRecordReporter() {
    try {
      return context.errantRecordReporter();
    } catch (NoSuchMethodError | NoClassDefFoundError e) {
      return null; // a worker older than Kafka 2.6
    }
  }

  @Override
  public void open(Collection<TopicPartition> partitions) {
    closedPartitions.opened(partitions);
    offsets.assigned(partitions);
    try {
      offsets.load();
    } catch (SQLException e) {
      // put() loads them before writing anything; until then nothing is written
      log.warn(
          "Cannot read stored offsets yet ({}); will retry before the next write",
          SqlStates.rootState(e));
      session.reset();
    }
  }

  /**
   * With every record skipped before put() (a filter, a tolerated converter failure), put() only
   * gets empty batches, and preCommit saves no skipped position of a partition whose stored offset
   * is unread: read them here, where a seek is made on partitions still assigned.
   */
  private void loadOffsetsOpenCouldNot() {
    if (offsets.allLoaded()) {
      return;
    }
    try {
      offsets.load();
    } catch (SQLException e) {
      // open() warned already; a put with records retries and reports it
      log.debug("Still cannot read stored offsets (SQLSTATE {})", SqlStates.rootState(e));
      session.reset();
    }
  }

  /** Audit mode: the most bytes of canonical text one statement held at once (see AuditChain). */
  long auditTextBytesHeldMost() {
    return audit == null ? 0 : audit.mostTextBytesHeld();
  }

  @Override
  public void close(Collection<TopicPartition> partitions) {
    offsets.closed(partitions);
    closedPartitions.closed(partitions);
  }

  @Override
  public void put(Collection<SinkRecord> delivered) {
    if (failure != null) {
      throw failure;
    }
    offsets.polled();
    Collection<SinkRecord> records = withoutClosedPartitions(delivered);
    if (records.isEmpty()) {
      // Connect delivers a failed batch again until it is written, less the records of
      // partitions a rebalance revoked meanwhile: an empty put means none is waiting (all its
      // partitions went), so the run of failures is over
      retries.reset();
      closedPartitions.putDone();
      loadOffsetsOpenCouldNot();
      return;
    }
    long started = System.nanoTime();
    // retry.timeout.ms counts from the start of a run's first failed attempt, on its own clock
    long attemptStarted = retries.now();
    moment = TableChanged.Moment.FIRST_TRY;
    try {
      offsets.load();
      Batch batch = prepare(records);
      writeAdapting(batch);
      retries.reset();
      closedPartitions.putDone();
      record(batch, records.size(), started);
    } catch (SQLException e) {
      session.rollbackQuietly();
      if (SqlStates.isTransient(e)) {
        retryLater(e, records, attemptStarted);
      }
      // the worker logs the cause's chain: never a message that may quote a value
      String message =
          session.openFailed()
              ? cannotConnect(e)
              : TableChanged.blamesTable(e)
                  ? TableChanged.describe(e, moment)
                  : "PostgreSQL rejected a batch (SQLSTATE "
                      + SqlStates.rootState(e)
                      + ")"
                      + SqlStates.preparedStatementHint(SqlStates.rootState(e));
      failure = new ConnectException(message, ServerErrors.loggable(e));
      throw failure;
    } catch (ConnectException e) {
      session.rollbackQuietly();
      failure = e;
      throw e;
    }
  }

  /**
   * The records less those of partitions closed and not opened again, which Connect can deliver
   * after close (see {@link ClosedPartitions}). Their offsets are no longer this task's to store:
   * with them in the batch, the write of the offsets would find another task's and fail as a
   * conflict on every try. Their partition's new owner writes them. Records Connect still holds
   * from before a partition was closed and opened again need no more care here ({@link
   * ClosedPartitions#putFailed} is not called): open() reads the stored offsets again, and {@link
   * PartitionOffsets#alreadyWritten} skips what the new owner wrote.
   */
  private Collection<SinkRecord> withoutClosedPartitions(Collection<SinkRecord> records) {
    return closedPartitions.own(records, metrics.closedPartitionSkipped::record);
  }

  /**
   * Why the task could not log in. The driver's message quotes no record (it names the server, the
   * user, a certificate file, or the URL, which {@link PostgresSession} has taken out already).
   */
  private static String cannotConnect(SQLException e) {
    return "Cannot connect to PostgreSQL (SQLSTATE "
        + SqlStates.rootState(e)
        + "): "
        + e.getMessage()
        + ". Nothing was written; the stored offsets are unchanged.";
  }

  /**
   * Transient: the same records come again after a backoff, whole and in order, until
   * retry.timeout.ms has passed since the start of this run's first failed attempt (begun at {@code
   * attemptStarted}, a reading of the retry clock); then the task fails.
   */
  private void retryLater(SQLException e, Collection<SinkRecord> records, long attemptStarted) {
    // The commit may have landed before the connection broke. Read back what the database holds
    // before the records come again, so a batch that did commit is skipped, not written twice:
    // append and upsert would absorb it, an audit chain would link it a second time.
    offsets.reloadAssigned();
    session.reset();
    forgetCatalog();
    // from the attempt's start: one that hung until the socket timeout has spent that time already
    retries.failed(attemptStarted);
    if (retries.expired()) {
      giveUp(e, records);
    }
    long delay = backoff.delayMs(retries.failures() - 1);
    metrics.retries.record();
    log.warn(
        "Transient database error (SQLSTATE {}), retry {} in {} ms{}",
        SqlStates.rootState(e),
        retries.failures(),
        delay,
        SqlStates.readOnlyHint(SqlStates.rootState(e)));
    context.timeout(delay);
    throw new RetriableException("transient database error, will retry: " + e.getMessage(), e);
  }

  /**
   * Fails the task for good: a fault that looked transient outlasted retry.timeout.ms. Nothing of
   * the records was written, and the stored offsets stay where they were, so a restart resumes from
   * them. Named by SQLSTATE and positions: the driver's message may quote a value.
   */
  private void giveUp(SQLException e, Collection<SinkRecord> records) {
    failure =
        new ConnectException(
            RetryTimeout.gaveUp(
                retries,
                config.retryTimeoutMs(),
                "transient database errors",
                lastError(e),
                OffsetRanges.of(records).toString(),
                "The offsets stored in PostgreSQL are unchanged: a restarted task resumes from"
                    + " them."),
            e);
    log.error(failure.getMessage());
    throw failure;
  }

  private static String lastError(SQLException e) {
    String state = SqlStates.rootState(e);
    return state == null ? "an I/O failure without SQLSTATE" : "SQLSTATE " + state;
  }

  /**
   * The batch of the records not written yet. A partition whose records in hand start beyond the
   * offset just read from the database for it ({@link PartitionOffsets#startsBeyondStored}) is left
   * out, because the database may lack records before them (restored from a backup, or it lost its
   * last commits in a crash); Connect is asked to seek back to the stored offset and delivers them
   * again from there, which also shows a mere gap in the offsets (transaction markers, compaction)
   * for what it is.
   */
  private Batch prepare(Collection<SinkRecord> records) {
    Batch batch = new Batch(layout);
    // per partition, decided by its first record in this put (records come in offset order)
    Map<TopicPartition, Boolean> aheadOfDatabase = new HashMap<>();
    for (SinkRecord record : records) {
      TopicPartition tp = Positions.partition(record); // as Connect assigned it
      if (aheadOfDatabase.computeIfAbsent(tp, p -> offsets.startsBeyondStored(record, p))) {
        continue;
      }
      if (offsets.alreadyWritten(record, tp)) {
        batch.replaySkipped();
        continue;
      }
      batch.covered(tp, record.originalKafkaOffset());
      try {
        EventRow row = mapper.map(record);
        if (row == null) {
          batch.tombstoneIgnored();
        } else {
          batch.add(row);
        }
      } catch (BadRecordException e) {
        batch.reject(record, e);
      } catch (DataException e) {
        // a conversion of the key or value that Connect's data API refused: bad data too
        batch.reject(record, new BadRecordException(e.getMessage(), e));
      }
    }
    return batch;
  }

  /**
   * Writes the batch; when a table refuses it for what it is rather than for its rows (a DBA
   * dropped or renamed a column or the table, altered a column's type or dropped the unique index
   * ON CONFLICT names, since the task made its statements), rolls back, reads the catalog again
   * (remaking what auto.create and auto.evolve allow) and writes the whole batch once more in a new
   * transaction. Only once: then single rows refused so are dead-lettered if the rest write (a
   * value that names no object), and a table that refuses every row fails the task, naming it. Then
   * the bad records are dead-lettered and the transaction commits. A failure of the commit runs no
   * catalog re-read: a lasting one fails the task, sending no dead letter twice; a transient one (a
   * lost connection) has the batch delivered again, and its dead letters are sent again with it
   * (delivery to the dead-letter queue is at least once).
   */
  private void writeAdapting(Batch batch) throws SQLException {
    try {
      writeUncommitted(batch, false);
    } catch (SQLException e) {
      if (!TableChanged.mayHealOnReread(e)) {
        throw e;
      }
      session.rollbackQuietly();
      forgetCatalog();
      log.warn(
          "A table refused a batch of {} row(s) from {} for what it is (SQLSTATE {}), not for its"
              + " rows: it changed under the task. Reading the catalog again and writing the batch"
              + " once more",
          batch.rowCount(),
          batch.nextOffsets().keySet(),
          SqlStates.rootState(e));
      moment = TableChanged.Moment.AFTER_REREAD;
      writeUncommitted(batch, true);
    }
    moment = TableChanged.Moment.FIRST_TRY; // a failure at commit ran no retry
    deadLetters.send(batch);
    session.connection().commit();
    offsets.committed(batch.nextOffsets());
  }

  /** What the task knows of the tables, and the statements made from it, is read anew. */
  private void forgetCatalog() {
    schemas.forget();
    writer.forget();
  }

  /**
   * Writes the batch in the session's transaction, leaving it open; rows refused for their data are
   * moved to the batch's bad records. {@code catalogStatesToo}: a catalog state may blame rows too
   * (after the catalog was read again).
   */
  private void writeUncommitted(Batch batch, boolean catalogStatesToo) throws SQLException {
    Connection c = session.connection();
    ensureTables(c, batch);
    try {
      writeBatch(c, batch);
    } catch (SQLException e) {
      if (!TableChanged.mayBlameRows(e, catalogStatesToo)) {
        throw e;
      }
      c.rollback();
      failIfUnfilled(c, batch.rowsByTable().keySet(), e);
      // a statement made for a column's old type may refuse values the column takes now (a cast
      // to uuid into a column altered to text): the rows are tried with statements made afresh
      writer.forgetStatements();
      isolateRejected(c, batch);
      writeBatch(c, batch);
    }
  }

  /**
   * Makes sure each table of the batch is ready. Where the record's own key or value names the
   * table (table.name.format reads them), a table that does not exist under auto.create=false is
   * the records' fault, not the config's: a tenant not provisioned, a typo in the data. Its writes
   * are dead-lettered, and its tombstones with them when there is a dead-letter queue (else they
   * are done: see missingTable), and the other tables' written, rather than every table stopping
   * with the task. A table named by the topic (or partition) alone stays the config's fault: the
   * task stops; so does a missing audit table, whatever names it. A table that is no target
   * (SchemaManager.NotATarget: the sink's own offsets or audit chain tables, a partition or a name
   * one would take, a table without the sink's layout, an audit table whose partition's name an
   * earlier table holds) is the same: its records are dead-lettered when they name it, and the task
   * stops when the config does; the table is never altered.
   */
  private void ensureTables(Connection c, Batch batch) throws SQLException {
    for (Map.Entry<String, List<EventRow>> table : batch.rowsByTable().entrySet()) {
      if (table.getValue().isEmpty()) {
        continue; // all its rows taken out already
      }
      try {
        schemas.ensure(c, table.getKey());
      } catch (SchemaManager.TableMissing e) {
        // an audit table is evidence: one missing may have been dropped with its chains on
        // record, which must stop the task, not send that tenant's events to the DLQ as a typo
        if (!config.tableTemplate().readsKeyOrValue() || config.writeMode() == WriteMode.AUDIT) {
          throw e;
        }
        missingTable(batch, table.getKey());
      } catch (SchemaManager.NotATarget e) {
        // a record naming the offsets table, an audit partition or a foreign table: its records
        // are dead-lettered, every one of them, tombstones too (a delete there would corrupt it);
        // the table is left as it was. Named by the config, topic or partition: the config's fault
        if (!config.tableTemplate().readsKeyOrValue()) {
          throw e;
        }
        batch.removeMissingTable(table.getKey(), notATargetReason(e.why()), false);
      }
    }
  }

  /**
   * Why a record whose key or value names a table that is no target is dead-lettered: names the
   * template and what the table is, never the table (the record's data made its name).
   */
  private BadRecordException notATargetReason(SchemaManager.NotATarget.Why why) {
    String what =
        switch (why) {
          case SINK_OWNED ->
              "is one the sink keeps for itself (its offsets table or the audit chain tables)";
          case PARTITION -> "is (or would take the name of) a partition of another table";
          case NOT_SINK_LAYOUT ->
              "is not a table of the sink's layout (it lacks the JSON document column)";
          case PARTITION_TAKEN ->
              "is an audit table whose default or monthly partition's name another table holds"
                  + " (made before it, not its partition; rename that table, then replay these"
                  + " records)";
        };
    return new BadRecordException(
        "the table that "
            + PostgresSinkConfig.TABLE_NAME_FORMAT
            + " '"
            + config.tableTemplate()
            + "' names from this record "
            + what
            + ": the sink never writes into or alters it");
  }

  /**
   * The batch's records for a table that does not exist: its writes to the dead-letter queue (which
   * logs each by its position), with a reason that names the template, not the table (the records'
   * data made its name); with a dead-letter queue its tombstones too, so that the queue, replayed
   * once the table exists, ends as the stream would have. Without one its tombstones are done, as a
   * table that is not there holds no row to delete, and counted, the table not made for them. The
   * first tombstones of each such table are logged at INFO, by position: the name is record data
   * there too.
   */
  private void missingTable(Batch batch, String table) {
    List<EventRow> nothingToDelete =
        batch.removeMissingTable(table, missingTableReason(), !deadLetterQueue);
    if (!nothingToDelete.isEmpty()
        && tablesMissingLogged.size() < MISSING_TABLES_LOGGED
        && tablesMissingLogged.add(table)) {
      log.info(
          "{} tombstone(s) of this batch, the first {}, name a table ({} '{}' reads its name from"
              + " the key) that does not exist: nothing to delete, so they are done and their"
              + " offsets committed, the table not created for them (counted in"
              + " tombstones-without-table-total; logged once per table)",
          nothingToDelete.size(),
          nothingToDelete.get(0).position(),
          PostgresSinkConfig.TABLE_NAME_FORMAT,
          config.tableTemplate());
    }
  }

  private BadRecordException missingTableReason() {
    return new BadRecordException(
        "the table that "
            + PostgresSinkConfig.TABLE_NAME_FORMAT
            + " '"
            + config.tableTemplate()
            + "' names from this record does not exist, and "
            + PostgresSinkConfig.AUTO_CREATE
            + "=false: create the table, or set "
            + PostgresSinkConfig.AUTO_CREATE
            + "=true");
  }

  /** A NOT NULL column the sink does not write and nothing fills fails every row: the table's. */
  private void failIfUnfilled(Connection c, Collection<String> tables, SQLException e)
      throws SQLException {
    for (String table : tables) {
      TableChanged unfilled = writer.unfilledColumn(c, table, e);
      if (unfilled != null) {
        throw unfilled;
      }
    }
  }

  /**
   * Writes the batch (offsets and rows), COPY (append mode) without savepoints unless a batch
   * lately met an event id already stored: then that batch is written again, and the next ones,
   * inside savepoints, so a stream full of true duplicates does not pay for every batch twice. The
   * same for an upsert batch whose keys collide in the table's type ({@link
   * BatchWriter.KeysCollide}).
   */
  private void writeBatch(Connection c, Batch batch) throws SQLException {
    if (guardedBatches > 0) {
      guardedBatches--;
      writeBatch(c, batch, BatchWriter.StoredIds.SKIP);
      return;
    }
    try {
      writeBatch(c, batch, BatchWriter.StoredIds.FAIL);
    } catch (BatchWriter.StoredIdFound e) {
      writeGuarded(c, batch, "an event id already stored; writing it again, skipping such ids");
    } catch (BatchWriter.KeysCollide e) {
      writeGuarded(
          c,
          batch,
          "keys that differ as text but are one row of the table (SQLSTATE 21000); writing it"
              + " again in smaller statements in order");
    }
  }

  /** Writes the batch again, and the next ones, inside savepoints ({@code why}: what it holds). */
  private void writeGuarded(Connection c, Batch batch, String why) throws SQLException {
    c.rollback(); // the whole transaction: the schema work before it committed by itself
    guardedBatches = GUARDED_AFTER_STORED_ID;
    metrics.batchesRewritten.record();
    // at most once per GUARDED_AFTER_STORED_ID batches, so worth an operator's eye
    log.info(
        "A batch of {} row(s) from {} holds {}, and the next {} batches with savepoints",
        batch.rowCount(),
        batch.nextOffsets().keySet(),
        why,
        GUARDED_AFTER_STORED_ID);
    writeBatch(c, batch, BatchWriter.StoredIds.SKIP);
  }

  /**
   * The offsets first, then the rows, in one transaction. The offsets statement opens it: pgjdbc
   * sends BEGIN along with a statement, but before a COPY on a round trip of its own.
   */
  private void writeBatch(Connection c, Batch batch, BatchWriter.StoredIds storedIds)
      throws SQLException {
    offsets.save(c, batch.nextOffsets());
    writeRows(c, batch, storedIds);
  }

  private void writeRows(Connection c, Batch batch, BatchWriter.StoredIds storedIds)
      throws SQLException {
    int applied = 0;
    int unchanged = 0;
    int copiedBinary = 0;
    for (Map.Entry<String, List<EventRow>> entry : batch.rowsByTable().entrySet()) {
      List<EventRow> rows = entry.getValue();
      if (audit != null) {
        AuditChain.Linked linked = audit.link(c, entry.getKey(), rows);
        if (!linked.refused().isEmpty()) {
          // rows whose canonical text is too long (rare): out of the batch, which is written
          // again from the start, so rows they had superseded are linked in their stead
          linked.refused().forEach(batch::remove);
          c.rollback();
          writeBatch(c, batch, storedIds);
          return;
        }
        rows = linked.rows(); // without rows already linked in the table
        unchanged += entry.getValue().size() - rows.size();
      }
      BatchWriter.Outcome outcome = writer.write(c, entry.getKey(), rows, storedIds);
      applied += outcome.applied();
      unchanged += outcome.unchanged();
      copiedBinary += outcome.copiedBinary();
    }
    lastApplied = applied;
    lastUnchanged = unchanged;
    lastCopiedBinary = copiedBinary;
  }

  /**
   * Finds the rows the database refuses (inside savepoints, all rolled back) and drops them. A
   * dropped row may leave in its place rows of its key it had superseded in the batch ({@link
   * Batch#remove}), not tried yet: the table's rows are then tried again, from where they were.
   */
  private void isolateRejected(Connection c, Batch batch) throws SQLException {
    for (String table : batch.rowsByTable().keySet()) {
      Savepoint before = c.setSavepoint();
      List<EventRow> tried = batch.rowsByTable().get(table);
      isolateRejected(c, batch, table, tried);
      while (untriedRows(batch.rowsByTable().get(table), tried)) {
        c.rollback(before); // the table's rows as they were, so each is tried (and chained) once
        tried = batch.rowsByTable().get(table);
        isolateRejected(c, batch, table, tried);
      }
    }
    c.rollback();
  }

  private void isolateRejected(Connection c, Batch batch, String table, List<EventRow> rows)
      throws SQLException {
    if (audit != null) {
      // the chain asks PostgreSQL for each payload's jsonb text first: a payload jsonb refuses
      // fails that step, so it is isolated there, and the rest are chained as they will land
      rows = withoutRejected(c, batch, table, rows, audit.findRejected(c, table, rows));
      AuditChain.Linked linked = audit.link(c, table, rows);
      linked.refused().forEach(batch::remove); // their texts too long: never linked
      rows = linked.rows();
    }
    withoutRejected(c, batch, table, rows, writer.findRejected(c, table, rows));
  }

  /** Whether some of the rows are not among those tried. */
  private static boolean untriedRows(List<EventRow> rows, List<EventRow> tried) {
    Set<EventRow> triedRows = Collections.newSetFromMap(new IdentityHashMap<>());
    triedRows.addAll(tried);
    return !triedRows.containsAll(rows);
  }

  /**
   * Moves the rows the database refused from the batch to its bad records; returns the rest. Unless
   * the table is to blame after all: it refused every row for what it is, or some for a NOT NULL
   * column nothing fills.
   */
  private List<EventRow> withoutRejected(
      Connection c,
      Batch batch,
      String table,
      List<EventRow> rows,
      Map<EventRow, SQLException> rejected)
      throws SQLException {
    TableChanged refusedAll = TableChanged.refusedEveryRow(table, rows.size(), rejected);
    if (refusedAll != null) {
      throw refusedAll;
    }
    Set<String> columnsChecked = new HashSet<>(); // one catalog query per column, not per row
    for (SQLException e : rejected.values()) {
      String column = TableChanged.notNullColumn(e);
      if (column != null && columnsChecked.add(column)) {
        failIfUnfilled(c, List.of(table), e);
      }
    }
    rejected.forEach((row, e) -> batch.remove(row, DeadLetters.rejection(e)));
    return rows.stream().filter(row -> !rejected.containsKey(row)).toList();
  }

  private void record(Batch batch, int size, long started) {
    metrics.batches.record();
    metrics.batchSize.record(size);
    metrics.batchLatencyMs.record((System.nanoTime() - started) / 1_000_000.0);
    metrics.recordsWritten.record(lastApplied);
    metrics.rowsCopiedBinary.record(lastCopiedBinary);
    metrics.duplicatesSkipped.record(
        batch.replaysSkipped()
            + batch.collapsed()
            + (config.writeMode() == WriteMode.UPSERT ? 0 : lastUnchanged));
    if (config.writeMode() == WriteMode.UPSERT) {
      metrics.staleRefused.record(lastUnchanged + batch.staleRefused());
    }
    metrics.tombstonesWithoutTable.record(batch.tombstonesWithoutTable());
    if (batch.tombstonesIgnored() > 0) {
      metrics.tombstonesIgnored.record(batch.tombstonesIgnored());
      log.debug(
          "Skipped {} tombstone(s): {}",
          batch.tombstonesIgnored(),
          config.writeMode() == WriteMode.UPSERT
              ? "tombstones=ignore"
              : "write mode " + config.writeMode() + " does not delete");
    }
  }

  /**
   * Only offsets whose rows are committed in PostgreSQL. Records that Connect consumed but never
   * handed to put() (dead-lettered by a converter or transform, dropped by a filter) are done with
   * too: their positions are saved to the offsets table here, so a restart does not process them,
   * and dead-letter them, a second time.
   */
  @Override
  public Map<TopicPartition, OffsetAndMetadata> preCommit(
      Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
    // not loaded here when open() could not: loading seeks, and Connect calls preCommit also for
    // partitions it is revoking, whose seek it would then make on a partition no longer assigned
    if (failure == null && offsets.allLoaded()) {
      offsets.saveSkippedPositions(currentOffsets);
    }
    return offsets.durable(currentOffsets);
  }

  @Override
  public void stop() {
    if (session != null) {
      session.close();
    }
    if (metrics != null) {
      metrics.close();
    }
  }
}
