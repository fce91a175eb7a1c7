package io.somastack.connect.postgres.config;

import io.somastack.connect.common.config.DeadLetterQueue;
import io.somastack.connect.common.config.OptionConflict;
import io.somastack.connect.common.config.Recommenders;
import io.somastack.connect.common.config.Validators;
import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.common.postgres.PostgresConnectionConfig;
import io.somastack.connect.common.retry.RetryBackoff;
import io.somastack.connect.common.retry.RetryTimeout;
import io.somastack.connect.common.sql.SqlIdentifier;
import io.somastack.connect.common.template.RecordTemplate;
import io.somastack.connect.postgres.record.TableName;
import io.somastack.connect.postgres.write.SchemaManager;
import io.somastack.connect.postgres.write.TableLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.sink.SinkRecord;

/** The configuration of {@code PostgresMemorySinkConnector}; its ConfigDef generates the docs. */
public final class PostgresSinkConfig extends AbstractConfig {

  public static final String RETRY_BACKOFF_INITIAL_MS = RetryBackoff.INITIAL_CONFIG;
  public static final String RETRY_BACKOFF_MAX_MS = RetryBackoff.MAX_CONFIG;
  public static final String RETRY_TIMEOUT_MS = RetryTimeout.CONFIG;

  public static final String TABLE_NAME_FORMAT = "table.name.format";
  public static final String TABLE_SCHEMA = "table.schema";
  public static final String AUTO_CREATE = "auto.create";
  public static final String AUTO_EVOLVE = "auto.evolve";
  public static final String OFFSETS_TABLE = "offsets.table";

  public static final String WRITE_MODE = "write.mode";
  public static final String ID_FIELD = "id.field";
  public static final String KEY_FIELDS = "key.fields";
  public static final String VERSION_FIELD = "version.field";
  public static final String TOMBSTONES = "tombstones";
  public static final String COLUMNS = "columns";

  /**
   * Dead letters are stored as they came, with Connect's error headers; they are often not the JSON
   * that typed columns expect, so none is extracted, and columns that would stay empty are refused.
   */
  public static final String DEAD_LETTER_COLUMNS =
      "write.mode=dead_letter extracts no columns: a dead letter is stored whole in the event column"
          + " with its error headers; remove columns (query the event's fields with jsonb operators)";

  /**
   * A tombstone has no value, so a table name read from it names no table for the tombstone: every
   * tombstone would be dead-lettered and no row ever deleted.
   */
  static final String VALUE_TABLE_WITH_DELETES =
      "reads the record value, which a tombstone does not have, so with write.mode=upsert and"
          + " tombstones=delete no tombstone could name its table and no row would be deleted:"
          + " name the table from the key (${key.<path>}, ${key}) or the topic (${topic},"
          + " ${partition}), or set tombstones=ignore";

  public static final String AUDIT_TIME_FIELD = "audit.time.field";
  public static final String AUDIT_PARTITIONS_AHEAD = "audit.partitions.ahead.months";

  public static final String BATCH_MAX_RECORDS = "batch.max.records";
  public static final String BATCH_MAX_BYTES = "batch.max.bytes";
  public static final String RECORD_MAX_BYTES = "record.max.bytes";

  private static final String GROUP_CONNECTION = "Connection";
  private static final String GROUP_TABLE = "Tables";
  private static final String GROUP_WRITE = "Writing";
  private static final String GROUP_LIMITS = "Limits";

  /** What a tombstone (a record with a null value) does. */
  public enum Tombstones {
    DELETE,
    IGNORE
  }

  public static final ConfigDef CONFIG_DEF = configDef();

  public PostgresSinkConfig(Map<String, String> props) {
    super(CONFIG_DEF, props);
    PostgresConnectionConfig.check(this); // else found only when a task first connects
    refuseUpsertOptionsElsewhere();
    if (writeMode() == WriteMode.UPSERT && keyFields().isEmpty()) {
      throw new OptionConflict(
          KEY_FIELDS,
          "",
          "write.mode=upsert needs key.fields, the field paths of the key (e.g. namespace,id)");
    }
    TableLayout.of(this); // refuses a column named twice, before any task meets the database
    if (writeMode() == WriteMode.DEAD_LETTER && !getList(COLUMNS).isEmpty()) {
      throw new OptionConflict(COLUMNS, getList(COLUMNS), DEAD_LETTER_COLUMNS);
    }
    RetryBackoff.check(this, RETRY_BACKOFF_INITIAL_MS);
    if (writeMode() == WriteMode.UPSERT
        && tombstones() == Tombstones.DELETE
        && !tableTemplate().valuePaths().isEmpty()) {
      throw new OptionConflict(
          TABLE_NAME_FORMAT, getString(TABLE_NAME_FORMAT), VALUE_TABLE_WITH_DELETES);
    }
    refuseOwnTables();
    refuseAuditPartitionNames();
  }

  /**
   * key.fields and version.field are read in upsert mode only: set in another mode they were taken
   * silently, and the user expecting versioned upserts got appends (or audit rows, or dead
   * letters). Refused on the option when set explicitly with a value (the defaults never are).
   */
  private void refuseUpsertOptionsElsewhere() {
    if (writeMode() == WriteMode.UPSERT) {
      return;
    }
    for (String option : List.of(KEY_FIELDS, VERSION_FIELD)) {
      Object value = originals().get(option);
      if (value != null && !value.toString().isBlank()) {
        throw new OptionConflict(
            option,
            value,
            "is read in write.mode=upsert only, and write.mode is "
                + modeName()
                + ", which "
                + (writeMode() == WriteMode.DEAD_LETTER
                    ? "stores each dead letter as a new row"
                    : "inserts a row per event (unique on id.field), never updating one by key")
                + ": set write.mode=upsert for the latest state per key, or remove "
                + option);
      }
    }
  }

  private String modeName() {
    return writeMode().name().toLowerCase(Locale.ROOT);
  }

  /**
   * In audit mode, a topic listed in topics whose table would take the name of a partition of
   * another listed topic's audit table (its {@code <table>_default} or {@code <table>_YYYY_MM}):
   * the two would collide in the database, whichever comes first (a standalone table keeps the
   * audit table from its partition; a partition is no target). Names as the sink makes them,
   * shortened with their hash when long, so only the topics listed and a template of the topic
   * alone are checked here; the task checks the rest.
   */
  private void refuseAuditPartitionNames() {
    RecordTemplate template = tableTemplate();
    if (writeMode() != WriteMode.AUDIT
        || !template.dependsOnTopicOnly()
        || !template.toString().contains("${")) {
      return;
    }
    Map<String, String> tables = new LinkedHashMap<>();
    for (String topic : listedTopics()) {
      tables.putIfAbsent(
          TableName.of(template.render(new SinkRecord(topic, 0, null, null, null, null, 0))),
          topic);
    }
    for (Map.Entry<String, String> audit : tables.entrySet()) {
      for (Map.Entry<String, String> other : tables.entrySet()) {
        String partition = partitionNamed(audit.getKey(), other.getKey());
        if (partition != null) {
          throw new OptionConflict(
              TABLE_NAME_FORMAT,
              getString(TABLE_NAME_FORMAT),
              "gives topic "
                  + other.getValue()
                  + " the table "
                  + SqlIdentifier.qualified(tableSchema(), partition)
                  + ", the name of a partition of the audit table "
                  + SqlIdentifier.qualified(tableSchema(), audit.getKey())
                  + " of topic "
                  + audit.getValue()
                  + " (audit tables have partitions <table>_default and <table>_YYYY_MM): the"
                  + " two cannot both exist. Give one of the topics another table (a prefix or"
                  + " suffix in table.name.format, or another connector)");
        }
      }
    }
  }

  /** A month's partition's suffix, as the audit setup names it: _2027_06. */
  private static final Pattern MONTH_SUFFIX = Pattern.compile(".*(_\\d{4}_(?:0[1-9]|1[0-2]))");

  /** {@code other} when it is the name of a partition of audit table {@code audit}, else null. */
  private static String partitionNamed(String audit, String other) {
    if (audit.equals(other)) {
      return null;
    }
    if (SqlIdentifier.withSuffix(audit, "_default").equals(other)) {
      return other;
    }
    Matcher month = MONTH_SUFFIX.matcher(other);
    return month.matches() && SqlIdentifier.withSuffix(audit, month.group(1)).equals(other)
        ? other
        : null;
  }

  /** The topics the config lists (topics), none for topics.regex. */
  private List<String> listedTopics() {
    return Arrays.stream(originalsStrings().getOrDefault("topics", "").split(","))
        .map(String::trim)
        .filter(topic -> !topic.isEmpty())
        .toList();
  }

  /**
   * Options set in the configuration that the write mode ignores, and a dead letter queue Connect
   * will not use, one line each: the task warns of them at start. key.fields and version.field
   * outside upsert are refused instead (see {@link #refuseUpsertOptionsElsewhere}).
   */
  public List<String> ignoredOptions() {
    List<String> ignored = new ArrayList<>();
    Map<String, Set<WriteMode>> readIn =
        Map.of(
            ID_FIELD, Set.of(WriteMode.APPEND, WriteMode.AUDIT),
            TOMBSTONES, Set.of(WriteMode.UPSERT),
            AUDIT_TIME_FIELD, Set.of(WriteMode.AUDIT),
            AUDIT_PARTITIONS_AHEAD, Set.of(WriteMode.AUDIT));
    for (String option : List.of(ID_FIELD, TOMBSTONES, AUDIT_TIME_FIELD, AUDIT_PARTITIONS_AHEAD)) {
      if (originals().containsKey(option) && !readIn.get(option).contains(writeMode())) {
        ignored.add(
            option
                + " is ignored: write.mode="
                + modeName()
                + " does not read it"
                + (option.equals(TOMBSTONES)
                    ? " (append and audit modes never delete: tombstones are counted and skipped)"
                    : ""));
      }
    }
    String dlq = DeadLetterQueue.topicWithoutTolerance(originals());
    if (dlq != null) {
      ignored.add(dlq);
    }
    return ignored;
  }

  /**
   * A table.name.format that names one of the sink's own tables (its offsets table, the audit chain
   * tables) by the config alone, or by a topic the config lists, is refused here, where validate
   * shows it; a task would otherwise stop at its first write (a name made from ${partition} or a
   * topic of topics.regex is checked there).
   */
  private void refuseOwnTables() {
    RecordTemplate template = tableTemplate();
    if (!template.dependsOnTopicOnly()) {
      return;
    }
    List<String> topics = template.toString().contains("${") ? listedTopics() : List.of("any");
    Set<String> own = SchemaManager.ownTables(this);
    for (String topic : topics) {
      String rendered = template.render(new SinkRecord(topic, 0, null, null, null, null, 0));
      String table = SqlIdentifier.qualified(tableSchema(), TableName.of(rendered));
      if (own.contains(table)) {
        throw new OptionConflict(
            TABLE_NAME_FORMAT, getString(TABLE_NAME_FORMAT), SchemaManager.sinkOwned(table));
      }
    }
  }

  private static ConfigDef configDef() {
    ConfigDef def = new ConfigDef();
    defineConnection(def);
    defineTables(def);
    defineWriting(def);
    defineLimits(def);
    return def;
  }

  private static void defineConnection(ConfigDef def) {
    int order =
        PostgresConnectionConfig.define(
            def,
            GROUP_CONNECTION,
            "Needs SELECT, INSERT, UPDATE and DELETE on the tables and on the offsets table"
                + " (offsets.table), in dead_letter mode also USAGE on the id sequence. CREATE on"
                + " the schema only to create a missing table: with auto.create, and the offsets"
                + " table, whatever auto.create says; a user without it needs them made"
                + " beforehand (sink-postgres-memory/sql/seed-tables.sql has the DDL). Adding a"
                + " column or index (auto.evolve) needs owning the table. Audit mode always needs"
                + " CREATE on the schema and owning its tables: each start makes monthly partitions"
                + " and its shared chain objects.");
    order =
        RetryBackoff.define(
            def,
            GROUP_CONNECTION,
            ++order,
            RETRY_BACKOFF_INITIAL_MS,
            200L,
            "a transient database error (connection lost, serialization failure, deadlock,"
                + " server restarting)",
            "Connect (Kafka 4.3.1's WorkerSinkTask) delivers a failed batch again after the"
                + " shorter of the wait and the time to the worker's next offset commit, so a"
                + " wait never exceeds the worker's offset.flush.interval.ms (60 s by default).");
    RetryTimeout.define(
        def,
        GROUP_CONNECTION,
        ++order,
        "transient database errors (connection lost, serialization failure, deadlock, server"
            + " restarting)",
        "its SQLSTATE");
  }

  private static void defineTables(ConfigDef def) {
    int order = 0;
    def.define(
        TABLE_NAME_FORMAT,
        Type.STRING,
        "${topic}",
        Validators.recordTemplate("a name template such as ${topic} or memory_${topic}"),
        Importance.HIGH,
        "Table each record goes to. ${topic} is replaced by the record's topic; the result is"
            + " sanitised (lower case; characters other than a-z, 0-9 and _ become _), so"
            + " memory.events lands in memory_events. Topics that differ only in case or in -"
            + " versus _ (Acme and acme, agent-a and agent_a) therefore share a table; Kafka"
            + " itself refuses two topics that differ only in . versus _. A name longer than"
            + " PostgreSQL's 63 bytes is"
            + " cut to 54 and ends with _ and 8 hex digits of a hash of the whole name, so long"
            + " topics that start alike still get a table each. Identifiers are always quoted."
            + " ${partition}, ${key}, ${key.<path>} and ${value.<path>} read the record; a record"
            + " whose name cannot be made (a missing field) is dead-lettered. The key is read as"
            + " key.fields reads it: ${key.<path>} finds the fields of a key of JSON object text"
            + " or bytes (StringConverter, ByteArrayConverter) as of a Struct or Map, and ${key}"
            + " is a text key itself (bytes as their UTF-8 text, a JSON string such as \"t1\""
            + " without its quotes). A tombstone has no"
            + " value, so ${value.<path>} is refused in write.mode=upsert with tombstones=delete"
            + " (no tombstone could name its table): name the table from the key or the topic"
            + " there, or set tombstones=ignore. A name that stands for one of the sink's own"
            + " tables (offsets.table, the default soma_connect_offsets, soma_audit_chain_heads,"
            + " soma_audit_retired), a partition of another table or the name one would take"
            + " (such as an audit table's <table>_default or <table>_YYYY_MM), an audit table"
            + " one of whose partitions' names an earlier table holds, or an existing table"
            + " without the write"
            + " mode's JSON document column (payload; event in dead_letter mode) is never written"
            + " into or altered: a record that names one from its key or value is dead-lettered"
            + " (the reason does not quote the name); named by the config, topic or partition it"
            + " is the config's error, refused at validate where the name is known (a fixed name,"
            + " or a topic listed in topics with a template of the topic alone: the sink's own"
            + " tables, and in audit mode a listed topic's table named as another listed topic's"
            + " partition), else stopping the task with the table's name.",
        GROUP_TABLE,
        ++order,
        Width.MEDIUM,
        "Table name");
    def.define(
        TABLE_SCHEMA,
        Type.STRING,
        "public",
        new ConfigDef.NonEmptyString(),
        Importance.MEDIUM,
        "Database schema of the tables.",
        GROUP_TABLE,
        ++order,
        Width.SHORT,
        "Schema");
    def.define(
        AUTO_CREATE,
        Type.BOOLEAN,
        true,
        Importance.MEDIUM,
        "Create a missing table (and its indexes, and for audit its monthly partitions) with the"
            + " layout of the write mode. Not an audit table whose chain heads are on record (it"
            + " was dropped): the task stops, naming what to do (docs/audit-archival.md)."
            + " Without it a missing table stops the task, unless table.name.format reads the"
            + " record's key or value: then the records that name it are dead-lettered (the"
            + " reason does not quote the name), its tombstones with them, and the others"
            + " written; without a dead-letter queue its tombstones have nothing to delete, so"
            + " they are done (tombstones-without-table-total).",
        GROUP_TABLE,
        ++order,
        Width.SHORT,
        "Create tables");
    def.define(
        AUTO_EVOLVE,
        Type.BOOLEAN,
        true,
        Importance.MEDIUM,
        "Add newly configured columns to an existing table (in upsert mode also the updated_at"
            + " column it sets), and a unique index on the conflict columns when none matches"
            + " (append mode looks for it before every COPY, so one dropped under the task is"
            + " added back before an event id is stored twice). Never drops or rewrites a column"
            + " or a constraint. Without it a table lacking a column the sink writes or that"
            + " unique index (every mode relies on it: append mode for one row per event id)"
            + " stops the task, naming what to add. A table without the write mode's JSON"
            + " document column (payload; event in dead_letter mode) is not one of the sink's"
            + " layout and is never evolved (see table.name.format).",
        GROUP_TABLE,
        ++order,
        Width.SHORT,
        "Add columns");
    def.define(
        OFFSETS_TABLE,
        Type.STRING,
        "soma_connect_offsets",
        new ConfigDef.NonEmptyString(),
        Importance.LOW,
        "Table that holds, per connector, topic and partition, the next Kafka offset to write. It"
            + " is updated in the same transaction as the rows: this is what makes the sink exactly"
            + " once.",
        GROUP_TABLE,
        ++order,
        Width.MEDIUM,
        "Offsets table");
  }

  private static void defineWriting(ConfigDef def) {
    int order = 0;
    def.define(
        WRITE_MODE,
        Type.STRING,
        "append",
        Validators.oneOf(WriteMode.class),
        Importance.HIGH,
        "append: one row per event, unique on id.field; a replayed event never makes a second"
            + " row. upsert: the latest state per key.fields; an older event never overwrites a"
            + " newer one. audit (PostgreSQL 14 or later): tamper-evident, not write-protected:"
            + " the sink only inserts,"
            + " partitioned by month, each row hash-chained to the previous row of its Kafka"
            + " partition, so soma_audit_verify finds rows edited, deleted or added by others (see"
            + " docs/audit-archival.md for what it cannot find). dead_letter: records of Connect"
            + " dead-letter topics, with their key, timestamp and error headers.",
        GROUP_WRITE,
        ++order,
        Width.SHORT,
        "Write mode",
        List.of(
            ID_FIELD,
            KEY_FIELDS,
            VERSION_FIELD,
            TOMBSTONES,
            AUDIT_TIME_FIELD,
            AUDIT_PARTITIONS_AHEAD),
        Recommenders.enumValues(WriteMode.class));
    def.define(
        ID_FIELD,
        Type.STRING,
        "event_id",
        Validators.fieldPath(),
        Importance.HIGH,
        "Field path of the event id (append and audit modes). A record without it is dead-lettered.",
        GROUP_WRITE,
        ++order,
        Width.MEDIUM,
        "Event id field",
        Recommenders.visibleWhen(WRITE_MODE, WriteMode.APPEND, WriteMode.AUDIT));
    def.define(
        KEY_FIELDS,
        Type.LIST,
        "",
        Validators.fieldPaths(),
        Importance.HIGH,
        "Field paths that make the key in upsert mode, e.g. namespace,id. Each becomes a text"
            + " column named after the path's last segment; together they are the primary key."
            + " An event without one of them, or with one empty or only blanks (as append mode"
            + " refuses an empty id.field), is dead-lettered; a boolean is keyed by its JSON text"
            + " (true), a number by the plain decimal text of its value (42, 7.5 for 7.50, 100 for"
            + " 1e2). For a tombstone the same paths are read from the record key"
            + " (a Struct, a map or JSON object text, holding each field at its path or flat under"
            + " its column name), and with a single key field a single value names the row its"
            + " events make: a number or boolean key (LongConverter, JsonConverter, a Struct) by"
            + " the same text as the field, a String or bytes key by its text as written (a"
            + " quoted JSON string by the text inside its quotes), even when it reads as a number"
            + " (1.10, 12e4 may be string ids), so the row of a number"
            + " event keyed 100 is deleted by the key text 100, not 1e2; any other key (an array,"
            + " a single value with several key fields, an empty key field) dead-letters the"
            + " tombstone with the reason. Keys compare as the table's columns do: in a table made"
            + " with citext, uuid or a case-insensitive collation, a tombstone deletes the row of a"
            + " key spelled otherwise, and a batch mixing such spellings is applied in record"
            + " order. The key columns need a unique index that ON CONFLICT can use (the primary"
            + " key, or a unique constraint beside a surrogate key; not partial, on expressions or"
            + " deferrable): auto.evolve adds one, and without it a table lacking one stops the"
            + " task at its first write, naming the table. Refused in the other write modes,"
            + " which read no key.",
        GROUP_WRITE,
        ++order,
        Width.MEDIUM,
        "Key fields",
        Recommenders.visibleWhen(WRITE_MODE, WriteMode.UPSERT));
    def.define(
        VERSION_FIELD,
        Type.STRING,
        null,
        Validators.fieldPath(),
        Importance.MEDIUM,
        "Upsert mode: field path of a numeric version (or epoch-ms timestamp) that decides which"
            + " event is newer; a write whose version is not greater than the stored one is"
            + " refused. The version must be an integer within bigint: a JSON integer, a number"
            + " without a fraction (a Decimal of scale 0), text of one, or a Timestamp of a record"
            + " with a schema, which counts as its epoch milliseconds; an event without one, or"
            + " with null, 1.5 or 2.0, is dead-lettered. When"
            + " unset, newer means later in the same Kafka partition, and an event from another"
            + " partition or topic always counts as newer: right while producers key"
            + " by the same fields, wrong after the topic's partitions are added to (old events"
            + " still queued in a key's former partition would win) or with several topics into"
            + " one table. Set a version field for those. Refused in the other write modes.",
        GROUP_WRITE,
        ++order,
        Width.MEDIUM,
        "Version field",
        Recommenders.visibleWhen(WRITE_MODE, WriteMode.UPSERT));
    def.define(
        TOMBSTONES,
        Type.STRING,
        "delete",
        Validators.oneOf(Tombstones.class),
        Importance.MEDIUM,
        "Upsert mode: delete the row of the key of a tombstone, or ignore tombstones (counted in"
            + " the metric tombstones-ignored-total). A tombstone has no version: it deletes its key's"
            + " row whatever the row's version, unless the row is at or after it in the same Kafka"
            + " partition. A deleted row leaves no version or offset behind, so a replay of the"
            + " topic by something that does not share the sink's stored offsets (a renamed or"
            + " second connector, an offsets table dropped) writes the key's older events again"
            + " until it reaches the tombstone, which deletes the row again; if a deleted row must"
            + " never reappear, even for a while, mark deletions in the event (a deleted flag)"
            + " instead. delete needs a table.name.format that does not read the value, which a"
            + " tombstone lacks. Append and audit modes never delete; their tombstones are counted"
            + " and skipped (set there, the option is ignored and the task warns at start).",
        GROUP_WRITE,
        ++order,
        Width.SHORT,
        "Tombstones",
        Recommenders.enumValues(
            Tombstones.class, Recommenders.visibleWhen(WRITE_MODE, WriteMode.UPSERT)));
    def.define(
        COLUMNS,
        Type.LIST,
        "",
        columnsValidator(),
        Importance.MEDIUM,
        "Typed columns extracted from the event besides the whole payload (jsonb), each written"
            + " column:type:path, e.g. tenant:text:metadata.tenant_id,score:double:importance."
            + " Types: text, bigint, double, boolean, timestamptz, uuid, jsonb. A value of the wrong"
            + " type dead-letters its record. timestamptz takes a number of epoch milliseconds"
            + " (a number of epoch seconds cannot be told from milliseconds and would be read as"
            + " milliseconds, without an error) or text, read as PostgreSQL's timestamptz input"
            + " reads it, in these forms only: YYYY-MM-DD, then T, t or a space, then hh:mm,"
            + " optionally :ss, then after seconds optionally a point and up to 64 digits"
            + " (beyond microseconds rounded to the nearest, as PostgreSQL rounds), then an"
            + " offset: Z, z, +hh, +hhmm, +hh:mm or +hh:mm:ss (or -), at most 15:59:59; each"
            + " number with exactly the digits shown. Second 60 is the next minute's :00 and"
            + " 24:00:00 the next day's midnight, as in PostgreSQL. Text without an offset is"
            + " refused (its instant would depend on a time zone), and so is a time outside the"
            + " years 1 to 9999. Not in write.mode=dead_letter, which stores each dead letter"
            + " whole.",
        GROUP_WRITE,
        ++order,
        Width.LONG,
        "Extracted columns");
    def.define(
        AUDIT_TIME_FIELD,
        Type.STRING,
        "timestamp",
        Validators.fieldPath(),
        Importance.MEDIUM,
        "Audit mode: field path of the event time that picks the monthly partition: a number"
            + " of epoch milliseconds, or text in the forms a timestamptz column takes (see"
            + " columns: ISO-8601 with an offset, read as PostgreSQL reads it, digits beyond"
            + " microseconds rounded). The Kafka record timestamp when the field is missing.",
        GROUP_WRITE,
        ++order,
        Width.MEDIUM,
        "Audit event time",
        Recommenders.visibleWhen(WRITE_MODE, WriteMode.AUDIT));
    def.define(
        AUDIT_PARTITIONS_AHEAD,
        Type.INT,
        3,
        ConfigDef.Range.between(0, 36),
        Importance.LOW,
        "Audit mode: monthly partitions created ahead of the current month. The next month's is"
            + " always created, 0 included (which acts as 1): an event stamped just past the"
            + " month's end by a clock running ahead would otherwise land in the default partition"
            + " and keep that month from ever getting its own.",
        GROUP_WRITE,
        ++order,
        Width.SHORT,
        "Audit partitions ahead",
        Recommenders.visibleWhen(WRITE_MODE, WriteMode.AUDIT));
  }

  private static void defineLimits(ConfigDef def) {
    int order = 0;
    def.define(
        BATCH_MAX_RECORDS,
        Type.INT,
        5000,
        ConfigDef.Range.between(1, 100_000),
        Importance.MEDIUM,
        "Most rows sent in one statement. Each put() is one transaction; larger puts are split"
            + " into statements of this size. Raise consumer.override.max.poll.records to match.",
        GROUP_LIMITS,
        ++order,
        Width.SHORT,
        "Batch size");
    def.define(
        BATCH_MAX_BYTES,
        Type.LONG,
        16L * 1024 * 1024,
        ConfigDef.Range.atLeast(1024),
        Importance.LOW,
        "Most JSON bytes sent in one statement; a put() holding more is split into several"
            + " statements of the same transaction, so no statement grows without bound. In"
            + " write.mode=audit the statements that ask PostgreSQL for the payloads' text to"
            + " hash are cut the same way (one more round trip each); as that text may be far"
            + " longer than the JSON that came (PostgreSQL writes numbers out in full: 1e1000 as"
            + " 1001 digits), a reply carries about twice this many bytes of it, more taking"
            + " further round trips. In write.mode=dead_letter"
            + " each dead letter's key counts too. Counted in UTF-8 bytes, as sent: text"
            + " beyond ASCII takes 2 to 4 bytes a character.",
        GROUP_LIMITS,
        ++order,
        Width.SHORT,
        "Batch bytes");
    def.define(
        RECORD_MAX_BYTES,
        Type.INT,
        1_048_576,
        ConfigDef.Range.atLeast(1),
        Importance.LOW,
        "Largest event (as JSON text) accepted; a larger one is dead-lettered. In"
            + " write.mode=audit an event whose payload, or typed columns, PostgreSQL prints as"
            + " text (what the chain hashes) of more than twice this is dead-lettered too: numbers"
            + " are written out in full there, so 8 bytes as 1e131071 print as 131,073; without"
            + " exponents, no event within this limit prints longer than twice it. In"
            + " write.mode=dead_letter it bounds each dead letter's value as it came (before"
            + " base64 or JSON escapes), and a larger one stops the task, naming its position: set"
            + " it at least to the dead-letter topics' max.message.bytes.",
        GROUP_LIMITS,
        ++order,
        Width.SHORT,
        "Record size limit");
  }

  private static ConfigDef.Validator columnsValidator() {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        if (value == null) {
          return; // Connect refuses a null itself
        }
        for (Object spec : (List<?>) value) {
          try {
            ColumnSpec.parse(spec.toString());
          } catch (IllegalArgumentException e) {
            throw new ConfigException(name, value, e.getMessage());
          }
        }
      }

      @Override
      public String toString() {
        return "column:type:path entries";
      }
    };
  }

  public String url() {
    return PostgresConnectionConfig.url(this);
  }

  /** The pgjdbc connection properties (user, password, TLS). */
  public Properties connectionProperties() {
    Properties props = PostgresConnectionConfig.properties(this, "soma-connect postgres sink");
    // Statements are prepared once per connection and reused for every batch.
    props.setProperty("prepareThreshold", "1");
    return props;
  }

  public WriteMode writeMode() {
    return Validators.parseEnum(WriteMode.class, getString(WRITE_MODE));
  }

  public RecordTemplate tableTemplate() {
    return RecordTemplate.parse(getString(TABLE_NAME_FORMAT));
  }

  public String tableSchema() {
    return getString(TABLE_SCHEMA);
  }

  public boolean autoCreate() {
    return getBoolean(AUTO_CREATE);
  }

  public boolean autoEvolve() {
    return getBoolean(AUTO_EVOLVE);
  }

  public String offsetsTable() {
    return getString(OFFSETS_TABLE);
  }

  public FieldPath idField() {
    return FieldPath.parse(getString(ID_FIELD));
  }

  public List<FieldPath> keyFields() {
    return getList(KEY_FIELDS).stream()
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .map(FieldPath::parse)
        .collect(Collectors.toList());
  }

  public FieldPath versionField() {
    String field = getString(VERSION_FIELD);
    return field == null || field.isBlank() ? null : FieldPath.parse(field);
  }

  public Tombstones tombstones() {
    return Validators.parseEnum(Tombstones.class, getString(TOMBSTONES));
  }

  public List<ColumnSpec> columns() {
    return getList(COLUMNS).stream()
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .map(ColumnSpec::parse)
        .collect(Collectors.toList());
  }

  public FieldPath auditTimeField() {
    return FieldPath.parse(getString(AUDIT_TIME_FIELD));
  }

  public int auditPartitionsAhead() {
    return getInt(AUDIT_PARTITIONS_AHEAD);
  }

  public int batchMaxRecords() {
    return getInt(BATCH_MAX_RECORDS);
  }

  public long batchMaxBytes() {
    return getLong(BATCH_MAX_BYTES);
  }

  public int recordMaxBytes() {
    return getInt(RECORD_MAX_BYTES);
  }

  public long backoffInitialMs() {
    return getLong(RETRY_BACKOFF_INITIAL_MS);
  }

  public long backoffMaxMs() {
    return getLong(RETRY_BACKOFF_MAX_MS);
  }

  /** How long a run of transient errors is retried; -1: for ever. */
  public long retryTimeoutMs() {
    return getLong(RETRY_TIMEOUT_MS);
  }
}
