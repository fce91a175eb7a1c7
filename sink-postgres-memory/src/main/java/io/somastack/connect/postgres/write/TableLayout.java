package io.somastack.connect.postgres.write;

import io.somastack.connect.common.config.OptionConflict;
import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.common.sql.SqlIdentifier;
import io.somastack.connect.common.text.Utf8;
import io.somastack.connect.postgres.config.ColumnSpec;
import io.somastack.connect.postgres.config.PostgresSinkConfig;
import io.somastack.connect.postgres.config.WriteMode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The columns of a table in one write mode, and the SQL that creates and fills such a table. A
 * batch is sent as one array per column and unnested server-side, so a batch of any size is one
 * statement and one round trip.
 */
public final class TableLayout {

  /** A column that rows carry values for, in {@link #columns()} order. */
  public record Column(String name, String sqlType, String arrayType, boolean notNull) {
    /** Its quoted name and type, as ADD COLUMN takes them (CREATE TABLE adds NOT NULL). */
    String definition() {
      return SqlIdentifier.quote(name) + " " + sqlType;
    }

    /** The select-list expression that turns an unnested array element into this column. */
    String expression(String element) {
      if (sqlType.equals("bytea")) {
        return "decode(" + element + ", 'hex')";
      }
      boolean needsCast = arrayType.equals("text") && !sqlType.equals("text");
      return needsCast ? element + "::" + sqlType : element;
    }
  }

  /** Catalog names of the string types, which take text by assignment. */
  private static final Set<String> STRING_TYPES =
      Set.of("text", "character varying", "character", "citext", "name", "\"char\"");

  public static final String EVENT_ID = "event_id";
  public static final String PAYLOAD = "payload";
  public static final String KAFKA_TOPIC = "kafka_topic";
  public static final String KAFKA_PARTITION = "kafka_partition";
  public static final String KAFKA_OFFSET = "kafka_offset";
  public static final String EVENT_VERSION = "event_version";
  public static final String EVENT_TIME = "event_time";
  public static final String PREV_HASH = "prev_hash";
  public static final String ROW_HASH = "row_hash";
  static final String UPDATED_AT = "updated_at";
  static final String CREATED_AT = "created_at";
  static final String INGESTED_AT = "ingested_at";
  static final String ID = "id";

  private final WriteMode mode;
  private final List<Column> columns;
  private final List<String> conflictColumns;
  private final List<String> keyColumns;
  private final Set<String> optional;
  private final boolean versioned;
  private final int mappedFrom;

  private TableLayout(
      WriteMode mode,
      List<Column> columns,
      List<String> conflictColumns,
      List<String> keyColumns,
      Set<String> optional,
      boolean versioned,
      int mappedFrom) {
    this.mode = mode;
    this.columns = List.copyOf(columns);
    this.conflictColumns = List.copyOf(conflictColumns);
    this.keyColumns = List.copyOf(keyColumns);
    this.optional = Set.copyOf(optional);
    this.versioned = versioned;
    this.mappedFrom = mappedFrom;
  }

  public static TableLayout of(PostgresSinkConfig config) {
    List<Column> columns = new ArrayList<>();
    List<String> conflict = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    Set<String> optional = new HashSet<>();
    boolean versioned = false;
    switch (config.writeMode()) {
      case APPEND:
        columns.add(new Column(EVENT_ID, "text", "text", true));
        conflict.add(EVENT_ID);
        addPayloadAndPosition(columns);
        break;
      case UPSERT:
        checkKeyColumnsFit(config);
        config.keyFields().forEach(k -> columns.add(new Column(k.leaf(), "text", "text", true)));
        config.keyFields().forEach(k -> keys.add(k.leaf()));
        conflict.addAll(keys);
        addPayloadAndPosition(columns);
        if (config.versionField() != null) {
          columns.add(new Column(EVENT_VERSION, "bigint", "int8", false));
          versioned = true;
        }
        break;
      case AUDIT:
        columns.add(new Column(EVENT_ID, "text", "text", true));
        columns.add(new Column(EVENT_TIME, "timestamptz", "text", true));
        addPayloadAndPosition(columns);
        columns.add(new Column(PREV_HASH, "bytea", "text", false));
        columns.add(new Column(ROW_HASH, "bytea", "text", true));
        // An audit table records every Kafka record once, duplicates included: it is unique on
        // the record's position (and the partition key, as PostgreSQL requires).
        conflict.addAll(List.of(KAFKA_TOPIC, KAFKA_PARTITION, KAFKA_OFFSET, EVENT_TIME));
        break;
      case DEAD_LETTER:
        DeadLetterColumns.addTo(columns);
        optional.addAll(DeadLetterColumns.OPTIONAL);
        conflict.addAll(List.of(KAFKA_TOPIC, KAFKA_PARTITION, KAFKA_OFFSET));
        break;
      default:
        throw new IllegalStateException(config.writeMode().name());
    }
    int mappedFrom = columns.size();
    for (ColumnSpec spec : config.columns()) {
      columns.add(
          new Column(spec.column(), spec.type().sqlType(), spec.type().arrayElementType(), false));
    }
    checkNamedOnce(config, columns, mappedFrom);
    return new TableLayout(
        config.writeMode(), columns, conflict, keys, optional, versioned, mappedFrom);
  }

  /**
   * A column named twice (an extracted column named like one of the mode's own, two key fields
   * ending alike) would fail every CREATE TABLE and INSERT: it is refused as a config error, on the
   * option whose entry repeats a name already taken, so that validate shows it there. Extracted
   * columns come last, after the mode's own; key columns (upsert's) come first, but a key named
   * like a column of the mode's is still the key's mistake.
   */
  private static void checkNamedOnce(
      PostgresSinkConfig config, List<Column> columns, int mappedFrom) {
    Set<String> names = new HashSet<>(ownColumns(config.writeMode()));
    for (int i = 0; i < columns.size(); i++) {
      String name = columns.get(i).name();
      if (!names.add(name)) {
        String option =
            i >= mappedFrom ? PostgresSinkConfig.COLUMNS : PostgresSinkConfig.KEY_FIELDS;
        throw new OptionConflict(
            option,
            config.getList(option),
            "Column '"
                + name
                + "' is named more than once in the table of write.mode="
                + config.writeMode().name().toLowerCase(Locale.ROOT)
                + ": check "
                + PostgresSinkConfig.COLUMNS
                + " and "
                + PostgresSinkConfig.KEY_FIELDS
                + " against each other and against the mode's own columns");
      }
    }
  }

  /**
   * A key field's last name is its column's name, as it is. PostgreSQL cuts a longer name to 63
   * bytes without an error: the table got the cut name, and the sink, asking for the whole one,
   * failed every write and every later schema check (ADD COLUMN: "already exists").
   */
  private static void checkKeyColumnsFit(PostgresSinkConfig config) {
    for (FieldPath key : config.keyFields()) {
      if (Utf8.length(key.leaf()) > SqlIdentifier.MAX_BYTES) {
        throw new OptionConflict(
            PostgresSinkConfig.KEY_FIELDS,
            config.getList(PostgresSinkConfig.KEY_FIELDS),
            "Key field '"
                + key
                + "' ends in a name of "
                + Utf8.length(key.leaf())
                + " bytes, the name of its column, longer than PostgreSQL's "
                + SqlIdentifier.MAX_BYTES
                + " bytes for a column name");
      }
    }
  }

  /** The columns the table has besides {@link #columns()}, filled by the database. */
  private static List<String> ownColumns(WriteMode mode) {
    return mode == WriteMode.DEAD_LETTER ? List.of(ID, writtenAt(mode)) : List.of(writtenAt(mode));
  }

  /** The column of the time a row was written (or, in upsert mode, last changed). */
  private static String writtenAt(WriteMode mode) {
    switch (mode) {
      case UPSERT:
        return UPDATED_AT;
      case DEAD_LETTER:
        return CREATED_AT;
      default:
        return INGESTED_AT;
    }
  }

  private static void addPayloadAndPosition(List<Column> columns) {
    columns.add(new Column(PAYLOAD, "jsonb", "text", true));
    columns.add(new Column(KAFKA_TOPIC, "text", "text", true));
    columns.add(new Column(KAFKA_PARTITION, "integer", "int4", true));
    columns.add(new Column(KAFKA_OFFSET, "bigint", "int8", true));
  }

  public WriteMode mode() {
    return mode;
  }

  public List<Column> columns() {
    return columns;
  }

  public int indexOf(String column) {
    for (int i = 0; i < columns.size(); i++) {
      if (columns.get(i).name().equals(column)) {
        return i;
      }
    }
    throw new IllegalArgumentException("no column " + column);
  }

  /**
   * Index of the JSON document column: event in write.mode=dead_letter, payload in every other
   * mode. Chosen by the mode, not by the first column of either name: in upsert mode the key
   * columns come first, and a key field named event (key.fields=event) is no document.
   */
  public int payloadIndex() {
    String document = mode == WriteMode.DEAD_LETTER ? DeadLetterColumns.EVENT : PAYLOAD;
    for (int i = 0; i < columns.size(); i++) {
      if (columns.get(i).name().equals(document)) {
        return i;
      }
    }
    return -1;
  }

  /** Index of the first column extracted by the {@code columns} config. */
  public int mappedFrom() {
    return mappedFrom;
  }

  /** Whether upserts are ordered by a version column rather than by Kafka position. */
  public boolean versioned() {
    return versioned;
  }

  /** The columns of the unique key that ON CONFLICT names. */
  public List<String> conflictColumns() {
    return conflictColumns;
  }

  public List<String> keyColumns() {
    return keyColumns;
  }

  /**
   * Whether the column may be missing from an existing table the sink may not alter: added to the
   * layout after tables of it were made by others, and not needed to write a row.
   */
  boolean optional(String column) {
    return optional.contains(column);
  }

  /**
   * The indexes in {@link #columns()} of the columns written into a table whose columns are {@code
   * present} (as {@link CatalogColumns#of} names them): all but the optional ones it lacks.
   */
  int[] writtenTo(Map<String, String> present) {
    return IntStream.range(0, columns.size())
        .filter(i -> !optional(columns.get(i).name()) || present.containsKey(columns.get(i).name()))
        .toArray();
  }

  /** The statement that writes a batch into a table of the sink's own columns and types. */
  public String insertSql(String table) {
    return insertSql(table, columns, Map.of());
  }

  /**
   * The statement that writes a batch: arrays in, one row per element. {@code storedTypes} are the
   * table's column types as the catalog names them ({@link CatalogColumns#of}): a value sent as
   * text into a column of another type than the sink's, and not a string type (a DBA's uuid key, a
   * numeric score), is converted to it from its text, as COPY's text format does; without that no
   * row could be written (SQLSTATE 42804), since PostgreSQL converts text to other types only when
   * asked. Audit tables are refused such columns at setup, and get none. It names the columns of
   * {@link #writtenTo}, whose arrays it takes in that order.
   */
  public String insertSql(String table, Map<String, String> storedTypes) {
    int[] written = writtenTo(storedTypes);
    return insertSql(table, IntStream.of(written).mapToObj(columns::get).toList(), storedTypes);
  }

  private String insertSql(String table, List<Column> columns, Map<String, String> storedTypes) {
    String names = columns.stream().map(c -> SqlIdentifier.quote(c.name())).collect(joining());
    String arrays = columns.stream().map(c -> "?::" + c.arrayType() + "[]").collect(joining());
    // aliases by position, not "u_" + name: PostgreSQL cuts identifiers to 63 bytes, so two long
    // names sharing their first 61 bytes would make one alias twice (SQLSTATE 42702)
    String aliases =
        IntStream.range(0, columns.size()).mapToObj(TableLayout::unnested).collect(joining());
    String selects =
        IntStream.range(0, columns.size())
            .mapToObj(i -> valueOf(columns.get(i), "u." + unnested(i), storedTypes))
            .collect(joining());
    String sql =
        "INSERT INTO "
            + table
            + " AS t ("
            + names
            + ") SELECT "
            + selects
            + " FROM unnest("
            + arrays
            + ") AS u("
            + aliases
            + ") ON CONFLICT ("
            + conflictColumns.stream().map(SqlIdentifier::quote).collect(joining())
            + ") ";
    return sql + (mode == WriteMode.UPSERT ? upsertAction(columns) : "DO NOTHING");
  }

  private String upsertAction(List<Column> columns) {
    String sets =
        columns.stream()
            .filter(c -> !keyColumns.contains(c.name()))
            .map(
                c -> SqlIdentifier.quote(c.name()) + " = EXCLUDED." + SqlIdentifier.quote(c.name()))
            .collect(joining());
    return "DO UPDATE SET "
        + sets
        + ", "
        + SqlIdentifier.quote(UPDATED_AT)
        + " = now() WHERE "
        + newerCondition();
  }

  /**
   * When an incoming event may replace the stored row. With a version field: only a strictly
   * greater version. Without: anything but an event at or before the stored one in the same Kafka
   * partition, so a replay of old data never overwrites newer data. A stored row without a position
   * (in a table made before the sink, to which auto.evolve added the position columns empty, or
   * written by a backfill) is older than any event.
   */
  private String newerCondition() {
    if (versioned) {
      return "(t.\"event_version\" IS NULL OR EXCLUDED.\"event_version\" > t.\"event_version\")";
    }
    return "NOT "
        + storedIsNewer(
            "EXCLUDED.\"kafka_topic\"",
            "EXCLUDED.\"kafka_partition\"",
            "EXCLUDED.\"kafka_offset\"");
  }

  /**
   * Whether the stored row t is at or after the given position in the same Kafka partition. Never
   * NULL: a comparison with a stored NULL (no position) is not newer, rather than unknown, which
   * would refuse every write to the row and every tombstone of it.
   */
  private static String storedIsNewer(String topic, String partition, String offset) {
    return "COALESCE(t.\"kafka_topic\" = "
        + topic
        + " AND t.\"kafka_partition\" = "
        + partition
        + " AND t.\"kafka_offset\" >= "
        + offset
        + ", false)";
  }

  /**
   * Deletes rows by key for tombstones, unless the stored row is newer than the tombstone (at or
   * after it in the same Kafka partition; a tombstone has no version to compare). Returns one row:
   * the rows deleted, the tombstones refused because the row is newer (a tombstone whose key has no
   * row is neither; both counts see the rows as they were before the statement), and whether a
   * tombstone's key equals a write's key of the same batch in the table's type but not as text
   * (citext "abc" and "ABC", two spellings of one uuid). Then it deletes nothing: deleting first,
   * as the writer otherwise does, would be wrong if the write came first, so the caller applies the
   * batch in record order. The writes' keys are the last parameters, one text array per key column,
   * only where {@link #keysMayClash} (the sink's own text keys cannot: no write keys are sent, and
   * no clash is looked for). Keys compare as the table's columns do ({@link
   * CatalogColumns#comparisons}).
   */
  String deleteSql(String table, Map<String, CatalogColumns.Comparison> comparisons) {
    String arrays = keyColumns.stream().map(c -> "?::text[]").collect(joining());
    String match = storedKeyMatches(comparisons);
    // the tombstones' positions are named without the d_ prefix of the key columns' aliases, so
    // no key column (one named topic, say) can take one of their names
    String storedIsNewer = storedIsNewer("d.at_topic", "d.at_partition", "d.at_offset");
    return "WITH d AS (SELECT * FROM unnest("
        + arrays
        + ", ?::text[], ?::int4[], ?::int8[]) AS d("
        + aliases("d_")
        + ", at_topic, at_partition, at_offset)), "
        + (keysMayClash(comparisons)
            ? "w AS (SELECT * FROM unnest("
                + arrays
                + ") AS w("
                + aliases("w_")
                + ")), clash AS ("
                + clash(comparisons)
                + ")"
            : "clash AS (SELECT false AS found)")
        + ", gone AS (DELETE FROM "
        + table
        + " AS t USING d WHERE "
        + match
        + " AND NOT "
        + storedIsNewer
        + " AND NOT (SELECT found FROM clash) RETURNING 1) SELECT (SELECT count(*) FROM gone),"
        + " (SELECT count(*) FROM "
        + table
        + " AS t JOIN d ON "
        + match
        + " WHERE "
        + storedIsNewer
        + "), (SELECT found FROM clash)";
  }

  /**
   * Whether a tombstone and a write share a key in the table's type but not as text. Grouped by the
   * key as the table compares it rather than joined, so no tombstone is compared with every write:
   * a group of both kinds whose texts are not all alike holds such a pair (a kept tombstone and its
   * write alone are spelled alike).
   */
  private String clash(Map<String, CatalogColumns.Comparison> comparisons) {
    String both =
        "SELECT "
            + keyColumns.stream().map(c -> column("d.d_", c)).collect(joining())
            + ", true FROM d UNION ALL SELECT "
            + keyColumns.stream().map(c -> column("w.w_", c)).collect(joining())
            + ", false FROM w";
    String groups =
        keyColumns.stream()
            .map(c -> comparisonOf(c, comparisons).of(column("k.k_", c)))
            .collect(joining());
    String spelledOtherwise =
        keyColumns.stream()
            .map(
                c ->
                    "min("
                        + column("k.k_", c)
                        + " COLLATE pg_catalog.\"C\") <> max("
                        + column("k.k_", c)
                        + " COLLATE pg_catalog.\"C\")")
            .collect(Collectors.joining(" OR "));
    return "SELECT EXISTS (SELECT 1 FROM ("
        + both
        + ") AS k("
        + aliases("k_")
        + ", tombstone) GROUP BY "
        + groups
        + " HAVING bool_or(k.tombstone) AND NOT bool_and(k.tombstone) AND ("
        + spelledOtherwise
        + ")) AS found";
  }

  /**
   * Whether two spellings of a key can be one key to the table (see {@link
   * CatalogColumns.Comparison#equalOnlyWhenSpelledAlike}); then the delete statement checks the
   * batch's writes.
   */
  boolean keysMayClash(Map<String, CatalogColumns.Comparison> comparisons) {
    return keyColumns.stream()
        .anyMatch(c -> !comparisonOf(c, comparisons).equalOnlyWhenSpelledAlike());
  }

  private static CatalogColumns.Comparison comparisonOf(
      String column, Map<String, CatalogColumns.Comparison> comparisons) {
    return comparisons.getOrDefault(column, CatalogColumns.Comparison.TEXT);
  }

  /**
   * The aliases of the key columns' arrays, by position ({@code "d_1", "d_2"}): a prefix and the
   * column's name could exceed the 63 bytes PostgreSQL keeps of an identifier, and two long key
   * names would then be one alias.
   */
  private String aliases(String prefix) {
    return IntStream.range(0, keyColumns.size())
        .mapToObj(i -> SqlIdentifier.quote(prefix + (i + 1)))
        .collect(joining());
  }

  /** The alias of the unnested array of the column at {@code index} of an insert: "u_1", ... */
  private static String unnested(int index) {
    return SqlIdentifier.quote("u_" + (index + 1));
  }

  /** A stored row's key equals a tombstone's, as the table compares them. */
  private String storedKeyMatches(Map<String, CatalogColumns.Comparison> comparisons) {
    return keyColumns.stream()
        .map(c -> column("t.", c) + " = " + comparisonOf(c, comparisons).of(column("d.d_", c)))
        .collect(Collectors.joining(" AND "));
  }

  /**
   * {@code t.} and id make t."id"; {@code d.d_} and the second key column make d."d_2" (see {@link
   * #aliases}).
   */
  private String column(String aliasAndPrefix, String name) {
    int dot = aliasAndPrefix.indexOf('.');
    String prefix = aliasAndPrefix.substring(dot + 1);
    return aliasAndPrefix.substring(0, dot + 1)
        + SqlIdentifier.quote(prefix.isEmpty() ? name : prefix + (keyColumns.indexOf(name) + 1));
  }

  /**
   * The expression that makes an unnested element a value of its column: the sink's own type, or
   * the table's where the element is text and the table holds the column as another, non-string
   * type. String types (varchar, char(n), citext) are left to PostgreSQL's assignment, which
   * refuses a value too long for them where an explicit cast would cut it.
   */
  private String valueOf(Column column, String element, Map<String, String> storedTypes) {
    String stored = storedTypes.get(column.name());
    boolean convert =
        mode != WriteMode.AUDIT
            && stored != null
            && column.arrayType().equals("text")
            && !stored.equals(CopyBinary.typeFor(column))
            && !STRING_TYPES.contains(stored);
    return convert ? element + "::" + stored : column.expression(element);
  }

  /** CREATE TABLE for this layout (for audit, the partitioned parent). */
  public String createTableSql(String table) {
    StringBuilder ddl = new StringBuilder("CREATE TABLE IF NOT EXISTS ").append(table).append(" (");
    if (mode == WriteMode.DEAD_LETTER) {
      ddl.append(SqlIdentifier.quote(ID)).append(" bigserial, ");
    }
    for (Column c : columns) {
      ddl.append(c.definition());
      if (c.notNull()) {
        ddl.append(" NOT NULL");
      }
      ddl.append(", ");
    }
    ddl.append(writtenAtDefinition()).append(", ");
    String conflict = conflictColumns.stream().map(SqlIdentifier::quote).collect(joining());
    if (mode == WriteMode.UPSERT) {
      ddl.append("PRIMARY KEY (").append(conflict).append(")");
    } else if (mode == WriteMode.DEAD_LETTER) {
      ddl.append("PRIMARY KEY (").append(SqlIdentifier.quote(ID)).append("), UNIQUE (");
      ddl.append(conflict).append(")");
    } else {
      ddl.append("UNIQUE (").append(conflict).append(")");
    }
    ddl.append(")");
    if (mode == WriteMode.AUDIT) {
      ddl.append(" PARTITION BY RANGE (\"event_time\")");
    }
    return ddl.toString();
  }

  /** The column of the time a row was written (upsert: last changed), as CREATE or ADD name it. */
  String writtenAtDefinition() {
    return SqlIdentifier.quote(writtenAt(mode)) + " timestamptz NOT NULL DEFAULT now()";
  }

  /** Its name. */
  String writtenAtColumn() {
    return writtenAt(mode);
  }

  private static java.util.stream.Collector<CharSequence, ?, String> joining() {
    return Collectors.joining(", ");
  }
}
