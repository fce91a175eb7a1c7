package io.somastack.connect.postgres;

import static io.somastack.connect.postgres.LocalTasks.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.testing.connect.HandRunTaskContext;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * The audit functions the sink installs resolve nothing through a search_path that another role can
 * create in: a low-privilege role's {@code public.format} and {@code public.replace}, or operators
 * {@code *} and {@code ||}, each a closer match than pg_catalog's, must not run as the operator
 * (here a superuser) who calls soma_audit_verify, soma_audit_retire or soma_audit_columns_text; the
 * chain still verifies, and retiring still works.
 */
class AuditSearchPathTest {

  private static final String DATABASE = "audit_search_path";
  private static final String SINK_ROLE = "soma_path_sink";
  private static final String SHADOW_ROLE = "soma_path_shadow";
  private static final TopicPartition PARTITION = new TopicPartition("checked", 0);

  @Test
  void functionsShadowedInPublicNeverRunAsTheCaller() throws SQLException {
    String url = SERVER.createDatabase(DATABASE);
    for (String role : List.of(SINK_ROLE, SHADOW_ROLE)) {
      LocalTasks.execute(
          DATABASE,
          "DO $$BEGIN CREATE ROLE "
              + role
              + " LOGIN PASSWORD '"
              + role
              + "'; EXCEPTION WHEN duplicate_object THEN NULL; END$$; GRANT CREATE ON SCHEMA"
              + " public TO "
              + role);
    }
    PostgresMemorySinkTask task =
        LocalTasks.started(
            url,
            new HandRunTaskContext(PARTITION),
            "write.mode",
            "audit",
            "table.name.format",
            "checked",
            "columns",
            "outcome:text:outcome,n:bigint:n",
            "connection.user",
            SINK_ROLE,
            "connection.password",
            SINK_ROLE);
    Instant old = Instant.now().minus(40, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
    try {
      task.put(List.of(event(0, old), event(1, old.plusSeconds(1)), event(2, old.plusSeconds(2))));
    } finally {
      task.stop();
    }
    assertEquals(List.of(), problems());

    // a role that may create in public, not more, shadows what the functions call
    String raise =
        " LANGUAGE plpgsql AS $f$BEGIN RAISE EXCEPTION 'shadow ran as %', current_user; END$f$;";
    LocalTasks.execute(
        DATABASE,
        "SET ROLE "
            + SHADOW_ROLE
            + "; CREATE FUNCTION public.format(text, regclass, text, text) RETURNS text"
            + raise
            + " CREATE FUNCTION public.format(text, regclass) RETURNS text"
            + raise
            + " CREATE FUNCTION public.replace(name, text, text) RETURNS text"
            + raise
            + " CREATE FUNCTION public.shadow_cat(text, integer) RETURNS text"
            + raise
            + " CREATE OPERATOR public.|| (LEFTARG = text, RIGHTARG = integer,"
            + " FUNCTION = public.shadow_cat);"
            + " CREATE FUNCTION public.shadow_times(numeric, integer) RETURNS numeric"
            + raise
            + " CREATE OPERATOR public.* (LEFTARG = numeric, RIGHTARG = integer,"
            + " FUNCTION = public.shadow_times); RESET ROLE");

    assertEquals(List.of(), problems());
    assertEquals(
        List.of("|a=1:1|b=3:x y"),
        LocalTasks.strings(
            DATABASE,
            "SELECT soma_audit_columns_text(ARRAY['b', 'a'], ARRAY['text', 'bigint'],"
                + " ARRAY['x y', '1'])"));
    // the superuser is an operator here: not the role that installed soma_audit_retire; the
    // partitions are named as the sink's search_path prints them, as before
    List<String> retired =
        LocalTasks.strings(
            DATABASE,
            "SELECT partition_name || ': ' || row_count FROM soma_audit_retire('checked', now())"
                + " WHERE retired");
    assertTrue(retired.contains("checked_default: 3"), retired.toString());
    assertEquals(List.of(), problems());
  }

  private static List<String> problems() throws SQLException {
    return LocalTasks.strings(
        DATABASE,
        "SELECT kafka_partition || ':' || kafka_offset || ': ' || problem"
            + " FROM soma_audit_verify('checked')");
  }

  private static SinkRecord event(long offset, Instant time) {
    String json =
        "{\"event_id\":\"e"
            + offset
            + "\",\"timestamp\":\""
            + time
            + "\",\"outcome\":\"ok "
            + offset
            + "\",\"n\":"
            + offset
            + "}";
    return new SinkRecord(PARTITION.topic(), 0, null, null, null, json, offset);
  }
}
