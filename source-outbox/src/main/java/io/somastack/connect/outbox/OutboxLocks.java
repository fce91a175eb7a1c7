package io.somastack.connect.outbox;

import io.somastack.connect.common.postgres.DeadClientSettings;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One relay per outbox table. A task reads a table, and deletes or marks its rows, only while its
 * own connection holds the table's session-level advisory locks, so a second connector on the same
 * table (or a leftover one, or a task still running on a worker thought dead) waits instead of
 * relaying every row a second time. The server drops the locks when the session ends (task stopped,
 * crashed, connection closed or cut), and a waiting task takes them on one of its next polls.
 *
 * <p>Key: the two-int4 form {@code pg_try_advisory_lock(NAMESPACE, table oid)}, with {@link
 * #NAMESPACE} fixed for this connector type and the table's OID (unsigned 32 bits) passed as the
 * int4 with the same bits, as {@code oid::int4} does. The OID, not the configured name, so that
 * every spelling of one table ({@code outbox}, {@code public.outbox}) takes one lock. Advisory
 * locks are per database, as OIDs are. pg_locks shows the lock as {@code locktype = 'advisory',
 * classid = NAMESPACE, objid = <table oid>, objsubid = 2}; one-bigint advisory keys (objsubid 1,
 * used when tables are created) never collide with it.
 *
 * <p>A read of a partitioned (or inheritance) parent reads its partitions' (children's) rows too,
 * so a table's lock set is its family ({@link #lockSets}): the exclusive lock of the table and of
 * every table below it in pg_inherits, at any depth, and the shared lock ({@code
 * pg_try_advisory_lock_shared}, same key) of every table above it. A parent's relay and a
 * partition's then want one key, one exclusively, and wait for each other, while two sibling
 * partitions share their parent's key and are relayed side by side. A set is taken whole or not at
 * all ({@link #tryAll}): never blocking, in one order (by OID), and what was taken of a set that
 * could not be is let go of at once, so two relays never each keep half of the other's set.
 *
 * <p>The locks hold only while the relay's statements run in the session that took them, which a
 * transaction-mode pooler does not promise: the session is marked as the relay's when the locks are
 * first taken, and the statements check the mark ({@link RelaySession}).
 */
final class OutboxLocks {

  /** {@code 'soma'} in ASCII: the first key of every outbox relay lock. */
  static final int NAMESPACE = 0x736F6D61;

  private static final Logger log = LoggerFactory.getLogger(OutboxLocks.class);
  static final int KEEPALIVE_IDLE_S = DeadClientSettings.KEEPALIVE_IDLE_S;
  static final int USER_TIMEOUT_MS = DeadClientSettings.USER_TIMEOUT_MS;

  /** How often the task's table names are checked against the OIDs locked. */
  private static final long CHECK_EVERY_MS = 5_000;

  private final List<OutboxTable> tables;
  private final List<OutboxTable> connectorTables;
  private final Map<OutboxTable, Long> oids = new HashMap<>();

  /** Each table's lock set, as of the last check, ordered as it is taken. */
  private final Map<OutboxTable, List<Key>> lockSets = new HashMap<>();

  /** The tables held, each with the keys this session took for it (once each). */
  private final Map<OutboxTable, List<Key>> held = new HashMap<>();

  private final WarnedTables heldElsewhereWarned = new WarnedTables();
  private Connection lockedOn;
  private final RelaySession session;
  private volatile int heldElsewhere;

  /**
   * Has the server drop this session, and its locks, within about a minute of a network cut rather
   * than over two hours, so the table is not left relayed by nobody that long. Set once per
   * session, before its first lock (the connection is in autocommit mode here).
   */
  private final DeadClientSettings deadClientSettings =
      new DeadClientSettings(
          log,
          "outbox relay",
          "relaying without it, a relay lock may outlive a network cut for longer");

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
    this(tables, connectorTables, new RelaySession());
  }

  /**
   * @param session the mark this relay leaves on its session (see {@link RelaySession}), shared
   *     with the statements that read and mark the rows
   */
  OutboxLocks(List<OutboxTable> tables, List<OutboxTable> connectorTables, RelaySession session) {
    this.session = session;
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
  List<OutboxTable> take(Connection connection) throws SQLException, LocksOutdated {
    if (connection != lockedOn) {
      held.clear();
      oids.clear();
      lockSets.clear();
      claim(connection);
      Map<OutboxTable, Long> named = oids(connection, connectorTables);
      oids.putAll(distinctOids(connection, named));
      Map<OutboxTable, List<Key>> connectorSets = lockSets(connection, found(named));
      refuseOverlap(connection, named, connectorSets);
      lockSets.putAll(ofTasksTables(connectorSets));
      deadClientSettings.apply(connection);
      lockedOn = connection;
      nextCheckAt = nowMs() + checkEveryMs;
    } else if (nowMs() - nextCheckAt >= 0) {
      nextCheckAt = nowMs() + checkEveryMs;
      Map<OutboxTable, Long> named = oids(connection, connectorTables);
      requireSameTables(named);
      followFamilies(connection, named);
    }
    List<OutboxTable> taken = new ArrayList<>();
    for (OutboxTable table : tables) {
      if (!held.containsKey(table)) {
        List<Key> set = lockSets.get(table);
        Key refused = tryAll(connection, set);
        if (refused == null) {
          held.put(table, set);
          taken.add(table);
          tookOver(table);
        } else {
          warnHeldElsewhere(connection, table, refused);
        }
      }
    }
    heldElsewhere = tables.size() - held.size();
    return taken;
  }

  /**
   * Marks the session as this relay's, after checking that it carries no other relay's mark: a
   * second relay on one server session (two tasks behind a transaction-mode pooler with one server
   * connection) would take the same locks again, advisory locks being re-entrant for the session
   * holding them, and relay every row a second time. A session still holding relay locks is no free
   * one either, its mark cleared or not (another client's RESET ALL clears it, not the locks). One
   * statement, so the check and the mark run in one session even behind such a pooler.
   */
  private void claim(Connection connection) throws SQLException {
    String mark = UUID.randomUUID().toString();
    try (PreparedStatement s =
        connection.prepareStatement(
            "SELECT p.m, CASE WHEN coalesce(p.m, '') IN ('', ?) AND NOT EXISTS (SELECT 1 FROM"
                + " pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory' AND classid"
                + " = ?::int4::oid) THEN set_config('"
                + RelaySession.SETTING
                + "', ?, false) END FROM (SELECT "
                + RelaySession.CURRENT
                + " AS m) p")) {
      s.setString(1, mark);
      s.setInt(2, NAMESPACE);
      s.setString(3, mark);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        if (rs.getString(2) == null) {
          throw RelaySession.notOurs(rs.getString(1));
        }
      }
    }
    session.mark(mark);
  }

  /**
   * The task stops: lets go of its locks and clears its mark, when the session still carries it.
   * Closing the connection ends a session of its own, and its locks; behind a pooler the server
   * session outlives it. Best effort, within {@code timeoutMs} (the network may be gone).
   */
  void releaseOnStop(Connection connection, int timeoutMs) {
    String mark = session.mark();
    if (connection == null || mark == null || connection != lockedOn) {
      return;
    }
    try {
      connection.setNetworkTimeout(Runnable::run, timeoutMs);
      List<Key> keys = new ArrayList<>();
      held.values().forEach(keys::addAll);
      unlock(connection, keys);
      try (PreparedStatement s =
          connection.prepareStatement(
              "SELECT set_config('"
                  + RelaySession.SETTING
                  + "', '', false) WHERE "
                  + RelaySession.CURRENT
                  + " = ?")) {
        s.setString(1, mark);
        s.executeQuery().close();
      }
    } catch (SQLException | RuntimeException e) {
      log.debug("outbox relay: letting go of the relay locks on stop: {}", e.toString());
    }
    released();
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

  /** Whether this task's current connection holds the table's lock set. */
  boolean holds(OutboxTable table) {
    return held.containsKey(table);
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
  private Map<OutboxTable, Long> distinctOids(Connection connection, Map<OutboxTable, Long> all)
      throws SQLException {
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
   * find. {@code named}: the OIDs the connector's names find now.
   */
  private void requireSameTables(Map<OutboxTable, Long> named) throws LocksOutdated {
    for (Map.Entry<OutboxTable, Long> entry : oids.entrySet()) {
      if (!entry.getValue().equals(named.get(entry.getKey()))) { // null: dropped, not made again
        throw new LocksOutdated(
            "outbox "
                + entry.getKey().name()
                + ": the name now names another table than the one whose relay lock this task"
                + " holds (renamed, or dropped and made again): reconnecting to lock the one it"
                + " names now");
      }
    }
  }

  /**
   * A table's family changes while it is relayed: a partition created, attached or detached, a
   * table made to inherit from it or no longer, or the table itself attached under another. Checked
   * with the names, in one more statement. A held table's set is brought in line on this session:
   * the keys it now needs are taken (whole or not at all) and those it no longer needs let go of,
   * once each, as they were taken once for it. When another session holds one it now needs (a table
   * attached under it that another connector relays, or a parent of it that another connector
   * relays), the task reconnects, so that it lets go of everything and takes each table's set whole
   * again, or waits for it. Before any of that, the new sets are checked against the connector's
   * tables ({@link #refuseOverlap}), whether the task holds its tables or waits for them.
   */
  private void followFamilies(Connection connection, Map<OutboxTable, Long> named)
      throws SQLException, LocksOutdated {
    Map<OutboxTable, List<Key>> connectorSets = lockSets(connection, found(named));
    Map<OutboxTable, List<Key>> now = ofTasksTables(connectorSets);
    lockSets.clear();
    lockSets.putAll(now); // refused or not, the sets the next take tries
    refuseOverlap(connection, named, connectorSets);
    for (Map.Entry<OutboxTable, List<Key>> entry : held.entrySet()) {
      OutboxTable table = entry.getKey();
      List<Key> had = entry.getValue();
      List<Key> needed = now.get(table);
      if (had.equals(needed)) {
        continue;
      }
      List<Key> added = new ArrayList<>(needed);
      added.removeAll(had);
      List<Key> dropped = new ArrayList<>(had);
      dropped.removeAll(needed);
      Key refused = tryAll(connection, added);
      if (refused != null) {
        throw new LocksOutdated(
            "outbox "
                + table.name()
                + ": its partitions, or the tables it is a partition of, changed, and another"
                + " session holds a relay lock it now needs ("
                + describe(connection, table, refused)
                + "): reconnecting to take its locks again, or wait for them");
      }
      unlock(connection, dropped);
      entry.setValue(needed);
      log.info(
          "outbox {}: its partitions, or the tables it is a partition of, changed: relay locks"
              + " taken for {} more and let go of for {}",
          table.name(),
          added.size(),
          dropped.size());
    }
  }

  /**
   * Fails the task, as {@link #distinctOids} does when it connects, when a table's lock set holds
   * another of the connector's tables: one of them became a partition of the other, or inherits
   * from it (attached, or {@code INHERIT}), or a name now finds another's table. In one task the
   * two sets would be taken on one session, where advisory locks are re-entrant and refuse nothing,
   * and each row of the child relayed twice (as its own and as the parent's) for as long as the
   * task ran; in two tasks one would wait for the other for ever. Checked on every refresh of the
   * sets, before any is tried, whether the task holds its tables or waits for them: a task that
   * waited while another relayed the two would otherwise take both once that one has failed.
   *
   * @param named the OIDs the connector's names found, in the same check
   */
  private void refuseOverlap(
      Connection connection, Map<OutboxTable, Long> named, Map<OutboxTable, List<Key>> sets)
      throws SQLException {
    Map<Long, List<OutboxTable>> byOid = new HashMap<>();
    named.forEach(
        (table, oid) -> {
          if (oid != null) {
            byOid.computeIfAbsent(oid, o -> new ArrayList<>()).add(table);
          }
        });
    for (Map.Entry<OutboxTable, List<Key>> entry : sets.entrySet()) {
      OutboxTable table = entry.getKey();
      for (Key key : entry.getValue()) {
        for (OutboxTable other : byOid.getOrDefault(key.oid(), List.of())) {
          if (!other.equals(table)) {
            throw new ConnectException(
                OutboxSourceConfig.TABLES + ": " + overlapOf(connection, named, table, other));
          }
        }
      }
    }
    refuseSharedDescendants(connection, sets);
  }

  /**
   * Fails the task when two of the connector's tables hold one table exclusively: a table that
   * inherits from both (multiple inheritance, at any depth; a partition has one parent). A read of
   * either returns its rows: in one task both sets are taken on one session, where advisory locks
   * are re-entrant, and its rows were relayed twice; in two tasks one waited for the other for
   * ever.
   */
  private void refuseSharedDescendants(Connection connection, Map<OutboxTable, List<Key>> sets)
      throws SQLException {
    Map<Long, OutboxTable> holder = new HashMap<>();
    for (OutboxTable table : connectorTables) {
      for (Key key : sets.getOrDefault(table, List.of())) {
        if (key.shared()) {
          continue; // ancestors: siblings share them, and only read the rows below them
        }
        OutboxTable other = holder.putIfAbsent(key.oid(), table);
        if (other != null && !other.equals(table)) {
          throw new ConnectException(
              OutboxSourceConfig.TABLES
                  + ": '"
                  + other.name()
                  + "' and '"
                  + table.name()
                  + "' both hold the table "
                  + tableName(connection, key.oid())
                  + ", which inherits from both (at any depth): a read of either returns its"
                  + " rows, so they would be relayed twice. List tables that share no table"
                  + " below them.");
        }
      }
    }
  }

  /** The table's name as PostgreSQL shows it (schema-qualified where the search_path needs it). */
  private static String tableName(Connection connection, long oid) throws SQLException {
    try (PreparedStatement s =
        connection.prepareStatement("SELECT ?::bigint::oid::regclass::text")) {
      s.setLong(1, oid);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? "'" + rs.getString(1) + "'" : "of OID " + oid;
      }
    }
  }

  /** The tables the names found (a name that finds none has no lock set). */
  private static Map<OutboxTable, Long> found(Map<OutboxTable, Long> named) {
    Map<OutboxTable, Long> found = new LinkedHashMap<>();
    named.forEach(
        (table, oid) -> {
          if (oid != null) {
            found.put(table, oid);
          }
        });
    return found;
  }

  /** Of the connector's lock sets, those of this task's tables. */
  private Map<OutboxTable, List<Key>> ofTasksTables(Map<OutboxTable, List<Key>> connectorSets) {
    Map<OutboxTable, List<Key>> sets = new LinkedHashMap<>();
    for (OutboxTable table : oids.keySet()) {
      sets.put(table, connectorSets.get(table));
    }
    return sets;
  }

  /**
   * The connect-time wording for the two tables (in the connector's order), or, when their family
   * changed again since the sets were read, a plainer one.
   */
  private String overlapOf(
      Connection connection, Map<OutboxTable, Long> named, OutboxTable one, OutboxTable other)
      throws SQLException {
    Map<OutboxTable, Long> two = new LinkedHashMap<>();
    for (OutboxTable table : connectorTables) {
      if (table.equals(one) || table.equals(other)) {
        two.put(table, named.get(table));
      }
    }
    String why = overlap(connection, two);
    return why != null
        ? why
        : "'"
            + one.name()
            + "' and '"
            + other.name()
            + "' read some rows alike (one is a partition of the other or inherits from it, or"
            + " both name one table); list one or the other (each would be relayed on its own,"
            + " those rows twice)";
  }

  /**
   * The locks the task holds no longer match the tables: a table name names another table, or a
   * table's family changed in a way this session cannot follow. The task ends the session and takes
   * its locks again on a new one.
   */
  static final class LocksOutdated extends Exception {
    LocksOutdated(String message) {
      super(message);
    }
  }

  /** One advisory lock of a lock set: keyed on a table's OID, taken shared or exclusive. */
  record Key(long oid, boolean shared) implements Comparable<Key> {
    @Override
    public int compareTo(Key other) {
      int byOid = Long.compare(oid, other.oid);
      return byOid != 0 ? byOid : Boolean.compare(shared, other.shared);
    }
  }

  /**
   * Each table's lock set, ordered by OID: exclusive keys for the table and every table below it in
   * pg_inherits (partitions and inheritance children, at any depth), shared keys for every table
   * above it. One statement for all tables. pg_inherits has no cycles; UNION drops the second path
   * to a table reached twice (multiple inheritance). A partition left detach-pending (a {@code
   * DETACH ... CONCURRENTLY} cancelled or failed part way, until {@code DETACH ... FINALIZE}) is
   * not family: reads of its parent leave it out (PostgreSQL 14 and later, as required).
   */
  static Map<OutboxTable, List<Key>> lockSets(Connection connection, Map<OutboxTable, Long> oids)
      throws SQLException {
    Map<Long, List<Key>> byOid = new HashMap<>();
    oids.values().forEach(oid -> byOid.put(oid, new ArrayList<>()));
    try (PreparedStatement s =
        connection.prepareStatement(
            "WITH RECURSIVE listed AS (SELECT unnest(?::int8[])::oid AS oid),"
                + " down(root, rel) AS (SELECT oid, oid FROM listed"
                + " UNION SELECT d.root, i.inhrelid FROM down d"
                + " JOIN pg_inherits i ON i.inhparent = d.rel AND NOT i.inhdetachpending),"
                + " up(root, rel) AS (SELECT oid, oid FROM listed"
                + " UNION SELECT u.root, i.inhparent FROM up u"
                + " JOIN pg_inherits i ON i.inhrelid = u.rel AND NOT i.inhdetachpending)"
                + " SELECT root::int8, rel::int8, false FROM down"
                + " UNION ALL SELECT root::int8, rel::int8, true FROM up WHERE rel <> root")) {
      s.setArray(1, connection.createArrayOf("bigint", byOid.keySet().toArray()));
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          byOid.get(rs.getLong(1)).add(new Key(rs.getLong(2), rs.getBoolean(3)));
        }
      }
    }
    Map<OutboxTable, List<Key>> sets = new LinkedHashMap<>();
    oids.forEach(
        (table, oid) -> {
          List<Key> set = new ArrayList<>(byOid.get(oid));
          Collections.sort(set);
          sets.put(table, List.copyOf(set));
        });
    return sets;
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
   * relayed twice. One statement: pg_inherits holds both partitions and inheritance. A partition
   * left detach-pending is not one: reads of the parent leave it out ({@link #lockSets}).
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
                + " WHERE i.inhrelid IN (SELECT oid FROM listed) AND NOT i.inhdetachpending"
                + " UNION SELECT u.child, i.inhparent FROM up u"
                + " JOIN pg_inherits i ON i.inhrelid = u.parent AND NOT i.inhdetachpending)"
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
   * Tries to take every key, in order, without waiting; returns null when all were taken, else the
   * first refused, after letting go of those taken by this call (once each: a session's advisory
   * locks are re-entrant, so a key it also holds for another table stays held for that one). One
   * statement per key, stopping at the first refused: taken in one order by every relay, the first
   * key two relays both want exclusively (or one exclusively) goes to one of them, and the other
   * takes none after it.
   */
  private Key tryAll(Connection connection, List<Key> keys) throws SQLException {
    List<Key> taken = new ArrayList<>();
    try (PreparedStatement exclusive = connection.prepareStatement(guardedLock("lock"));
        PreparedStatement shared = connection.prepareStatement(guardedLock("lock_shared"))) {
      for (Key key : keys) {
        PreparedStatement s = key.shared() ? shared : exclusive;
        s.setString(1, session.mark());
        s.setInt(2, NAMESPACE);
        s.setInt(3, (int) key.oid()); // the int4 with the OID's bits, as oid::int4
        try (ResultSet rs = s.executeQuery()) {
          rs.next();
          rs.getBoolean(1);
          if (rs.wasNull()) { // not taken: the session is not this relay's
            throw RelaySession.notOurs(rs.getString(2));
          }
          if (!rs.getBoolean(1)) {
            unlock(connection, taken);
            return key;
          }
        }
        taken.add(key);
      }
    }
    return null;
  }

  /**
   * A try of an advisory lock in the session carrying this relay's mark only; NULL, taking nothing,
   * in another. Parameters: the mark, the two keys. Columns: taken, the session's mark.
   */
  private static String guardedLock(String function) {
    return "SELECT CASE WHEN p.m = ? THEN pg_try_advisory_"
        + function
        + "(?, ?) END, p.m FROM (SELECT "
        + RelaySession.CURRENT
        + " AS m) p";
  }

  /** Lets go of each key once, in one statement, in the session carrying this relay's mark. */
  private void unlock(Connection connection, List<Key> keys) throws SQLException {
    if (keys.isEmpty()) {
      return;
    }
    try (PreparedStatement s =
        connection.prepareStatement(
            "SELECT CASE WHEN k.is_shared THEN pg_advisory_unlock_shared(?, k.rel::oid::int4)"
                + " ELSE pg_advisory_unlock(?, k.rel::oid::int4) END"
                + " FROM unnest(?::int8[], ?::bool[]) k(rel, is_shared) WHERE "
                + RelaySession.CURRENT
                + " = ?")) {
      s.setInt(1, NAMESPACE);
      s.setInt(2, NAMESPACE);
      s.setArray(3, connection.createArrayOf("bigint", keys.stream().map(Key::oid).toArray()));
      s.setArray(4, connection.createArrayOf("boolean", keys.stream().map(Key::shared).toArray()));
      s.setString(5, session.mark());
      try (ResultSet rs = s.executeQuery()) {
        boolean any = false;
        while (rs.next()) {
          any = true;
          if (!rs.getBoolean(1)) {
            log.warn("outbox relay: a relay lock to let go of was not held by this session");
          }
        }
        if (!any) {
          throw RelaySession.notOurs(null);
        }
      }
    }
  }

  private void tookOver(OutboxTable table) {
    if (heldElsewhereWarned.ended(table)) {
      log.info("outbox {}: the other relay let go of this table; relaying it now", table.name());
    }
  }

  /**
   * At most once a minute per table, naming the lock refused and the session that holds it when
   * that is visible.
   */
  private void warnHeldElsewhere(Connection connection, OutboxTable table, Key refused)
      throws SQLException {
    if (!heldElsewhereWarned.due(table)) {
      return;
    }
    log.warn(
        "outbox {}: another session holds a relay lock this table needs ({}): this task does not"
            + " relay it until that session ends. Is a second connector relaying this table, a"
            + " partition of it or a table it is a partition of?",
        table.name(),
        describe(connection, table, refused));
  }

  /**
   * Which table's lock, and the pid and application_name of another session holding it, as far as
   * this user sees.
   */
  private String describe(Connection connection, OutboxTable table, Key key) throws SQLException {
    String whose;
    if (key.oid() == oids.get(table)) {
      whose = "this table's own";
    } else {
      whose =
          "that of "
              + relationName(connection, key.oid())
              + (key.shared()
                  ? ", which this table is a partition of or inherits from"
                  : ", a partition of this table or a table inheriting from it");
    }
    try (PreparedStatement s =
        connection.prepareStatement(
            "SELECT l.pid, a.application_name FROM pg_locks l"
                + " LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
                + " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
                + " AND l.pid <> pg_backend_pid()"
                + " AND l.database = (SELECT oid FROM pg_database"
                + " WHERE datname = current_database())"
                + " AND l.classid = ?::int4::oid AND l.objid = ?::int8::oid")) {
      s.setInt(1, NAMESPACE);
      s.setLong(2, key.oid());
      try (ResultSet rs = s.executeQuery()) {
        if (!rs.next()) {
          return whose + "; holder not visible, or it has just let go";
        }
        String application = rs.getString(2);
        return whose
            + "; pid "
            + rs.getInt(1)
            + ", application_name "
            + (application == null ? "not visible" : "'" + application + "'");
      }
    }
  }

  /** The table's name as the search_path shows it, or its OID when it is gone. */
  private static String relationName(Connection connection, long oid) throws SQLException {
    try (PreparedStatement s =
        connection.prepareStatement(
            "SELECT (SELECT c.oid::regclass::text FROM pg_class c WHERE c.oid = ?::int8::oid)")) {
      s.setLong(1, oid);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        String name = rs.getString(1);
        return name == null ? "the table of OID " + oid : "'" + name + "'";
      }
    }
  }
}
