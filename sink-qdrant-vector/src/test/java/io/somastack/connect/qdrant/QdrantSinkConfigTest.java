package io.somastack.connect.qdrant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.somastack.connect.qdrant.embed.EmbedderKind;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
            props("id.namespace", "not-a-uuid"),
            props("vector.size", "0"),
            props("embedder.openai.retry.budget.ms", "-1"),
            props("batch.max.bytes", "64000000"),
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

  @Test
  void openAiKeysAreVisibleOnlyForTheOpenAiEmbedder() {
    Config hashing = new QdrantVectorSinkConnector().validate(props());
    Config openAi = new QdrantVectorSinkConnector().validate(props("embedder", "openai"));
    assertFalse(visible(hashing, "embedder.openai.model"));
    assertTrue(visible(openAi, "embedder.openai.model"));
    assertFalse(visible(openAi, "vector.field"));
  }

  private static boolean visible(Config config, String name) {
    return config.configValues().stream()
        .filter(v -> v.name().equals(name))
        .findFirst()
        .orElseThrow()
        .visible();
  }
}
