package io.somastack.connect.outbox;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.connect.source.ConnectorTransactionBoundaries;
import org.apache.kafka.connect.source.ExactlyOnceSupport;
import org.junit.jupiter.api.Test;

class OutboxSourceConfigTest {

  private static Map<String, String> base() {
    Map<String, String> props = new HashMap<>();
    props.put("connection.url", "jdbc:postgresql://localhost:5432/soma");
    return props;
  }

  @Test
  void defaultsFollowTheSeed() {
    OutboxSourceConfig config = new OutboxSourceConfig(base());
    assertEquals(List.of("public.outbox"), config.tables());
    assertEquals(OutboxSourceConfig.AfterPublish.DELETE, config.afterPublish());
    assertEquals(OutboxSourceConfig.BadRowAction.DLQ, config.badRowAction());
    assertEquals(OutboxColumns.defaults(), config.columns());
    assertEquals("public.dlq", config.dlqTable().name());
    assertEquals("soma_outbox", config.notifyChannel());
    assertEquals(
        ConfigDef.Type.PASSWORD,
        OutboxSourceConfig.CONFIG_DEF.configKeys().get("connection.password").type);
  }

  /**
   * PostgreSQL converts the local times, so whether a zone exists is its question, asked at task
   * start (pg_timezone_names): validate checks only the form. A zone the worker JVM's older tzdata
   * lacks (America/Coyhaique, tzdata 2025b) was refused; names PostgreSQL never takes as a zone's
   * rules (CET, an abbreviation; SystemV/*, Java's own) passed.
   */
  @Test
  void createdAtTimeZoneTakesZoneNamesOnly() {
    assertEquals(null, new OutboxSourceConfig(base()).createdAtTimeZone());
    for (String zone :
        List.of("Europe/Berlin", "UTC", "Etc/GMT+1", "America/Coyhaique", "Mars/Olympus")) {
      Map<String, String> props = base();
      props.put("created.at.time.zone", zone);
      assertEquals(zone, new OutboxSourceConfig(props).createdAtTimeZone());
    }
    // offsets: PostgreSQL reads some the POSIX way, east and west swapped
    for (String zone : List.of("+02:00", "-05", "UTC+2", "GMT+2", "SystemV/EST5", "Europe/")) {
      Map<String, String> props = base();
      props.put("created.at.time.zone", zone);
      assertThrows(ConfigException.class, () -> new OutboxSourceConfig(props), zone);
      assertOnlyErrorOn("created.at.time.zone", props);
    }
  }

  /** An abbreviation is refused by validate with the region to name instead, as at start-up. */
  @Test
  void createdAtTimeZoneRefusesAnAbbreviationNamingItsRegion() {
    for (Map.Entry<String, String> zone :
        Map.of("CET", "Europe/Brussels", "EST", "America/Panama", "hst", "Pacific/Honolulu")
            .entrySet()) {
      Map<String, String> props = base();
      props.put("created.at.time.zone", zone.getKey());
      assertOnlyErrorOn("created.at.time.zone", props);
      String message =
          assertThrows(ConfigException.class, () -> new OutboxSourceConfig(props)).getMessage();
      assertTrue(message.contains(zone.getValue()), message);
      assertTrue(
          message.endsWith(CreatedAtZone.abbreviation(zone.getKey(), null, zone.getValue())),
          message);
    }
  }

  @Test
  void rejectsBadValues() {
    Map<String, String> props = base();
    props.put("connection.url", "jdbc:mysql://x/y");
    assertThrows(ConfigException.class, () -> new OutboxSourceConfig(props));

    Map<String, String> dup = base();
    dup.put("outbox.tables", "public.a, public.a");
    assertThrows(ConfigException.class, () -> new OutboxSourceConfig(dup));

    Map<String, String> mode = base();
    mode.put("after.publish", "archive");
    assertThrows(ConfigException.class, () -> new OutboxSourceConfig(mode));

    Map<String, String> fixed = base();
    fixed.put("topic.mode", "fixed");
    assertThrows(ConfigException.class, () -> new OutboxSourceConfig(fixed));
    fixed.put("topic.fixed", "somastack.events");
    assertEquals("somastack.events", new OutboxSourceConfig(fixed).fixedTopic());

    Map<String, String> regex = base();
    regex.put("topic.allow.regex", "(");
    assertThrows(ConfigException.class, () -> new OutboxSourceConfig(regex));
  }

  /** Kafka refuses "." and "..": every row would be dead-lettered. */
  @Test
  void fixedTopicDotsAreRejected() {
    for (String topic : List.of(".", "..")) {
      Map<String, String> props = base();
      props.put("topic.mode", "fixed");
      props.put("topic.fixed", topic);
      assertThrows(ConfigException.class, () -> new OutboxSourceConfig(props), topic);
    }
  }

  /** A fixed topic the allow-list refuses would make every row a bad row: refused at once. */
  @Test
  void aFixedTopicOutsideTheAllowedTopicsIsRejected() {
    Map<String, String> props = base();
    props.put("topic.mode", "fixed");
    props.put("topic.fixed", "memory.events");
    props.put("topic.allow.regex", "somastack\\..*");
    ConfigException e = assertThrows(ConfigException.class, () -> new OutboxSourceConfig(props));
    assertTrue(e.getMessage().contains("topic.allow.regex"), e.getMessage());
    props.put("topic.fixed", "somastack.events");
    assertEquals("somastack.events", new OutboxSourceConfig(props).fixedTopic());
  }

  /**
   * pg_notify fails on a channel name over 63 bytes, so the trigger would fail every writer's
   * insert; LISTEN would silently cut the name short.
   */
  @Test
  void notifyChannelOver63BytesIsRejected() {
    Map<String, String> props = base();
    props.put("notify.channel", "c".repeat(64));
    assertThrows(ConfigException.class, () -> new OutboxSourceConfig(props));
    props.put("notify.channel", "c".repeat(63));
    assertEquals("c".repeat(63), new OutboxSourceConfig(props).notifyChannel());
  }

  /** A cross-field error is shown on the option it is about, not on outbox.tables. */
  @Test
  void connectorValidateShowsEachCrossFieldErrorOnItsOption() {
    Map<String, String> backoff = base();
    backoff.put("retry.backoff.initial.ms", "500");
    backoff.put("retry.backoff.max.ms", "100");
    assertOnlyErrorOn("retry.backoff.max.ms", backoff);
    Map<String, String> dlq = base();
    dlq.put("dlq.table", "dlq.");
    assertOnlyErrorOn("dlq.table", dlq);
  }

  /**
   * pgjdbc lets the URL's sslmode beat connection.sslmode: verify-full in the config with
   * sslmode=disable in the URL would connect without TLS. validate said nothing and the task failed
   * at its first poll; now validate shows it on connection.sslmode, and no task starts.
   */
  @Test
  void anSslmodeTheUrlContradictsIsShownOnTheTlsOption() {
    Map<String, String> props = base();
    props.put("connection.url", "jdbc:postgresql://db/soma?sslmode=disable");
    props.put("connection.sslmode", "verify-full");
    assertOnlyErrorOn("connection.sslmode", props);
    ConfigException e = assertThrows(ConfigException.class, () -> new OutboxSourceConfig(props));
    assertTrue(e.getMessage().contains("contradicts sslmode=disable"), e.getMessage());
  }

  /**
   * TLS settings of connection.url pgjdbc would fail on or use instead of the options: validate
   * shows each on the option at fault, quoting nothing of the URL, and the config is refused. An
   * unknown sslmode failed every connection with 08001, which a running task retried for ever.
   */
  @Test
  void tlsSettingsOfTheUrlThatFailOrOverrideTheOptionsAreShownOnTheOptionAtFault() {
    Map<String, String> typo = base();
    typo.put("connection.url", "jdbc:postgresql://db/soma?sslmode=verify_full");
    assertOnlyErrorOn("connection.url", typo);
    ConfigException e = assertThrows(ConfigException.class, () -> new OutboxSourceConfig(typo));
    assertTrue(e.getMessage().contains("sslmode parameter"), e.getMessage());
    assertFalse(e.getMessage().contains("verify_full"), e.getMessage());

    Map<String, String> sslTrue = base();
    sslTrue.put("connection.url", "jdbc:postgresql://db/soma?ssl");
    sslTrue.put("connection.sslmode", "require");
    assertOnlyErrorOn("connection.sslmode", sslTrue);

    Map<String, String> rootCert = base();
    rootCert.put("connection.url", "jdbc:postgresql://db/soma?sslrootcert=/url/ca.pem");
    rootCert.put("connection.sslrootcert", "/etc/ca.pem");
    assertOnlyErrorOn("connection.sslrootcert", rootCert);

    Map<String, String> sslPassword = base();
    sslPassword.put("connection.url", "jdbc:postgresql://db/soma?sslpassword=s3cret");
    assertOnlyErrorOn("connection.url", sslPassword);
    e = assertThrows(ConfigException.class, () -> new OutboxSourceConfig(sslPassword));
    assertTrue(e.getMessage().contains("connection.sslpassword"), e.getMessage());
    assertFalse(e.getMessage().contains("s3cret"), e.getMessage());

    Map<String, String> upperCase = base();
    upperCase.put("connection.url", "jdbc:postgresql://db/soma?sslmode=VERIFY-FULL");
    upperCase.put("connection.sslmode", "verify-full");
    assertEquals(
        "VERIFY-FULL",
        new OutboxSourceConfig(upperCase).connectionProperties().getProperty("sslmode"));
  }

  /**
   * A PKCS-12 client key needs its password, which connection.url may not carry: the password
   * option reaches pgjdbc, is typed PASSWORD for validate (Connect shows it hidden) and never shows
   * in the config's text, a validate value or message, even when another option is at fault.
   */
  @Test
  void theClientKeyPasswordReachesPgjdbcAndIsNeverShown() {
    Map<String, String> props = base();
    props.put("connection.url", "jdbc:postgresql://db/soma?sslkey=/certs/client.p12");
    props.put("connection.sslpassword", "k3y-s3cret");
    OutboxSourceConfig config = new OutboxSourceConfig(props);
    assertEquals("k3y-s3cret", config.connectionProperties().getProperty("sslpassword"));
    assertFalse(config.toString().contains("k3y-s3cret"));
    assertEquals(
        ConfigDef.Type.PASSWORD,
        OutboxSourceConfig.CONFIG_DEF.configKeys().get("connection.sslpassword").type);

    props.put("connection.sslmode", "disable");
    props.put("connection.url", "jdbc:postgresql://db/soma?sslkey=/k.p12&sslmode=verify-full");
    assertOnlyErrorOn("connection.sslmode", props);
    ConfigValue shown = byName(props).get("connection.sslpassword");
    assertTrue(shown.value() instanceof Password, String.valueOf(shown.value()));
    assertFalse(shown.toString().contains("k3y-s3cret"), shown.toString());
    for (ConfigValue value : new PostgresOutboxSourceConnector().validate(props).configValues()) {
      assertFalse(value.errorMessages().toString().contains("k3y-s3cret"), value.name());
    }
  }

  /** pgjdbc refuses a URL it cannot percent-decode; the error must not quote the URL. */
  @Test
  void aBadlyEncodedUrlIsShownOnTheUrlWithoutQuotingIt() {
    Map<String, String> props = base();
    props.put("connection.url", "jdbc:postgresql://db/so%zzma?sslpassword=s3cret");
    assertOnlyErrorOn("connection.url", props);
    ConfigException e = assertThrows(ConfigException.class, () -> new OutboxSourceConfig(props));
    assertTrue(e.getMessage().contains("percent-encoded"), e.getMessage());
    assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
  }

  /**
   * column.error=payload or column.published.at=created_at passed validate, and the task then ran
   * and relayed nothing (every row looked flagged or published) while the backlog metrics read 0.
   * Two roles on one column are refused on the later option, naming the earlier one.
   */
  @Test
  void twoRolesOnOneColumnAreRefusedOnTheLaterOption() {
    Map<String, String[]> cases =
        Map.of(
            "column.error", new String[] {"payload", "column.payload"},
            "column.published.at", new String[] {"created_at", "column.created.at"},
            "column.txid", new String[] {"id", "column.id"},
            "column.headers", new String[] {"payload", "column.payload"});
    cases.forEach(
        (option, clash) -> {
          Map<String, String> props = base();
          props.put(option, clash[0]);
          assertOnlyErrorOn(option, props);
          String message = byName(props).get(option).errorMessages().toString();
          assertTrue(message.contains(clash[1]), message);
        });

    Map<String, String> keyOnWrittenColumn = base();
    keyOnWrittenColumn.put("column.key", "published_at");
    assertOnlyErrorOn("column.key", keyOnWrittenColumn);

    // the key may be a column the relay only reads; a fixed topic leaves column.topic unused
    Map<String, String> fine = base();
    fine.put("column.key", "id");
    fine.put("topic.mode", "fixed");
    fine.put("topic.fixed", "events");
    fine.put("column.topic", "payload");
    fine.put("column.headers", "");
    for (ConfigValue value : new PostgresOutboxSourceConnector().validate(fine).configValues()) {
      assertEquals(List.of(), value.errorMessages(), value.name());
    }
  }

  private static void assertOnlyErrorOn(String option, Map<String, String> props) {
    for (ConfigValue value : new PostgresOutboxSourceConnector().validate(props).configValues()) {
      assertEquals(option.equals(value.name()), !value.errorMessages().isEmpty(), value.name());
    }
  }

  /** validate lists each choice option's values, so that UIs can offer them. */
  @Test
  void validateRecommendsTheValuesOfEveryChoice() {
    Map<String, ConfigValue> values = byName(base());
    assertEquals(List.of("delete", "mark"), values.get("after.publish").recommendedValues());
    assertEquals(List.of("column", "fixed"), values.get("topic.mode").recommendedValues());
    assertEquals(
        List.of("string", "bytes", "struct"), values.get("value.format").recommendedValues());
    assertEquals(
        List.of("exact", "double"), values.get("value.struct.numbers").recommendedValues());
    assertEquals(List.of("dlq", "flag"), values.get("bad.row.action").recommendedValues());
    assertEquals(
        List.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
        values.get("connection.sslmode").recommendedValues());
  }

  /** The struct options apply to value.format=struct alone. */
  @Test
  void theStructOptionsShowOnlyForStructValues() {
    Map<String, String> props = base();
    for (String format : List.of("string", "bytes", "struct")) {
      props.put("value.format", format);
      Map<String, ConfigValue> values = byName(props);
      boolean struct = format.equals("struct");
      assertEquals(struct, values.get("value.struct.numbers").visible(), format);
      assertEquals(struct, values.get("value.schema.name").visible(), format);
    }
  }

  /** payload.json.check decides for string and bytes values; a struct is always parsed. */
  @Test
  void thePayloadJsonCheckShowsOnlyForTextValues() {
    Map<String, String> props = base();
    for (String format : List.of("string", "bytes", "struct")) {
      props.put("value.format", format);
      ConfigValue check = byName(props).get("payload.json.check");
      assertEquals(true, check.value(), format);
      assertEquals(!format.equals("struct"), check.visible(), format);
    }
  }

  /** A payload.json.check that is no boolean is shown on that option, saying what it takes. */
  @Test
  void validateExplainsABadPayloadJsonCheck() {
    Map<String, String> props = base();
    props.put("payload.json.check", "yes");
    assertOnlyErrorOn("payload.json.check", props);
    String error = byName(props).get("payload.json.check").errorMessages().get(0);
    assertTrue(error.contains("true or false"), error);
    props.put("payload.json.check", "false");
    assertOnlyErrorOn("none", props);
  }

  private static Map<String, ConfigValue> byName(Map<String, String> props) {
    Map<String, ConfigValue> byName = new HashMap<>();
    for (ConfigValue value : new PostgresOutboxSourceConnector().validate(props).configValues()) {
      byName.put(value.name(), value);
    }
    return byName;
  }

  /**
   * Connect hands validate a null value as it came in the JSON ("outbox.tables": null) and adds its
   * own error for it afterwards: validate must answer, not fail with an exception (an HTTP 500).
   */
  @Test
  void validateAnswersForANullValueOfAnyOption() {
    for (Map<String, String> base : List.of(base(), Map.of("topic.mode", "fixed"))) {
      for (String option : OutboxSourceConfig.CONFIG_DEF.names()) {
        Map<String, String> props = base();
        props.putAll(base);
        props.put(option, null);
        assertDoesNotThrow(
            () -> new PostgresOutboxSourceConnector().validate(props), base + " " + option);
      }
    }
  }

  @Test
  void keyColumnDefaultsToDedupeKey() {
    Map<String, String> props = base();
    props.put("column.dedupe.key", "idem");
    props.put("column.headers", "");
    OutboxColumns columns = new OutboxSourceConfig(props).columns();
    assertEquals("idem", columns.key());
    assertEquals(null, columns.headers());
    props.put("column.key", "aggregate_id");
    assertEquals("aggregate_id", new OutboxSourceConfig(props).columns().key());
  }

  @Test
  void connectorValidateReportsCrossFieldErrors() {
    Map<String, String> props = base();
    props.put("topic.mode", "fixed");
    List<ConfigValue> values = new PostgresOutboxSourceConnector().validate(props).configValues();
    ConfigValue fixed =
        values.stream().filter(v -> v.name().equals("topic.fixed")).findFirst().orElseThrow();
    assertFalse(fixed.errorMessages().isEmpty());
    assertTrue(fixed.visible());
  }

  @Test
  void tablesAreSpreadOverTasks() {
    List<Map<String, String>> configs =
        PostgresOutboxSourceConnector.spread(List.of("a.t1", "a.t2", "b.t3"), 2, base());
    assertEquals(2, configs.size());
    assertEquals("a.t1,b.t3", configs.get(0).get(OutboxSourceConfig.TASK_TABLES));
    assertEquals("a.t2", configs.get(1).get(OutboxSourceConfig.TASK_TABLES));
    assertEquals(1, PostgresOutboxSourceConnector.spread(List.of("t"), 8, base()).size());
    assertEquals(
        List.of("a.t2"),
        new OutboxSourceConfig(configs.get(1))
            .taskTables().stream().map(OutboxTable::name).toList());
  }

  @Test
  void supportsExactlyOnce() {
    PostgresOutboxSourceConnector connector = new PostgresOutboxSourceConnector();
    assertEquals(ExactlyOnceSupport.SUPPORTED, connector.exactlyOnceSupport(base()));
    assertEquals(
        ConnectorTransactionBoundaries.SUPPORTED, connector.canDefineTransactionBoundaries(base()));
  }

  /**
   * dlq.table naming one of outbox.tables (outbox and public.outbox alike) validated clean and the
   * first bad row failed: shown on dlq.table. Under bad.row.action=flag it is not used.
   */
  @Test
  void aDeadLetterTableThatIsAnOutboxIsExplainedByValidate() {
    for (String[] pair :
        List.of(
            new String[] {"public.outbox", "public.outbox"},
            new String[] {"outbox", "public.outbox"},
            new String[] {"public.outbox", "outbox"},
            new String[] {"app.events,outbox", "outbox"})) {
      Map<String, String> props = base();
      props.put("outbox.tables", pair[0]);
      props.put("dlq.table", pair[1]);
      assertOnlyErrorOn("dlq.table", props);
      ConfigException e = assertThrows(ConfigException.class, () -> new OutboxSourceConfig(props));
      assertTrue(e.getMessage().contains("names the outbox table"), e.getMessage());
      props.put("bad.row.action", "flag");
      new OutboxSourceConfig(props);
    }
    for (String[] pair :
        List.of(
            new String[] {"public.outbox", "public.dlq"},
            new String[] {"app.outbox", "other.outbox"},
            new String[] {"public.Outbox", "public.outbox"},
            // a dead-letter schema of its own: another table than outbox through the search_path
            new String[] {"outbox", "dlq.outbox"},
            new String[] {"dlq.outbox", "outbox"})) {
      Map<String, String> props = base();
      props.put("outbox.tables", pair[0]);
      props.put("dlq.table", pair[1]);
      new OutboxSourceConfig(props);
    }
  }

  /** topic.fixed set under topic.mode=column is ignored: the connector warns of it at start. */
  @Test
  void aFixedTopicInColumnModeIsNamedForTheStartWarning() {
    assertEquals(List.of(), new OutboxSourceConfig(base()).ignoredOptions());
    Map<String, String> props = base();
    props.put("topic.fixed", "events");
    List<String> ignored = new OutboxSourceConfig(props).ignoredOptions();
    assertEquals(1, ignored.size(), ignored.toString());
    assertTrue(ignored.get(0).startsWith("topic.fixed is ignored"), ignored.get(0));
    props.put("topic.mode", "fixed");
    assertEquals(List.of(), new OutboxSourceConfig(props).ignoredOptions());
  }
}
