package io.somastack.connect.postgres.write;

import io.somastack.connect.common.postgres.SqlStates;
import io.somastack.connect.common.sql.SqlIdentifier;
import io.somastack.connect.postgres.record.EventRow;
import io.somastack.connect.postgres.record.JsonBytes;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientException;
import java.sql.Savepoint;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Append mode's fast path: COPY straight into the table. COPY uses PostgreSQL's multi-insert path,
 * which no INSERT ... SELECT has (measured: the unnest statement tops out near 60 % of COPY). It
 * cannot skip an event id that is already stored. Since replays are filtered by the offsets table,
 * that happens only for true duplicates at new offsets, so the usual COPY runs bare and such a
 * duplicate costs the whole transaction ({@link #copy}); the batch is then written again with
 * {@link #copyGuarded}, where a savepoint keeps the rest and the chunk holding the stored id goes
 * down the ON CONFLICT DO NOTHING path instead. All of which rests on the table's unique index on
 * the event id, which raises the 23505: every COPY first makes sure it is there ({@link
 * #lockAndChooseFormat}).
 *
 * <p>A table whose columns have exactly the layout's types takes COPY's binary format ({@link
 * CopyBinary}); any other (a DBA's varchar or json column, say) takes text format, which PostgreSQL
 * converts to whatever the column is.
 */
final class CopyWriter {

  private static final Logger log = LoggerFactory.getLogger(CopyWriter.class);

  private static final String UNIQUE_VIOLATION = "23505";

  /**
   * invalid_column_reference: what ON CONFLICT raises for a missing unique index, and so what a
   * COPY into a table without one fails with too ({@link TableChanged}).
   */
  private static final String NO_UNIQUE_INDEX = "42P10";

  /** invalid_binary_representation: a binary value does not fit its column's type. */
  private static final String INVALID_BINARY = "22P03";

  private final TableLayout layout;

  /** Reused from batch to batch (see {@link CopyBuffer}). */
  private final CopyText buffer = new CopyText();

  /** Null when some layout column has no binary form here. */
  private final CopyBinary binary;

  /** Tables found not to fit binary format: they take text format until {@link #forget}. */
  private final Set<String> textTables = new HashSet<>();

  /**
   * Tables whose binary COPY the server refused (22P03) although the catalog named the layout's
   * types: they take text format for the life of the task. Not forgotten with the catalog, since
   * the refusal is raised as a transient failure whose retry forgets it: the batch would go in
   * binary format again, and be refused again, until retry.timeout.ms ran out.
   */
  private final Set<String> binaryRefused = new HashSet<>();

  /** Whether the last COPY that succeeded went in binary format. */
  private boolean lastBinary;

  CopyWriter(TableLayout layout) {
    this.layout = layout;
    this.binary =
        layout.columns().stream().allMatch(column -> CopyBinary.typeFor(column) != null)
            ? new CopyBinary(layout.columns())
            : null;
  }

  /** Forgets which tables take text format: each is checked again at its next COPY. */
  void forget() {
    textTables.clear();
  }

  /** Whether this layout takes COPY: append mode only. */
  static boolean supports(TableLayout layout) {
    return layout.mode() == io.somastack.connect.postgres.config.WriteMode.APPEND;
  }

  /**
   * Copies the rows with no savepoint around them, returning how many were written: two round trips
   * fewer than {@link #copyGuarded}. An event id already stored fails the whole transaction with
   * {@link BatchWriter.StoredIdFound}; other errors propagate, the transaction failed too.
   */
  int copy(Connection c, String table, List<EventRow> rows) throws SQLException {
    try {
      return send(c, table, rows);
    } catch (SQLException e) {
      if (UNIQUE_VIOLATION.equals(SqlStates.rootState(e))) {
        throw new BatchWriter.StoredIdFound(e);
      }
      throw e;
    }
  }

  /**
   * Copies the rows inside a savepoint, returning how many were written, or -1 when some event id
   * was already stored (the caller then writes the chunk with ON CONFLICT DO NOTHING). Other errors
   * propagate, with the transaction back where it was before the call.
   */
  int copyGuarded(Connection c, String table, List<EventRow> rows) throws SQLException {
    Savepoint savepoint = c.setSavepoint();
    try {
      int copied = send(c, table, rows);
      c.releaseSavepoint(savepoint);
      return copied;
    } catch (SQLException e) {
      c.rollback(savepoint);
      if (UNIQUE_VIOLATION.equals(SqlStates.rootState(e))) {
        return -1;
      }
      throw e;
    }
  }

  private int send(Connection c, String table, List<EventRow> rows) throws SQLException {
    boolean binaryFormat = lockAndChooseFormat(c, table);
    CopyBuffer data = binaryFormat ? binary.fill(rows) : buffer.fill(rows);
    CopyIn copy = null;
    try {
      copy = c.unwrap(PGConnection.class).getCopyAPI().copyIn(copySql(table, binaryFormat));
      copy.writeToCopy(data.bytes(), 0, data.length());
      int copied = (int) copy.endCopy();
      lastBinary = binaryFormat;
      return copied;
    } catch (SQLException e) {
      cancel(copy);
      if (binaryFormat && INVALID_BINARY.equals(SqlStates.rootState(e))) {
        // A binary value that does not fit the type the catalog named: no row's fault. The table
        // takes text format from now on, and the batch comes again (no SQLSTATE here, so that it
        // is retried, not bisected to blame rows).
        binaryRefused.add(table);
        log.warn("Binary COPY into {} was refused (22P03); the table takes text format", table);
        throw new SQLTransientException(
            "binary COPY into " + table + " was refused (22P03); writing it in text format", e);
      }
      throw e;
    } finally {
      data.trim();
    }
  }

  /**
   * Locks the table for the COPY and reads what the COPY relies on, in one round trip, returning
   * whether the rows go in binary format. Asked in every batch, with the table locked against ALTER
   * TABLE and DROP INDEX until the batch commits.
   *
   * <p>The unique index on the event id: COPY learns of an event id already stored only from its
   * 23505, so without it an event id that comes again at new offsets would be stored twice without
   * an error. An index dropped (or a table swapped for a copy without one) since the task read the
   * catalog fails the batch as the table's change (SQLSTATE 42P10, as an INSERT's ON CONFLICT
   * would): the task reads the catalog again, where auto.evolve adds the index back and without it
   * the task stops, and writes the batch once more.
   *
   * <p>The types, for binary format: a column altered to a type whose binary input takes the old
   * bytes (jsonb to text, bigint to double or numeric) would otherwise store wrong values without
   * an error. A table found not to fit keeps text format until the task reads the catalog again
   * (text is right for any types).
   */
  private boolean lockAndChooseFormat(Connection c, String table) throws SQLException {
    CatalogColumns.Locked locked = CatalogColumns.lockedFor(c, table, layout.conflictColumns());
    if (!locked.uniqueIndex()) {
      throw new SQLException(
          "table "
              + table
              + " has no unique index on ("
              + String.join(", ", layout.conflictColumns())
              + "), without which COPY would store an event id again",
          NO_UNIQUE_INDEX);
    }
    if (binary == null || textTables.contains(table) || binaryRefused.contains(table)) {
      return false;
    }
    for (TableLayout.Column column : layout.columns()) {
      String binaryType = CopyBinary.typeFor(column);
      String type = locked.types().get(column.name());
      if (!binaryType.equals(type)) {
        textTables.add(table);
        // once per table and task: why this table is written the slower way
        log.info(
            "COPY into {} takes text format: column {} is {}, not {}",
            table,
            SqlIdentifier.quote(column.name()),
            type == null ? "missing" : type,
            binaryType);
        return false;
      }
    }
    return true;
  }

  /** Whether the last COPY that wrote rows sent them in binary format. */
  boolean lastCopyWasBinary() {
    return lastBinary;
  }

  private static void cancel(CopyIn copy) {
    if (copy != null && copy.isActive()) {
      try {
        copy.cancelCopy();
      } catch (SQLException ignored) {
        // the connection is broken; the caller's rollback or reconnect deals with it
      }
    }
  }

  private String copySql(String table, boolean binaryFormat) {
    String columns =
        layout.columns().stream()
            .map(column -> SqlIdentifier.quote(column.name()))
            .collect(Collectors.joining(", "));
    return "COPY "
        + table
        + " ("
        + columns
        + ") FROM STDIN"
        + (binaryFormat ? " WITH (FORMAT binary)" : "");
  }

  /**
   * Rows in COPY's text format, written straight as UTF-8 bytes: tab-separated, \N for null,
   * backslash escapes. Runs of ordinary bytes are copied in bulk; per-character appends to a
   * StringBuilder, then a second pass to encode, were a fifth of the sink task's CPU.
   */
  static final class CopyText extends CopyBuffer {
    /** The letter after the backslash for each ASCII byte COPY treats specially, else 0. */
    private static final byte[] ESCAPES = new byte[128];

    static {
      ESCAPES['\\'] = '\\';
      ESCAPES['\n'] = 'n';
      ESCAPES['\r'] = 'r';
      ESCAPES['\t'] = 't';
    }

    /**
     * Per column, the last String written and its UTF-8: the topic is the same String on every row,
     * and encoding it once per batch instead of once per row saves an array per row.
     */
    private String[] lastText = new String[0];

    private byte[][] lastUtf8 = new byte[0][];

    static CopyText of(List<EventRow> rows) {
      return new CopyText().fill(rows);
    }

    /** Replaces the contents with these rows. */
    CopyText fill(List<EventRow> rows) {
      length = 0;
      for (EventRow row : rows) {
        Object[] values = row.values();
        if (lastText.length != values.length) {
          lastText = new String[values.length];
          lastUtf8 = new byte[values.length][];
        }
        for (int i = 0; i < values.length; i++) {
          if (i > 0) {
            put((byte) '\t');
          }
          value(i, values[i]);
        }
        put((byte) '\n');
      }
      return this;
    }

    private void value(int column, Object value) {
      if (value == null) {
        put((byte) '\\');
        put((byte) 'N');
      } else if (value instanceof Boolean b) {
        put((byte) (b ? 't' : 'f'));
      } else if (value instanceof JsonBytes json) {
        escaped(json.utf8()); // JSON text as it arrived: no String on the way
      } else if (value instanceof Integer || value instanceof Long) {
        digits(((Number) value).longValue()); // partition and offset of every row: no String
      } else if (value == lastText[column]) {
        put(lastUtf8[column]);
      } else {
        String text = value.toString();
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        if (needsEscaping(text)) {
          escaped(utf8);
        } else {
          put(utf8);
          if (value instanceof String same) {
            lastText[column] = same;
            lastUtf8[column] = utf8;
          }
        }
      }
    }

    private void digits(long n) {
      if (n == Long.MIN_VALUE) {
        put(Long.toString(n).getBytes(StandardCharsets.US_ASCII));
        return;
      }
      ensure(20);
      if (n < 0) {
        bytes[length++] = '-';
        n = -n;
      }
      int count = 1;
      for (long rest = n; rest >= 10; rest /= 10) {
        count++;
      }
      int end = length + count;
      for (int at = end - 1; at >= length; at--, n /= 10) {
        bytes[at] = (byte) ('0' + n % 10);
      }
      length = end;
    }

    /** Most values have nothing to escape; String.indexOf scans them with vector instructions. */
    private static boolean needsEscaping(String text) {
      return text.indexOf('\\') >= 0
          || text.indexOf('\n') >= 0
          || text.indexOf('\t') >= 0
          || text.indexOf('\r') >= 0;
    }

    /**
     * The four bytes COPY treats specially are ASCII, so they never occur inside a multi-byte
     * character.
     */
    private void escaped(byte[] text) {
      ensure(text.length * 2);
      int run = 0;
      for (int i = 0; i < text.length; i++) {
        byte escape = escapeOf(text[i]);
        if (escape != 0) {
          System.arraycopy(text, run, bytes, length, i - run);
          length += i - run;
          bytes[length++] = '\\';
          bytes[length++] = escape;
          run = i + 1;
        }
      }
      System.arraycopy(text, run, bytes, length, text.length - run);
      length += text.length - run;
    }

    private static byte escapeOf(byte b) {
      return b >= 0 ? ESCAPES[b] : 0; // bytes of multi-byte characters are negative
    }
  }
}
