package io.somastack.connect.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.somastack.connect.transforms.predicates.FieldMatches;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.transforms.Transformation;
import org.apache.kafka.connect.transforms.predicates.Predicate;
import org.junit.jupiter.api.Test;

/**
 * Connect validates a transform's or predicate's options (PUT
 * /connector-plugins/{name}/config/validate, and before it creates a connector) with their
 * validators and recommenders only, never with configure(). Each config configure() refuses must
 * show an error on the option at fault there too, or it passes validation and fails every task.
 */
class ConfigValidationTest {

  private static final String KEYS = EncryptFieldsTest.KEYS;

  private static Map<String, String> props(String... pairs) {
    Map<String, String> props = new HashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      props.put(pairs[i], pairs[i + 1]);
    }
    return props;
  }

  /** Each option's error messages, as ConfigDef.validate reports them. */
  private static Map<String, List<String>> errors(ConfigDef def, Map<String, String> props) {
    return def.validate(props).stream()
        .filter(value -> !value.errorMessages().isEmpty())
        .collect(Collectors.toMap(ConfigValue::name, ConfigValue::errorMessages));
  }

  private static ConfigValue option(ConfigDef def, Map<String, String> props, String name) {
    return def.validate(props).stream()
        .filter(value -> value.name().equals(name))
        .findFirst()
        .orElseThrow();
  }

  /** Validation shows errors on exactly these options, and configure() refuses the config. */
  private static void refused(
      Supplier<? extends Transformation<SinkRecord>> transform,
      Map<String, String> props,
      String... options) {
    Transformation<SinkRecord> t = transform.get();
    assertEquals(
        List.of(options),
        sorted(errors(t.config(), props)),
        () -> errors(t.config(), props).toString());
    assertThrows(ConfigException.class, () -> t.configure(props));
  }

  private static List<String> sorted(Map<String, ?> errors) {
    return errors.keySet().stream().sorted().toList();
  }

  private static void accepted(
      Supplier<? extends Transformation<SinkRecord>> transform, Map<String, String> props) {
    Transformation<SinkRecord> t = transform.get();
    assertEquals(Map.of(), errors(t.config(), props));
    t.configure(props);
  }

  @Test
  void redactWithHmacWithoutAKeyIsRefusedOnTheKey() {
    refused(RedactFields.Value::new, props("fields", "a"), "hmac.key");
    assertTrue(
        errors(RedactFields.CONFIG_DEF, props("fields", "a"))
            .get("hmac.key")
            .get(0)
            .contains("key is required"));
    accepted(RedactFields.Value::new, props("fields", "a", "with", "mask"));
    accepted(RedactFields.Value::new, props("fields", "a", "hmac.key", TestRecords.key(5)));
  }

  @Test
  void anEmptyFieldListIsRefusedOnFields() {
    refused(RedactFields.Value::new, props("fields", "", "with", "mask"), "fields");
    refused(EncryptFields.Value::new, props("fields", "", "keys", KEYS, "key.id", "pii"), "fields");
    refused(DecryptFields.Value::new, props("fields", "", "keys", KEYS), "fields");
  }

  @Test
  void validateJsonSchemaWithoutAnySchemaIsRefused() {
    refused(ValidateJsonSchema.Value::new, props(), "schema", "topic.schemas");
    accepted(
        ValidateJsonSchema.Value::new,
        props("topic.schemas", "t=classpath:schemas/memory-event.schema.json"));
  }

  @Test
  void encryptWithAKeyIdNotInKeysIsRefusedOnKeyId() {
    Map<String, String> props = props("fields", "a", "keys", KEYS, "key.id", "other");
    refused(EncryptFields.Value::new, props, "key.id");
    String message = errors(EncryptFields.CONFIG_DEF, props).get("key.id").get(0);
    assertTrue(message.contains("other"), message);
    assertFalse(message.contains(TestRecords.key(1)), message);
  }

  @Test
  void keysThatAreInvalidAreShownOnKeysAlone() {
    Map<String, String> props = props("fields", "a", "keys", "pii:1:AAAA", "key.id", "pii");
    Map<String, List<String>> errors = errors(EncryptFields.CONFIG_DEF, props);
    assertEquals(List.of("keys"), sorted(errors));
    assertFalse(errors.get("keys").get(0).contains("AAAA"), errors.toString());
  }

  @Test
  void encryptingTheTenantFieldIsRefusedOnTenantField() {
    refused(
        EncryptFields.Value::new,
        props("fields", "tenant_id", "keys", KEYS, "key.id", "pii"),
        "tenant.field");
    refused(
        EncryptFields.Value::new,
        props("fields", "meta", "tenant.field", "meta.tenant", "keys", KEYS, "key.id", "pii"),
        "tenant.field");
    refused(DecryptFields.Value::new, props("fields", "tenant_id", "keys", KEYS), "tenant.field");
    accepted(
        EncryptFields.Value::new,
        props("fields", "tenant_id", "tenant.field", "", "keys", KEYS, "key.id", "pii"));
  }

  @Test
  void overlappingStampsAreRefusedOnEachOfTheirOptions() {
    refused(
        StampEnvelope::new,
        props("event.id.field", "metadata", "schema.version", "1"),
        "event.id.field",
        "ingest.timestamp.field",
        "schema.version.field");
    accepted(StampEnvelope::new, props("event.id.field", "metadata", "ingest.timestamp.field", ""));
  }

  @Test
  void stampsSharingAHeaderAreRefusedOnTheirOptions() {
    refused(
        StampEnvelope::new,
        props(
            "stamp.to", "headers",
            "event.id.field", "a.id",
            "schema.version", "1",
            "schema.version.field", "b.id"),
        "event.id.field",
        "schema.version.field");
    accepted(
        StampEnvelope::new,
        props("event.id.field", "a.id", "schema.version", "1", "schema.version.field", "b.id"));
  }

  @Test
  void fieldMatchesNeedsExactlyOneOfEqualsAndPattern() {
    for (Map<String, String> props :
        List.of(props("field", "a"), props("field", "a", "equals", "x", "pattern", "x"))) {
      Predicate<SinkRecord> predicate = new FieldMatches.Value<>();
      assertEquals(List.of("equals", "pattern"), sorted(errors(predicate.config(), props)));
      assertThrows(ConfigException.class, () -> predicate.configure(props));
    }
    assertEquals(Map.of(), errors(FieldMatches.CONFIG_DEF, props("field", "a", "equals", "x")));
  }

  /** Connect embeds a transform's ConfigDef under transforms.NAME. and keeps its recommenders. */
  @Test
  void ruleErrorsShowOnTheEmbeddedOption() {
    ConfigDef connector = new ConfigDef();
    connector.embed("transforms.redact.", "Transforms: redact", 0, RedactFields.CONFIG_DEF);
    Map<String, String> props = props("transforms.redact.fields", "a");
    assertEquals(List.of("transforms.redact.hmac.key"), sorted(errors(connector, props)));
  }

  @Test
  void choicesAreRecommended() {
    assertRecommends(RedactFields.CONFIG_DEF, props("fields", "a"), "with", "hmac", "mask");
    assertRecommends(
        EncryptFields.CONFIG_DEF,
        props("fields", "a", "keys", KEYS, "key.id", "pii"),
        "mode",
        "random",
        "deterministic");
    assertRecommends(KeyFromField.CONFIG_DEF, props("field", "a"), "on.missing", onMissingValues());
    assertRecommends(StampEnvelope.CONFIG_DEF, props(), "stamp.to", "fields", "headers");
    assertRecommends(
        StampEnvelope.CONFIG_DEF, props(), "ingest.timestamp.source", "wall_clock", "record");
    assertRecommends(
        ValidateJsonSchema.CONFIG_DEF, props("schema", "{}"), "on.invalid", "fail", "reroute");
  }

  private static String[] onMissingValues() {
    return Arrays.stream(KeyFromField.OnMissing.values())
        .map(value -> value.name().toLowerCase(Locale.ROOT))
        .toArray(String[]::new);
  }

  private static void assertRecommends(
      ConfigDef def, Map<String, String> props, String name, String... values) {
    assertEquals(List.of(values), option(def, props, name).recommendedValues());
  }

  @Test
  void rerouteOptionsShowOnlyWhenRerouting() {
    for (String name : List.of("reroute.topic", "errors.header")) {
      ConfigDef def = ValidateJsonSchema.CONFIG_DEF;
      assertFalse(option(def, props("schema", "{}"), name).visible(), name);
      assertTrue(option(def, props("schema", "{}", "on.invalid", "reroute"), name).visible(), name);
    }
  }

  /**
   * A connector config may give any option as JSON null, and ConfigDef.validate catches only
   * ConfigExceptions: a validator or recommender that threw anything else on null failed Connect's
   * validate call with HTTP 500 instead of showing an error on the option.
   */
  @Test
  void everyOptionGivenAsNullIsValidatedWithoutThrowing() {
    Map<ConfigDef, Map<String, String>> valid =
        Map.of(
            RedactFields.CONFIG_DEF, props("fields", "a", "hmac.key", TestRecords.key(5)),
            EncryptFields.CONFIG_DEF, props("fields", "a", "keys", KEYS, "key.id", "pii"),
            DecryptFields.CONFIG_DEF, props("fields", "a", "keys", KEYS),
            KeyFromField.CONFIG_DEF, props("field", "a"),
            RouteByField.CONFIG_DEF, props("topic.template", "t-${value.a}"),
            StampEnvelope.CONFIG_DEF, props("schema.version", "1"),
            ValidateJsonSchema.CONFIG_DEF,
                props(
                    "schema", "{}",
                    "topic.schemas", "t=classpath:schemas/memory-event.schema.json",
                    "on.invalid", "reroute"),
            FieldMatches.CONFIG_DEF, props("field", "a", "equals", "x"));
    List<String> threw = new ArrayList<>();
    valid.forEach(
        (def, props) -> {
          assertEquals(Map.of(), errors(def, props));
          for (String name : def.names()) {
            Map<String, String> withNull = new HashMap<>(props);
            withNull.put(name, null);
            try {
              def.validate(withNull);
            } catch (RuntimeException e) {
              threw.add(name + ": " + e);
            }
          }
        });
    assertEquals(List.of(), threw);
  }
}
