package io.somastack.connect.postgres.write;

import io.somastack.connect.postgres.config.PostgresSinkConfig;
import io.somastack.connect.postgres.record.BadRecordException;
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
 * verify function can recompute; one extra round trip per statement of the writer asks the server
 * for that text, for the rows of that statement ({@link StatementChunks}): a put of large events is
 * never held several times over at once. Chain heads live in a table updated in the same
 * transaction as the rows; within a batch they carry each chain from one statement to the next.
 *
 * <p>That text may be far longer than the JSON that came: PostgreSQL writes a number out in full,
 * so the 8 bytes {@code 1e131071} print as 131,073 characters. The server therefore sends a row's
 * texts only when each is at most {@link #TEXT_FACTOR} times {@code record.max.bytes} (a row over
 * that is refused, as a bad record, and never linked), and a reply's texts only up to twice {@code
 * batch.max.bytes} (more are asked for in further round trips, by the lengths the first told).
 */
public final class AuditChain {

  private static final HexFormat HEX = HexFormat.of();

  /** What "payload::text" adds to a hash's material if it is NULL (it never is: NOT NULL). */
  private static final byte[] NULL_TEXT = "null".getBytes(StandardCharsets.UTF_8);

  /**
   * How many times record.max.bytes a row's canonical text (each of the payload's and the typed
   * columns') may be: PostgreSQL adds a space after each ':' and ',', so an event without
   * exponents, accepted by its size, never prints longer than twice it.
   */
  public static final int TEXT_FACTOR = 2;

  private final TableLayout layout;
  private final StatementChunks chunks;
  private final int recordMaxBytes;

  /** Most bytes of text one reply of the canonical query carries (beyond its first row's). */
  private final long replyBytes;

  /** The bytes of text {@link #link} holds now, and the most it held at once. */
  private long textBytesHeld;

  private long mostTextBytesHeld;

  /**
   * A chain for rows of this layout, made canonical in statements cut as {@code chunks} says; a
   * row's texts at most {@link #TEXT_FACTOR} times {@code recordMaxBytes} each, a reply's (past its
   * first row) twice {@code batchMaxBytes}.
   */
  public AuditChain(
      TableLayout layout, StatementChunks chunks, int recordMaxBytes, long batchMaxBytes) {
    this.layout = layout;
    this.chunks = chunks;
    this.recordMaxBytes = recordMaxBytes;
    // batch.max.bytes takes any long: twice the largest would overflow to a negative bound
    this.replyBytes = batchMaxBytes > Long.MAX_VALUE / 2 ? Long.MAX_VALUE : 2 * batchMaxBytes;
  }

  /**
   * The rows to write, linked, and those refused: their canonical text is too long to be asked for
   * (never linked, the chain going on past them as if they never came).
   */
  public record Linked(List<EventRow> rows, Map<EventRow, BadRecordException> refused) {}

  /**
   * Fills prev_hash and row_hash of rows (in Kafka order within each partition) and returns those
   * to write: a row at or before its chain's head is already in the table, linked (by this
   * connector under another name, or by another connector feeding the table), and is left out.
   * Linking it again would move the head to a hash of a row the table never gets, and the check
   * would then report every later row as tampered with.
   *
   * <p>The rows keep their payloads as they came: PostgreSQL stores the jsonb their text makes,
   * which prints as the text hashed here (a canonical copy held per row would cost the put's size
   * again until the batch commits).
   */
  public Linked link(Connection c, String table, List<EventRow> rows) throws SQLException {
    try {
      return linkRows(c, table, rows);
    } catch (SQLException e) {
      throw TableChanged.of(table, e); // named by table, for the task's error if it stops
    }
  }

  private Linked linkRows(Connection c, String table, List<EventRow> rows) throws SQLException {
    Map<EventRow, BadRecordException> refused = new IdentityHashMap<>();
    if (rows.isEmpty()) {
      return new Linked(rows, refused);
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
      return new Linked(after, refused);
    }
    // in the statements the writer will cut, so that one chunk's texts are held at a time
    for (int from = 0; from < after.size(); ) {
      int to = chunks.end(after, from);
      link(c, table, after.subList(from, to), heads, refused);
      from = to;
    }
    if (!refused.isEmpty()) {
      after = after.stream().filter(row -> !refused.containsKey(row)).toList();
      if (after.isEmpty()) {
        return new Linked(after, refused);
      }
    }
    saveHeads(c, table, after);
    return new Linked(after, refused);
  }

  /**
   * Links rows (one statement's) after the heads, which then hold their chains' last rows; a row
   * whose text is too long goes to {@code refused} instead, and its chain's head stays. Rows are
   * hashed in order as their texts come, each text let go once hashed: the rows the first reply
   * held back for its size (all after the last it sent, as its running sum only grows) are asked
   * for in further round trips ({@link #fetchHeld}) only when their turn comes, so that no more
   * than one reply's texts are held at a time, however many round trips the statement takes.
   */
  private void link(
      Connection c,
      String table,
      List<EventRow> rows,
      Map<String, Head> heads,
      Map<EventRow, BadRecordException> refused)
      throws SQLException {
    List<Canonical> canonical = canonical(c, table, rows);
    textBytesHeld = 0;
    arrived(canonical);
    int prev = layout.indexOf(TableLayout.PREV_HASH);
    int hash = layout.indexOf(TableLayout.ROW_HASH);
    for (int i = 0; i < rows.size(); ) {
      Canonical text = canonical.get(i);
      BadRecordException tooLong = tooLong(text);
      if (tooLong != null) {
        refused.put(rows.get(i), tooLong);
        canonical.set(i, null);
        i++;
        continue;
      }
      if (!text.sent()) {
        fetchHeld(c, table, rows, canonical, i);
        continue;
      }
      Object[] values = rows.get(i).values();
      String chain = chainKey(values);
      Head head = heads.get(chain);
      byte[] previous = head == null ? null : head.hash();
      byte[] rowHash = rowHash(previous, values, text);
      canonical.set(i, null); // the texts of rows hashed already may go
      textBytesHeld -= bytes(text);
      values[prev] = previous == null ? null : HEX.formatHex(previous);
      values[hash] = HEX.formatHex(rowHash);
      heads.put(chain, new Head((Long) values[layout.indexOf(TableLayout.KAFKA_OFFSET)], rowHash));
      i++;
    }
  }

  /**
   * Asks for the texts of the rows held back for a reply's size from {@code from} on (not those too
   * long on their own), as many as {@link #replyBytes} of text hold by the lengths the first reply
   * told (at least one row), and puts them in place: each text is computed at most twice.
   */
  private void fetchHeld(
      Connection c, String table, List<EventRow> rows, List<Canonical> canonical, int from)
      throws SQLException {
    List<Integer> group = new ArrayList<>();
    long bytes = 0;
    for (int i = from; i < rows.size(); i++) {
      Canonical text = canonical.get(i);
      if (text.sent() || tooLong(text) != null) {
        continue;
      }
      bytes += text.payloadBytes() + text.columnsBytes();
      if (bytes > replyBytes && !group.isEmpty()) {
        break;
      }
      group.add(i);
    }
    List<EventRow> part = new ArrayList<>(group.size());
    group.forEach(i -> part.add(rows.get(i)));
    List<Canonical> texts = canonical(c, table, part);
    for (int k = 0; k < group.size(); k++) {
      Canonical text = texts.get(k);
      if (!text.sent()) {
        throw new SQLException(
            "PostgreSQL printed a payload at another length than it told: " + table);
      }
      canonical.set(group.get(k), text);
    }
    arrived(texts);
  }

  /**
   * The most bytes of text one statement's linking held at once since the task started: at most
   * about one reply's ({@code 2 x batch.max.bytes}, or a single row's text), however many round
   * trips a statement takes. For tests and diagnostics.
   */
  public long mostTextBytesHeld() {
    return mostTextBytesHeld;
  }

  /** Counts the texts of a reply as held (those too long were not sent: none of theirs). */
  private void arrived(List<Canonical> reply) {
    for (Canonical text : reply) {
      textBytesHeld += bytes(text);
    }
    mostTextBytesHeld = Math.max(mostTextBytesHeld, textBytesHeld);
  }

  private static long bytes(Canonical text) {
    return (text.payload() == null ? 0 : text.payload().length)
        + (text.columns() == null ? 0 : text.columns().length);
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
    Set<EventRow> stored = Collections.newSetFromMap(new IdentityHashMap<>());
    for (int from = 0; from < rows.size(); ) {
      int to = chunks.endByRows(rows, from); // positions only: no payload in this statement
      stored(c, table, rows.subList(from, to), stored);
      from = to;
    }
    return stored;
  }

  private void stored(Connection c, String table, List<EventRow> rows, Set<EventRow> stored)
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
    return RejectedRows.find(
        c,
        rows,
        part -> {
          for (int from = 0; from < part.size(); ) {
            int to = chunks.end(part, from);
            canonical(c, table, part.subList(from, to));
            from = to;
          }
        });
  }

  /**
   * sha256 of the previous row's hash and the row's material: {@code
   * event_id|kafka_topic|kafka_partition|kafka_offset|event time in epoch
   * microseconds|payload::text} and then the typed columns' text, in UTF-8. The texts PostgreSQL
   * printed go in as the bytes it sent, never decoded: the same bytes as their Strings encoded.
   */
  private byte[] rowHash(byte[] previous, Object[] v, Canonical text) {
    Instant time = Instant.parse((String) v[layout.indexOf(TableLayout.EVENT_TIME)]);
    long micros =
        Math.addExact(
            Math.multiplyExact(time.getEpochSecond(), 1_000_000L), time.getNano() / 1_000L);
    String head =
        String.join(
            "|",
            (String) v[layout.indexOf(TableLayout.EVENT_ID)],
            (String) v[layout.indexOf(TableLayout.KAFKA_TOPIC)],
            String.valueOf(v[layout.indexOf(TableLayout.KAFKA_PARTITION)]),
            String.valueOf(v[layout.indexOf(TableLayout.KAFKA_OFFSET)]),
            Long.toString(micros),
            "");
    MessageDigest digest = sha256();
    if (previous != null) {
      digest.update(previous);
    }
    digest.update(head.getBytes(StandardCharsets.UTF_8));
    digest.update(text.payload() == null ? NULL_TEXT : text.payload());
    digest.update(text.columns() == null ? NULL_TEXT : text.columns());
    return digest.digest();
  }

  private String chainKey(Object[] v) {
    return chainKey(
        (String) v[layout.indexOf(TableLayout.KAFKA_TOPIC)],
        (Integer) v[layout.indexOf(TableLayout.KAFKA_PARTITION)]);
  }

  private static String chainKey(String topic, int partition) {
    return topic + "\u0000" + partition;
  }

  /**
   * A row's hashed texts as PostgreSQL prints them, in UTF-8: the payload, and the typed columns;
   * {@code sent} whether the server sent them (else both are null), with their lengths in bytes.
   */
  private record Canonical(
      byte[] payload, byte[] columns, boolean sent, long payloadBytes, long columnsBytes) {}

  /** Most bytes each of a row's texts may have. */
  private long textLimit() {
    return (long) TEXT_FACTOR * recordMaxBytes;
  }

  /** Why a row is refused for the length of its texts, or null. */
  private BadRecordException tooLong(Canonical text) {
    long limit = textLimit();
    String over =
        " bytes, over "
            + TEXT_FACTOR
            + " x "
            + PostgresSinkConfig.RECORD_MAX_BYTES
            + "="
            + recordMaxBytes
            + " (audit mode hashes it as PostgreSQL prints it, numbers written out in full)";
    if (text.payloadBytes() > limit) {
      return new BadRecordException(
          "its payload's canonical JSON text is " + text.payloadBytes() + over);
    }
    if (text.columnsBytes() > limit) {
      return new BadRecordException(
          "the canonical text of its typed columns is " + text.columnsBytes() + over);
    }
    return null;
  }

  /**
   * Asks PostgreSQL, in one round trip, for each row's payload as jsonb text and for the part of
   * its material that covers the typed columns ({@code soma_audit_columns_text}, with the types the
   * table's columns have), exactly as {@code soma_audit_verify} will compute them from the stored
   * row: an edit of a typed column must break the row's hash as an edit of its payload does.
   *
   * <p>The payloads go as bytea, their UTF-8 as it came (no String decoded, none encoded), and the
   * texts come back as the bytes the server sent; PostgreSQL reads them as text (convert_from), as
   * it reads the text of a text parameter.
   */
  private List<Canonical> canonical(Connection c, String table, List<EventRow> rows)
      throws SQLException {
    int payload = layout.indexOf(TableLayout.PAYLOAD);
    List<TableLayout.Column> typed =
        layout.columns().subList(layout.mappedFrom(), layout.columns().size());
    try (PreparedStatement ps =
        c.prepareStatement(canonicalSql(typed.size(), textLimit(), replyBytes))) {
      int param = 1;
      ps.setArray(
          param++, c.createArrayOf("text", typed.stream().map(col -> col.name()).toArray()));
      ps.setString(param++, table);
      ps.setArray(param++, c.createArrayOf("bytea", utf8(rows, payload)));
      for (int i = 0; i < typed.size(); i++) {
        ps.setArray(param++, c.createArrayOf("text", column(rows, layout.mappedFrom() + i)));
      }
      List<Canonical> canonical = new ArrayList<>(rows.size());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          // a text column's value as the server sent it: UTF-8, pgjdbc's client encoding
          canonical.add(
              new Canonical(
                  rs.getBytes(1), rs.getBytes(2), rs.getBoolean(3), rs.getLong(4), rs.getLong(5)));
        }
      }
      return canonical;
    }
  }

  /**
   * Each row's texts are computed once (OFFSET 0 keeps the planner from copying their expressions
   * into each use) and sent only if each is at most {@code limit} bytes and the reply's texts up to
   * them at most {@code reply} bytes (or they are its first); their lengths are always sent.
   */
  private static String canonicalSql(int typedColumns, long limit, long reply) {
    StringBuilder unnest = new StringBuilder("?::bytea[]");
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
    String computed =
        "SELECT convert_from(u.p, 'UTF8')::jsonb::text AS t, "
            + columnsText
            + " AS cols, u.ord FROM (SELECT ?::text[] AS names) q CROSS JOIN LATERAL (SELECT q.names,"
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
            + ", ord) OFFSET 0";
    String measured =
        "SELECT y.t, y.cols, y.ord, coalesce(octet_length(y.t), 0)::int8 AS tlen,"
            + " coalesce(octet_length(y.cols), 0)::int8 AS clen FROM ("
            + computed
            + ") y";
    String fits = "(m.tlen <= " + limit + " AND m.clen <= " + limit + ")";
    String run =
        "SELECT m.*, "
            + fits
            + " AS fits, sum(CASE WHEN "
            + fits
            + " THEN m.tlen + m.clen ELSE 0 END) OVER (ORDER BY m.ord) AS run FROM ("
            + measured
            + ") m";
    String sent = "(s.fits AND (s.run <= " + reply + " OR s.run = s.tlen + s.clen))";
    return "SELECT CASE WHEN "
        + sent
        + " THEN s.t END, CASE WHEN "
        + sent
        + " THEN s.cols END, "
        + sent
        + ", s.tlen, s.clen FROM ("
        + run
        + ") s ORDER BY s.ord";
  }

  /** One column of the rows as text, as the stored value's type reads it back. */
  private static String[] column(List<EventRow> rows, int index) {
    String[] texts = new String[rows.size()];
    for (int i = 0; i < texts.length; i++) {
      texts[i] = JsonBytes.text(rows.get(i).values()[index]);
    }
    return texts;
  }

  /** The payloads of the rows in UTF-8: JSON bytes as they came, a String encoded. */
  private static byte[][] utf8(List<EventRow> rows, int index) {
    byte[][] bytes = new byte[rows.size()][];
    for (int i = 0; i < bytes.length; i++) {
      Object value = rows.get(i).values()[index];
      bytes[i] =
          value instanceof JsonBytes json
              ? json.utf8()
              : value == null ? null : value.toString().getBytes(StandardCharsets.UTF_8);
    }
    return bytes;
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

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }
}
