package io.somastack.connect.outbox;

import io.somastack.connect.common.config.Version;
import io.somastack.connect.common.postgres.PostgresConnectionConfig;
import io.somastack.connect.common.postgres.ServerErrors;
import io.somastack.connect.common.postgres.SqlStates;
import io.somastack.connect.common.retry.Backoff;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;
import org.apache.kafka.connect.source.TransactionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relays the rows of its outbox tables. Each poll: delete or mark what Kafka acknowledged, read the
 * tables' next rows below the visibility horizon (see {@link OutboxReader}) within one budget of
 * rows and bytes, taking turns at going first, move bad rows to the dead-letter table, hand the
 * rest to Connect; when there is nothing, wait for a NOTIFY (or the poll interval) on the same
 * connection.
 *
 * <h2>Exactly once</h2>
 *
 * Each record's source offset is its row's cursor {@code (txid, id)}. In exactly-once mode Connect
 * writes the offsets in the same Kafka transaction as the records, so after a crash the committed
 * offset covers exactly the rows whose records are committed: a restarted task reads it, skips
 * those rows, and first deletes/marks any of them the crash left unmarked. Rows after it were not
 * in any committed transaction and are relayed again — once. Deleting/marking happens only for rows
 * Kafka acknowledged (after the commit, in exactly-once mode), up to the contiguous acknowledged
 * prefix ({@link AckTracker}); it keeps the table small and is not needed for correctness. Without
 * exactly-once mode a crash can resend rows acknowledged but not yet deleted/marked; the dedupe
 * header lets consumers drop them.
 *
 * <p>All of that assumes one relay per table. The task reads a table, and deletes/marks its rows,
 * only while its connection holds the table's advisory locks ({@link OutboxLocks}); every such
 * statement runs on that same session, so it runs under the lock or fails with the session. Behind
 * a transaction-mode pooler it might not: each such statement checks the session's relay mark
 * ({@link RelaySession}), and the task fails when it is not its own.
 */
public final class PostgresOutboxSourceTask extends SourceTask {

  private static final Logger log = LoggerFactory.getLogger(PostgresOutboxSourceTask.class);
  private static final long FIRST_PENDING_WAIT_MS = 2;
  private static final long MAX_PENDING_WAIT_MS = 100;

  /**
   * How long stop() waits for the server to let go of the locks before it closes the connection.
   */
  private static final int RELEASE_ON_STOP_TIMEOUT_MS = 2000;

  /**
   * The longest a poll waits (for a notification, or out a retry backoff) before it returns.
   * Connect stops a task on its own thread only between two polls and gives up on it after
   * task.shutdown.graceful.timeout.ms (5 s by default), so the waits of poll.interval.ms and of the
   * backoff, which can be far longer, are spread over several polls.
   */
  private static final long MAX_WAIT_PER_POLL_MS = 1000;

  /**
   * After a backlog count ran out of time, the next waits at least this long: each attempt holds up
   * relaying for the whole timeout.
   */
  private static final long BACKLOG_WAIT_AFTER_TIMEOUT_MS = 60_000;

  private OutboxSourceConfig config;
  private List<OutboxTable> tables;
  private final Map<String, OutboxTable> byName = new HashMap<>();

  /** Per table: the cursor of the last row read (task thread only). */
  private final Map<String, OutboxCursor> cursors = new LinkedHashMap<>();

  /** Per table: rows up to here are in Kafka but not yet deleted/marked (task thread only). */
  private final Map<String, OutboxCursor> toMark = new HashMap<>();

  /** The index in {@link #tables} of the table the next read starts with (task thread only). */
  private int firstTable;

  /** The read's choice of the next {@link #firstTable}, taken once the read has succeeded. */
  private int nextFirstTable;

  private final AckTracker acks = new AckTracker();
  private final ReentrantLock dbLock = new ReentrantLock();
  private final CountDownLatch stopLatch = new CountDownLatch(1);
  private volatile boolean stopping;

  private NotifyListener listener;
  private OutboxReader reader;
  private OutboxLocks locks;
  private RowMapper mapper;
  private DeadLetterWriter deadLetters;
  private Backoff backoff;
  private OutboxMetrics metrics;
  private int failures;
  private long pendingWaitMs = FIRST_PENDING_WAIT_MS;
  private long nextBacklogAt;
  private volatile long backlogTimeoutMs = OutboxReader.BACKLOG_TIMEOUT_MS;
  private volatile long backlogTimeouts;
  private boolean backlogTimeoutLogged;

  /** Whether the tables' trigger functions were checked for a pinned search_path (once a task). */
  private boolean functionsChecked;

  /** Tables whose rows ahead of the database were warned of (task thread only). */
  private final WarnedTables rowsAheadWarned = new WarnedTables();

  /**
   * The clock of the deadlines below: the task's own milliseconds from System.nanoTime, so a step
   * of the wall clock (NTP, a resumed VM) neither stalls a retry or a read nor hurries one.
   */
  private final long startNanos = System.nanoTime();

  /** No database work before this, after an error (0: none pending). */
  private long retryAt;

  /** No table read before this unless a notification comes (0: read at once). */
  private long readAt;

  @Override
  public String version() {
    return Version.of(PostgresOutboxSourceTask.class);
  }

  @Override
  public void start(Map<String, String> props) {
    config = new OutboxSourceConfig(props);
    tables = config.taskTables();
    listener = new NotifyListener(config.notifyChannel());
    RelaySession session = new RelaySession();
    reader = new OutboxReader(config, listener, session);
    locks =
        new OutboxLocks(tables, config.tables().stream().map(OutboxTable::parse).toList(), session);
    mapper = new RowMapper(config);
    deadLetters = new DeadLetterWriter(config, session);
    backoff =
        new Backoff(
            Duration.ofMillis(config.backoffInitialMs()), Duration.ofMillis(config.backoffMaxMs()));
    List<Map<String, String>> partitions = new ArrayList<>();
    for (OutboxTable table : tables) {
      byName.put(table.name(), table);
      partitions.add(table.sourcePartition());
    }
    Map<Map<String, String>, Map<String, Object>> offsets =
        context.offsetStorageReader().offsets(partitions);
    for (OutboxTable table : tables) {
      OutboxCursor cursor = OutboxCursor.fromOffset(offsets.get(table.sourcePartition()));
      cursors.put(table.name(), cursor);
      if (cursor.isAfter(OutboxCursor.START)) {
        // rows up to the committed offset are in Kafka; a crash may have left some unmarked
        toMark.put(table.name(), cursor);
      }
      log.info("outbox {}: relaying rows after {}", table.name(), cursor);
    }
    metrics = new OutboxMetrics(context.pluginMetrics());
  }

  @Override
  public List<SourceRecord> poll() throws InterruptedException {
    if (stopping) {
      return null;
    }
    long retryInMs = retryAt - nowMs();
    if (retryInMs > 0) {
      stopLatch.await(Math.min(retryInMs, MAX_WAIT_PER_POLL_MS), TimeUnit.MILLISECONDS);
      return null;
    }
    dbLock.lock();
    try {
      if (stopping) {
        return null;
      }
      boolean reconnecting = !reader.connected();
      Connection connection = reader.connection(tables);
      if (!functionsChecked) {
        warnOfUnpinnedFunctions(connection);
        functionsChecked = true;
      }
      if (takeLocks(connection) || reconnecting) {
        checkPositionsAreBehind(reader.nextTxid());
      }
      markAcknowledged();
      refreshBacklog();
      if (!readNow(connection)) {
        return null;
      }
      List<SourceRecord> records = new ArrayList<>();
      Progress progress = read(connection, records);
      failures = 0;
      if (!records.isEmpty()) {
        pendingWaitMs = FIRST_PENDING_WAIT_MS;
        TransactionContext transactions = context.transactionContext();
        if (transactions != null) {
          // connector-defined boundaries: one Kafka transaction per poll batch
          transactions.commitTransaction(records.get(records.size() - 1));
        }
        return records;
      }
      if (progress != Progress.MORE) { // after a full batch of bad rows, read on at once
        scheduleNextRead(progress);
        readNow(connection);
      }
      return null;
    } catch (SQLException thrown) {
      // never the URL in a failure or a log: it may carry a password
      // nor a value: a trigger's RAISE or a data exception's message may quote a row
      SQLException e =
          ServerErrors.loggable(PostgresConnectionConfig.withoutUrl(thrown, config.url()));
      if (!SqlStates.isTransient(thrown)) { // decided on the whole chain, which e may not keep
        reader.close();
        throw new ConnectException(
            "outbox relay: database error that retrying will not fix (SQLState "
                + e.getSQLState()
                + "): "
                + e.getMessage(),
            e);
      }
      retryInMs = retryLater();
      log.warn(
          "outbox relay: database error (attempt {}, SQLState {}), retrying in {} ms{}: {}",
          failures,
          e.getSQLState(),
          retryInMs,
          SqlStates.readOnlyHint(SqlStates.rootState(thrown)),
          e.getMessage());
    } catch (OutboxLocks.LocksOutdated e) {
      retryInMs = retryLater();
      log.warn("{}, in {} ms", e.getMessage(), retryInMs);
    } catch (OffsetsUnavailable e) {
      retryInMs = retryLater();
      log.warn(
          "outbox relay: cannot read the committed offsets of the tables just taken (attempt {},"
              + " {}), letting go of them and retrying in {} ms",
          failures,
          e.getCause().getClass().getName(),
          retryInMs);
    } finally {
      dbLock.unlock();
    }
    stopLatch.await(Math.min(retryInMs, MAX_WAIT_PER_POLL_MS), TimeUnit.MILLISECONDS);
    return null;
  }

  /**
   * Closes the connection, so its session and the locks it holds end, and schedules the next
   * attempt after the backoff; returns the backoff.
   */
  private long retryLater() {
    reader.close();
    locks.released();
    metrics.lockedElsewhere(locks.heldElsewhere());
    // the tables are let go of, and may be another relay's by the time this task is back: a last
    // backlog kept here would be counted twice in a sum over tasks
    metrics.backlog(0, 0);
    nextBacklogAt = 0;
    // notifications sent while disconnected are lost: read as soon as connected again
    readAt = 0;
    long retryInMs = backoff.delayMs(failures++);
    retryAt = nowMs() + retryInMs;
    return retryInMs;
  }

  /**
   * Takes the lock of each table not held yet (see {@link OutboxLocks}): on the first poll, after a
   * reconnect, and while another session holds it. True when one was taken.
   */
  private boolean takeLocks(Connection connection)
      throws SQLException, OffsetsUnavailable, OutboxLocks.LocksOutdated {
    List<OutboxTable> taken = locks.take(connection);
    metrics.lockedElsewhere(locks.heldElsewhere());
    if (taken.isEmpty()) {
      return false;
    }
    catchUp(taken);
    readAt = 0; // rows may have waited for the lock
    nextBacklogAt = 0; // and the backlog gauges count the tables taken at once
    return true;
  }

  /**
   * A table just taken may have been relayed by another task of this connector in the meantime (one
   * of an earlier generation still running on a worker thought dead): the committed offset then
   * lies after this task's position, and reading from there relays no row twice. Rows up to it are
   * in Kafka, so they are deleted/marked. Offsets of another connector are not visible here.
   */
  private void catchUp(List<OutboxTable> taken) throws OffsetsUnavailable {
    Map<Map<String, String>, Map<String, Object>> offsets = committedOffsets(taken);
    for (OutboxTable table : taken) {
      OutboxCursor committed = OutboxCursor.fromOffset(offsets.get(table.sourcePartition()));
      if (committed.isAfter(cursors.get(table.name()))) {
        log.info(
            "outbox {}: relayed up to {} meanwhile, relaying after it", table.name(), committed);
        cursors.put(table.name(), committed);
        toMark.merge(table.name(), committed, OutboxCursor::max);
      }
    }
  }

  /**
   * The committed offsets of the tables, in one read. Connect's reader asks Kafka and throws a
   * ConnectException when that fails or times out: the caller then lets go of the tables (closing
   * the session) so that they are taken, and this read made, again.
   */
  private Map<Map<String, String>, Map<String, Object>> committedOffsets(List<OutboxTable> tables)
      throws OffsetsUnavailable {
    List<Map<String, String>> partitions =
        tables.stream().map(OutboxTable::sourcePartition).toList();
    try {
      Map<Map<String, String>, Map<String, Object>> offsets =
          context.offsetStorageReader().offsets(partitions);
      return offsets == null ? Map.of() : offsets;
    } catch (RuntimeException e) {
      throw new OffsetsUnavailable(e);
    }
  }

  /** The committed offsets could not be read from Kafka. */
  private static final class OffsetsUnavailable extends Exception {
    OffsetsUnavailable(RuntimeException cause) {
      super(cause);
    }
  }

  /**
   * {@code ms} after {@code now} (never before 0), held at Long.MAX_VALUE: the backlog interval has
   * no upper bound, and a longest one ("never") added to the clock went negative, a deadline always
   * past.
   */
  private static long later(long now, long ms) {
    return ms > Long.MAX_VALUE - now ? Long.MAX_VALUE : now + ms;
  }

  /** Milliseconds since the task was made, on the monotonic clock: never before 0. */
  private long nowMs() {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }

  /** After a read that found nothing to relay: when to read again without a notification. */
  private void scheduleNextRead(Progress progress) {
    long waitMs = config.pollIntervalMs();
    if (progress == Progress.HELD_BACK) {
      // committed rows wait for an older transaction to finish: look again soon
      waitMs = Math.min(waitMs, pendingWaitMs);
      pendingWaitMs = Math.min(pendingWaitMs * 2, MAX_PENDING_WAIT_MS);
    } else {
      pendingWaitMs = FIRST_PENDING_WAIT_MS;
    }
    readAt = nowMs() + waitMs;
  }

  /**
   * Whether to read the tables now: once {@code readAt} has passed or a notification came, waiting
   * for one at most {@link #MAX_WAIT_PER_POLL_MS} (pgjdbc keeps notifications that arrive between
   * two waits, so none is missed when a poll returns in between).
   */
  private boolean readNow(Connection connection) throws SQLException, InterruptedException {
    long left = readAt - nowMs();
    if (left > 0
        && !listener.await(connection, Math.min(left, MAX_WAIT_PER_POLL_MS))
        && nowMs() < readAt) {
      return false;
    }
    listener.drain(connection);
    readAt = 0;
    return true;
  }

  private enum Progress {
    /** Nothing more to read now. */
    IDLE,
    /** Committed rows exist past the horizon: an older transaction holds them back. */
    HELD_BACK,
    /**
     * A table filled its batch (of rows or of bytes) with rows left to read: read again at once.
     */
    MORE
  }

  /**
   * Reads each table's next rows into {@code records}. The cursors and the acknowledgement tracker
   * move only once every statement of the read has succeeded: a database error part way (the server
   * restarting between one table's read and the next statement) throws the records away, so a
   * cursor moved by then would skip rows that never reach Kafka, and their place in the tracker,
   * never acknowledged, would stop every later row from being marked.
   */
  private Progress read(Connection connection, List<SourceRecord> records) throws SQLException {
    Map<String, OutboxCursor> advanced = new LinkedHashMap<>();
    Progress progress = read(connection, records, advanced);
    cursors.putAll(advanced);
    firstTable = nextFirstTable;
    long now = System.currentTimeMillis();
    for (SourceRecord record : records) {
      OutboxCursor cursor = OutboxCursor.fromOffset(record.sourceOffset());
      acks.sent(record.sourcePartition().get("table").toString(), cursor);
      metrics.relayed(record.timestamp() == null ? 0 : record.timestamp(), now);
    }
    return progress;
  }

  /**
   * One poll reads at most poll.max.rows rows and poll.max.bytes bytes over all the task's tables
   * (or one row over the bytes, when that row comes first): they bound what a poll holds in the
   * worker. The tables are read in turn from {@link #firstTable}; the next poll starts at the first
   * table after it that the budget cut short or left unread, so each table with rows waiting is
   * read first, with the whole budget and at least one row, within as many polls as there are
   * tables: none starves behind another's backlog.
   */
  private Progress read(
      Connection connection, List<SourceRecord> records, Map<String, OutboxCursor> advanced)
      throws SQLException {
    Progress progress = Progress.IDLE;
    int rowsLeft = config.pollMaxRows();
    long bytesLeft = config.pollMaxBytes();
    boolean first = true; // no row read yet: the next is taken whatever its size
    boolean bytesCut = false; // a table's read stopped at the bytes left, or none were left
    int count = tables.size();
    int next = -1;
    for (int turn = 0; turn < count; turn++) {
      int index = (firstTable + turn) % count;
      OutboxTable table = tables.get(index);
      if (!locks.holds(table)) {
        continue; // another session relays it
      }
      if (rowsLeft <= 0 || bytesLeft <= 0) {
        bytesCut |= bytesLeft <= 0;
        next = next < 0 ? index : next; // not read this poll: read first in the next
        if (progress != Progress.MORE) {
          // the tables read left no rows: the poll is full only if this one has some to read
          OutboxReader.Pending pending = reader.pending(table, cursors.get(table.name()));
          if (pending == OutboxReader.Pending.READABLE) {
            progress = Progress.MORE; // read on at once
          } else if (pending == OutboxReader.Pending.HELD_BACK) {
            progress = Progress.HELD_BACK;
          }
        }
        continue;
      }
      OutboxCursor after = cursors.get(table.name());
      OutboxReader.Batch batch = reader.fetchBatch(table, after, rowsLeft, bytesLeft, first);
      List<OutboxRow> rows = batch.rows();
      rowsLeft -= rows.size();
      bytesLeft -= batch.bytes();
      bytesCut |= batch.bytesCut();
      first &= rows.isEmpty();
      if (batch.full() && turn > 0) {
        next = next < 0 ? index : next;
      }
      if (rows.isEmpty()) {
        if (batch.full()) {
          progress = Progress.MORE; // its first row did not fit in what was left
        } else if (reader.pending(table, after) != OutboxReader.Pending.NONE) {
          progress = progress == Progress.MORE ? progress : Progress.HELD_BACK;
        }
        continue;
      }
      List<SourceRecord> good = new ArrayList<>(rows.size());
      List<RowMapper.Bad> bad = new ArrayList<>();
      for (OutboxRow row : rows) {
        RowMapper.Result result = mapper.map(row);
        if (result instanceof RowMapper.Good g) {
          good.add(g.record());
        } else {
          bad.add((RowMapper.Bad) result);
        }
      }
      if (!bad.isEmpty()) {
        // before the cursor moves: if this fails, the batch is read again
        deadLetters.write(connection, table, bad);
        metrics.bad(bad.size());
        for (RowMapper.Bad b : bad) {
          // never the row's topic, which is row data (see RowMapper.topicProblem)
          log.warn(
              "outbox {}: row {} at {} is a bad row, {}: {}",
              table.name(),
              b.row().id(),
              b.row().cursor(),
              config.badRowAction() == OutboxSourceConfig.BadRowAction.DLQ
                  ? "moved to " + config.dlqTable().name()
                  : "flagged",
              b.reason().startsWith("cannot serialise")
                  ? "cannot serialise (details in the dead-letter row)"
                  : b.reason());
        }
      }
      OutboxCursor last = rows.get(rows.size() - 1).cursor();
      advanced.put(table.name(), last);
      records.addAll(good);
      if (batch.full()) {
        progress = Progress.MORE;
      } else if (progress == Progress.IDLE
          && reader.pending(table, last) != OutboxReader.Pending.NONE) {
        progress = Progress.HELD_BACK;
      }
    }
    nextFirstTable = next >= 0 ? next : count == 0 ? 0 : (firstTable + 1) % count;
    if (progress == Progress.MORE && (rowsLeft <= 0 || bytesCut)) {
      // which budget a backlog meets, for an operator choosing which to raise; neither when a
      // table's scan limit (set by its last rows' sizes) ended the poll, nor when the poll read the
      // last rows there were (MORE only with a row left: see OutboxReader.Batch)
      metrics.pollFull(rowsLeft <= 0);
    }
    return progress;
  }

  /**
   * A position at or after the database's next transaction id means the database is not the one the
   * positions were read from, or is an older copy of it (a restore, a failover to a standby that
   * was behind). Its new transactions get ids below the position: reading after it would skip their
   * rows, and marking up to it would mark them without relaying them. Only an operator can say
   * which rows reached Kafka, so the task stops, checked on every connection.
   */
  private void checkPositionsAreBehind(long nextTxid) {
    for (Map.Entry<String, OutboxCursor> position : cursors.entrySet()) {
      if (Long.compareUnsigned(position.getValue().txid(), nextTxid) >= 0) {
        throw new ConnectException(
            "outbox "
                + position.getKey()
                + ": the relay's position "
                + position.getValue()
                + " is ahead of this database, whose next transaction id is "
                + Long.toUnsignedString(nextTxid)
                + ". The database was restored or failed over to a copy that is behind, or"
                + " connection.url names another database. Relaying on would skip new rows."
                + " Check which rows reached Kafka, then reset the connector's offsets.");
      }
    }
  }

  /** Deletes or marks the rows Kafka has; an error leaves them queued for the next poll. */
  private void markAcknowledged() throws SQLException {
    acks.drain().forEach((table, cursor) -> toMark.merge(table, cursor, OutboxCursor::max));
    for (Map.Entry<String, OutboxCursor> entry : new ArrayList<>(toMark.entrySet())) {
      OutboxTable table = byName.get(entry.getKey());
      if (!locks.holds(table)) {
        continue; // kept until this task holds the table: only its relay deletes or marks rows
      }
      int rows = reader.markPublished(table, entry.getValue());
      toMark.remove(entry.getKey());
      log.debug(
          "outbox {}: {} {} row(s) up to {}",
          entry.getKey(),
          config.afterPublish() == OutboxSourceConfig.AfterPublish.DELETE ? "deleted" : "marked",
          rows,
          entry.getValue());
    }
  }

  /**
   * The backlog of the tables this task holds: a table another relay holds is that relay's, and
   * counting it here too would count its rows twice in a sum over tasks. A count that runs out of
   * time keeps the last values, and relaying goes on. Run before the read: an error after it would
   * throw away the rows read, whose positions have moved on.
   */
  private void refreshBacklog() throws SQLException {
    long now = nowMs();
    if (now < nextBacklogAt) {
      return;
    }
    nextBacklogAt = later(now, config.backlogIntervalMs());
    long rows = 0;
    long oldest = Long.MAX_VALUE;
    for (OutboxTable table : tables) {
      if (!locks.holds(table)) {
        continue;
      }
      warnOfRowsAhead(table); // before the count, which may run out of time
      OutboxReader.Backlog backlog;
      try {
        backlog = reader.backlog(table, backlogTimeoutMs);
      } catch (SQLException e) {
        if (!SqlStates.QUERY_CANCELED.equals(e.getSQLState())) {
          throw e;
        }
        backlogTimedOut(now);
        return;
      }
      rows += backlog.rows();
      if (backlog.oldest() != null) {
        oldest = Math.min(oldest, backlog.oldest().toEpochMilli());
      }
    }
    // created_at is on the wall clock, not on the task's monotonic one
    long age = oldest == Long.MAX_VALUE ? 0 : System.currentTimeMillis() - oldest;
    metrics.backlog(rows, Math.max(0, age));
    backlogTimeoutLogged = false;
  }

  /**
   * Trigger functions of the tables that run with the writers' search_path (made by an earlier
   * version, see {@link OutboxDdl#SEARCH_PATH}) are warned of once, with the statement that fixes
   * each: with outbox.table.create=false the relay replaces none, and the DBA that ran an earlier
   * sql/outbox.sql must hear of it.
   */
  private void warnOfUnpinnedFunctions(Connection connection) throws SQLException {
    Set<String> warned = new HashSet<>();
    for (OutboxTable table : tables) {
      for (String function : OutboxDdl.unpinnedFunctions(connection, table)) {
        if (warned.add(function)) {
          log.warn(
              "outbox relay: trigger function {} (of table {}) has no fixed search_path: it runs"
                  + " with the search_path of whoever writes to the table, so a role that may"
                  + " create objects in a schema of that path (public, up to PostgreSQL 14) can"
                  + " shadow what it calls and run code as every writer. Its owner fixes it"
                  + " with: {}",
              function,
              table.name(),
              OutboxDdl.pin(function));
        }
      }
    }
  }

  /**
   * Warns of rows ahead of the database (see {@link OutboxReader#rowsAhead}) on each backlog count
   * while they are there, at most once a minute per table: they are relayed only after every newer
   * row, possibly weeks later, and are otherwise seen only in oldest-unpublished-age-ms.
   */
  private void warnOfRowsAhead(OutboxTable table) throws SQLException {
    int ahead = reader.rowsAhead(table);
    if (ahead == 0) {
      rowsAheadWarned.ended(table);
      return;
    }
    if (!rowsAheadWarned.due(table)) {
      return;
    }
    log.warn(
        "outbox {}: {}{} unpublished row(s) carry a txid at or past this database's next"
            + " transaction id, as rows restored by pg_dump (or copied from another cluster) do:"
            + " they are relayed only after every newer row, once this database's ids catch up."
            + " To relay them now, run: {}",
        table.name(),
        ahead,
        ahead >= OutboxReader.ROWS_AHEAD_COUNTED ? " or more" : "",
        reader.rowsAheadRepair(table));
  }

  private void backlogTimedOut(long now) {
    backlogTimeouts++;
    long waitMs = Math.max(config.backlogIntervalMs(), BACKLOG_WAIT_AFTER_TIMEOUT_MS);
    nextBacklogAt = later(now, waitMs);
    if (!backlogTimeoutLogged) {
      backlogTimeoutLogged = true;
      log.warn(
          "outbox relay: counting the backlog took over {} ms and was cancelled; backlog-rows and"
              + " oldest-unpublished-age-ms keep their last values, next count in {} s",
          backlogTimeoutMs,
          waitMs / 1000);
    }
  }

  /** Tests: the backlog count's statement timeout. */
  void backlogTimeoutMs(long ms) {
    backlogTimeoutMs = ms;
  }

  /** Tests: how often the task checks that its table names still name the tables it locked. */
  void tableCheckEveryMs(long ms) {
    locks.checkEveryMs(ms);
  }

  /** Tests: how many backlog counts ran out of time. */
  long backlogTimeouts() {
    return backlogTimeouts;
  }

  @Override
  public void commitRecord(SourceRecord record, RecordMetadata metadata) {
    // metadata is null when a transform dropped the record or errors.tolerance skipped it: either
    // way nothing more will happen to it, so it counts as done
    Object table = record.sourcePartition().get("table");
    if (table != null && record.sourceOffset() != null) {
      acks.acked(table.toString(), OutboxCursor.fromOffset(record.sourceOffset()));
    }
  }

  /** The task's database connection, or null: for tests that look at what pgjdbc holds for it. */
  Connection connection() {
    return reader.current();
  }

  @Override
  public void stop() {
    stopping = true;
    stopLatch.countDown();
    dbLock.lock();
    try {
      if (reader != null) {
        if (locks != null) {
          // behind a pooler the server session outlives the connection: its locks and mark too
          locks.releaseOnStop(reader.current(), RELEASE_ON_STOP_TIMEOUT_MS);
        }
        reader.close();
      }
      if (metrics != null) {
        metrics.close();
      }
    } finally {
      dbLock.unlock();
    }
  }
}
