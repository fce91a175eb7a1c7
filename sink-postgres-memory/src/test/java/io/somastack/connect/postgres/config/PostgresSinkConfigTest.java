package io.somastack.connect.postgres.config;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.common.sql.SqlIdentifier;
import io.somastack.connect.postgres.PostgresMemorySinkConnector;
import io.somastack.connect.postgres.PostgresMemorySinkTask;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.common.config.types.Password;
import org.junit.jupiter.api.Test;

class PostgresSinkConfigTest {

  static Map<String, String> minimal() {
    Map<String, String> props = new HashMap<>();
    props.put("connection.url", "jdbc:postgresql://localhost:5432/soma");
    return props;
  }

  @Test
  void defaultsAreAppendIntoATableNamedAfterTheTopic() {
    PostgresSinkConfig config = new PostgresSinkConfig(minimal());
    assertEquals(WriteMode.APPEND, config.writeMode());
    assertEquals("${topic}", config.tableTemplate().toString());
    assertEquals("event_id", config.idField().toString());
    assertEquals("prefer", config.connectionProperties().getProperty("sslmode"));
    assertEquals(5000, config.batchMaxRecords());
    assertEquals(16L * 1024 * 1024, config.batchMaxBytes());
    assertEquals(1_048_576, config.recordMaxBytes());
  }

  @Test
  void upsertWithoutKeyFieldsIsExplainedByValidate() {
    Map<String, String> props = minimal();
    props.put("write.mode", "upsert");
    assertThrows(ConfigException.class, () -> new PostgresSinkConfig(props));
    Config result = new PostgresMemorySinkConnector().validate(props);
    List<String> errors = errors(result).get("key.fields");
    assertEquals(1, errors.size(), String.valueOf(errors));
    assertTrue(
        errors.get(0).contains("write.mode=upsert needs key.fields, the field paths of the key"),
        errors.get(0));
  }

  /**
   * A key field's last name names its column as it is: one over PostgreSQL's 63 bytes was taken,
   * and PostgreSQL cut the column's name, so every write (and the next schema check) failed. It is
   * refused on key.fields; 63 bytes, multi-byte characters counted as bytes, is taken.
   */
  @Test
  void aKeyFieldWhoseColumnNameIsTooLongIsExplainedByValidate() {
    Map<String, String> props = minimal();
    props.put("write.mode", "upsert");
    props.put("key.fields", "namespace,meta." + "k".repeat(64));
    List<String> errors =
        errors(new PostgresMemorySinkConnector().validate(props)).get("key.fields");
    assertEquals(1, errors.size(), String.valueOf(errors));
    assertTrue(errors.get(0).contains("63 bytes"), errors.get(0));

    props.put("key.fields", "namespace," + "\u00e9".repeat(32)); // 64 bytes in 32 characters
    assertEquals(
        1, errors(new PostgresMemorySinkConnector().validate(props)).get("key.fields").size());

    props.put("key.fields", "namespace," + "k".repeat(63));
    assertEquals(
        List.of(), errors(new PostgresMemorySinkConnector().validate(props)).get("key.fields"));
  }

  /** A column named twice is a config error the REST validate call explains on columns. */
  @Test
  void aColumnNamedTwiceIsExplainedByValidate() {
    Map<String, String> props = minimal();
    props.put("columns", "score:double:score,score:bigint:rank");
    List<String> errors = errors(new PostgresMemorySinkConnector().validate(props)).get("columns");
    assertEquals(1, errors.size(), String.valueOf(errors));
    assertTrue(errors.get(0).contains("more than once"), errors.get(0));
  }

  /**
   * Dead-letter landing stores each record as it came with Connect's error headers; it extracts no
   * typed columns (a dead letter is often not the JSON the columns expect). Columns configured
   * there would be created and left empty without a word, so they are refused.
   */
  @Test
  void columnsInDeadLetterModeAreRefusedAndExplainedByValidate() {
    Map<String, String> props = minimal();
    props.put("write.mode", "dead_letter");
    props.put("columns", "tenant:text:metadata.tenant_id");
    ConfigException e = assertThrows(ConfigException.class, () -> new PostgresSinkConfig(props));
    assertTrue(e.getMessage().contains("dead_letter"), e.getMessage());
    List<String> errors = errors(new PostgresMemorySinkConnector().validate(props)).get("columns");
    assertEquals(1, errors.size(), String.valueOf(errors));
    assertTrue(errors.get(0).contains("write.mode=dead_letter"), errors.get(0));
  }

  @Test
  void everyMistakeIsNamedByValidate() {
    Map<String, String> props = new HashMap<>();
    props.put("connection.url", "postgres://nope");
    props.put("write.mode", "merge");
    props.put("columns", "Tenant:text:metadata.tenant_id,score:float:importance");
    props.put("table.name.format", "${value.}");
    props.put("connection.sslmode", "sometimes");
    Map<String, List<String>> errors = errors(new PostgresMemorySinkConnector().validate(props));
    assertTrue(
        errors.get("connection.url").get(0).contains("jdbc:postgresql://"), errors.toString());
    assertTrue(errors.get("write.mode").get(0).contains("append, upsert, audit, dead_letter"));
    assertTrue(errors.get("columns").get(0).contains("lower case"));
    assertFalse(errors.get("table.name.format").isEmpty());
    assertFalse(errors.get("connection.sslmode").isEmpty());
  }

  @Test
  void optionsOfOtherModesAreHiddenByTheRecommender() {
    Map<String, String> props = minimal();
    Config result = new PostgresMemorySinkConnector().validate(props);
    Map<String, Boolean> visible =
        result.configValues().stream()
            .collect(Collectors.toMap(ConfigValue::name, ConfigValue::visible));
    assertFalse(visible.get("key.fields"));
    assertTrue(visible.get("id.field"));
  }

  /** validate lists each choice option's values, so that UIs can offer them. */
  @Test
  void validateRecommendsTheValuesOfEveryChoice() {
    Map<String, String> props = minimal();
    props.put("write.mode", "upsert");
    props.put("key.fields", "id");
    Map<String, ConfigValue> values = byName(new PostgresMemorySinkConnector().validate(props));
    assertEquals(
        List.of("append", "upsert", "audit", "dead_letter"),
        values.get("write.mode").recommendedValues());
    assertEquals(List.of("delete", "ignore"), values.get("tombstones").recommendedValues());
    assertTrue(values.get("tombstones").visible());
    assertEquals(
        List.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
        values.get("connection.sslmode").recommendedValues());
    // tombstones keeps its visibility: upsert's alone
    assertFalse(
        byName(new PostgresMemorySinkConnector().validate(minimal())).get("tombstones").visible());
  }

  /**
   * Connect hands validate a null value as it came in the JSON ("columns": null) and adds its own
   * error for it afterwards: validate must answer, not fail with an exception (an HTTP 500).
   */
  @Test
  void validateAnswersForANullValueOfAnyOption() {
    for (Map<String, String> base :
        List.of(minimal(), Map.of("write.mode", "upsert", "key.fields", "id"))) {
      for (String option : PostgresSinkConfig.CONFIG_DEF.names()) {
        Map<String, String> props = minimal();
        props.putAll(base);
        props.put(option, null);
        assertDoesNotThrow(
            () -> new PostgresMemorySinkConnector().validate(props), base + " " + option);
      }
    }
  }

  @Test
  void thePasswordNeverShowsInToString() {
    Map<String, String> props = minimal();
    props.put("connection.password", "s3cret-pw");
    PostgresSinkConfig config = new PostgresSinkConfig(props);
    assertFalse(config.toString().contains("s3cret-pw"));
    assertEquals("s3cret-pw", config.connectionProperties().getProperty("password"));
  }

  /**
   * A PKCS-12 client key needs its password, which connection.url may not carry: the password
   * option reaches pgjdbc, is typed PASSWORD for validate (Connect shows it hidden) and never shows
   * in the config's text, a validate value or message, even when another option is at fault.
   */
  @Test
  void theClientKeyPasswordReachesPgjdbcAndIsNeverShown() {
    Map<String, String> props = minimal();
    props.put("connection.url", "jdbc:postgresql://db/soma?sslkey=/certs/client.p12");
    props.put("connection.sslpassword", "k3y-s3cret");
    PostgresSinkConfig config = new PostgresSinkConfig(props);
    assertEquals("k3y-s3cret", config.connectionProperties().getProperty("sslpassword"));
    assertFalse(config.toString().contains("k3y-s3cret"));
    assertEquals(
        ConfigDef.Type.PASSWORD,
        new PostgresMemorySinkConnector().config().configKeys().get("connection.sslpassword").type);

    props.put("connection.sslmode", "disable");
    props.put("connection.url", "jdbc:postgresql://db/soma?sslkey=/k.p12&sslmode=verify-full");
    Config validated = new PostgresMemorySinkConnector().validate(props);
    Object shown = byName(validated).get("connection.sslpassword").value();
    assertTrue(shown instanceof Password, String.valueOf(shown));
    assertFalse(String.valueOf(shown).contains("k3y-s3cret"));
    assertFalse(errors(validated).get("connection.sslmode").isEmpty());
    assertFalse(errors(validated).toString().contains("k3y-s3cret"));
  }

  @Test
  void columnSpecsParseTypesAndPaths() {
    ColumnSpec spec = ColumnSpec.parse("tenant:text:metadata.tenant_id");
    assertEquals("tenant", spec.column());
    assertEquals(ColumnType.TEXT, spec.type());
    assertEquals(List.of("metadata", "tenant_id"), spec.path().segments());
    assertThrows(IllegalArgumentException.class, () -> ColumnSpec.parse("tenant:text"));
    assertThrows(IllegalArgumentException.class, () -> ColumnSpec.parse("tenant:varchar:x"));
  }

  /**
   * A column named twice (an extracted column named like a column of the write mode, or two key
   * fields ending alike) would make every CREATE TABLE or INSERT fail at the first put: it is a
   * config error, named when the connector starts.
   */
  @Test
  void aColumnNamedTwiceIsAConfigError() {
    List<Map<String, String>> mistakes =
        List.of(
            Map.of("columns", "event_id:text:event_id"),
            Map.of("columns", "ingested_at:timestamptz:ingested_at"),
            Map.of("write.mode", "upsert", "key.fields", "id", "columns", "id:text:id"),
            Map.of("write.mode", "upsert", "key.fields", "id", "columns", "updated_at:text:u"),
            Map.of("write.mode", "upsert", "key.fields", "a.id,b.id"),
            Map.of("write.mode", "dead_letter", "columns", "id:bigint:id"),
            Map.of("columns", "score:double:score,score:bigint:rank"));
    for (Map<String, String> mistake : mistakes) {
      Map<String, String> props = minimal();
      props.putAll(mistake);
      ConfigException e =
          assertThrows(
              ConfigException.class, () -> new PostgresSinkConfig(props), mistake.toString());
      assertTrue(e.getMessage().contains("more than once"), e.getMessage());
    }
    Map<String, String> fine = minimal();
    fine.putAll(Map.of("write.mode", "upsert", "key.fields", "id", "columns", "event_id:text:e"));
    new PostgresSinkConfig(fine);
  }

  /**
   * A name repeated by key.fields (two paths ending alike, a key named like one of upsert's own
   * columns) is shown on key.fields, not on columns, which the user may not even have set; a name
   * an extracted column repeats stays on columns.
   */
  @Test
  void aColumnNamedTwiceIsShownOnTheOptionThatRepeatsIt() {
    for (String keys : List.of("a.id,b.id", "payload", "updated_at", "kafka_offset")) {
      Map<String, String> props = minimal();
      props.putAll(Map.of("write.mode", "upsert", "key.fields", keys));
      assertOnlyErrorOn("key.fields", "more than once", props);
    }
    Map<String, String> extracted = minimal();
    extracted.putAll(
        Map.of("write.mode", "upsert", "key.fields", "id", "columns", "payload:text:p"));
    assertOnlyErrorOn("columns", "more than once", extracted);
  }

  /**
   * A tombstone has no value: a table name read from it names no table for a tombstone, and with
   * tombstones=delete every tombstone would be dead-lettered, no row ever deleted. Refused, on
   * table.name.format, naming the ways out.
   */
  @Test
  void aValueTableNameWithDeletingTombstonesIsExplainedByValidate() {
    Map<String, String> props = minimal();
    props.putAll(
        Map.of(
            "write.mode",
            "upsert",
            "key.fields",
            "id",
            "table.name.format",
            "mem_${value.tenant}"));
    assertThrows(ConfigException.class, () -> new PostgresSinkConfig(props));
    Map<String, List<String>> errors = errors(new PostgresMemorySinkConnector().validate(props));
    List<String> onTemplate = errors.get("table.name.format");
    assertEquals(1, onTemplate.size(), String.valueOf(errors));
    assertTrue(onTemplate.get(0).contains("${key.<path>}"), onTemplate.get(0));
    assertTrue(onTemplate.get(0).contains("${topic}"), onTemplate.get(0));
    assertTrue(onTemplate.get(0).contains("tombstones=ignore"), onTemplate.get(0));
  }

  /** Where tombstones delete nothing, a table name read from the value is fine. */
  @Test
  void aValueTableNameIsFineWhereTombstonesDeleteNothing() {
    List<Map<String, String>> fine =
        List.of(
            Map.of("write.mode", "upsert", "key.fields", "id", "tombstones", "ignore"),
            Map.of("write.mode", "append"),
            Map.of("write.mode", "audit"));
    for (Map<String, String> options : fine) {
      Map<String, String> props = minimal();
      props.putAll(options);
      props.put("table.name.format", "mem_${value.tenant}");
      new PostgresSinkConfig(props);
      Map<String, List<String>> errors = errors(new PostgresMemorySinkConnector().validate(props));
      assertTrue(errors.values().stream().allMatch(List::isEmpty), options + " -> " + errors);
    }
    Map<String, String> byKey = minimal();
    byKey.putAll(
        Map.of(
            "write.mode", "upsert", "key.fields", "id", "table.name.format", "mem_${key.tenant}"));
    new PostgresSinkConfig(byKey);
  }

  /**
   * A first backoff longer than the longest passed validate and failed every task at start with an
   * IllegalArgumentException naming neither option. Refused on retry.backoff.max.ms, naming both,
   * in validate and in the task's start alike.
   */
  @Test
  void aBackoffStartingAboveItsMaximumIsExplainedByValidateAndAtStart() {
    Map<String, String> props = minimal();
    props.put("retry.backoff.initial.ms", "5000");
    props.put("retry.backoff.max.ms", "1000");
    List<String> errors =
        errors(new PostgresMemorySinkConnector().validate(props)).get("retry.backoff.max.ms");
    assertEquals(1, errors.size(), String.valueOf(errors));
    assertTrue(errors.get(0).contains("retry.backoff.initial.ms"), errors.get(0));

    ConfigException e =
        assertThrows(ConfigException.class, () -> new PostgresMemorySinkTask().start(props));
    assertTrue(e.getMessage().contains("retry.backoff.max.ms"), e.getMessage());
    assertTrue(e.getMessage().contains("retry.backoff.initial.ms"), e.getMessage());

    props.put("retry.backoff.max.ms", "5000");
    new PostgresSinkConfig(props); // equal is fine: every wait is the one value
  }

  /**
   * pgjdbc lets the URL's sslmode beat connection.sslmode: verify-full in the config with
   * sslmode=disable in the URL would connect without TLS. validate said nothing and the task failed
   * at its first connection; now validate shows it on connection.sslmode, and no task starts.
   */
  @Test
  void anSslmodeTheUrlContradictsIsExplainedByValidateAndRefusedAtStart() {
    Map<String, String> props = minimal();
    props.put("connection.url", "jdbc:postgresql://db/soma?sslmode=disable");
    props.put("connection.sslmode", "verify-full");
    assertOnlyErrorOn("connection.sslmode", "contradicts sslmode=disable in connection.url", props);
    assertThrows(ConfigException.class, () -> new PostgresMemorySinkTask().start(props));
  }

  /**
   * TLS settings of connection.url pgjdbc would fail on or use instead of the options: validate
   * explains each on the option at fault, quoting nothing of the URL, and no task starts. An
   * unknown sslmode failed every connection with 08001, retried until retry.timeout.ms.
   */
  @Test
  void tlsSettingsOfTheUrlThatFailOrOverrideTheOptionsAreExplainedByValidate() {
    Map<String, String> typo = minimal();
    typo.put("connection.url", "jdbc:postgresql://db/soma?sslmode=verify_full");
    String error = assertOnlyErrorOn("connection.url", "sslmode parameter", typo);
    assertFalse(error.contains("verify_full"), error);
    assertThrows(ConfigException.class, () -> new PostgresMemorySinkTask().start(typo));

    Map<String, String> sslTrue = minimal();
    sslTrue.put("connection.url", "jdbc:postgresql://db/soma?ssl=true");
    sslTrue.put("connection.sslmode", "prefer");
    assertOnlyErrorOn("connection.sslmode", "contradicts ssl=true", sslTrue);

    Map<String, String> rootCert = minimal();
    rootCert.put("connection.url", "jdbc:postgresql://db/soma?sslrootcert=/url/ca.pem");
    rootCert.put("connection.sslrootcert", "/etc/ca.pem");
    assertOnlyErrorOn("connection.sslrootcert", "one place", rootCert);

    Map<String, String> sslPassword = minimal();
    sslPassword.put("connection.url", "jdbc:postgresql://db/soma?sslpassword=s3cret");
    error = assertOnlyErrorOn("connection.url", "connection.sslpassword", sslPassword);
    assertFalse(error.contains("s3cret"), error);

    Map<String, String> upperCase = minimal();
    upperCase.put("connection.url", "jdbc:postgresql://db/soma?sslmode=VERIFY-FULL");
    upperCase.put("connection.sslmode", "verify-full");
    assertTrue(
        errors(new PostgresMemorySinkConnector().validate(upperCase)).values().stream()
            .allMatch(List::isEmpty));
  }

  /** pgjdbc refuses a URL it cannot percent-decode; the error must not quote the URL. */
  @Test
  void aBadlyEncodedUrlIsExplainedByValidateWithoutQuotingIt() {
    Map<String, String> props = minimal();
    props.put("connection.url", "jdbc:postgresql://db/soma?sslpassword=s3cret&ApplicationName=%zz");
    String error = assertOnlyErrorOn("connection.url", "percent-encoded", props);
    assertFalse(error.contains("s3cret"), error);
    assertThrows(ConfigException.class, () -> new PostgresSinkConfig(props));
  }

  /** Checks that {@code option} alone has an error, holding {@code text}; returns it. */
  private static String assertOnlyErrorOn(String option, String text, Map<String, String> props) {
    Map<String, List<String>> errors = errors(new PostgresMemorySinkConnector().validate(props));
    errors.forEach(
        (name, messages) ->
            assertEquals(name.equals(option), !messages.isEmpty(), name + ": " + messages));
    String error = errors.get(option).get(0);
    assertTrue(error.contains(text), error);
    return error;
  }

  private static Map<String, ConfigValue> byName(Config config) {
    return config.configValues().stream()
        .collect(Collectors.toMap(ConfigValue::name, value -> value));
  }

  private static Map<String, List<String>> errors(Config config) {
    return config.configValues().stream()
        .collect(Collectors.toMap(ConfigValue::name, ConfigValue::errorMessages));
  }

  /**
   * key.fields and version.field are read in upsert mode only: write.mode=append with them was
   * taken silently, and the versioned upserts meant became appends. Refused on the option set; left
   * at their defaults they never are.
   */
  @Test
  void upsertOptionsInAnotherModeAreExplainedByValidate() {
    for (String mode : List.of("append", "audit", "dead_letter")) {
      for (String option : List.of("key.fields", "version.field")) {
        Map<String, String> props = minimal();
        props.put("write.mode", mode);
        props.put(option, "id");
        String error = assertOnlyErrorOn(option, "write.mode=upsert only", props);
        assertTrue(error.contains("write.mode is " + mode), error);
      }
      Map<String, String> defaults = minimal();
      defaults.put("write.mode", mode);
      defaults.put("key.fields", "");
      assertTrue(
          errors(new PostgresMemorySinkConnector().validate(defaults)).values().stream()
              .allMatch(List::isEmpty),
          mode);
    }
    Map<String, String> upsert = minimal();
    upsert.put("write.mode", "upsert");
    upsert.put("key.fields", "namespace,id");
    upsert.put("version.field", "version");
    new PostgresSinkConfig(upsert);
  }

  /**
   * In audit mode, a listed topic whose table is another listed topic's partition name
   * (<table>_default, <table>_YYYY_MM) passed validate, though the docs said it was refused there;
   * then one of the two tables could not be made. Refused on table.name.format, naming both.
   */
  @Test
  void aListedTopicNamedAsAnotherAuditTablesPartitionIsExplainedByValidate() {
    for (String clash : List.of("acme_default", "acme_2027_06", "acme.2027.06")) {
      Map<String, String> props = minimal();
      props.put("write.mode", "audit");
      props.put("topics", clash + ",acme");
      String error = assertOnlyErrorOn("table.name.format", "partition of the audit table", props);
      assertTrue(error.contains("\"public\".\"acme\""), error);
      assertTrue(error.contains("topic " + clash), error);
    }
    // a long name's partitions are shortened with a hash, as the audit setup names them
    String longTopic = "t".repeat(60);
    Map<String, String> shortened = minimal();
    shortened.put("write.mode", "audit");
    shortened.put("topics", longTopic + "," + SqlIdentifier.withSuffix(longTopic, "_default"));
    assertOnlyErrorOn("table.name.format", "partition of the audit table", shortened);
    for (String fine : List.of("acme,acme_13_06", "acme,acme_2027_13", "acme,other_default")) {
      Map<String, String> props = minimal();
      props.put("write.mode", "audit");
      props.put("topics", fine);
      new PostgresSinkConfig(props);
    }
    Map<String, String> append = minimal();
    append.put("topics", "acme_default,acme");
    new PostgresSinkConfig(append);
  }

  /** write.mode decides what the options it lists show: Connect's UI asks it again on a change. */
  @Test
  void theWriteModeNamesTheOptionsItShowsOrHides() {
    assertEquals(
        Set.of(
            "id.field",
            "key.fields",
            "version.field",
            "tombstones",
            "audit.time.field",
            "audit.partitions.ahead.months"),
        Set.copyOf(PostgresSinkConfig.CONFIG_DEF.configKeys().get("write.mode").dependents));
  }

  /**
   * Options the write mode ignores, set explicitly, and a dead letter queue Connect will not use
   * (errors.tolerance not all): the task warns of each at start; defaults never do.
   */
  @Test
  void optionsTheModeIgnoresAreNamedForTheStartWarning() {
    assertEquals(List.of(), new PostgresSinkConfig(minimal()).ignoredOptions());
    Map<String, String> audit = minimal();
    audit.put("write.mode", "audit");
    audit.put("tombstones", "delete");
    audit.put("errors.deadletterqueue.topic.name", "dlq");
    List<String> ignored = new PostgresSinkConfig(audit).ignoredOptions();
    assertEquals(2, ignored.size(), ignored.toString());
    assertTrue(ignored.get(0).startsWith("tombstones is ignored"), ignored.get(0));
    assertTrue(ignored.get(1).contains("errors.tolerance is none"), ignored.get(1));
    Map<String, String> upsert = minimal();
    upsert.put("write.mode", "upsert");
    upsert.put("key.fields", "id");
    upsert.put("id.field", "event_id");
    upsert.put("audit.time.field", "ts");
    upsert.put("errors.deadletterqueue.topic.name", "dlq");
    upsert.put("errors.tolerance", "all");
    ignored = new PostgresSinkConfig(upsert).ignoredOptions();
    assertEquals(2, ignored.size(), ignored.toString());
    assertTrue(ignored.get(0).startsWith("id.field is ignored"), ignored.get(0));
    assertTrue(ignored.get(1).startsWith("audit.time.field is ignored"), ignored.get(1));
  }

  /**
   * An sslfactory in the URL (NonValidatingFactory) made verify-full trust any certificate, and a
   * .p12 key without connection.sslpassword failed every connection: both shown at validate.
   */
  @Test
  void tlsSettingsThatCannotWorkAreExplainedByValidate() {
    Map<String, String> factory = minimal();
    factory.put("connection.sslmode", "verify-full");
    factory.put(
        "connection.url",
        "jdbc:postgresql://db/soma?sslfactory=org.postgresql.ssl.NonValidatingFactory");
    assertOnlyErrorOn("connection.url", "sslfactory", factory);
    Map<String, String> key = minimal();
    key.put("connection.url", "jdbc:postgresql://db/soma?sslkey=/certs/client.p12");
    assertOnlyErrorOn("connection.sslpassword", "PKCS-12", key);
  }
}
