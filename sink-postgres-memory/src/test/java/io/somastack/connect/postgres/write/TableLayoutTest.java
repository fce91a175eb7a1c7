package io.somastack.connect.postgres.write;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.postgres.config.PostgresSinkConfig;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TableLayoutTest {

  private static TableLayout layout(String... kv) {
    Map<String, String> props = new HashMap<>();
    props.put("connection.url", "jdbc:postgresql://localhost/soma");
    for (int i = 0; i < kv.length; i += 2) {
      props.put(kv[i], kv[i + 1]);
    }
    return TableLayout.of(new PostgresSinkConfig(props));
  }

  @Test
  void appendInsertsAllColumnsFromArraysAndIgnoresReplays() {
    String sql = layout("columns", "tenant:uuid:t").insertSql("\"public\".\"m\"");
    assertTrue(sql.startsWith("INSERT INTO \"public\".\"m\" AS t (\"event_id\", \"payload\""), sql);
    // aliases by position (event_id, payload, ..., tenant), never spelled from the names
    assertTrue(sql.contains("u.\"u_2\"::jsonb"), sql);
    assertTrue(sql.contains("u.\"u_6\"::uuid"), sql);
    assertTrue(
        sql.contains(
            "FROM unnest(?::text[], ?::text[], ?::text[], ?::int4[], ?::int8[], ?::text[])"),
        sql);
    assertTrue(sql.endsWith("ON CONFLICT (\"event_id\") DO NOTHING"), sql);
  }

  @Test
  void upsertRefusesRowsOlderThanTheStoredOne() {
    String byPosition = layout("write.mode", "upsert", "key.fields", "namespace,id").insertSql("t");
    assertTrue(
        byPosition.contains("ON CONFLICT (\"namespace\", \"id\") DO UPDATE SET"), byPosition);
    assertTrue(byPosition.contains("t.\"kafka_offset\" >= EXCLUDED.\"kafka_offset\""), byPosition);
    String byVersion =
        layout("write.mode", "upsert", "key.fields", "id", "version.field", "v").insertSql("t");
    assertTrue(byVersion.contains("EXCLUDED.\"event_version\" > t.\"event_version\""), byVersion);
  }

  /** A key field named event comes first in upsert mode but is no document column. */
  @Test
  void theDocumentColumnIsChosenByTheModeNotByTheFirstOfItsNames() {
    for (String key : new String[] {"event", "x.event"}) {
      TableLayout upsert = layout("write.mode", "upsert", "key.fields", key);
      assertEquals("payload", upsert.columns().get(upsert.payloadIndex()).name(), key);
    }
    TableLayout deadLetters = layout("write.mode", "dead_letter");
    assertEquals("event", deadLetters.columns().get(deadLetters.payloadIndex()).name());
  }

  @Test
  void auditTablesArePartitionedAndHashesDecodedFromHex() {
    TableLayout audit = layout("write.mode", "audit");
    assertTrue(audit.createTableSql("a").endsWith("PARTITION BY RANGE (\"event_time\")"));
    String insert = audit.insertSql("a");
    assertTrue(insert.matches("(?s).*decode\\(u\\.\"u_\\d+\", 'hex'\\).*"), insert);
    assertEquals(
        java.util.List.of("kafka_topic", "kafka_partition", "kafka_offset", "event_time"),
        audit.conflictColumns());
  }

  @Test
  void identifiersAreAlwaysQuoted() {
    String ddl = layout("columns", "user:text:user").createTableSql("\"public\".\"select\"");
    assertTrue(ddl.contains("\"user\" text"), ddl);
  }

  /**
   * Tombstones of the sink's own text keys cannot meet a write spelled otherwise: their delete
   * statement takes no write keys and looks for no clash, which it does for a citext key.
   */
  @Test
  void deletesLookForKeysSpelledOtherwiseOnlyWhereTheTableCanEquateThem() {
    TableLayout upsert = layout("write.mode", "upsert", "key.fields", "namespace,id");
    Map<String, CatalogColumns.Comparison> text = Map.of();
    assertFalse(upsert.keysMayClash(text));
    assertFalse(upsert.deleteSql("t", text).contains("w AS"));
    assertEquals(5, count(upsert.deleteSql("t", text), "?"));

    Map<String, CatalogColumns.Comparison> citext =
        Map.of("id", new CatalogColumns.Comparison("citext", null, true));
    assertTrue(upsert.keysMayClash(citext));
    assertTrue(upsert.deleteSql("t", citext).contains("w AS"));
    assertEquals(7, count(upsert.deleteSql("t", citext), "?"));
    assertTrue(
        upsert.keysMayClash(
            Map.of("id", new CatalogColumns.Comparison("text", "\"public\".\"ci\"", false))));
  }

  private static int count(String text, String part) {
    return text.split(java.util.regex.Pattern.quote(part), -1).length - 1;
  }
}
