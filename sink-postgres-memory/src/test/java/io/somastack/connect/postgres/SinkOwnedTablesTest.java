package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.postgres.config.PostgresSinkConfig;
import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.SQLException;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A table name that stands for a table the sink keeps for itself (its offsets, the audit chain
 * tables), for a partition (an audit table's), or for a table without the sink's layout: a record
 * naming one is dead-lettered and the table left as it was; the config naming one is refused.
 */
class SinkOwnedTablesTest {

  private static final String DATABASE = "sink_owned_tables";
  private static final TopicPartition PARTITION = new TopicPartition("memories", 0);

  private String url;
  private final List<PostgresMemorySinkTask> tasks = new ArrayList<>();

  @BeforeEach
  void createDatabase() {
    url = SERVER.createDatabase(DATABASE);
  }

  @AfterEach
  void stopTasks() {
    tasks.forEach(PostgresMemorySinkTask::stop);
  }

  private PostgresMemorySinkTask started(HandRunTaskContext context, String... options) {
    PostgresMemorySinkTask task = LocalTasks.started(url, context, options);
    tasks.add(task);
    return task;
  }

  /** An audit task whose records name their table, audit_ and their t, dead-lettering refusals. */
  private PostgresMemorySinkTask auditTenantTask(HandRunTaskContext context) {
    return started(
        context,
        "name",
        "tenants",
        "write.mode",
        "audit",
        "table.name.format",
        "audit_${value.t}",
        "errors.tolerance",
        "all");
  }

  private PostgresMemorySinkTask tenantTask(HandRunTaskContext context, String... more) {
    List<String> options =
        new ArrayList<>(
            List.of("name", "tenants", "write.mode", "append", "table.name.format", "${value.t}"));
    options.addAll(List.of(more));
    return started(context, options.toArray(String[]::new));
  }

  private static SinkRecord event(String id, String table, long offset) {
    return new SinkRecord(
        PARTITION.topic(), 0, null, null, null, Map.of("event_id", id, "t", table), offset);
  }

  /** A table's columns (name, type, NOT NULL) and indexes, to compare before and after. */
  private static String shape(String table) throws SQLException {
    return LocalTasks.strings(
                DATABASE,
                "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod) || ' '"
                    + " || attnotnull, ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = '"
                    + table
                    + "'::regclass AND attnum > 0 AND NOT attisdropped")
            .get(0)
        + " | "
        + LocalTasks.strings(
                DATABASE,
                "SELECT coalesce(string_agg(indexdef, '; ' ORDER BY indexname), '') FROM pg_indexes"
                    + " WHERE schemaname = 'public' AND tablename = '"
                    + table
                    + "'")
            .get(0);
  }

  private static List<Long> deadLetteredOffsets(HandRunTaskContext context) {
    return context.deadLettered().stream().map(dead -> dead.getKey().kafkaOffset()).toList();
  }

  private static void assertReasonsQuoteNoName(HandRunTaskContext context, String... names) {
    for (Map.Entry<SinkRecord, Throwable> dead : context.deadLettered()) {
      String reason = dead.getValue().getMessage();
      assertTrue(reason.contains("table.name.format '${value.t}'"), reason);
      for (String name : names) {
        assertFalse(reason.toLowerCase().contains(name.toLowerCase()), reason);
      }
    }
  }

  /**
   * A record whose field sanitises to the offsets table's name, in any spelling, is dead-lettered:
   * no column or index is added to the offsets table, no row of it is written or deleted, and the
   * rest of the batch lands, with the offsets of the whole batch stored.
   */
  @Test
  void aRecordNamingTheOffsetsTableIsDeadLetteredAndTheTableUnchanged() throws SQLException {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    PostgresMemorySinkTask task = tenantTask(context, "errors.tolerance", "all");
    task.put(List.of(event("e0", "ok", 0)));
    String before = shape("soma_connect_offsets");

    task.put(
        List.of(
            event("e1", "Soma-Connect-Offsets", 1),
            event("e2", "ok", 2),
            event("e3", "soma_connect_offsets", 3),
            event("e4", "SOMA.CONNECT.OFFSETS", 4),
            event("e5", "soma connect offsets", 5),
            event("e6", "ok", 6)));

    assertEquals(before, shape("soma_connect_offsets"));
    assertEquals(List.of(1L, 3L, 4L, 5L), deadLetteredOffsets(context));
    assertReasonsQuoteNoName(context, "soma", "offsets\"");
    assertTrue(
        context.deadLettered().get(0).getValue().getMessage().contains("keeps for itself"),
        context.deadLettered().get(0).getValue().getMessage());
    assertEquals(3, LocalTasks.count(DATABASE, "SELECT count(*) FROM ok"));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM soma_connect_offsets"));
    assertEquals(7, LocalTasks.count(DATABASE, "SELECT next_offset FROM soma_connect_offsets"));

    // and at every later put, a restart included: the task goes on
    task.put(List.of(event("e7", "soma-connect-offsets", 7), event("e8", "ok", 8)));
    assertEquals(before, shape("soma_connect_offsets"));
    assertEquals(4, LocalTasks.count(DATABASE, "SELECT count(*) FROM ok"));
    assertEquals(List.of(1L, 3L, 4L, 5L, 7L), deadLetteredOffsets(context));
  }

  /**
   * In upsert mode a key naming the offsets table neither alters it nor deletes from it: its writes
   * and its tombstones are dead-lettered, the other keys' rows written and deleted.
   */
  @Test
  void upsertsAndTombstonesWhoseKeyNamesTheOffsetsTableAreDeadLettered() throws SQLException {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    PostgresMemorySinkTask task =
        started(
            context,
            "name",
            "keyed",
            "write.mode",
            "upsert",
            "key.fields",
            "id",
            "table.name.format",
            "${key}");
    task.put(
        List.of(new SinkRecord(PARTITION.topic(), 0, null, "ok", null, Map.of("id", "ok"), 0)));
    String before = shape("soma_connect_offsets");
    long rows = LocalTasks.count(DATABASE, "SELECT count(*) FROM soma_connect_offsets");

    task.put(
        List.of(
            new SinkRecord(
                PARTITION.topic(),
                0,
                null,
                "Soma-Connect-Offsets",
                null,
                Map.of("id", "Soma-Connect-Offsets"),
                1),
            new SinkRecord(PARTITION.topic(), 0, null, "soma.connect.offsets", null, null, 2),
            new SinkRecord(PARTITION.topic(), 0, null, "ok", null, null, 3)));

    assertEquals(before, shape("soma_connect_offsets"));
    assertEquals(rows, LocalTasks.count(DATABASE, "SELECT count(*) FROM soma_connect_offsets"));
    assertEquals(List.of(1L, 2L), deadLetteredOffsets(context));
    assertEquals(0, LocalTasks.count(DATABASE, "SELECT count(*) FROM ok"));
    assertEquals(4, LocalTasks.count(DATABASE, "SELECT next_offset FROM soma_connect_offsets"));
  }

  /** A configured offsets table is the sink's too, as is the default one other connectors use. */
  @Test
  void aRecordNamingAConfiguredOffsetsTableIsDeadLettered() throws SQLException {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    PostgresMemorySinkTask task = tenantTask(context, "offsets.table", "tenant_offsets");
    task.put(List.of(event("e0", "ok", 0)));
    String before = shape("tenant_offsets");

    task.put(List.of(event("e1", "Tenant-Offsets", 1), event("e2", "ok", 2)));

    assertEquals(before, shape("tenant_offsets"));
    assertEquals(List.of(1L), deadLetteredOffsets(context));
    assertEquals(2, LocalTasks.count(DATABASE, "SELECT count(*) FROM ok"));
  }

  /**
   * The audit chain tables and an audit table's partitions (default and monthly, made by another
   * connector in audit mode): records naming them are dead-lettered, and none is altered.
   */
  @Test
  void recordsNamingTheAuditChainTablesOrPartitionsAreDeadLetteredAndTheyUnchanged()
      throws SQLException {
    PostgresMemorySinkTask audit =
        started(
            new HandRunTaskContext(PARTITION),
            "name",
            "archive",
            "write.mode",
            "audit",
            "table.name.format",
            "audit_log");
    audit.put(
        List.of(
            new SinkRecord(
                PARTITION.topic(),
                0,
                null,
                null,
                null,
                Map.of("event_id", "a0", "timestamp", Instant.now().toString()),
                0)));
    YearMonth now = YearMonth.now(ZoneOffset.UTC);
    String month = String.format("audit_log_%04d_%02d", now.getYear(), now.getMonthValue());
    List<String> protectedTables =
        List.of("soma_audit_chain_heads", "soma_audit_retired", "audit_log_default", month);
    List<String> before = new ArrayList<>();
    for (String table : protectedTables) {
      before.add(shape(table));
    }
    long heads = LocalTasks.count(DATABASE, "SELECT count(*) FROM soma_audit_chain_heads");

    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    PostgresMemorySinkTask task = tenantTask(context);
    task.put(
        List.of(
            event("e0", "ok", 0),
            event("e1", "Soma-Audit-Chain-Heads", 1),
            event("e2", "soma_audit_retired", 2),
            event("e3", "Audit-Log-Default", 3),
            event("e4", month.toUpperCase(), 4),
            event("e5", "ok", 5)));

    List<String> after = new ArrayList<>();
    for (String table : protectedTables) {
      after.add(shape(table));
    }
    assertEquals(before, after);
    assertEquals(List.of(1L, 2L, 3L, 4L), deadLetteredOffsets(context));
    assertReasonsQuoteNoName(context, "soma", "audit_log");
    assertTrue(
        context.deadLettered().get(2).getValue().getMessage().contains("partition"),
        context.deadLettered().get(2).getValue().getMessage());
    assertEquals(2, LocalTasks.count(DATABASE, "SELECT count(*) FROM ok"));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM audit_log"));
    assertEquals(heads, LocalTasks.count(DATABASE, "SELECT count(*) FROM soma_audit_chain_heads"));
  }

  /**
   * A table without the sink's layout (an application's, or a dead-letter table of another write
   * mode) is not evolved into one: a record naming it is dead-lettered and the table left as it
   * was, while ordinary tables of the layout are still evolved (here: a unique index added).
   */
  @Test
  void aRecordNamingATableWithoutTheSinksLayoutIsDeadLetteredAndTheTableUnchanged()
      throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE customers (id integer PRIMARY KEY, name text);"
            + " CREATE TABLE dlq (id bigserial PRIMARY KEY, topic text, event jsonb NOT NULL,"
            + " error text, created_at timestamptz NOT NULL DEFAULT now());"
            + " CREATE TABLE mine (event_id text NOT NULL, payload jsonb NOT NULL,"
            + " kafka_topic text NOT NULL, kafka_partition integer NOT NULL,"
            + " kafka_offset bigint NOT NULL)");
    String customers = shape("customers");
    String dlq = shape("dlq");
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    PostgresMemorySinkTask task = tenantTask(context);

    task.put(List.of(event("e0", "Customers", 0), event("e1", "dlq", 1), event("e2", "mine", 2)));

    assertEquals(customers, shape("customers"));
    assertEquals(dlq, shape("dlq"));
    assertEquals(List.of(0L, 1L), deadLetteredOffsets(context));
    assertReasonsQuoteNoName(context, "customers", "dlq");
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM mine"));
    assertTrue(shape("mine").contains("UNIQUE INDEX"), shape("mine"));
  }

  /**
   * In upsert mode with a key field named event, a dead-letter table (an event column, no payload)
   * is still no table of the layout: the key column is not the document. The task stops, naming the
   * missing payload column, and the table is not evolved.
   */
  @Test
  void aKeyFieldNamedEventDoesNotMakeADeadLetterTableATarget() throws SQLException {
    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE dlq (id bigserial PRIMARY KEY, topic text, event jsonb NOT NULL,"
            + " error text, created_at timestamptz NOT NULL DEFAULT now())");
    String dlq = shape("dlq");
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    PostgresMemorySinkTask task =
        started(
            context,
            "name",
            "keyed",
            "write.mode",
            "upsert",
            "key.fields",
            "event",
            "table.name.format",
            "dlq");
    ConnectException e =
        assertThrows(
            ConnectException.class,
            () ->
                task.put(
                    List.of(
                        new SinkRecord(
                            PARTITION.topic(),
                            0,
                            null,
                            null,
                            null,
                            Map.of("event", "{}", "event_id", "e1"),
                            0))));
    assertTrue(e.getMessage().contains("has no column payload"), e.getMessage());
    assertEquals(dlq, shape("dlq"));
    assertEquals(List.of(), context.deadLettered());
  }

  private static SinkRecord auditEvent(String id, String tenant, long offset) {
    return new SinkRecord(
        PARTITION.topic(),
        0,
        null,
        null,
        null,
        Map.of("event_id", id, "t", tenant, "timestamp", Instant.now().toString()),
        offset);
  }

  private static boolean isPartitionOf(String partition, String parent) throws SQLException {
    return LocalTasks.count(
            DATABASE,
            "SELECT count(*) FROM pg_inherits WHERE inhrelid = to_regclass('"
                + partition
                + "') AND inhparent = to_regclass('"
                + parent
                + "')")
        == 1;
  }

  private static void assertReasonsNameNoTenant(HandRunTaskContext context, String... tenants) {
    for (Map.Entry<SinkRecord, Throwable> dead : context.deadLettered()) {
      String reason = dead.getValue().getMessage();
      assertTrue(reason.contains("table.name.format 'audit_${value.t}'"), reason);
      for (String tenant : tenants) {
        assertFalse(reason.contains(tenant), reason);
      }
    }
  }

  /**
   * A record-named audit table made before the audit table whose default or monthly partition name
   * it holds (tenant acme_default before tenant acme) keeps that table from its partition: the
   * later table's records are dead-lettered (not written into an audit table without its default
   * partition, which would refuse every event out of the monthly ranges), the config naming it
   * stops the task naming both tables; once the first table is renamed, the audit table gets its
   * partitions and its records land.
   */
  @Test
  void anAuditTableWhosePartitionNameATableHoldsIsRefused() throws SQLException {
    YearMonth now = YearMonth.now(ZoneOffset.UTC);
    String month = String.format("%04d_%02d", now.getYear(), now.getMonthValue());
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    PostgresMemorySinkTask task = auditTenantTask(context);
    task.put(List.of(auditEvent("e0", "acme_default", 0), auditEvent("e1", "beta_" + month, 1)));
    assertEquals(List.of(), deadLetteredOffsets(context));

    task.put(
        List.of(
            auditEvent("e2", "acme", 2),
            auditEvent("e3", "beta", 3),
            auditEvent("e4", "acme_default", 4)));

    assertEquals(List.of(2L, 3L), deadLetteredOffsets(context));
    assertReasonsNameNoTenant(context, "acme", "beta");
    assertTrue(
        context.deadLettered().get(0).getValue().getMessage().contains("partition"),
        context.deadLettered().get(0).getValue().getMessage());
    assertEquals(
        List.of("audit_acme_default", "audit_beta_" + month),
        LocalTasks.strings(
            DATABASE,
            "SELECT relname::text FROM pg_class WHERE relname LIKE 'audit\\_%' AND relkind = 'p'"
                + " ORDER BY relname"));
    assertEquals(2, LocalTasks.count(DATABASE, "SELECT count(*) FROM audit_acme_default"));

    PostgresMemorySinkTask fixed =
        started(
            new HandRunTaskContext(PARTITION).deadLetterQueue(true),
            "name",
            "fixed",
            "write.mode",
            "audit",
            "table.name.format",
            "audit_acme");
    ConnectException e =
        assertThrows(ConnectException.class, () -> fixed.put(List.of(auditEvent("f1", "x", 0))));
    assertTrue(e.getMessage().contains("\"audit_acme\""), e.getMessage());
    assertTrue(e.getMessage().contains("\"audit_acme_default\""), e.getMessage());
    assertTrue(e.getMessage().contains("not a partition of"), e.getMessage());
    assertEquals(
        0,
        LocalTasks.count(DATABASE, "SELECT count(*) FROM pg_class WHERE relname = 'audit_acme'"));

    LocalTasks.execute(DATABASE, "ALTER TABLE audit_acme_default RENAME TO acme_default_audit");
    task.put(List.of(auditEvent("e5", "acme", 5)));
    assertEquals(List.of(2L, 3L), deadLetteredOffsets(context));
    assertTrue(isPartitionOf("audit_acme_default", "audit_acme"));
    assertEquals(1, LocalTasks.count(DATABASE, "SELECT count(*) FROM audit_acme"));
  }

  /**
   * Once an audit table exists, a record naming one of its partitions not yet made (a month beyond
   * those made ahead) is dead-lettered, not made a table that would keep the month's partition from
   * it.
   */
  @Test
  void aRecordNamingAnAuditTablesFuturePartitionIsDeadLettered() throws SQLException {
    HandRunTaskContext context = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    PostgresMemorySinkTask task = auditTenantTask(context);
    task.put(List.of(auditEvent("e0", "acme", 0)));

    task.put(List.of(auditEvent("e1", "acme_2099_01", 1), auditEvent("e2", "acme", 2)));

    assertEquals(List.of(1L), deadLetteredOffsets(context));
    assertReasonsNameNoTenant(context, "acme");
    assertEquals(
        0,
        LocalTasks.count(
            DATABASE, "SELECT count(*) FROM pg_class WHERE relname = 'audit_acme_2099_01'"));
    assertEquals(2, LocalTasks.count(DATABASE, "SELECT count(*) FROM audit_acme"));
  }

  /** Named by the config alone, or by a listed topic, the offsets table is refused at validate. */
  @Test
  void aConfigNamingTheOffsetsTableIsRefused() {
    Map<String, String> fixed = LocalTasks.props(url, "table.name.format", "Soma-Connect-Offsets");
    ConfigException e = assertThrows(ConfigException.class, () -> new PostgresSinkConfig(fixed));
    assertTrue(e.getMessage().contains("keeps for itself"), e.getMessage());
    Map<String, String> topic =
        LocalTasks.props(
            url, "topics", "memories, audit.chain.heads", "table.name.format", "soma_${topic}");
    e = assertThrows(ConfigException.class, () -> new PostgresSinkConfig(topic));
    assertTrue(e.getMessage().contains("soma_audit_chain_heads"), e.getMessage());
    assertTrue(
        new PostgresMemorySinkConnector()
            .validate(fixed).configValues().stream()
                .filter(value -> value.name().equals("table.name.format"))
                .anyMatch(value -> !value.errorMessages().isEmpty()));
  }

  /**
   * Named by a topic the config does not list (topics.regex), the offsets table or a partition
   * stops the task, naming the table; nothing is dead-lettered and the table is unchanged.
   */
  @Test
  void aTopicNamingTheOffsetsTableOrAPartitionStopsTheTask() throws SQLException {
    TopicPartition offsetsTopic = new TopicPartition("soma-connect-offsets", 0);
    HandRunTaskContext context = new HandRunTaskContext(offsetsTopic).deadLetterQueue(true);
    PostgresMemorySinkTask task =
        started(context, "write.mode", "append", "errors.tolerance", "all");
    String before = shape("soma_connect_offsets");
    ConnectException e =
        assertThrows(
            ConnectException.class,
            () ->
                task.put(
                    List.of(
                        new SinkRecord(
                            offsetsTopic.topic(),
                            0,
                            null,
                            null,
                            null,
                            Map.of("event_id", "e1"),
                            0))));
    assertTrue(e.getMessage().contains("soma_connect_offsets"), e.getMessage());
    assertTrue(e.getMessage().contains("keeps for itself"), e.getMessage());
    assertEquals(List.of(), context.deadLettered());
    assertEquals(before, shape("soma_connect_offsets"));

    LocalTasks.execute(
        DATABASE,
        "CREATE TABLE parted (event_id text NOT NULL, payload jsonb NOT NULL, kafka_topic text,"
            + " kafka_partition integer, kafka_offset bigint) PARTITION BY LIST (event_id);"
            + " CREATE TABLE parted_all PARTITION OF parted DEFAULT");
    String partition = shape("parted_all");
    HandRunTaskContext other = new HandRunTaskContext(PARTITION).deadLetterQueue(true);
    PostgresMemorySinkTask fixed =
        started(other, "name", "fixed", "write.mode", "append", "table.name.format", "parted_all");
    e = assertThrows(ConnectException.class, () -> fixed.put(List.of(event("e1", "x", 0))));
    assertTrue(e.getMessage().contains("parted_all"), e.getMessage());
    assertTrue(e.getMessage().contains("partition"), e.getMessage());
    assertEquals(List.of(), other.deadLettered());
    assertEquals(partition, shape("parted_all"));
  }
}
