package io.somastack.connect.qdrant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Points.WriteOrderingType;
import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.qdrant.embed.EmbedderKind;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.junit.jupiter.api.Test;

class QdrantSinkConfigTest {

  private static Map<String, String> props(String... keyValues) {
    Map<String, String> props = new HashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      props.put(keyValues[i], keyValues[i + 1]);
    }
    return props;
  }

  @Test
  void defaultsMatchTheSeedWorker() {
    QdrantSinkConfig config = new QdrantSinkConfig(Map.of());
    assertEquals(EmbedderKind.HASHING, config.embedder());
    assertEquals(384, config.vectorSize());
    assertEquals(Distance.Cosine, config.distance());
    assertEquals("${topic}", config.collection().toString());
    assertEquals(6334, config.qdrantPort());
    assertFalse(config.qdrantTls());
    assertEquals(256, config.batchMaxPoints());
    assertTrue(config.batchMaxBytes() <= QdrantSinkConfig.QDRANT_MAX_REQUEST_BYTES);
  }

  /**
   * A put's embedding retries plus one request's timeout stay well under the consumer's default
   * max.poll.interval.ms (300000), so retrying never costs the task its partitions.
   */
  @Test
  void theEmbeddingRetryBudgetLeavesRoomWithinTheDefaultPollInterval() {
    QdrantSinkConfig config = new QdrantSinkConfig(Map.of());
    long perPut = config.openAiRetryBudget().plus(config.openAiTimeout()).toMillis();
    assertTrue(perPut <= 300_000 / 2, perPut + " ms");
  }

  @Test
  void typedValues() {
    QdrantSinkConfig config =
        new QdrantSinkConfig(
            props(
                "qdrant.url", "https://xyz.cloud.qdrant.io",
                "qdrant.api.key", "secret",
                "collection.distance", "DOT",
                "collection.payload.indexes", "tenant_id:keyword, created_at:datetime"));
    assertTrue(config.qdrantTls());
    assertEquals(6334, config.qdrantPort());
    assertEquals("secret", config.qdrantApiKey());
    assertEquals(Distance.Dot, config.distance());
    assertEquals(
        Map.of("tenant_id", PayloadSchemaType.Keyword, "created_at", PayloadSchemaType.Datetime),
        config.payloadIndexes());
  }

  @Test
  void secretsArePasswords() {
    ConfigDef def = QdrantSinkConfig.CONFIG_DEF;
    assertEquals(ConfigDef.Type.PASSWORD, def.configKeys().get("qdrant.api.key").type);
    assertEquals(ConfigDef.Type.PASSWORD, def.configKeys().get("embedder.openai.api.key").type);
    assertFalse(
        new QdrantSinkConfig(props("qdrant.api.key", "s3cr3t")).toString().contains("s3cr3t"));
  }

  @Test
  void invalidValuesAreRejectedWithReadableReasons() {
    List<Map<String, String>> bad =
        List.of(
            props("qdrant.url", "localhost:6334"),
            props("collection.name", "x_${value.}"),
            props("collection.name", "${nope}"),
            props("collection.distance", "hamming"),
            props("collection.payload.indexes", "tenant_id"),
            props("collection.payload.indexes", "tenant_id:vector"),
            props("embedder", "sentencepiece"),
            props("id.field", "a..b"),
            props("id.fields", "namespace,a..b"),
            props("id.namespace", "not-a-uuid"),
            props("vector.size", "0"),
            props("embedder.openai.retry.budget.ms", "-1"),
            props("batch.max.bytes", "64000000"),
            props("record.max.bytes", "1023"),
            props("embedder.text.fields", ""),
            props("embedder", "field", "payload.include", "vector"));
    for (Map<String, String> props : bad) {
      assertThrows(ConfigException.class, () -> new QdrantSinkConfig(props), props.toString());
    }
  }

  /** Two types for one field cannot both be made: the one that would win silently is refused. */
  @Test
  void aPayloadIndexFieldListedTwiceIsRejectedOnItsKey() {
    Map<String, String> twice =
        props("collection.payload.indexes", "tenant_id:keyword,created_at:datetime,tenant_id:uuid");
    ConfigException e = assertThrows(ConfigException.class, () -> new QdrantSinkConfig(twice));
    assertTrue(e.getMessage().contains("tenant_id"), e.getMessage());
    List<String> withErrors =
        new QdrantVectorSinkConnector()
            .validate(twice).configValues().stream()
                .filter(v -> !v.errorMessages().isEmpty())
                .map(ConfigValue::name)
                .toList();
    assertEquals(List.of("collection.payload.indexes"), withErrors);
  }

  @Test
  void validatorsDescribeThemselves() {
    ConfigDef def = QdrantSinkConfig.CONFIG_DEF;
    assertEquals(
        "one of hashing, field, openai", def.configKeys().get("embedder").validator.toString());
    assertTrue(
        def.configKeys()
            .get("collection.payload.indexes")
            .validator
            .toString()
            .contains("keyword"));
    assertTrue(def.toHtml().contains("qdrant.url"));
  }

  @Test
  void connectorValidateReportsCrossFieldErrorsOnTheirKey() {
    Config result =
        new QdrantVectorSinkConnector()
            .validate(props("embedder", "field", "payload.include", "vector"));
    ConfigValue include =
        result.configValues().stream()
            .filter(v -> v.name().equals("payload.include"))
            .findFirst()
            .orElseThrow();
    assertFalse(include.errorMessages().isEmpty());
  }

  /**
   * ConfigException's message names its key in prose, and another key's name can be part of it
   * ("embedder" of "embedder.text.fields", "vector.name" in the reason): the error goes on the key
   * the check is about, and on no other.
   */
  @Test
  void everyCrossFieldErrorLandsOnTheKeyItIsAbout() {
    Map<Map<String, String>, String> mistakes =
        Map.of(
            props("embedder", "hashing", "embedder.text.fields", ""), "embedder.text.fields",
            props("embedder", "openai", "embedder.text.fields", ""), "embedder.text.fields",
            props("embedder", "field", "payload.include", "vector"), "payload.include",
            props("vector.name", "dense", "collection.sparse.vectors", "dense"),
                "collection.sparse.vectors",
            props("vector.name", "dense", "collection.sparse.vectors", "words"),
                "collection.sparse.vectors");
    mistakes.forEach(
        (props, key) -> {
          List<String> withErrors =
              new QdrantVectorSinkConnector()
                  .validate(props).configValues().stream()
                      .filter(v -> !v.errorMessages().isEmpty())
                      .map(ConfigValue::name)
                      .toList();
          assertEquals(List.of(key), withErrors, props.toString());
        });
  }

  /**
   * The text embedders make one dense vector and nothing else, and an upsert replaces all of a
   * point's vectors: a sparse vector declared with them would stay empty on every point the
   * connector writes (and lose what another writer put there), so the combination is refused.
   */
  @Test
  void sparseVectorsAreRefusedWithTheTextEmbeddersOnTheirKey() {
    for (String embedder : List.of("hashing", "openai")) {
      Map<String, String> sparse =
          props("embedder", embedder, "vector.name", "dense", "collection.sparse.vectors", "words");
      ConfigException e = assertThrows(ConfigException.class, () -> new QdrantSinkConfig(sparse));
      assertTrue(e.getMessage().contains("embedder=field"), e.getMessage());
      assertTrue(e.getMessage().contains(embedder), e.getMessage());
      List<String> withErrors =
          new QdrantVectorSinkConnector()
              .validate(sparse).configValues().stream()
                  .filter(v -> !v.errorMessages().isEmpty())
                  .map(ConfigValue::name)
                  .toList();
      assertEquals(List.of("collection.sparse.vectors"), withErrors, embedder);
    }
    QdrantSinkConfig field =
        new QdrantSinkConfig(
            props("embedder", "field", "vector.name", "dense", "collection.sparse.vectors", "w"));
    assertEquals(List.of("w"), field.sparseVectors());
  }

  /**
   * Connect's validate (and a UI built on it) follows dependents from the option that decides to
   * the options it shows or hides: embedder to its embedders' own keys, delete.enabled to the
   * tombstone id field. Each such key must be listed there, and no key may list the option it
   * depends on (which made embedder a child of its own dependents).
   */
  @Test
  void dependentsPointFromTheDecidingOptionToTheOptionsItDecides() {
    Map<String, ConfigDef.ConfigKey> keys = QdrantSinkConfig.CONFIG_DEF.configKeys();
    Map<String, Set<String>> dependents = new HashMap<>();
    keys.values().stream()
        .filter(k -> !k.dependents.isEmpty())
        .forEach(k -> dependents.put(k.name, Set.copyOf(k.dependents)));
    assertEquals(
        Map.of(
            "embedder",
            Set.of(
                "embedder.text.fields",
                "vector.field",
                "embedder.openai.url",
                "embedder.openai.model",
                "embedder.openai.api.key",
                "embedder.openai.send.dimensions",
                "embedder.openai.batch.size",
                "embedder.openai.batch.max.chars",
                "embedder.openai.timeout.ms",
                "embedder.openai.max.retries",
                "embedder.openai.retry.budget.ms"),
            "delete.enabled",
            Set.of("delete.id.field")),
        dependents);
    // each dependent is a defined key whose visibility its parent decides
    dependents.forEach(
        (parent, children) ->
            children.forEach(
                child -> {
                  assertTrue(keys.containsKey(child), child);
                  assertTrue(visibilityVaries(keys.get(child), parent), parent + " -> " + child);
                }));
    // and every key whose visibility varies with a parent is listed under it
    for (String parent : List.of("embedder", "delete.enabled")) {
      keys.values().stream()
          .filter(k -> visibilityVaries(k, parent))
          .forEach(k -> assertTrue(dependents.get(parent).contains(k.name), k.name));
    }
  }

  private static boolean visibilityVaries(ConfigDef.ConfigKey key, String parent) {
    if (key.recommender == null) {
      return false;
    }
    List<Object> values =
        parent.equals("embedder")
            ? List.of("hashing", "field", "openai")
            : List.of(Boolean.TRUE, Boolean.FALSE);
    Set<Boolean> seen = new HashSet<>();
    for (Object value : values) {
      Map<String, Object> parsed = new HashMap<>();
      parsed.put(parent, value);
      seen.add(key.recommender.visible(key.name, parsed));
    }
    return seen.size() > 1;
  }

  @Test
  void theTombstoneIdFieldIsVisibleOnlyWhileTombstonesDelete() {
    assertTrue(visible(new QdrantVectorSinkConnector().validate(props()), "delete.id.field"));
    assertFalse(
        visible(
            new QdrantVectorSinkConnector().validate(props("delete.enabled", "false")),
            "delete.id.field"));
  }

  @Test
  void openAiKeysAreVisibleOnlyForTheOpenAiEmbedder() {
    Config hashing = new QdrantVectorSinkConnector().validate(props());
    Config openAi = new QdrantVectorSinkConnector().validate(props("embedder", "openai"));
    assertFalse(visible(hashing, "embedder.openai.model"));
    assertTrue(visible(openAi, "embedder.openai.model"));
    for (String key :
        List.of("embedder.openai.send.dimensions", "embedder.openai.batch.max.chars")) {
      assertFalse(visible(hashing, key), key);
      assertTrue(visible(openAi, key), key);
    }
    assertFalse(visible(openAi, "vector.field"));
  }

  private static boolean visible(Config config, String name) {
    return config.configValues().stream()
        .filter(v -> v.name().equals(name))
        .findFirst()
        .orElseThrow()
        .visible();
  }

  /**
   * A first wait longer than the longest used to pass and be quietly raised to it, each wait then
   * past the retry.backoff.max.ms the config asked for. validate says so on the maximum, naming the
   * first wait, as the PostgreSQL plugins do.
   */
  @Test
  void aBackoffMaximumBelowTheFirstWaitIsExplainedByValidate() {
    Map<String, String> props = props("retry.backoff.ms", "5000", "retry.backoff.max.ms", "1000");
    assertEquals(List.of("retry.backoff.max.ms"), keysWithErrors(props));
    ConfigException e = assertThrows(ConfigException.class, () -> new QdrantSinkConfig(props));
    assertTrue(e.getMessage().contains("retry.backoff.ms"), e.getMessage());
    props.put("retry.backoff.max.ms", "5000");
    assertEquals(List.of(), keysWithErrors(props));
  }

  private static List<String> keysWithErrors(Map<String, String> props) {
    return new QdrantVectorSinkConnector()
        .validate(props).configValues().stream()
            .filter(v -> !v.errorMessages().isEmpty())
            .map(ConfigValue::name)
            .toList();
  }

  /**
   * A tombstone has no value: a collection named from the value names none for it, so with
   * tombstones deleting every one would be dead-lettered and no point ever deleted. Refused, and
   * validate says so on collection.name with the ways out.
   */
  @Test
  void aCollectionNamedFromTheValueIsRefusedWhileTombstonesDelete() {
    Map<String, String> fromValue = props("collection.name", "memories_${value.tenant_id}");
    ConfigException e = assertThrows(ConfigException.class, () -> new QdrantSinkConfig(fromValue));
    for (String hint : List.of("delete.enabled=false", "${key.", "${topic}")) {
      assertTrue(e.getMessage().contains(hint), e.getMessage());
    }
    assertEquals(List.of("collection.name"), keysWithErrors(fromValue));

    for (Map<String, String> fine :
        List.of(
            props("collection.name", "memories_${value.tenant_id}", "delete.enabled", "false"),
            props("collection.name", "memories_${key.tenant_id}"),
            props("collection.name", "memories_${key}_${partition}"),
            props("collection.name", "${topic}"))) {
      assertEquals(List.of(), keysWithErrors(fine), fine.toString());
      new QdrantSinkConfig(fine);
    }
  }

  @Test
  void theDocsExampleOfATemplatedCollectionNameIsAWorkingOne() {
    String doc = QdrantSinkConfig.CONFIG_DEF.configKeys().get("collection.name").documentation;
    assertFalse(doc.contains("such as ${topic} or memories_${value."), doc);
    assertTrue(doc.contains("delete.enabled=false"), doc);
    String delete = QdrantSinkConfig.CONFIG_DEF.configKeys().get("delete.enabled").documentation;
    assertTrue(delete.contains("${value."), delete);
  }

  @Test
  void theVectorSizeDocSaysWhenTemplatedCollectionsAreChecked() {
    String doc = QdrantSinkConfig.CONFIG_DEF.configKeys().get("vector.size").documentation;
    assertFalse(doc.contains("checked against existing collections at start"), doc);
    assertTrue(doc.contains("first write"), doc);
  }

  @Test
  void idFieldsDefaultToIdFieldAndNameSeveralPaths() {
    assertEquals(List.of(FieldPath.parse("id")), new QdrantSinkConfig(Map.of()).idFields());
    assertEquals(
        List.of(FieldPath.parse("key")), new QdrantSinkConfig(props("id.field", "key")).idFields());
    assertEquals(
        List.of(FieldPath.parse("meta.namespace"), FieldPath.parse("id")),
        new QdrantSinkConfig(props("id.fields", "meta.namespace, id")).idFields());
  }

  /**
   * id.field and id.fields together would leave one silently unused; two id fields ending alike
   * could not both sit flat in a tombstone's key; and delete.id.field names one field of the key,
   * where an id of several fields needs them all.
   */
  @Test
  void idFieldsConflictsAreRefusedOnTheirKey() {
    Map<Map<String, String>, String> mistakes =
        Map.of(
            props("id.field", "id", "id.fields", "namespace,id"), "id.fields",
            props("id.fields", "a.id,b.id"), "id.fields",
            props("id.fields", "namespace,id,namespace"), "id.fields",
            props("id.fields", "namespace,id", "delete.id.field", "id"), "delete.id.field");
    mistakes.forEach(
        (props, key) -> {
          assertThrows(ConfigException.class, () -> new QdrantSinkConfig(props), props.toString());
          assertEquals(List.of(key), keysWithErrors(props), props.toString());
        });
    new QdrantSinkConfig(
        props("id.fields", "namespace,id", "delete.id.field", "id", "delete.enabled", "false"));
    new QdrantSinkConfig(props("id.fields", "id", "delete.id.field", "id"));
  }

  /**
   * An API key copied with a non-breaking or zero-width space passed validation and failed only
   * against Qdrant, at the connector's start or in its tasks: both keys are refused up front, each
   * against its own option, without quoting it.
   */
  @Test
  void anApiKeyWithACharacterNoHeaderTakesIsRefusedWithoutQuotingIt() {
    for (String option : List.of("qdrant.api.key", "embedder.openai.api.key")) {
      // (a trailing line break is no such case: ConfigDef trims a value before it is checked)
      for (String key : List.of("s3cr3t\u00a0key", "s3cr3t-key\u200b")) {
        ConfigException e =
            assertThrows(
                ConfigException.class,
                () -> new QdrantSinkConfig(props("embedder", "openai", option, key)),
                option);
        assertTrue(e.getMessage().contains(option), e.getMessage());
        assertFalse(e.getMessage().contains("s3cr3t"), e.getMessage());
      }
    }
  }

  /**
   * Credentials in a URL are never sent (HttpClient and gRPC take the host and port only) and were
   * quoted in the errors a task fails with: they are refused, without being quoted, pointing to the
   * API key options.
   */
  @Test
  void aUrlWithCredentialsIsRefusedWithoutQuotingThem() {
    Map<String, String> options =
        Map.of("qdrant.url", "qdrant.api.key", "embedder.openai.url", "embedder.openai.api.key");
    // the second: a / in the password ends a parsed authority early, and no host is read
    for (String credentials :
        List.of(
            "https://user:s3cr3t@host.example:8443/v1",
            "https://user:s3cr3t/x@host.example:8443")) {
      refusedWithoutQuoting(options, credentials);
    }
  }

  private static void refusedWithoutQuoting(Map<String, String> options, String credentials) {
    options.forEach(
        (url, apiKey) -> {
          Map<String, String> props = props("embedder", "openai", url, credentials);
          ConfigException e =
              assertThrows(ConfigException.class, () -> new QdrantSinkConfig(props));
          assertFalse(e.getMessage().contains("s3cr3t"), e.getMessage());
          assertTrue(e.getMessage().contains(url), e.getMessage());
          assertTrue(e.getMessage().contains(apiKey), e.getMessage());
          assertEquals(List.of(url), keysWithErrors(props));
          List<String> errors =
              QdrantSinkConfig.CONFIG_DEF.validate(props).stream()
                  .flatMap(v -> v.errorMessages().stream())
                  .toList();
          assertFalse(errors.toString().contains("s3cr3t"), errors.toString());
        });
  }

  /**
   * A port no socket can use passed validation: gRPC's resolver died on 70000 and the client fell
   * back to 6334 on 0, and every call then ran out its deadline, retried as if Qdrant were down.
   * Both URLs refuse them on their own key; no port, and ports 1 and 65535, are taken.
   */
  @Test
  void aUrlWithAPortNoSocketCanUseIsRefused() {
    for (String option : List.of("qdrant.url", "embedder.openai.url")) {
      for (String url : List.of("http://qdrant.example:70000", "http://qdrant.example:0/v1")) {
        Map<String, String> props = props("embedder", "openai", option, url);
        // api.openai.com's needs, met: the URL is what is checked here
        props.put("embedder.openai.api.key", "sk-test");
        props.put("vector.size", "1536");
        assertEquals(List.of(option), keysWithErrors(props), url);
      }
      for (String url :
          List.of("http://qdrant.example", "https://qdrant.example:1", "http://q.example:65535")) {
        Map<String, String> props =
            props("embedder", "openai", option, url, "embedder.openai.api.key", "sk-test");
        props.put("vector.size", "1536");
        assertEquals(List.of(), keysWithErrors(props), url);
      }
    }
  }

  /**
   * collection.sparse.vectors with a stray comma was refused as "must not contain vector.name" (the
   * empty name equals the dense vector's default name), and a name listed twice was taken.
   */
  @Test
  void sparseVectorNamesAreGivenAndEachOnce() {
    for (String names : List.of("splade,", "splade,,bm25", "splade,splade")) {
      Map<String, String> props = props("embedder", "field", "collection.sparse.vectors", names);
      List<String> errors =
          QdrantSinkConfig.CONFIG_DEF.validate(props).stream()
              .filter(v -> v.name().equals("collection.sparse.vectors"))
              .flatMap(v -> v.errorMessages().stream())
              .toList();
      assertEquals(1, errors.size(), names + ": " + errors);
      assertFalse(errors.get(0).contains("vector.name"), errors.get(0));
    }
    assertEquals(
        List.of("splade", "bm25"),
        new QdrantSinkConfig(
                props("embedder", "field", "collection.sparse.vectors", "splade, bm25"))
            .sparseVectors());
  }

  /** The embeddings URL's valid values name an embeddings URL, not Qdrant's gRPC port. */
  @Test
  void theEmbeddingsUrlHasItsOwnExample() {
    String valid =
        QdrantSinkConfig.CONFIG_DEF.configKeys().get("embedder.openai.url").validator.toString();
    assertFalse(valid.contains("6334"), valid);
    assertTrue(valid.contains("/v1"), valid);
  }

  /**
   * qdrant.write.ordering takes Qdrant's three orderings in any case, weak by default as in Qdrant;
   * validate refuses anything else on its key, naming the three, and offers them.
   */
  @Test
  void theWriteOrderingIsOneOfQdrantsThree() {
    assertEquals(WriteOrderingType.Weak, new QdrantSinkConfig(Map.of()).writeOrdering());
    assertEquals(
        WriteOrderingType.Strong,
        new QdrantSinkConfig(props("qdrant.write.ordering", "Strong")).writeOrdering());
    assertEquals(
        WriteOrderingType.Medium,
        new QdrantSinkConfig(props("qdrant.write.ordering", "medium")).writeOrdering());

    Map<String, String> bad = props("qdrant.write.ordering", "linearizable");
    assertThrows(ConfigException.class, () -> new QdrantSinkConfig(bad));
    assertEquals(List.of("qdrant.write.ordering"), keysWithErrors(bad));
    ConfigValue value =
        new QdrantVectorSinkConnector()
            .validate(bad).configValues().stream()
                .filter(v -> v.name().equals("qdrant.write.ordering"))
                .findFirst()
                .orElseThrow();
    assertEquals(
        List.of(
            "Invalid value linearizable for configuration qdrant.write.ordering: must be one of"
                + " [weak, medium, strong]"),
        value.errorMessages());
    assertEquals(List.of("weak", "medium", "strong"), value.recommendedValues());
    assertEquals(
        "Qdrant", QdrantSinkConfig.CONFIG_DEF.configKeys().get("qdrant.write.ordering").group);
  }

  /**
   * A collection.name whose fixed text Qdrant refuses (a / or : in it, or over 255 bytes) passed
   * validate, and then every record was dead-lettered (a template) or the task failed (a fixed
   * name). Refused on collection.name, saying what Qdrant takes.
   */
  @Test
  void aCollectionNameQdrantRefusesIsExplainedByValidate() {
    for (String name :
        List.of("tenant/${key.t}", "memories:v1", "x".repeat(300), "${topic}" + "y".repeat(256))) {
      Map<String, String> props = props("collection.name", name);
      assertEquals(List.of("collection.name"), keysWithErrors(props), name);
      ConfigException e = assertThrows(ConfigException.class, () -> new QdrantSinkConfig(props));
      assertTrue(e.getMessage().contains("letters, digits"), e.getMessage());
      assertTrue(
          e.getMessage().contains(name.length() > 255 ? "255 bytes" : "refuses"), e.getMessage());
    }
    for (String name :
        List.of("memories", "tenant_${key.t}", "${topic}-v1.2", "x".repeat(255), "${topic}")) {
      assertEquals(List.of(), keysWithErrors(props("collection.name", name)), name);
    }
  }

  /**
   * api.openai.com answers every request without a key with 401: with the default URL and no key
   * the task failed at its first batch. Shown on the key at validate.
   */
  @Test
  void theOpenAiApiWithoutAKeyIsExplainedByValidate() {
    Map<String, String> props = props("embedder", "openai", "vector.size", "1536");
    assertEquals(List.of("embedder.openai.api.key"), keysWithErrors(props));
    props.put("embedder.openai.api.key", "sk-test");
    assertEquals(List.of(), keysWithErrors(props));
    Map<String, String> local =
        props(
            "embedder", "openai",
            "embedder.openai.url", "http://localhost:11434/v1",
            "embedder.openai.model", "nomic-embed-text",
            "vector.size", "768");
    assertEquals(List.of(), keysWithErrors(local));
    // LocalAI serves its own models under OpenAI's names, at their own sizes
    local.put("embedder.openai.model", "text-embedding-ada-002");
    assertEquals(List.of(), keysWithErrors(local));
  }

  /**
   * OpenAI's models return their own size unless asked for fewer: vector.size 384 with
   * text-embedding-3-small failed the task on the first batch. Shown on vector.size with the
   * model's size and the option that asks for fewer.
   */
  @Test
  void aVectorSizeAnOpenAiModelDoesNotReturnIsExplainedByValidate() {
    Map<String, Integer> sizes =
        Map.of(
            "text-embedding-3-small", 1536,
            "text-embedding-3-large", 3072,
            "text-embedding-ada-002", 1536);
    for (Map.Entry<String, Integer> model : sizes.entrySet()) {
      Map<String, String> props =
          props(
              "embedder", "openai",
              "embedder.openai.api.key", "sk-test",
              "embedder.openai.model", model.getKey(),
              "vector.size", "256");
      assertEquals(List.of("vector.size"), keysWithErrors(props), model.getKey());
      ConfigException e = assertThrows(ConfigException.class, () -> new QdrantSinkConfig(props));
      assertTrue(e.getMessage().contains(String.valueOf(model.getValue())), e.getMessage());
      props.put("embedder.openai.send.dimensions", "true");
      boolean ada = model.getKey().endsWith("ada-002");
      assertEquals(ada ? List.of("vector.size") : List.of(), keysWithErrors(props), model.getKey());
      props.remove("embedder.openai.send.dimensions");
      props.put("vector.size", String.valueOf(model.getValue()));
      assertEquals(List.of(), keysWithErrors(props), model.getKey());
    }
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () ->
                new QdrantSinkConfig(
                    props("embedder", "openai", "embedder.openai.api.key", "sk-test")));
    assertTrue(e.getMessage().contains("embedder.openai.send.dimensions"), e.getMessage());
  }

  /**
   * Options the chosen mode ignores, set explicitly, and a dead letter queue Connect will not use:
   * the connector warns of each at start (defaults never do).
   */
  @Test
  void optionsTheModeIgnoresAreNamedForTheStartWarning() {
    assertEquals(List.of(), new QdrantSinkConfig(Map.of()).ignoredOptions());
    List<String> ignored =
        new QdrantSinkConfig(
                props(
                    "delete.enabled", "false",
                    "delete.id.field", "id",
                    "embedder", "field",
                    "vector.field", "embedding",
                    "embedder.text.fields", "text",
                    "errors.deadletterqueue.topic.name", "dlq"))
            .ignoredOptions();
    assertEquals(3, ignored.size(), ignored.toString());
    assertTrue(ignored.get(0).startsWith("delete.id.field is ignored"), ignored.get(0));
    assertTrue(ignored.get(1).startsWith("embedder.text.fields is ignored"), ignored.get(1));
    assertTrue(ignored.get(2).contains("errors.tolerance is none"), ignored.get(2));
    assertEquals(
        List.of(),
        new QdrantSinkConfig(
                props("errors.deadletterqueue.topic.name", "dlq", "errors.tolerance", "all"))
            .ignoredOptions());
  }
}
