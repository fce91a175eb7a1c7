package io.somastack.connect.outbox;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One relay per outbox table. A task reads a table, and deletes or marks its rows, only while its
 * own connection holds the table's session-level advisory lock, so a second connector on the same
 * table (or a leftover one, or a task still running on a worker thought dead) waits instead of
 * relaying every row a second time. The server drops the lock when the session ends (task stopped,
 * crashed, connection closed or cut), and a waiting task takes it on one of its next polls.
 *
 * <p>Key: the two-int4 form {@code pg_try_advisory_lock(NAMESPACE, table oid)}, with {@link
 * #NAMESPACE} fixed for this connector type and the table's OID (unsigned 32 bits) passed as the
 * int4 with the same bits, as {@code oid::int4} does. The OID, not the configured name, so that
 * every spelling of one table ({@code outbox}, {@code public.outbox}) takes one lock. Advisory
 * locks are per database, as OIDs are. pg_locks shows the lock as {@code locktype = 'advisory',
 * classid = NAMESPACE, objid = <table oid>, objsubid = 2}; one-bigint advisory keys (objsubid 1,
 * used when tables are created) never collide with it.
 */
final class OutboxLocks {

  /** {@code 'soma'} in ASCII: the first key of every outbox relay lock. */
  static final int NAMESPACE = 0x736F6D61;

  private static final Logger log = LoggerFactory.getLogger(OutboxLocks.class);
  static final int KEEPALIVE_IDLE_S = 30;
  private static final int KEEPALIVE_INTERVAL_S = 10;
  private static final int KEEPALIVE_COUNT = 3;
  static final int USER_TIMEOUT_MS = 60_000;

  /** How often the task's table names are checked against the OIDs locked. */
  private static final long CHECK_EVERY_MS = 5_000;

  private final List<OutboxTable> tables;
  private final List<OutboxTable> connectorTables;
  private final Map<OutboxTable, Long> oids = new HashMap<>();
  private final Set<OutboxTable> held = new HashSet<>();
  private final WarnedTables heldElsewhereWarned = new WarnedTables();
  private Connection lockedOn;
  private volatile int heldElsewhere;
  private boolean settingsRefusedWarned;
  private volatile long checkEveryMs = CHECK_EVERY_MS;
  private long nextCheckAt;

  OutboxLocks(List<OutboxTable> tables) {
    this(tables, tables);
  }

  /**
   * @param tables the task's tables
   * @param connectorTables all tables of the connector, the task's among them: two names for one
   *     table are looked for among these, as they may have gone to two tasks
   */
  OutboxLocks(List<OutboxTable> tables, List<OutboxTable> connectorTables) {
    this.tables = List.copyOf(tables);
    Set<OutboxTable> all = new LinkedHashSet<>(connectorTables);
    all.addAll(tables);
    this.connectorTables = List.copyOf(all);
  }

  /**
   * Tries to take, on {@code connection}, the lock of every table not held yet, and returns the
   * tables taken by this call. A connection other than the last one is a new session, which holds
   * nothing: the old session's locks ended with it.
   */
  List<OutboxTable> take(Connection connection) throws SQLException, TableReplaced {
    if (connection != lockedOn) {
      held.clear();
      oids.clear();
      oids.putAll(distinctOids(connection));
      noticeDeadClientSooner(connection);
      lockedOn = connection;
      nextCheckAt = nowMs() + checkEveryMs;
    } else if (nowMs() - nextCheckAt >= 0) {
      nextCheckAt = nowMs() + checkEveryMs;
      requireSameTables(connection);
    }
    List<OutboxTable> taken = new ArrayList<>();
    for (OutboxTable table : tables) {
      if (!held.contains(table)) {
        if (tryLock(connection, oids.get(table))) {
          held.add(table);
          taken.add(table);
          tookOver(table);
        } else {
          warnHeldElsewhere(connection, table);
        }
      }
    }
    heldElsewhere = tables.size() - held.size();
    return taken;
  }

  /** Tests: how often {@link #take} checks the names against the OIDs locked. */
  void checkEveryMs(long ms) {
    checkEveryMs = ms;
  }

  /**
   * The connection is closed: its session, and every lock it held, ended with it. Until the next
   * {@link #take} the task holds nothing and knows of no other holder.
   */
  void released() {
    held.clear();
    lockedOn = null;
    heldElsewhere = 0;
  }

  /** Whether this task's current connection holds the table's lock. */
  boolean holds(OutboxTable table) {
    return held.contains(table);
  }

  /**
   * How many of the task's tables another session holds, as of the last {@link #take}; 0 while
   * disconnected.
   */
  int heldElsewhere() {
    return heldElsewhere;
  }

  /**
   * The OIDs of the task's tables. Two names for one table among the connector's fail the task: in
   * one task a session's advisory locks are re-entrant, so the lock cannot keep them apart; in two,
   * one task would wait for the other's lock for ever. So does a table listed with one of its
   * partitions, whose locks, one per OID, would not keep them apart either. Each task checks all
   * names, as the connector could not when the database was down at its start.
   */
  private Map<OutboxTable, Long> distinctOids(Connection connection) throws SQLException {
    Map<OutboxTable, Long> all = oids(connection, connectorTables);
    String same = overlap(connection, all);
    if (same != null) {
      throw new ConnectException(OutboxSourceConfig.TABLES + ": " + same);
    }
    Map<OutboxTable, Long> found = new LinkedHashMap<>();
    for (OutboxTable table : tables) {
      Long oid = all.get(table);
      if (oid == null) {
        throw new ConnectException("outbox table " + table.name() + " does not exist");
      }
      found.put(table, oid);
    }
    return found;
  }

  /**
   * The locks are keyed on the OIDs looked up when the connection was made, while the task's
   * statements name the tables. A table renamed away and another renamed to its name (or dropped
   * and made again) is read and marked under the old table's lock, while a second relay finds the
   * new one's free and relays it too. Checked every few seconds in one statement (one round trip,
   * not one per poll); a change ends the session, so the reconnection locks the table the names now
   * find.
   */
  private void requireSameTables(Connection connection) throws SQLException, TableReplaced {
    Map<OutboxTable, Long> named = oids(connection, new ArrayList<>(oids.keySet()));
    for (Map.Entry<OutboxTable, Long> entry : named.entrySet()) {
      if (!oids.get(entry.getKey()).equals(entry.getValue())) { // null: dropped, not made again
        throw new TableReplaced(entry.getKey());
      }
    }
  }

  /** A table name no longer names the table whose lock the task took. */
  static final class TableReplaced extends Exception {
    TableReplaced(OutboxTable table) {
      super(
          "outbox "
              + table.name()
              + ": the name now names another table than the one whose relay lock this task"
              + " holds (renamed, or dropped and made again): reconnecting to lock the one it"
              + " names now");
    }
  }

  private static long nowMs() {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
  }

  /** Each table's OID, or null for a table that does not exist: one statement, one round trip. */
  static Map<OutboxTable, Long> oids(Connection connection, List<OutboxTable> tables)
      throws SQLException {
    String[] names = tables.stream().map(OutboxTable::sql).toArray(String[]::new);
    Map<OutboxTable, Long> found = new LinkedHashMap<>();
    try (PreparedStatement s =
        connection.prepareStatement(
            "SELECT to_regclass(n)::oid::int8 FROM unnest(?::text[]) WITH ORDINALITY u(n, i)"
                + " ORDER BY i")) {
      s.setArray(1, connection.createArrayOf("text", names));
      try (ResultSet rs = s.executeQuery()) {
        for (OutboxTable table : tables) {
          rs.next();
          long oid = rs.getLong(1);
          found.put(table, rs.wasNull() ? null : oid);
        }
      }
    }
    return found;
  }

  /**
   * Says which two configured names read some rows alike, or null when none do: two names for one
   * table ({@link #sameTable}), or a table and one of its partitions, or of the tables inheriting
   * from it, at any depth ({@link #partOf}).
   */
  static String overlap(Connection connection, Map<OutboxTable, Long> oids) throws SQLException {
    String same = sameTable(oids);
    return same != null ? same : partOf(connection, oids);
  }

  /**
   * Says which configured table is a partition of another configured one, or inherits from it
   * (directly or through tables between), or null when none is. A read of the parent reads the rows
   * of its partitions and children too: listed both, the parent and the partition are two source
   * partitions with their own positions (and two locks), and each row of the partition would be
   * relayed twice. One statement: pg_inherits holds both partitions and inheritance.
   */
  static String partOf(Connection connection, Map<OutboxTable, Long> oids) throws SQLException {
    Map<Long, OutboxTable> byOid = new HashMap<>();
    oids.forEach(
        (table, oid) -> {
          if (oid != null) {
            byOid.putIfAbsent(oid, table);
          }
        });
    if (byOid.size() < 2) {
      return null;
    }
    try (PreparedStatement s =
        connection.prepareStatement(
            "WITH RECURSIVE listed AS (SELECT unnest(?::int8[])::oid AS oid),"
                + " up(child, parent) AS (SELECT i.inhrelid, i.inhparent FROM pg_inherits i"
                + " WHERE i.inhrelid IN (SELECT oid FROM listed)"
                + " UNION SELECT u.child, i.inhparent FROM up u"
                + " JOIN pg_inherits i ON i.inhrelid = u.parent)"
                + " SELECT u.child::int8, u.parent::int8, c.relkind = 'p'"
                + " FROM up u JOIN pg_class c ON c.oid = u.parent"
                + " WHERE u.parent IN (SELECT oid FROM listed) ORDER BY 1, 2 LIMIT 1")) {
      s.setArray(1, connection.createArrayOf("bigint", byOid.keySet().toArray()));
      try (ResultSet rs = s.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        String child = byOid.get(rs.getLong(1)).name();
        String parent = byOid.get(rs.getLong(2)).name();
        return "'"
            + child
            + "' is "
            + (rs.getBoolean(3) ? "a partition" : "a table inheriting from")
            + (rs.getBoolean(3) ? " of '" : " '")
            + parent
            + "', and a read of '"
            + parent
            + "' reads its rows too; list one or the other (each would be relayed on its own, every"
            + " row of '"
            + child
            + "' twice)";
      }
    }
  }

  /**
   * Says which two configured names are one table, or null when each names its own: {@code outbox}
   * and {@code public.outbox} would be two source partitions, each with its own position, and every
   * row would be relayed twice.
   */
  static String sameTable(Map<OutboxTable, Long> oids) {
    Map<Long, OutboxTable> byOid = new HashMap<>();
    for (Map.Entry<OutboxTable, Long> entry : oids.entrySet()) {
      OutboxTable other = entry.getValue() == null ? null : byOid.get(entry.getValue());
      if (other != null) {
        return "'"
            + other.name()
            + "' and '"
            + entry.getKey().name()
            + "' name the same table; list it once (each name would be relayed on its own, every"
            + " row twice)";
      }
      if (entry.getValue() != null) {
        byOid.put(entry.getValue(), entry.getKey());
      }
    }
    return null;
  }

  /**
   * After a network cut the server keeps the session, and its locks, until it notices the client is
   * gone: with the operating system's TCP keepalive defaults that is over two hours (an idle
   * session sends nothing that could fail sooner), and the table is relayed by nobody meanwhile.
   * These keepalives of the server's side of this session notice within about a minute. Keepalives
   * are not sent while sent data is unacknowledged (a NOTIFY sent into the cut connection), so
   * tcp_user_timeout (PostgreSQL 12 and later) bounds that case. Ignored over a Unix socket.
   *
   * <p>They only hasten a handover: a server (or a proxy, or a fork) that refuses one is warned of
   * once, and the locks are taken without it.
   */
  private void noticeDeadClientSooner(Connection connection) throws SQLException {
    set(connection, "tcp_keepalives_idle", KEEPALIVE_IDLE_S);
    set(connection, "tcp_keepalives_interval", KEEPALIVE_INTERVAL_S);
    set(connection, "tcp_keepalives_count", KEEPALIVE_COUNT);
    set(connection, "tcp_user_timeout", USER_TIMEOUT_MS);
  }

  /** One setting per statement: a refused one does not undo the others. */
  private void set(Connection connection, String setting, int value) throws SQLException {
    try (Statement s = connection.createStatement()) {
      s.execute("SET " + setting + " = " + value);
    } catch (SQLException e) {
      if (connectionFailed(connection, e)) {
        throw e; // not the setting: the task reconnects
      }
      if (!settingsRefusedWarned) {
        settingsRefusedWarned = true;
        log.warn(
            "outbox relay: the database refused SET {} (SQLState {}); relaying without it, a"
                + " relay lock may outlive a network cut for longer",
            setting,
            e.getSQLState());
      }
    }
  }

  /**
   * Whether a refused statement means the connection is gone rather than the statement refused. Not
   * SqlStates.isTransient, which answers another question: a lock timeout (55P03) or a lack of
   * memory (53200) is transient there, yet the connection is still usable and only this setting is
   * refused; relaying goes on without it rather than reconnecting for a setting.
   */
  private static boolean connectionFailed(Connection connection, SQLException e) {
    String state = e.getSQLState();
    if (state == null || state.startsWith("08")) {
      return true;
    }
    try {
      return !connection.isValid(5);
    } catch (SQLException invalid) {
      return true;
    }
  }

  private static boolean tryLock(Connection connection, long oid) throws SQLException {
    try (PreparedStatement s = connection.prepareStatement("SELECT pg_try_advisory_lock(?, ?)")) {
      s.setInt(1, NAMESPACE);
      s.setInt(2, (int) oid); // the int4 with the OID's bits, as oid::int4
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    }
  }

  private void tookOver(OutboxTable table) {
    if (heldElsewhereWarned.ended(table)) {
      log.info("outbox {}: the other relay let go of this table; relaying it now", table.name());
    }
  }

  /** At most once a minute per table, naming the session that holds it when that is visible. */
  private void warnHeldElsewhere(Connection connection, OutboxTable table) throws SQLException {
    if (!heldElsewhereWarned.due(table)) {
      return;
    }
    log.warn(
        "outbox {}: another session holds this table's relay lock ({}): this task does not relay"
            + " it until that session ends. Is a second connector relaying this table?",
        table.name(),
        holder(connection, oids.get(table)));
  }

  /** The pid and application_name of the session holding the lock, as far as this user sees. */
  private static String holder(Connection connection, long oid) throws SQLException {
    try (PreparedStatement s =
        connection.prepareStatement(
            "SELECT l.pid, a.application_name FROM pg_locks l"
                + " LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
                + " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
                + " AND l.database = (SELECT oid FROM pg_database"
                + " WHERE datname = current_database())"
                + " AND l.classid = ?::int4::oid AND l.objid = ?::int8::oid")) {
      s.setInt(1, NAMESPACE);
      s.setLong(2, oid);
      try (ResultSet rs = s.executeQuery()) {
        if (!rs.next()) {
          return "holder not visible, or it has just let go";
        }
        String application = rs.getString(2);
        return "pid "
            + rs.getInt(1)
            + ", application_name "
            + (application == null ? "not visible" : "'" + application + "'");
      }
    }
  }
}
