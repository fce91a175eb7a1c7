package io.somastack.connect.postgres.write;

import java.util.List;

/**
 * The seed's {@code dlq} table (id, topic, event, error, created_at) plus what an operator needs to
 * find and replay the original record: where it came from, which connector and stage failed it, and
 * its key and timestamp. Columns added since the first layout are nullable, so auto.evolve adds
 * them to an older table without rewriting it; where the sink may not, the {@link #OPTIONAL} ones
 * are left out of its rows.
 */
public final class DeadLetterColumns {

  public static final String TOPIC = "topic";
  public static final String EVENT = "event";
  public static final String EVENT_FORMAT = "event_format";
  public static final String EVENT_KEY = "event_key";
  public static final String EVENT_KEY_FORMAT = "event_key_format";
  public static final String EVENT_TIMESTAMP = "event_timestamp";
  public static final String ERROR = "error";
  public static final String ERROR_CLASS = "error_class";
  public static final String SOURCE_PARTITION = "source_partition";
  public static final String SOURCE_OFFSET = "source_offset";
  public static final String CONNECTOR = "connector";
  public static final String STAGE = "stage";

  /**
   * Added after the first layout, for a replay. A dlq made before them by a DBA who gave the
   * connector DML only (as seed-tables.sql says to) cannot get them from the sink: it writes the
   * other columns there rather than stop an archive that ran before the upgrade.
   */
  static final List<String> OPTIONAL = List.of(EVENT_KEY, EVENT_KEY_FORMAT, EVENT_TIMESTAMP);

  private DeadLetterColumns() {}

  static void addTo(List<TableLayout.Column> columns) {
    columns.add(new TableLayout.Column(TOPIC, "text", "text", false));
    columns.add(new TableLayout.Column(EVENT, "jsonb", "text", true));
    // how event holds the dead letter: json, text, base64 or tombstone (NULL: an outbox row)
    columns.add(new TableLayout.Column(EVENT_FORMAT, "text", "text", false));
    // text, not jsonb: a replay needs the key's very bytes (the default partitioner hashes them,
    // a compacted topic compares them), which jsonb would re-space and re-order. Its format:
    // json, text, base64 or null (a null key: event_key is NULL)
    columns.add(new TableLayout.Column(EVENT_KEY, "text", "text", false));
    columns.add(new TableLayout.Column(EVENT_KEY_FORMAT, "text", "text", false));
    columns.add(new TableLayout.Column(EVENT_TIMESTAMP, "timestamptz", "text", false));
    columns.add(new TableLayout.Column(ERROR, "text", "text", false));
    columns.add(new TableLayout.Column(ERROR_CLASS, "text", "text", false));
    columns.add(new TableLayout.Column(SOURCE_PARTITION, "integer", "int4", false));
    columns.add(new TableLayout.Column(SOURCE_OFFSET, "bigint", "int8", false));
    columns.add(new TableLayout.Column(CONNECTOR, "text", "text", false));
    columns.add(new TableLayout.Column(STAGE, "text", "text", false));
    // Nullable: the outbox source moves bad rows into the same table, and they never were in
    // Kafka. (NULLs never collide in the unique index, so its rows need no position.)
    columns.add(new TableLayout.Column(TableLayout.KAFKA_TOPIC, "text", "text", false));
    columns.add(new TableLayout.Column(TableLayout.KAFKA_PARTITION, "integer", "int4", false));
    columns.add(new TableLayout.Column(TableLayout.KAFKA_OFFSET, "bigint", "int8", false));
  }
}
