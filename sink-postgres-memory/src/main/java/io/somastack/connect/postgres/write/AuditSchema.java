package io.somastack.connect.postgres.write;

import io.somastack.connect.common.sql.SqlIdentifier;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.YearMonth;

/**
 * The parts of an audit table besides the parent: monthly range partitions (plus a default one so
 * an event from any time is accepted), the table of chain heads, and the SQL function {@code
 * soma_audit_verify(table)} that finds edited and deleted rows.
 */
final class AuditSchema {

  static final String HEADS_TABLE = "soma_audit_chain_heads";
  private static final String VERIFY_SQL = sqlResource("/sql/soma_audit_verify.sql");

  private AuditSchema() {}

  static void ensure(Statement s, String table, YearMonth from, YearMonth through)
      throws SQLException {
    String bare = SchemaManager.bareName(table);
    String schemaPrefix = table.substring(0, table.length() - SqlIdentifier.quote(bare).length());
    s.execute(
        "CREATE TABLE IF NOT EXISTS "
            + schemaPrefix
            + SqlIdentifier.quote(SqlIdentifier.withSuffix(bare, "_default"))
            + " PARTITION OF "
            + table
            + " DEFAULT");
    for (YearMonth month = from; !month.isAfter(through); month = month.plusMonths(1)) {
      String partition =
          SqlIdentifier.withSuffix(
              bare, String.format("_%04d_%02d", month.getYear(), month.getMonthValue()));
      String defaultPartition = SqlIdentifier.quote(SqlIdentifier.withSuffix(bare, "_default"));
      if (!defaultHoldsRowsOf(s, schemaPrefix + defaultPartition, month)) {
        s.execute(
            "CREATE TABLE IF NOT EXISTS "
                + schemaPrefix
                + SqlIdentifier.quote(partition)
                + " PARTITION OF "
                + table
                + " FOR VALUES FROM ("
                + SchemaManager.monthStart(month)
                + ") TO ("
                + SchemaManager.monthStart(month.plusMonths(1))
                + ")");
      }
    }
    // The heads table and the verify function serve every audit table, while the caller's lock
    // covers only this one: tasks setting up two audit tables at once (every month's first
    // minutes) would otherwise collide on them ("tuple concurrently updated", a duplicate type).
    s.execute("SELECT pg_advisory_xact_lock(hashtext('soma_audit_shared_objects'))");
    s.execute(
        "CREATE TABLE IF NOT EXISTS "
            + HEADS_TABLE
            + " (table_name text NOT NULL, kafka_topic text NOT NULL, kafka_partition integer NOT"
            + " NULL, kafka_offset bigint NOT NULL, row_hash bytea NOT NULL,"
            + " PRIMARY KEY (table_name, kafka_topic, kafka_partition))");
    s.execute(VERIFY_SQL);
  }

  /** A month cannot get its own partition once the default partition holds rows of it. */
  private static boolean defaultHoldsRowsOf(Statement s, String defaultPartition, YearMonth month)
      throws SQLException {
    try (var rs =
        s.executeQuery(
            "SELECT EXISTS (SELECT 1 FROM "
                + defaultPartition
                + " WHERE event_time >= "
                + SchemaManager.monthStart(month)
                + " AND event_time < "
                + SchemaManager.monthStart(month.plusMonths(1))
                + ")")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  private static String sqlResource(String path) {
    try (InputStream in = AuditSchema.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + path);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
