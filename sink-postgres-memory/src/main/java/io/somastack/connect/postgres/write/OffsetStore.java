package io.somastack.connect.postgres.write;

import io.somastack.connect.common.sql.SqlIdentifier;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * The Kafka offsets the sink has written, kept in the database itself: saved in the same
 * transaction as the rows they cover, so rows and offsets are durable together or not at all. This
 * table, not the consumer group, is where a task resumes from.
 */
public final class OffsetStore {

  private final String table;
  private final String connector;

  public OffsetStore(String schema, String table, String connector) {
    this.table = SqlIdentifier.qualified(schema, table);
    this.connector = connector;
  }

  public void createIfMissing(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      // tasks starting together would otherwise race to create it (23505 on pg_type)
      s.execute("SELECT pg_advisory_xact_lock(hashtext('" + table.replace("'", "''") + "'))");
      s.execute(
          "CREATE TABLE IF NOT EXISTS "
              + table
              + " (connector text NOT NULL, topic text NOT NULL, kafka_partition integer NOT NULL,"
              + " next_offset bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),"
              + " PRIMARY KEY (connector, topic, kafka_partition))");
    }
  }

  /** The next offset to write for each given partition that has one stored. */
  public Map<TopicPartition, Long> load(Connection c, Collection<TopicPartition> partitions)
      throws SQLException {
    Map<TopicPartition, Long> offsets = new HashMap<>();
    String sql =
        "SELECT topic, kafka_partition, next_offset FROM " + table + " WHERE connector = ?";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, connector);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          TopicPartition tp = new TopicPartition(rs.getString(1), rs.getInt(2));
          if (partitions.contains(tp)) {
            offsets.put(tp, rs.getLong(3));
          }
        }
      }
    }
    return offsets;
  }

  /** Records the next offsets, inside the caller's transaction. */
  public void save(Connection c, Map<TopicPartition, Long> nextOffsets) throws SQLException {
    if (nextOffsets.isEmpty()) {
      return;
    }
    String[] topics = new String[nextOffsets.size()];
    Integer[] partitions = new Integer[nextOffsets.size()];
    Long[] offsets = new Long[nextOffsets.size()];
    int i = 0;
    for (Map.Entry<TopicPartition, Long> e : nextOffsets.entrySet()) {
      topics[i] = e.getKey().topic();
      partitions[i] = e.getKey().partition();
      offsets[i++] = e.getValue();
    }
    String sql =
        "INSERT INTO "
            + table
            + " (connector, topic, kafka_partition, next_offset)"
            + " SELECT ?, * FROM unnest(?::text[], ?::int4[], ?::int8[])"
            + " ON CONFLICT (connector, topic, kafka_partition)"
            + " DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, connector);
      ps.setArray(2, c.createArrayOf("text", topics));
      ps.setArray(3, c.createArrayOf("int4", partitions));
      ps.setArray(4, c.createArrayOf("int8", offsets));
      ps.executeUpdate();
    }
  }
}
