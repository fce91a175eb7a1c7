package io.somastack.connect.postgres.write;

import io.somastack.connect.common.postgres.SqlStates;
import io.somastack.connect.postgres.config.WriteMode;
import io.somastack.connect.postgres.record.EventRow;
import io.somastack.connect.postgres.record.JsonBytes;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Writes the rows of one table: each chunk ({@link StatementChunks}: batch.max.records rows,
 * batch.max.bytes of JSON) is one statement, the columns sent as arrays and unnested by the server.
 * Deletes (upsert tombstones) are one more statement. The caller owns the transaction.
 */
public final class BatchWriter {

  /**
   * What a write did: rows inserted, changed or deleted; rows the database left alone on purpose
   * (duplicates in append mode, writes and tombstones older than the stored row in upsert mode; not
   * a tombstone whose key has no row, which is neither); and of the applied rows those that COPY
   * sent in binary format (append mode's fastest path).
   */
  public record Outcome(int applied, int unchanged, int copiedBinary) {}

  /**
   * What append mode's COPY does when it meets an event id that is already stored, and what upsert
   * mode does when two keys of one statement are one row to the table ({@link KeysCollide}).
   */
  public enum StoredIds {
    /**
     * Fail the transaction with {@link StoredIdFound} or {@link KeysCollide}: no savepoint per
     * chunk, so two round trips fewer. The caller rolls back and writes the batch again with {@link
     * #SKIP}.
     */
    FAIL,
    /**
     * Skip them: each chunk is copied inside a savepoint, and a chunk holding a stored id is
     * written again with INSERT ... ON CONFLICT DO NOTHING. Upserts: each chunk is written inside a
     * savepoint, and a chunk whose keys collide is written again in halves, in order.
     */
    SKIP
  }

  /**
   * COPY met an event id already stored, and the transaction is lost (SQLSTATE 23505 is kept as the
   * cause): roll back and write the batch again with {@link StoredIds#SKIP}.
   */
  public static final class StoredIdFound extends SQLException {
    StoredIdFound(SQLException cause) {
      super("an event id of the batch is already stored", cause.getSQLState(), cause);
    }
  }

  /**
   * Two rows of one upsert statement have keys that differ as text but are equal in the table's
   * column type (a citext "abc" and "ABC", two spellings of one uuid), so PostgreSQL refused to
   * update one row twice (SQLSTATE 21000, kept as the cause) and the transaction is lost: roll back
   * and write the batch again with {@link StoredIds#SKIP}.
   */
  public static final class KeysCollide extends SQLException {
    KeysCollide(SQLException cause) {
      super("two keys of the batch are one row of the table", cause.getSQLState(), cause);
    }
  }

  /** PostgreSQL's "cardinality violation": ON CONFLICT DO UPDATE met one row twice. */
  private static final String CARDINALITY_VIOLATION = "21000";

  private final TableLayout layout;
  private final StatementChunks chunks;

  /** The columns the sink gives a value: a NOT NULL one elsewhere is the table's fault. */
  private final Set<String> written;

  /**
   * Statements per table, made for the columns and types the table had when first written, until
   * {@link #forget}: a table changed since fails the batch, and the task reads its catalog again.
   */
  private final Map<String, Insert> insertSql = new HashMap<>();

  /**
   * An INSERT, and the layout's columns it names, in order: all but the optional ones its table
   * lacks ({@link TableLayout#writtenTo}).
   */
  private record Insert(String sql, int[] columns) {}

  /** Append mode's COPY fast path, or null for modes that need INSERT's conflict handling. */
  private final CopyWriter copy;

  private final Map<String, DeleteStatement> deleteSql = new HashMap<>();

  /**
   * A table's delete statement, and whether it takes the batch's write keys to look for clashes.
   */
  private record DeleteStatement(String sql, boolean bindsWrites) {}

  /** Rows the current {@link #write} has copied in binary format so far. */
  private int copiedBinary;

  public BatchWriter(TableLayout layout, StatementChunks chunks) {
    this.layout = layout;
    this.chunks = chunks;
    this.copy = CopyWriter.supports(layout) ? new CopyWriter(layout) : null;
    this.written =
        layout.columns().stream().map(TableLayout.Column::name).collect(Collectors.toSet());
  }

  /**
   * Forgets the statements made from the tables' catalog: the next write of each table reads its
   * column types again (a DBA may have changed them, or a reconnect met another database).
   */
  public void forget() {
    forgetStatements();
    if (copy != null) {
      copy.forget();
    }
  }

  /**
   * Forgets the INSERT and DELETE statements only, whose casts were made for the column types read
   * then. COPY needs no such forgetting: it reads the types at every batch.
   */
  public void forgetStatements() {
    insertSql.clear();
    deleteSql.clear();
  }

  /**
   * Writes rows (already collapsed: an identity occurs once, but for a versioned key's tombstone
   * kept ahead of its write; keys may still be equal in the table's column type, see {@link
   * KeysCollide}), returning how many the database applied and how many it skipped (duplicates in
   * append mode, stale updates in upsert mode). Deletes go first: on distinct keys the order does
   * not matter, and a kept tombstone must precede its key's write. Where a tombstone's key equals a
   * write's in the table's type only, the delete statement says so and deletes nothing, and the
   * rows are applied in record order instead. {@code storedIds} matters in append mode, where COPY
   * writes the rows, and for upserts whose keys collide.
   */
  public Outcome write(Connection c, String table, List<EventRow> rows, StoredIds storedIds)
      throws SQLException {
    try {
      return writeKinds(c, table, rows, storedIds);
    } catch (SQLException e) {
      throw TableChanged.of(table, e); // so that no row is blamed for the table
    }
  }

  /**
   * A NOT NULL violation of a column the sink does not write and nothing fills, as the table's
   * fault, else null ({@link TableChanged#unfilledColumn}). Not in a failed transaction.
   */
  public TableChanged unfilledColumn(Connection c, String table, SQLException e)
      throws SQLException {
    return TableChanged.unfilledColumn(c, table, e, written);
  }

  private Outcome writeKinds(Connection c, String table, List<EventRow> rows, StoredIds storedIds)
      throws SQLException {
    List<EventRow> writes = new ArrayList<>();
    List<EventRow> deletes = new ArrayList<>();
    for (EventRow row : rows) {
      (row.kind() == EventRow.Kind.DELETE ? deletes : writes).add(row);
    }
    copiedBinary = 0;
    Outcome deleted = new Outcome(0, 0, 0);
    if (!deletes.isEmpty()) {
      deleted = delete(c, table, deletes, writes);
      if (deleted == null) {
        return inRecordOrder(c, table, rows, storedIds);
      }
    }
    int inserted = insertAll(c, table, writes, storedIds);
    return new Outcome(
        deleted.applied() + inserted, deleted.unchanged() + writes.size() - inserted, copiedBinary);
  }

  /**
   * Each run of deletes or writes in turn, so a tombstone after a write of a key spelled otherwise
   * but equal in the table's type deletes it, as record by record. Rare: it takes a statement per
   * run.
   */
  private Outcome inRecordOrder(
      Connection c, String table, List<EventRow> rows, StoredIds storedIds) throws SQLException {
    int applied = 0;
    int unchanged = 0;
    int from = 0;
    while (from < rows.size()) {
      EventRow.Kind kind = rows.get(from).kind();
      int to = from + 1;
      while (to < rows.size() && rows.get(to).kind() == kind) {
        to++;
      }
      List<EventRow> run = rows.subList(from, to);
      if (kind == EventRow.Kind.DELETE) {
        Outcome deleted = delete(c, table, run, List.of());
        applied += deleted.applied();
        unchanged += deleted.unchanged();
      } else {
        int inserted = insertAll(c, table, run, storedIds);
        applied += inserted;
        unchanged += run.size() - inserted;
      }
      from = to;
    }
    return new Outcome(applied, unchanged, copiedBinary);
  }

  /** The writes, in statements bounded by {@link StatementChunks}; returns the rows applied. */
  private int insertAll(Connection c, String table, List<EventRow> writes, StoredIds storedIds)
      throws SQLException {
    int inserted = 0;
    int from = 0;
    while (from < writes.size()) {
      int to = chunks.end(writes, from);
      inserted += insert(c, table, writes.subList(from, to), storedIds);
      from = to;
    }
    return inserted;
  }

  /**
   * Finds the rows the database rejects for their data, by writing halves inside savepoints until
   * each culprit stands alone. Every write made here is rolled back by the caller. A stored event
   * id is skipped here, not blamed: it is no fault of its row's data.
   */
  public Map<EventRow, SQLException> findRejected(Connection c, String table, List<EventRow> rows)
      throws SQLException {
    return RejectedRows.find(c, rows, part -> write(c, table, part, StoredIds.SKIP));
  }

  private int insert(Connection c, String table, List<EventRow> rows, StoredIds storedIds)
      throws SQLException {
    if (rows.isEmpty()) {
      return 0;
    }
    if (copy != null) {
      int copied =
          storedIds == StoredIds.FAIL
              ? copy.copy(c, table, rows)
              : copy.copyGuarded(c, table, rows);
      if (copied >= 0) {
        copiedBinary += copy.lastCopyWasBinary() ? copied : 0;
        return copied;
      }
    }
    if (layout.mode() != WriteMode.UPSERT) {
      return execute(c, table, rows); // DO NOTHING: a row met twice keeps the first, no error
    }
    if (storedIds == StoredIds.SKIP) {
      return upsertInHalves(c, table, rows);
    }
    try {
      return execute(c, table, rows);
    } catch (SQLException e) {
      throw collides(e) ? new KeysCollide(e) : e;
    }
  }

  /**
   * Upserts the rows inside a savepoint; if two of their keys are one row of the table, the first
   * half and then the second, so the later row of such a key is written after the earlier and wins
   * (or is refused as stale) as it would record by record.
   */
  private int upsertInHalves(Connection c, String table, List<EventRow> rows) throws SQLException {
    Savepoint savepoint = c.setSavepoint();
    try {
      int written = execute(c, table, rows);
      c.releaseSavepoint(savepoint);
      return written;
    } catch (SQLException e) {
      c.rollback(savepoint);
      if (!collides(e) || rows.size() < 2) {
        throw e;
      }
      int half = rows.size() / 2;
      return upsertInHalves(c, table, rows.subList(0, half))
          + upsertInHalves(c, table, rows.subList(half, rows.size()));
    }
  }

  private static boolean collides(SQLException e) {
    return CARDINALITY_VIOLATION.equals(SqlStates.rootState(e));
  }

  /** One INSERT ... SELECT FROM unnest(...) of the rows: one round trip. */
  private int execute(Connection c, String table, List<EventRow> rows) throws SQLException {
    Insert insert = insertSql.get(table);
    if (insert == null) {
      Map<String, String> types = CatalogColumns.of(c, table);
      insert = new Insert(layout.insertSql(table, types), layout.writtenTo(types));
      insertSql.put(table, insert);
    }
    List<TableLayout.Column> columns = layout.columns();
    try (PreparedStatement ps = c.prepareStatement(insert.sql())) {
      for (int i = 0; i < insert.columns().length; i++) {
        int col = insert.columns()[i];
        ps.setArray(i + 1, array(c, columns.get(col).arrayType(), rows, col));
      }
      return ps.executeUpdate();
    }
  }

  /**
   * The rows deleted, and the tombstones refused as older than their key's row; or null, having
   * deleted nothing, when a tombstone's key equals one of {@code writes} in the table's type but
   * not as text (see {@link TableLayout#deleteSql}).
   */
  private Outcome delete(Connection c, String table, List<EventRow> rows, List<EventRow> writes)
      throws SQLException {
    DeleteStatement statement = deleteSql.get(table);
    if (statement == null) {
      Map<String, CatalogColumns.Comparison> comparisons = CatalogColumns.comparisons(c, table);
      statement =
          new DeleteStatement(
              layout.deleteSql(table, comparisons), layout.keysMayClash(comparisons));
      deleteSql.put(table, statement);
    }
    int param = 1;
    try (PreparedStatement ps = c.prepareStatement(statement.sql())) {
      for (String key : layout.keyColumns()) {
        ps.setArray(param++, array(c, "text", rows, layout.indexOf(key)));
      }
      ps.setArray(param++, array(c, "text", rows, layout.indexOf(TableLayout.KAFKA_TOPIC)));
      ps.setArray(param++, array(c, "int4", rows, layout.indexOf(TableLayout.KAFKA_PARTITION)));
      ps.setArray(param++, array(c, "int8", rows, layout.indexOf(TableLayout.KAFKA_OFFSET)));
      for (String key : statement.bindsWrites() ? layout.keyColumns() : List.<String>of()) {
        ps.setArray(param++, array(c, "text", writes, layout.indexOf(key)));
      }
      try (ResultSet counts = ps.executeQuery()) {
        counts.next();
        return counts.getBoolean(3) ? null : new Outcome(counts.getInt(1), counts.getInt(2), 0);
      }
    }
  }

  private static Array array(Connection c, String type, List<EventRow> rows, int column)
      throws SQLException {
    Object[] values = newArray(type, rows.size());
    for (int i = 0; i < values.length; i++) {
      Object value = rows.get(i).values()[column];
      // decoded here, for this statement only: a row stays in its batch until the commit
      values[i] = value instanceof JsonBytes json ? json.toString() : value;
    }
    return c.createArrayOf(type, values);
  }

  private static Object[] newArray(String type, int size) {
    switch (type) {
      case "int4":
        return new Integer[size];
      case "int8":
        return new Long[size];
      case "float8":
        return new Double[size];
      case "bool":
        return new Boolean[size];
      default:
        return new String[size];
    }
  }
}
