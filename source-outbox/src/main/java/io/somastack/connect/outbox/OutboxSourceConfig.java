package io.somastack.connect.outbox;

import io.somastack.connect.common.config.OptionConflict;
import io.somastack.connect.common.config.Recommenders;
import io.somastack.connect.common.config.Validators;
import io.somastack.connect.common.postgres.PostgresConnectionConfig;
import io.somastack.connect.common.retry.RetryBackoff;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.ConfigException;

/** The configuration of {@link PostgresOutboxSourceConnector} and its tasks. */
public final class OutboxSourceConfig extends AbstractConfig {

  /** What happens to a row once Kafka has it. */
  public enum AfterPublish {
    DELETE,
    MARK
  }

  /** Where a row that cannot be relayed goes. */
  public enum BadRowAction {
    DLQ,
    FLAG
  }

  /** Where a record's topic comes from. */
  public enum TopicMode {
    COLUMN,
    FIXED
  }

  /** How value.format=struct types a number an int64 or a float64 cannot hold exactly. */
  public enum StructNumbers {
    EXACT,
    DOUBLE
  }

  /** The shape of a record's value. */
  public enum ValueFormat {
    STRING,
    BYTES,
    STRUCT
  }

  private static final String GROUP_CONNECTION = "Connection";
  private static final String GROUP_TABLES = "Outbox tables";
  private static final String GROUP_COLUMNS = "Columns";
  private static final String GROUP_RECORDS = "Records";
  private static final String GROUP_BAD_ROWS = "Bad rows";
  private static final String GROUP_POLLING = "Polling and retries";

  public static final String TABLES = "outbox.tables";
  public static final String TABLE_CREATE = "outbox.table.create";
  public static final String AFTER_PUBLISH = "after.publish";

  public static final String COLUMN_ID = "column.id";
  public static final String COLUMN_TXID = "column.txid";
  public static final String COLUMN_TOPIC = "column.topic";
  public static final String COLUMN_PAYLOAD = "column.payload";
  public static final String COLUMN_DEDUPE_KEY = "column.dedupe.key";
  public static final String COLUMN_KEY = "column.key";
  public static final String COLUMN_HEADERS = "column.headers";
  public static final String COLUMN_CREATED_AT = "column.created.at";
  public static final String CREATED_AT_TIME_ZONE = "created.at.time.zone";
  public static final String COLUMN_PUBLISHED_AT = "column.published.at";
  public static final String COLUMN_ERROR = "column.error";

  public static final String TOPIC_MODE = "topic.mode";
  public static final String TOPIC_FIXED = "topic.fixed";
  public static final String TOPIC_ALLOW_REGEX = "topic.allow.regex";
  public static final String VALUE_FORMAT = "value.format";
  public static final String VALUE_STRUCT_NUMBERS = "value.struct.numbers";
  public static final String VALUE_SCHEMA_NAME = "value.schema.name";
  public static final String DEDUPE_HEADER = "dedupe.header";

  public static final String PAYLOAD_MAX_BYTES = "payload.max.bytes";
  public static final String PAYLOAD_JSON_CHECK = "payload.json.check";
  public static final String BAD_ROW_ACTION = "bad.row.action";
  public static final String DLQ_TABLE = "dlq.table";

  public static final String POLL_MAX_ROWS = "poll.max.rows";
  public static final String POLL_MAX_BYTES = "poll.max.bytes";
  public static final String POLL_INTERVAL_MS = "poll.interval.ms";
  public static final String NOTIFY_CHANNEL = "notify.channel";
  public static final String RETRY_BACKOFF_INITIAL_MS = RetryBackoff.INITIAL_CONFIG;
  public static final String RETRY_BACKOFF_MAX_MS = RetryBackoff.MAX_CONFIG;
  public static final String METRICS_BACKLOG_INTERVAL_MS = "metrics.backlog.interval.ms";

  /** Set by the connector on each task: the tables that task relays. */
  public static final String TASK_TABLES = "task.tables";

  /** Kafka's rule for topic names (besides "." and "..", see {@link #isLegalTopic}). */
  static final Pattern LEGAL_TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

  /** PostgreSQL's NAMEDATALEN - 1: the longest channel name, in bytes. */
  private static final int MAX_CHANNEL_BYTES = 63;

  /** Whether Kafka accepts {@code topic} as a topic name. */
  static boolean isLegalTopic(String topic) {
    return topic != null
        && LEGAL_TOPIC.matcher(topic).matches()
        && !topic.equals(".")
        && !topic.equals("..");
  }

  /**
   * Empty, or a name of the time zone database's form (Europe/Berlin, UTC, Etc/GMT+1), checked by
   * its form only (see {@link CreatedAtZone#formProblem}): PostgreSQL converts the local times, so
   * whether it knows the zone is asked at task start, not the worker JVM, whose time zone data may
   * be older or newer than the server's.
   */
  private static final ConfigDef.Validator TIME_ZONE =
      new ConfigDef.Validator() {
        @Override
        public void ensureValid(String name, Object value) {
          String zone = value == null ? "" : value.toString().trim();
          String problem = zone.isEmpty() ? null : CreatedAtZone.formProblem(zone);
          if (problem != null) {
            throw new ConfigException(name, value, problem);
          }
        }

        @Override
        public String toString() {
          return "empty, or a zone name such as Europe/Berlin or UTC";
        }
      };

  public static final ConfigDef CONFIG_DEF = configDef();

  public OutboxSourceConfig(Map<String, String> props) {
    super(CONFIG_DEF, props);
    checkCombinations();
  }

  private static ConfigDef configDef() {
    ConfigDef def = new ConfigDef();
    defineConnection(def);
    defineTables(def);
    defineColumns(def);
    defineRecords(def);
    defineBadRows(def);
    definePolling(def);
    return def;
  }

  /** The connection, and the privileges the relay needs. */
  private static void defineConnection(ConfigDef def) {
    PostgresConnectionConfig.define(
        def,
        GROUP_CONNECTION,
        "Needs USAGE on the tables' schemas, SELECT on the outbox tables (column grants"
            + " do), and on them DELETE"
            + " with after.publish=delete, UPDATE of column.published.at with mark; with"
            + " bad.row.action=dlq (the default) also DELETE on them (in mark mode too), INSERT"
            + " on dlq.table, which must exist, and USAGE on its serial id's sequence (an"
            + " identity id needs none); with flag UPDATE"
            + " of column.error (in delete mode too). outbox.table.create=true needs CREATE on"
            + " the schemas and owning the tables and trigger functions it alters; without it"
            + " their owner runs sql/outbox.sql beforehand. A task checks this when it first"
            + " connects and stops, naming what is missing and the GRANT that gives it.");
  }

  /** Which tables are relayed, and what happens to a row once Kafka has it. */
  private static void defineTables(ConfigDef def) {
    int order = 0;
    def.define(
        TABLES,
        Type.LIST,
        "public.outbox",
        distinctNonEmpty(),
        Importance.HIGH,
        "Outbox tables to relay, as schema.table (or table, resolved through the search_path)."
            + " One table per service is typical; tables are spread over the connector's tasks."
            + " Two names for one table (outbox and public.outbox), or a table and one of its"
            + " partitions (whose rows a read of it reads too), are refused, and a table is"
            + " relayed by one task at a time: a task whose table another relay holds (a second"
            + " connector on it, or on a partition of it or a table it is a partition of, at any"
            + " depth) waits, see tables-locked-elsewhere. A table's partitions are looked up"
            + " when a task connects and every 5 s: a table attached (ATTACH PARTITION) under a"
            + " relayed one is covered from the next check, up to 5 s later.",
        GROUP_TABLES,
        ++order,
        Width.LONG,
        "Outbox tables");
    def.define(
        TABLE_CREATE,
        Type.BOOLEAN,
        false,
        Importance.MEDIUM,
        "Create missing outbox tables, the relay index, the NOTIFY trigger and the dead-letter"
            + " table (sql/outbox.sql with the configured names), and add a missing txid, error or"
            + " published_at column to an existing table.",
        GROUP_TABLES,
        ++order,
        Width.SHORT,
        "Create tables");
    def.define(
        AFTER_PUBLISH,
        Type.STRING,
        "delete",
        Validators.oneOf(AfterPublish.class),
        Importance.HIGH,
        "What to do with a row once Kafka has it: delete it (as the seed's Outbox Sync did) or"
            + " mark it by setting the published_at column. Done in batches after the Kafka"
            + " commit.",
        GROUP_TABLES,
        ++order,
        Width.SHORT,
        "After publish",
        Recommenders.enumValues(AfterPublish.class));
  }

  /** The outbox table's columns. */
  private static void defineColumns(ConfigDef def) {
    int order = 0;
    column(def, COLUMN_ID, "id", "Row id: bigint, from a sequence.", ++order);
    column(
        def,
        COLUMN_TXID,
        "txid",
        "The inserting transaction's id, xid8 DEFAULT pg_current_xact_id(): decides when a row"
            + " can no longer be overtaken (see README).",
        ++order);
    column(
        def,
        COLUMN_TOPIC,
        "topic",
        "The topic of the row's event, read as its text; with topic.mode=column a bytea column"
            + " (whose text is hex, no topic name) stops the task.",
        ++order);
    column(
        def,
        COLUMN_PAYLOAD,
        "payload",
        "The event payload: jsonb, json, text or varchar, read as its text. A column of another"
            + " type (bytea, whose text is hex) stops the task.",
        ++order);
    column(
        def,
        COLUMN_DEDUPE_KEY,
        "dedupe_key",
        "The event's idempotency key, sent in the dedupe header and used as the record key"
            + " unless column.key is set. Read as its text (uuid, integer, ...: their usual"
            + " text); a bytea column stops the task.",
        ++order);
    def.define(
        COLUMN_KEY,
        Type.STRING,
        "",
        Importance.MEDIUM,
        "Column whose text is the record key (e.g. key, or an aggregate id) so events of one"
            + " aggregate share a partition and stay ordered. Empty: the dedupe key column. A column"
            + " named here that the table lacks, or one of type bytea (whose text is hex), stops"
            + " the task.",
        GROUP_COLUMNS,
        ++order,
        Width.MEDIUM,
        "Key column");
    def.define(
        COLUMN_HEADERS,
        Type.STRING,
        "headers",
        Importance.LOW,
        "jsonb object column (or json, text, varchar; another type stops the task) whose fields"
            + " become record headers. Empty, or a table without the column: no headers besides"
            + " the dedupe header.",
        GROUP_COLUMNS,
        ++order,
        Width.MEDIUM,
        "Headers column");
    column(
        def,
        COLUMN_CREATED_AT,
        "created_at",
        "Insert time: the record timestamp, and the base of the pickup latency and backlog age"
            + " metrics.",
        ++order);
    def.define(
        CREATED_AT_TIME_ZONE,
        Type.STRING,
        "",
        TIME_ZONE,
        Importance.MEDIUM,
        "Only for a column.created.at of type timestamp (without time zone), which holds local"
            + " times: the zone they are in, the TimeZone of the sessions that write them (SHOW"
            + " TimeZone in one), e.g. Europe/Berlin or UTC. The relay cannot find it out: pgjdbc"
            + " gives the relay's session the worker JVM's zone, not the database's. Such a column"
            + " without this option stops the task. A timestamptz column needs none. A zone the"
            + " PostgreSQL server does not know (pg_timezone_names) stops the task. Name a"
            + " region: an offset (+02:00, UTC+2) is refused, and so is a name PostgreSQL also"
            + " knows as an abbreviation (CET, MET, EET, WET, EST, MST, HST), as AT TIME ZONE"
            + " reads it as a fixed offset (CET: +01:00 in summer too); the time zone database's"
            + " region for it (Europe/Brussels for CET) has its rules.",
        GROUP_COLUMNS,
        ++order,
        Width.MEDIUM,
        "Time zone of a timestamp created_at");
    column(
        def,
        COLUMN_PUBLISHED_AT,
        "published_at",
        "Set when after.publish=mark; rows where it is null are unpublished.",
        ++order);
    column(
        def,
        COLUMN_ERROR,
        "error",
        "With bad.row.action=flag: the column that receives a bad row's reason. In a table that"
            + " has it, a row where it is set is left alone under either bad.row.action.",
        ++order);
  }

  /** How a row becomes a Kafka record. */
  private static void defineRecords(ConfigDef def) {
    int order = 0;
    def.define(
        TOPIC_MODE,
        Type.STRING,
        "column",
        Validators.oneOf(TopicMode.class),
        Importance.HIGH,
        "column: each row names its topic; fixed: every row goes to topic.fixed.",
        GROUP_RECORDS,
        ++order,
        Width.SHORT,
        "Topic mode",
        List.of(TOPIC_FIXED),
        Recommenders.enumValues(TopicMode.class));
    def.define(
        TOPIC_FIXED,
        Type.STRING,
        null,
        Importance.MEDIUM,
        "The topic of every record when topic.mode=fixed.",
        GROUP_RECORDS,
        ++order,
        Width.MEDIUM,
        "Fixed topic",
        Recommenders.visibleWhen(TOPIC_MODE, TopicMode.FIXED));
    def.define(
        TOPIC_ALLOW_REGEX,
        Type.STRING,
        null,
        Validators.regex(),
        Importance.MEDIUM,
        "When set, a row whose topic does not match this regular expression (whole name) is a"
            + " bad row, e.g. somastack\\..*",
        GROUP_RECORDS,
        ++order,
        Width.MEDIUM,
        "Allowed topics");
    def.define(
        VALUE_FORMAT,
        Type.STRING,
        "string",
        Validators.oneOf(ValueFormat.class),
        Importance.HIGH,
        "string: the payload's JSON text (use StringConverter); bytes: its UTF-8 bytes"
            + " (ByteArrayConverter); struct: a Struct whose schema is inferred from the JSON object"
            + " (JsonConverter, Avro, ...); a number an int64 or float64 cannot hold digit for digit"
            + " is a Connect Decimal (with JsonConverter set decimal.format=NUMERIC to write it as"
            + " a JSON number). The payload must be JSON that Kafka Connect's JSON tooling reads:"
            + " at most 1000 levels of objects and arrays, numbers of at most 1000 characters, no"
            + " duplicate keys; a row whose payload is not is a bad row (with string and bytes"
            + " unless payload.json.check=false).",
        GROUP_RECORDS,
        ++order,
        Width.SHORT,
        "Value format",
        List.of(VALUE_STRUCT_NUMBERS, VALUE_SCHEMA_NAME, PAYLOAD_JSON_CHECK),
        Recommenders.enumValues(ValueFormat.class));
    def.define(
        VALUE_STRUCT_NUMBERS,
        Type.STRING,
        "exact",
        Validators.oneOf(StructNumbers.class),
        Importance.MEDIUM,
        "value.format=struct only. exact: a number an int64 or float64 cannot hold digit for digit"
            + " is a Connect Decimal with the scale it needs, so a field's schema can change with"
            + " its values (float64 for 2.5, Decimal for 0.33333333333333333333), which a Schema"
            + " Registry's compatibility check may refuse. double: every such number is a float64,"
            + " rounded to the nearest (digits beyond a double's 17 are lost, by this choice), and"
            + " a field's schema stays the same; like Debezium's decimal.handling.mode=double.",
        GROUP_RECORDS,
        ++order,
        Width.SHORT,
        "Struct numbers",
        Recommenders.enumValues(
            StructNumbers.class, Recommenders.visibleWhen(VALUE_FORMAT, ValueFormat.STRUCT)));
    def.define(
        VALUE_SCHEMA_NAME,
        Type.STRING,
        "io.somastack.outbox.Payload",
        Importance.LOW,
        "The schema name of struct values.",
        GROUP_RECORDS,
        ++order,
        Width.MEDIUM,
        "Value schema name",
        Recommenders.visibleWhen(VALUE_FORMAT, ValueFormat.STRUCT));
    def.define(
        DEDUPE_HEADER,
        Type.STRING,
        "id",
        new ConfigDef.NonEmptyString(),
        Importance.MEDIUM,
        "Header carrying the row's dedupe key (or table:id when it is null), so consumers can"
            + " de-duplicate when exactly-once support is off.",
        GROUP_RECORDS,
        ++order,
        Width.SHORT,
        "Dedupe header");
  }

  /** What happens to a row that cannot be relayed. */
  private static void defineBadRows(ConfigDef def) {
    int order = 0;
    def.define(
        PAYLOAD_MAX_BYTES,
        Type.INT,
        1_000_000,
        ConfigDef.Range.atLeast(1),
        Importance.MEDIUM,
        "A row whose payload, key and headers together are longer than this is a bad row,"
            + " measured twice: as stored (the bytes of the payload's, the key's and the headers'"
            + " text as the database measures them, the headers as their whole JSON text with"
            + " braces, quotes, colons, commas and escapes; checked in the query, so none of the"
            + " three is read into the worker; the reason then says \"as stored\"), and as the"
            + " record (UTF-8 bytes of the payload's JSON text, the key, and the header names and"
            + " values, with the dedupe header). Keep"
            + " it below the producer's max.request.size, with room for what the converters add"
            + " (a JsonConverter with schemas.enable=true writes the schema into every value): with"
            + " exactly-once support, or with errors.tolerance=none, a record the producer refuses"
            + " fails the task on the same row after every restart.",
        GROUP_BAD_ROWS,
        ++order,
        Width.SHORT,
        "Max payload bytes");
    def.define(
        PAYLOAD_JSON_CHECK,
        Type.BOOLEAN,
        true,
        Importance.MEDIUM,
        "value.format=string or bytes only (a struct payload is always parsed). true (the"
            + " default): a payload that Kafka Connect's JSON tooling cannot read (not JSON,"
            + " duplicate keys, over 1000 levels of objects and arrays, a number of over 1000"
            + " characters) is a bad row, so a transform that reads the value as JSON"
            + " (KeyFromField in outbox-relay.json, the project's other transforms) or a"
            + " JsonConverter downstream never fails the task on it. false: every payload is"
            + " relayed exactly as stored (its text, or its UTF-8 bytes), for payloads that are"
            + " not JSON (XML, plain text); a transform that reads the value as JSON then fails"
            + " the task on such a row, at that row after every restart.",
        GROUP_BAD_ROWS,
        ++order,
        Width.SHORT,
        "Check JSON payloads",
        Recommenders.visibleWhen(VALUE_FORMAT, ValueFormat.STRING, ValueFormat.BYTES));
    def.define(
        BAD_ROW_ACTION,
        Type.STRING,
        "dlq",
        Validators.oneOf(BadRowAction.class),
        Importance.HIGH,
        "dlq: move a bad row (as jsonb, a json column as a string of its text, exactly as"
            + " written) with its reason into dlq.table and delete it from the"
            + " outbox, in one statement; flag: write the reason into column.error and leave the"
            + " row. A flagged row is skipped, never deleted, marked or dead-lettered, under either"
            + " action (after a switch to dlq too) until its error is cleared.",
        GROUP_BAD_ROWS,
        ++order,
        Width.SHORT,
        "Bad row action",
        List.of(DLQ_TABLE, COLUMN_ERROR),
        Recommenders.enumValues(BadRowAction.class));
    def.define(
        DLQ_TABLE,
        Type.STRING,
        "public.dlq",
        new ConfigDef.NonEmptyString(),
        Importance.MEDIUM,
        "The dead-letter table: dlq(id, topic, event jsonb, error text, created_at), as in the"
            + " seed schema. Not one of outbox.tables (with bad.row.action=dlq a table named in"
            + " both, with or without its schema, is refused).",
        GROUP_BAD_ROWS,
        ++order,
        Width.MEDIUM,
        "Dead-letter table");
  }

  /** How often and how much the relay reads, and how it retries. */
  private static void definePolling(ConfigDef def) {
    int order = 0;
    def.define(
        POLL_MAX_ROWS,
        Type.INT,
        1000,
        ConfigDef.Range.between(1, 100_000),
        Importance.MEDIUM,
        "Most rows a poll reads, over all the tables of the task (with poll.max.bytes, one"
            + " budget per poll, which the tables take turns at using first).",
        GROUP_POLLING,
        ++order,
        Width.SHORT,
        "Rows per poll");
    def.define(
        POLL_MAX_BYTES,
        Type.INT,
        8 * 1024 * 1024,
        ConfigDef.Range.atLeast(1),
        Importance.MEDIUM,
        "Most bytes a poll reads, over all the tables of the task: the payloads, keys and"
            + " headers of the rows, as the database measures their text (a row over"
            + " payload.max.bytes counts too, but only its lengths are read). A poll takes each"
            + " table's rows in order while they fit, and always at least one row, so a single"
            + " larger row is still relayed: a poll reads at most this, or one row over it. The"
            + " tables take turns at being read first, so a table whose backlog fills a poll"
            + " alone holds no other back for longer than a poll per table. With poll.max.rows it"
            + " bounds the memory a poll takes in the worker; the default, 8 MiB, is 8 times the"
            + " producer's default max.request.size and a quarter of its default buffer.memory.",
        GROUP_POLLING,
        ++order,
        Width.SHORT,
        "Bytes per poll");
    def.define(
        POLL_INTERVAL_MS,
        Type.LONG,
        1000L,
        ConfigDef.Range.between(10, 600_000),
        Importance.MEDIUM,
        "Polling fallback: the longest wait for a notification before the tables are read"
            + " anyway.",
        GROUP_POLLING,
        ++order,
        Width.SHORT,
        "Poll interval");
    def.define(
        NOTIFY_CHANNEL,
        Type.STRING,
        "soma_outbox",
        channelName(),
        Importance.LOW,
        "LISTEN channel the outbox trigger notifies on insert. Empty: poll only.",
        GROUP_POLLING,
        ++order,
        Width.MEDIUM,
        "Notify channel");
    order =
        RetryBackoff.define(
            def,
            GROUP_POLLING,
            ++order,
            RETRY_BACKOFF_INITIAL_MS,
            100L,
            "a transient database error (retried for ever, on a new connection)");
    def.define(
        METRICS_BACKLOG_INTERVAL_MS,
        Type.LONG,
        5000L,
        ConfigDef.Range.atLeast(100),
        Importance.LOW,
        "How often the backlog and oldest-unpublished-age metrics are refreshed.",
        GROUP_POLLING,
        ++order,
        Width.SHORT,
        "Backlog metric interval");
    def.defineInternal(TASK_TABLES, Type.LIST, "", Importance.LOW);
  }

  private static void column(ConfigDef def, String name, String dflt, String doc, int order) {
    def.define(
        name,
        Type.STRING,
        dflt,
        new ConfigDef.NonEmptyString(),
        Importance.LOW,
        doc,
        GROUP_COLUMNS,
        order,
        Width.MEDIUM,
        name);
  }

  private static ConfigDef.Validator distinctNonEmpty() {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        List<?> list = (List<?>) value;
        if (list == null || list.isEmpty()) {
          throw new ConfigException(name, value, "name at least one table");
        }
        Set<String> seen = new HashSet<>();
        for (Object item : list) {
          String table = item.toString().trim();
          if (table.isEmpty() || table.startsWith(".") || table.endsWith(".")) {
            throw new ConfigException(name, value, "'" + table + "' is not schema.table");
          }
          if (!seen.add(table)) {
            throw new ConfigException(name, value, "'" + table + "' is listed twice");
          }
        }
      }

      @Override
      public String toString() {
        return "distinct schema.table names";
      }
    };
  }

  /**
   * pg_notify raises an error on a channel name over 63 bytes, which the trigger would turn into a
   * failed insert in every writer's transaction; LISTEN would silently cut the name short instead.
   */
  private static ConfigDef.Validator channelName() {
    return new ConfigDef.Validator() {
      @Override
      public void ensureValid(String name, Object value) {
        String channel = value == null ? "" : value.toString().trim();
        if (channel.getBytes(StandardCharsets.UTF_8).length > MAX_CHANNEL_BYTES) {
          throw new ConfigException(name, value, "a channel name has at most 63 bytes");
        }
      }

      @Override
      public String toString() {
        return "at most 63 bytes";
      }
    };
  }

  private void checkCombinations() {
    PostgresConnectionConfig.check(this); // else found only at a task's first poll
    if (topicMode() == TopicMode.FIXED) {
      String topic = getString(TOPIC_FIXED);
      if (!isLegalTopic(topic)) {
        throw new OptionConflict(
            TOPIC_FIXED, topic, "topic.mode=fixed needs a legal Kafka topic name here");
      }
      Pattern allowed = allowedTopics();
      if (allowed != null && !allowed.matcher(topic).matches()) {
        // every row would be a bad row
        throw new OptionConflict(
            TOPIC_FIXED, topic, "does not match " + TOPIC_ALLOW_REGEX + " (" + allowed + ")");
      }
    }
    RetryBackoff.check(this, RETRY_BACKOFF_INITIAL_MS);
    checkColumnsDistinct();
    for (String table : getList(TABLES)) {
      checkTable(TABLES, table);
    }
    checkTable(DLQ_TABLE, getString(DLQ_TABLE));
    checkDlqNotAnOutbox();
  }

  /**
   * A dead-letter table that is one of the outbox tables validated clean, and the first bad row
   * then failed: the dead letter is no outbox row, and its move would read from and write to the
   * same table. Names are compared as the relay uses them (quoted, so case counts); one without a
   * schema is found through the search_path, public by default, so it is taken for the same table
   * as the name qualified with public (outbox and public.outbox); dlq.outbox, in a schema of its
   * own, is another table.
   */
  private void checkDlqNotAnOutbox() {
    if (badRowAction() != BadRowAction.DLQ) {
      return;
    }
    OutboxTable dlq = dlqTable();
    for (String name : tables()) {
      OutboxTable outbox = OutboxTable.parse(name);
      boolean sameSchema = schemaOrPublic(dlq).equals(schemaOrPublic(outbox));
      if (sameSchema && dlq.table().equals(outbox.table())) {
        throw new OptionConflict(
            DLQ_TABLE,
            getString(DLQ_TABLE),
            "names the outbox table "
                + name
                + " listed in "
                + TABLES
                + (dlq.name().equals(outbox.name())
                    ? ""
                    : " (a name without a schema is found through the search_path, public by"
                        + " default)")
                + ": bad rows must go to a table of their own, such as the seed schema's"
                + " public.dlq(id, topic, event jsonb, error text, created_at)");
      }
    }
  }

  private static String schemaOrPublic(OutboxTable table) {
    return table.schema() == null ? "public" : table.schema();
  }

  /**
   * Options set in the configuration that the chosen mode ignores, one line each: the connector
   * warns of them at start.
   */
  public List<String> ignoredOptions() {
    List<String> ignored = new ArrayList<>();
    if (topicMode() == TopicMode.COLUMN && originals().containsKey(TOPIC_FIXED)) {
      ignored.add(
          TOPIC_FIXED
              + " is ignored: topic.mode=column takes each record's topic from the row's "
              + getString(COLUMN_TOPIC)
              + " column; set topic.mode=fixed to send every row to "
              + TOPIC_FIXED);
    }
    return ignored;
  }

  /**
   * One column per role. A column named in two options was taken, and a row was then read (or not)
   * by the wrong one: column.error=payload, or column.published.at=created_at, made every row look
   * published or flagged, so the task ran and relayed nothing, and the backlog metrics, which use
   * the same filter, read 0. The record key may be any column the relay only reads (the dedupe key
   * by default), but not one it writes.
   */
  private void checkColumnsDistinct() {
    List<String> roles = new ArrayList<>(List.of(COLUMN_ID, COLUMN_TXID));
    if (topicMode() == TopicMode.COLUMN) {
      roles.add(COLUMN_TOPIC);
    }
    roles.addAll(
        List.of(
            COLUMN_PAYLOAD,
            COLUMN_DEDUPE_KEY,
            COLUMN_HEADERS,
            COLUMN_CREATED_AT,
            COLUMN_PUBLISHED_AT,
            COLUMN_ERROR));
    Map<String, String> optionOf = new HashMap<>();
    for (String option : roles) {
      String column = getString(option);
      if (column == null || column.isBlank()) {
        continue; // column.headers may be empty: no headers column
      }
      String earlier = optionOf.putIfAbsent(column, option);
      if (earlier != null) {
        throw new OptionConflict(
            option, column, "names the same column as " + earlier + ": each column has one role");
      }
    }
    if (keyColumnSet()) {
      String key = getString(COLUMN_KEY);
      for (String written : List.of(COLUMN_PUBLISHED_AT, COLUMN_ERROR)) {
        if (key.equals(getString(written))) {
          throw new OptionConflict(
              COLUMN_KEY,
              key,
              "names the same column as " + written + ", which the relay writes, not a key");
        }
      }
    }
  }

  private static void checkTable(String option, String table) {
    try {
      OutboxTable.parse(table.trim());
    } catch (ConfigException e) {
      throw new OptionConflict(option, table, e.getMessage());
    }
  }

  public String url() {
    return PostgresConnectionConfig.url(this);
  }

  /**
   * pgjdbc connection properties: user, password, TLS, TCP keepalives. The application name carries
   * the connector's name, so that pg_stat_activity (and the warning of a task waiting for a table's
   * lock) says which connector holds a table.
   */
  public Properties connectionProperties() {
    Object connector = originals().get("name");
    return PostgresConnectionConfig.properties(
        this, "soma-connect outbox source" + (connector == null ? "" : " " + connector));
  }

  public List<String> tables() {
    List<String> tables = new ArrayList<>();
    getList(TABLES).forEach(t -> tables.add(t.trim()));
    return tables;
  }

  /** The tables of one task (falls back to all tables when not set, e.g. in unit tests). */
  public List<OutboxTable> taskTables() {
    List<String> names = getList(TASK_TABLES);
    List<OutboxTable> tables = new ArrayList<>();
    for (String name : names.isEmpty() ? tables() : names) {
      tables.add(OutboxTable.parse(name.trim()));
    }
    return tables;
  }

  public boolean createTables() {
    return getBoolean(TABLE_CREATE);
  }

  public AfterPublish afterPublish() {
    return Validators.parseEnum(AfterPublish.class, getString(AFTER_PUBLISH));
  }

  public BadRowAction badRowAction() {
    return Validators.parseEnum(BadRowAction.class, getString(BAD_ROW_ACTION));
  }

  public TopicMode topicMode() {
    return Validators.parseEnum(TopicMode.class, getString(TOPIC_MODE));
  }

  public boolean exactStructNumbers() {
    return Validators.parseEnum(StructNumbers.class, getString(VALUE_STRUCT_NUMBERS))
        == StructNumbers.EXACT;
  }

  public ValueFormat valueFormat() {
    return Validators.parseEnum(ValueFormat.class, getString(VALUE_FORMAT));
  }

  public String fixedTopic() {
    return getString(TOPIC_FIXED);
  }

  public Pattern allowedTopics() {
    String regex = getString(TOPIC_ALLOW_REGEX);
    return regex == null || regex.isEmpty() ? null : Pattern.compile(regex);
  }

  /** created.at.time.zone, or null when not set. */
  public String createdAtTimeZone() {
    String zone = getString(CREATED_AT_TIME_ZONE);
    return zone == null || zone.isBlank() ? null : zone.trim();
  }

  public String valueSchemaName() {
    return getString(VALUE_SCHEMA_NAME);
  }

  public String dedupeHeader() {
    return getString(DEDUPE_HEADER);
  }

  public int payloadMaxBytes() {
    return getInt(PAYLOAD_MAX_BYTES);
  }

  /** payload.json.check: whether a string or bytes payload must be JSON Connect reads. */
  public boolean payloadJsonCheck() {
    return getBoolean(PAYLOAD_JSON_CHECK);
  }

  public OutboxTable dlqTable() {
    return OutboxTable.parse(getString(DLQ_TABLE).trim());
  }

  public int pollMaxRows() {
    return getInt(POLL_MAX_ROWS);
  }

  public int pollMaxBytes() {
    return getInt(POLL_MAX_BYTES);
  }

  public long pollIntervalMs() {
    return getLong(POLL_INTERVAL_MS);
  }

  public String notifyChannel() {
    String channel = getString(NOTIFY_CHANNEL);
    return channel == null || channel.isBlank() ? null : channel.trim();
  }

  public long backoffInitialMs() {
    return getLong(RETRY_BACKOFF_INITIAL_MS);
  }

  public long backoffMaxMs() {
    return getLong(RETRY_BACKOFF_MAX_MS);
  }

  public long backlogIntervalMs() {
    return getLong(METRICS_BACKLOG_INTERVAL_MS);
  }

  /**
   * Whether column.key names a column of its own. Only then must the table have it: the default,
   * the dedupe key column, may be missing (records then have no key).
   */
  public boolean keyColumnSet() {
    String key = getString(COLUMN_KEY);
    return key != null && !key.isBlank();
  }

  /** The configured column names. */
  public OutboxColumns columns() {
    String key = getString(COLUMN_KEY);
    String headers = getString(COLUMN_HEADERS);
    return new OutboxColumns(
        getString(COLUMN_ID),
        getString(COLUMN_TXID),
        getString(COLUMN_TOPIC),
        getString(COLUMN_PAYLOAD),
        getString(COLUMN_DEDUPE_KEY),
        key == null || key.isBlank() ? getString(COLUMN_DEDUPE_KEY) : key.trim(),
        headers == null || headers.isBlank() ? null : headers.trim(),
        getString(COLUMN_CREATED_AT),
        getString(COLUMN_PUBLISHED_AT),
        getString(COLUMN_ERROR));
  }
}
