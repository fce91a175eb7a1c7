package io.somastack.connect.postgres.write;

import io.somastack.connect.postgres.record.EventRow;
import io.somastack.connect.postgres.record.JsonBytes;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Hash-chains audit rows: each row's hash covers its contents and the hash of the previous row of
 * its Kafka partition, so an edited or deleted row is found by {@code soma_audit_verify}.
 *
 * <p>The payload is hashed as PostgreSQL prints the stored jsonb ({@code payload::text}), which the
 * verify function can recompute; one extra round trip per batch asks the server for that text.
 * Chain heads live in a table updated in the same transaction as the rows.
 */
public final class AuditChain {

  private static final HexFormat HEX = HexFormat.of();

  private final TableLayout layout;

  public AuditChain(TableLayout layout) {
    this.layout = layout;
  }

  /**
   * Fills prev_hash and row_hash of rows (in Kafka order within each partition) and returns those
   * to write: a row at or before its chain's head is already in the table, linked (by this
   * connector under another name, or by another connector feeding the table), and is left out.
   * Linking it again would move the head to a hash of a row the table never gets, and the check
   * would then report every later row as tampered with.
   */
  public List<EventRow> link(Connection c, String table, List<EventRow> rows) throws SQLException {
    try {
      return linkRows(c, table, rows);
    } catch (SQLException e) {
      throw TableChanged.of(table, e); // named by table, for the task's error if it stops
    }
  }

  private List<EventRow> linkRows(Connection c, String table, List<EventRow> rows)
      throws SQLException {
    if (rows.isEmpty()) {
      return rows;
    }
    Map<String, Head> heads = loadHeads(c, table, rows);
    List<EventRow> behind = new ArrayList<>();
    for (EventRow row : rows) {
      Head head = heads.get(chainKey(row.values()));
      if (head != null && offset(row) <= head.offset()) {
        behind.add(row);
      }
    }
    // rows behind a head are left out only when the table has them (position and event time): a
    // topic deleted and made again, or another cluster's, starts its offsets anew, and those rows
    // are new; they are written and linked as before
    Set<EventRow> stored = behind.isEmpty() ? Set.of() : stored(c, table, behind);
    List<EventRow> after = new ArrayList<>(rows.size());
    for (EventRow row : rows) {
      if (!stored.contains(row)) {
        after.add(row);
      }
    }
    if (after.isEmpty()) {
      return after;
    }
    List<Canonical> canonical = canonical(c, table, after);
    int payload = layout.indexOf(TableLayout.PAYLOAD);
    int prev = layout.indexOf(TableLayout.PREV_HASH);
    int hash = layout.indexOf(TableLayout.ROW_HASH);
    for (int i = 0; i < after.size(); i++) {
      Object[] values = after.get(i).values();
      String chain = chainKey(values);
      Head head = heads.get(chain);
      byte[] previous = head == null ? null : head.hash();
      Canonical text = canonical.get(i);
      byte[] rowHash = sha256(previous, material(values, text.payload()) + text.columns());
      values[prev] = previous == null ? null : HEX.formatHex(previous);
      values[hash] = HEX.formatHex(rowHash);
      values[payload] = text.payload();
      heads.put(chain, new Head((Long) values[layout.indexOf(TableLayout.KAFKA_OFFSET)], rowHash));
    }
    saveHeads(c, table, after);
    return after;
  }

  private long offset(EventRow row) {
    return (Long) row.values()[layout.indexOf(TableLayout.KAFKA_OFFSET)];
  }

  /**
   * Those of the rows the table holds already: the same Kafka position (topic, partition, offset)
   * and event time, the key their insert would conflict on and skip.
   */
  private Set<EventRow> stored(Connection c, String table, List<EventRow> rows)
      throws SQLException {
    String[] topics = new String[rows.size()];
    Integer[] partitions = new Integer[rows.size()];
    Long[] offsets = new Long[rows.size()];
    String[] times = new String[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      Object[] v = rows.get(i).values();
      topics[i] = (String) v[layout.indexOf(TableLayout.KAFKA_TOPIC)];
      partitions[i] = (Integer) v[layout.indexOf(TableLayout.KAFKA_PARTITION)];
      offsets[i] = offset(rows.get(i));
      times[i] = (String) v[layout.indexOf(TableLayout.EVENT_TIME)];
    }
    Set<EventRow> stored = Collections.newSetFromMap(new IdentityHashMap<>());
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT p.n FROM unnest(?::text[], ?::int4[], ?::int8[], ?::timestamptz[])"
                + " WITH ORDINALITY AS p(topic, part, off, at, n) WHERE EXISTS (SELECT 1 FROM "
                + table
                + " t WHERE t.kafka_topic = p.topic AND t.kafka_partition = p.part"
                + " AND t.kafka_offset = p.off AND t.event_time = p.at)")) {
      ps.setArray(1, c.createArrayOf("text", topics));
      ps.setArray(2, c.createArrayOf("int4", partitions));
      ps.setArray(3, c.createArrayOf("int8", offsets));
      ps.setArray(4, c.createArrayOf("timestamptz", times));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          stored.add(rows.get((int) rs.getLong(1) - 1));
        }
      }
    }
    return stored;
  }

  /** The last linked row of a chain: its Kafka offset and its hash. */
  private record Head(long offset, byte[] hash) {}

  /**
   * The rows whose payload PostgreSQL refuses as jsonb (a lone surrogate escape, say), found by
   * halves inside savepoints: one such row would otherwise fail every {@link #link} of its batch,
   * before the writer's own isolation of bad rows is reached, and stall the task.
   */
  public Map<EventRow, SQLException> findRejected(Connection c, String table, List<EventRow> rows)
      throws SQLException {
    return RejectedRows.find(c, rows, part -> canonical(c, table, part));
  }

  private String material(Object[] v, String payloadText) {
    Instant time = Instant.parse((String) v[layout.indexOf(TableLayout.EVENT_TIME)]);
    long micros =
        Math.addExact(
            Math.multiplyExact(time.getEpochSecond(), 1_000_000L), time.getNano() / 1_000L);
    return String.join(
        "|",
        (String) v[layout.indexOf(TableLayout.EVENT_ID)],
        (String) v[layout.indexOf(TableLayout.KAFKA_TOPIC)],
        String.valueOf(v[layout.indexOf(TableLayout.KAFKA_PARTITION)]),
        String.valueOf(v[layout.indexOf(TableLayout.KAFKA_OFFSET)]),
        Long.toString(micros),
        payloadText);
  }

  private String chainKey(Object[] v) {
    return chainKey(
        (String) v[layout.indexOf(TableLayout.KAFKA_TOPIC)],
        (Integer) v[layout.indexOf(TableLayout.KAFKA_PARTITION)]);
  }

  private static String chainKey(String topic, int partition) {
    return topic + "\u0000" + partition;
  }

  /** A row's hashed texts as PostgreSQL prints them: the payload, and the typed columns. */
  private record Canonical(String payload, String columns) {}

  /**
   * Asks PostgreSQL, in one round trip, for each row's payload as jsonb text and for the part of
   * its material that covers the typed columns ({@code soma_audit_columns_text}, with the types the
   * table's columns have), exactly as {@code soma_audit_verify} will compute them from the stored
   * row: an edit of a typed column must break the row's hash as an edit of its payload does.
   */
  private List<Canonical> canonical(Connection c, String table, List<EventRow> rows)
      throws SQLException {
    int payload = layout.indexOf(TableLayout.PAYLOAD);
    List<TableLayout.Column> typed =
        layout.columns().subList(layout.mappedFrom(), layout.columns().size());
    try (PreparedStatement ps = c.prepareStatement(canonicalSql(typed.size()))) {
      int param = 1;
      ps.setArray(
          param++, c.createArrayOf("text", typed.stream().map(col -> col.name()).toArray()));
      ps.setString(param++, table);
      ps.setArray(param++, c.createArrayOf("text", column(rows, payload)));
      for (int i = 0; i < typed.size(); i++) {
        ps.setArray(param++, c.createArrayOf("text", column(rows, layout.mappedFrom() + i)));
      }
      List<Canonical> canonical = new ArrayList<>(rows.size());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          canonical.add(new Canonical(rs.getString(1), rs.getString(2)));
        }
      }
      return canonical;
    }
  }

  private static String canonicalSql(int typedColumns) {
    StringBuilder unnest = new StringBuilder("?::text[]");
    StringBuilder aliases = new StringBuilder("p");
    StringBuilder vals = new StringBuilder();
    for (int i = 0; i < typedColumns; i++) {
      unnest.append(", ?::text[]");
      aliases.append(", c").append(i);
      vals.append(i == 0 ? "" : ", ").append("u.c").append(i);
    }
    // without typed columns the text is empty, as the check makes it: no function call per row
    String columnsText =
        typedColumns == 0
            ? "''"
            : "soma_audit_columns_text(n.names, n.types, ARRAY[" + vals + "]::text[])";
    return "SELECT u.p::jsonb::text, "
        + columnsText
        + " FROM (SELECT ?::text[] AS names) q CROSS JOIN LATERAL (SELECT q.names,"
        + " ARRAY(SELECT format_type(a.atttypid, NULL) FROM unnest(q.names) WITH ORDINALITY"
        + " AS k(name, i) LEFT JOIN pg_attribute a ON a.attrelid = ?::regclass"
        + " AND a.attname = k.name AND NOT a.attisdropped"
        // a column the database fills itself (a default, say) is left out, as the check does:
        // its NULL type adds nothing
        + " AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = ''"
        + " ORDER BY k.i) AS types) n"
        + " CROSS JOIN unnest("
        + unnest
        + ") WITH ORDINALITY AS u("
        + aliases
        + ", ord) ORDER BY u.ord";
  }

  /** One column of the rows as text, as the stored value's type reads it back. */
  private static String[] column(List<EventRow> rows, int index) {
    String[] texts = new String[rows.size()];
    for (int i = 0; i < texts.length; i++) {
      Object value = rows.get(i).values()[index];
      texts[i] = value instanceof JsonBytes json ? json.toString() : JsonBytes.text(value);
    }
    return texts;
  }

  /**
   * The heads of the chains the rows belong to, locked (with the chains not begun yet) until the
   * transaction ends. Only those: the other tasks writing the table own other partitions, and
   * locking every chain of the table would make them wait for each other, and deadlock when two
   * tasks' batches reach two audit tables in opposite orders.
   */
  private Map<String, Head> loadHeads(Connection c, String table, List<EventRow> rows)
      throws SQLException {
    Map<String, Object[]> chains = new TreeMap<>();
    for (EventRow row : rows) {
      chains.putIfAbsent(chainKey(row.values()), row.values());
    }
    String[] topics = new String[chains.size()];
    Integer[] partitions = new Integer[chains.size()];
    int i = 0;
    for (Object[] v : chains.values()) {
      topics[i] = (String) v[layout.indexOf(TableLayout.KAFKA_TOPIC)];
      partitions[i++] = (Integer) v[layout.indexOf(TableLayout.KAFKA_PARTITION)];
    }
    Map<String, Head> heads = new TreeMap<>();
    // Two statements, two round trips. The first takes a lock per chain, in one order for every
    // session: FOR UPDATE cannot lock a head not recorded yet, so two connectors starting one
    // chain at once would both start it, and the later commit would move its head back. The
    // second reads the heads in a snapshot of its own, taken once the locks are held, so it sees
    // the head a session that held them committed (one statement's snapshot predates its locks).
    // Not sent as one multi-statement string either: pgjdbc binds the first statement's result
    // formats to the second, which a URL forcing binary transfer (prepareThreshold=-1) breaks.
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT count(pg_advisory_xact_lock(l.t, l.k)) FROM (SELECT DISTINCT"
                + " hashtext(?::regclass::text) AS t, hashtext(u.topic || ':' || u.part) AS k"
                + " FROM unnest(?::text[], ?::int4[]) AS u(topic, part) ORDER BY 1, 2) l")) {
      bindChains(c, ps, table, topics, partitions);
      ps.executeQuery().close();
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT kafka_topic, kafka_partition, kafka_offset, row_hash FROM "
                + AuditSchema.HEADS_TABLE
                + " WHERE table_name = ?::regclass::text AND (kafka_topic, kafka_partition) IN"
                + " (SELECT * FROM unnest(?::text[], ?::int4[]))"
                + " ORDER BY kafka_topic, kafka_partition FOR UPDATE")) {
      bindChains(c, ps, table, topics, partitions);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          heads.put(
              chainKey(rs.getString(1), rs.getInt(2)), new Head(rs.getLong(3), rs.getBytes(4)));
        }
      }
    }
    return heads;
  }

  private static void bindChains(
      Connection c, PreparedStatement ps, String table, String[] topics, Integer[] partitions)
      throws SQLException {
    ps.setString(1, table);
    ps.setArray(2, c.createArrayOf("text", topics));
    ps.setArray(3, c.createArrayOf("int4", partitions));
  }

  private void saveHeads(Connection c, String table, List<EventRow> rows) throws SQLException {
    // the last row of each partition in this batch is its new head
    Map<String, Object[]> last = new TreeMap<>();
    for (EventRow row : rows) {
      last.put(chainKey(row.values()), row.values());
    }
    String sql =
        "INSERT INTO "
            + AuditSchema.HEADS_TABLE
            + " (table_name, kafka_topic, kafka_partition, kafka_offset, row_hash)"
            + " VALUES (?::regclass::text, ?, ?, ?, decode(?, 'hex'))"
            + " ON CONFLICT (table_name, kafka_topic, kafka_partition) DO UPDATE SET"
            + " kafka_offset = EXCLUDED.kafka_offset, row_hash = EXCLUDED.row_hash";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (Object[] v : last.values()) {
        ps.setString(1, table);
        ps.setString(2, (String) v[layout.indexOf(TableLayout.KAFKA_TOPIC)]);
        ps.setInt(3, (Integer) v[layout.indexOf(TableLayout.KAFKA_PARTITION)]);
        ps.setLong(4, (Long) v[layout.indexOf(TableLayout.KAFKA_OFFSET)]);
        ps.setString(5, (String) v[layout.indexOf(TableLayout.ROW_HASH)]);
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  private static byte[] sha256(byte[] previous, String material) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      if (previous != null) {
        digest.update(previous);
      }
      return digest.digest(material.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }
}
