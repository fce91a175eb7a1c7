package io.somastack.connect.postgres.write;

import io.somastack.connect.common.postgres.PgCatalog;
import io.somastack.connect.common.postgres.PostgresConnectionConfig;
import io.somastack.connect.common.postgres.SqlStates;
import io.somastack.connect.common.sql.SqlIdentifier;
import io.somastack.connect.postgres.config.PostgresSinkConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;

/**
 * The Kafka offsets the sink has written, kept in the database itself: saved in the same
 * transaction as the rows they cover, so rows and offsets are durable together or not at all. This
 * table, not the consumer group, is where a task resumes from.
 */
public final class OffsetStore {

  private static final String INSUFFICIENT_PRIVILEGE = "42501";

  private final String schema;
  private final String table;
  private final String connector;

  public OffsetStore(String schema, String table, String connector) {
    this.schema = schema;
    this.table = SqlIdentifier.qualified(schema, table);
    this.connector = connector;
  }

  /**
   * The store a connector's config names. Its tasks and its offset alter (KIP-875) must find the
   * same rows, so both make it here: the connector's {@code name} is in the tasks' configs too, as
   * they are copies of the connector's.
   */
  public static OffsetStore of(PostgresSinkConfig config) {
    return new OffsetStore(
        config.tableSchema(),
        config.offsetsTable(),
        config.originalsStrings().getOrDefault("name", "unnamed"));
  }

  /**
   * Creates the table when it is missing. Looked for first: CREATE TABLE IF NOT EXISTS needs CREATE
   * on the schema even when the table exists, which a role that may not run DDL lacks (PostgreSQL
   * 15 gives ordinary roles none on public), and would then fail every write of a table made for it
   * beforehand.
   *
   * @throws ConnectException when the table is missing and connection.user may not create it
   */
  public void createIfMissing(Connection c) throws SQLException {
    if (PgCatalog.exists(c, table)) {
      return;
    }
    requireSchema(c);
    try (Statement s = OneOffStatements.create(c)) {
      SchemaManager.lockName(s, table); // tasks starting together would race to create it
      s.execute(createTableSql(table));
    } catch (SQLException e) {
      if (!INSUFFICIENT_PRIVILEGE.equals(SqlStates.rootState(e))) {
        throw e;
      }
      throw new ConnectException(
          "the offsets table "
              + table
              + " does not exist, and "
              + PostgresConnectionConfig.USER
              + " may not create it (SQLSTATE 42501: no CREATE privilege on its schema). Create"
              + " it beforehand, as sql/seed-tables.sql does, and grant SELECT, INSERT, UPDATE"
              + " and DELETE on it; or grant CREATE on the schema",
          e);
    }
  }

  /**
   * A table.schema that names no schema (a typo) is a configuration error, said as such: the CREATE
   * TABLE's own 3F000 would otherwise look like a catalog changed under the task.
   */
  private void requireSchema(Connection c) throws SQLException {
    if (!PgCatalog.schemaExists(c, SqlIdentifier.quote(schema))) {
      throw new ConnectException(
          PostgresSinkConfig.TABLE_SCHEMA
              + "="
              + schema
              + " names no schema of the database; create it (CREATE SCHEMA "
              + SqlIdentifier.quote(schema)
              + ") or fix "
              + PostgresSinkConfig.TABLE_SCHEMA);
    }
  }

  /**
   * Stores the next offsets given (KIP-875's alter, through Connect's REST API while the connector
   * is stopped), in the caller's transaction.
   */
  public void store(Connection c, Map<TopicPartition, Long> offsets) throws SQLException {
    createIfMissing(c);
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO "
                + table
                + " (connector, topic, kafka_partition, next_offset) VALUES (?, ?, ?, ?)"
                + " ON CONFLICT (connector, topic, kafka_partition) DO UPDATE"
                + " SET next_offset = excluded.next_offset, updated_at = now()")) {
      for (Map.Entry<TopicPartition, Long> e : offsets.entrySet()) {
        ps.setString(1, connector);
        ps.setString(2, e.getKey().topic());
        ps.setInt(3, e.getKey().partition());
        ps.setLong(4, e.getValue());
        ps.executeUpdate();
      }
    }
  }

  /** The DDL of an offsets table, {@code table} quoted and qualified. */
  public static String createTableSql(String table) {
    return "CREATE TABLE IF NOT EXISTS "
        + table
        + " (connector text NOT NULL, topic text NOT NULL, kafka_partition integer NOT NULL,"
        + " next_offset bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),"
        + " PRIMARY KEY (connector, topic, kafka_partition))";
  }

  /** The next offset to write for each given partition that has one stored. */
  public Map<TopicPartition, Long> load(Connection c, Collection<TopicPartition> partitions)
      throws SQLException {
    try {
      return loadRows(c, partitions);
    } catch (SQLException e) {
      throw TableChanged.ofSinkTable(table, e); // dropped under the task: a restart remakes it
    }
  }

  private Map<TopicPartition, Long> loadRows(Connection c, Collection<TopicPartition> partitions)
      throws SQLException {
    Map<TopicPartition, Long> offsets = new HashMap<>();
    if (partitions.isEmpty()) {
      return offsets;
    }
    String[] topics = new String[partitions.size()];
    Integer[] numbers = new Integer[partitions.size()];
    int i = 0;
    for (TopicPartition tp : partitions) {
      topics[i] = tp.topic();
      numbers[i++] = tp.partition();
    }
    // only the partitions asked for: a connector on topics.regex may hold rows for thousands of
    // partitions, and every task reads its own again at every rebalance
    String sql =
        "SELECT t.topic, t.kafka_partition, t.next_offset FROM "
            + table
            + " t JOIN unnest(?::text[], ?::int4[]) AS p(topic, kafka_partition)"
            + " ON t.topic = p.topic AND t.kafka_partition = p.kafka_partition"
            + " WHERE t.connector = ?";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setArray(1, c.createArrayOf("text", topics));
      ps.setArray(2, c.createArrayOf("int4", numbers));
      ps.setString(3, connector);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          offsets.put(new TopicPartition(rs.getString(1), rs.getInt(2)), rs.getLong(3));
        }
      }
    }
    return offsets;
  }

  /**
   * Records the next offsets, inside the caller's transaction, each only if the stored offset is
   * still the one the task last read or wrote ({@code stored}: none stored when absent). Otherwise
   * another task wrote the partition in the meantime (this one lost it in a rebalance and has not
   * heard yet, or was paused long enough for the group to move on): the transaction must not
   * commit, and the caller reads the offsets again.
   *
   * @throws SQLException with SQLSTATE 40001 (a serialization failure, transient) when some stored
   *     offset moved
   */
  public void save(
      Connection c, Map<TopicPartition, Long> nextOffsets, Map<TopicPartition, Long> stored)
      throws SQLException {
    try {
      saveRows(c, nextOffsets, stored);
    } catch (SQLException e) {
      throw TableChanged.ofSinkTable(table, e); // dropped under the task: a restart remakes it
    }
  }

  private void saveRows(
      Connection c, Map<TopicPartition, Long> nextOffsets, Map<TopicPartition, Long> stored)
      throws SQLException {
    if (nextOffsets.isEmpty()) {
      return;
    }
    int n = nextOffsets.size();
    String[] topics = new String[n];
    Integer[] partitions = new Integer[n];
    Long[] offsets = new Long[n];
    Long[] expected = new Long[n];
    int i = 0;
    for (Map.Entry<TopicPartition, Long> e : nextOffsets.entrySet()) {
      topics[i] = e.getKey().topic();
      partitions[i] = e.getKey().partition();
      expected[i] = stored.get(e.getKey());
      offsets[i++] = e.getValue();
    }
    // one statement: rows believed stored are updated only where they still hold what was read,
    // rows believed absent are inserted only where no task has inserted them since
    String sql =
        "WITH u AS (SELECT * FROM unnest(?::text[], ?::int4[], ?::int8[], ?::int8[])"
            + " AS u(topic, kafka_partition, next_offset, expected)),"
            + " updated AS (UPDATE "
            + table
            + " t SET next_offset = u.next_offset, updated_at = now() FROM u"
            + " WHERE t.connector = ? AND t.topic = u.topic"
            + " AND t.kafka_partition = u.kafka_partition AND t.next_offset = u.expected"
            + " RETURNING 1),"
            + " inserted AS (INSERT INTO "
            + table
            + " (connector, topic, kafka_partition, next_offset)"
            + " SELECT ?, topic, kafka_partition, next_offset FROM u WHERE expected IS NULL"
            + " ON CONFLICT (connector, topic, kafka_partition) DO NOTHING RETURNING 1)"
            + " SELECT (SELECT count(*) FROM updated) + (SELECT count(*) FROM inserted)";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setArray(1, c.createArrayOf("text", topics));
      ps.setArray(2, c.createArrayOf("int4", partitions));
      ps.setArray(3, c.createArrayOf("int8", offsets));
      ps.setArray(4, c.createArrayOf("int8", expected));
      ps.setString(5, connector);
      ps.setString(6, connector);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        if (rs.getLong(1) != n) {
          throw new SQLException(
              "stored offsets moved since this task read them: another task wrote its partitions",
              "40001");
        }
      }
    }
  }
}
