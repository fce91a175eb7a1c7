package io.somastack.connect.benchmarks.transforms;

import io.somastack.connect.transforms.DecryptFields;
import io.somastack.connect.transforms.EncryptFields;
import io.somastack.connect.transforms.KeyFromField;
import io.somastack.connect.transforms.RedactFields;
import io.somastack.connect.transforms.RouteByField;
import io.somastack.connect.transforms.StampEnvelope;
import io.somastack.connect.transforms.ValidateJsonSchema;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.transforms.ExtractField;
import org.apache.kafka.connect.transforms.MaskField;
import org.apache.kafka.connect.transforms.Transformation;
import org.apache.kafka.connect.transforms.ValueToKey;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Records per second through each soma-connect transform, on a ~500-byte schemaless memory event,
 * next to Kafka's built-ins where they overlap: {@code ValueToKey}+{@code ExtractField$Key} against
 * {@code KeyFromField}, {@code MaskField} against {@code RedactFields}. {@code chain} is validate,
 * key and encrypt in a row, the pipeline the target (100,000 records/s on one core) is set for.
 *
 * <pre>
 * mvn -q -pl benchmarks -am package -DskipTests
 * java -jar benchmarks/target/benchmarks.jar 'transforms' -f 1 -wi 2 -i 3 -w 2s -r 3s -t 1
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class TransformBenchmarks {

  private static final String KEYS = "pii:1:" + key(1) + ",pii:2:" + key(2);

  private SinkRecord event;
  private SinkRecord encrypted;

  private ValidateJsonSchema<SinkRecord> validate;
  private KeyFromField<SinkRecord> keyFromField;
  private ValueToKey<SinkRecord> kafkaValueToKey;
  private ExtractField<SinkRecord> kafkaExtractKey;
  private StampEnvelope<SinkRecord> stamp;
  private EncryptFields<SinkRecord> encrypt;
  private EncryptFields<SinkRecord> encryptDeterministic;
  private DecryptFields<SinkRecord> decrypt;
  private RedactFields<SinkRecord> redactHmac;
  private RedactFields<SinkRecord> redactMask;
  private MaskField<SinkRecord> kafkaMask;
  private RouteByField<SinkRecord> route;

  private static String key(int seed) {
    byte[] key = new byte[32];
    for (int i = 0; i < key.length; i++) {
      key[i] = (byte) (seed * 31 + i * 7);
    }
    return Base64.getEncoder().encodeToString(key);
  }

  /** A memory event of about 500 bytes as compact JSON. */
  static Map<String, Object> memoryEvent() {
    Map<String, Object> payload = new LinkedHashMap<>();
    payload.put(
        "content",
        "The user prefers concise answers, works in UTC+1, mostly asks about Kafka Connect "
            + "pipelines and Postgres tuning, and wants code samples in Java 17 with tests. "
            + "Avoid suggesting managed cloud services.");
    payload.put("tags", List.of("preference", "style", "kafka"));
    payload.put("importance", 0.82);
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("schema_version", "1.0.0");
    metadata.put("source", "conversation-worker");
    Map<String, Object> event = new LinkedHashMap<>();
    event.put("event_id", "3f2a1b01-1c2d-4e5f-8a9b-c0ffee000001");
    event.put("id", "mem-000042");
    event.put("namespace", "acme.agent0");
    event.put("tenant_id", "acme");
    event.put("type", "semantic");
    event.put("timestamp", "2025-10-20T18:30:00.123Z");
    event.put("payload", payload);
    event.put("metadata", metadata);
    return event;
  }

  private static <T extends Transformation<SinkRecord>> T configure(
      T transform, Map<String, String> props) {
    transform.configure(props);
    return transform;
  }

  @Setup
  public void setUp() {
    event = new SinkRecord("memory.events", 0, null, null, null, memoryEvent(), 42L);
    validate =
        configure(
            new ValidateJsonSchema.Value<>(),
            Map.of("schema", "classpath:schemas/memory-event.schema.json"));
    keyFromField = configure(new KeyFromField.Value<>(), Map.of("field", "tenant_id"));
    kafkaValueToKey = configure(new ValueToKey<>(), Map.of("fields", "tenant_id"));
    kafkaExtractKey = configure(new ExtractField.Key<>(), Map.of("field", "tenant_id"));
    stamp = configure(new StampEnvelope<>(), Map.of("schema.version", "1.0.0"));
    Map<String, String> crypto = Map.of("fields", "payload.content", "keys", KEYS, "key.id", "pii");
    encrypt = configure(new EncryptFields.Value<>(), crypto);
    Map<String, String> deterministic = new LinkedHashMap<>(crypto);
    deterministic.put("mode", "deterministic");
    encryptDeterministic = configure(new EncryptFields.Value<>(), deterministic);
    decrypt =
        configure(new DecryptFields.Value<>(), Map.of("fields", "payload.content", "keys", KEYS));
    encrypted = encrypt.apply(event);
    redactHmac = configure(new RedactFields.Value<>(), Map.of("fields", "id", "hmac.key", key(5)));
    redactMask = configure(new RedactFields.Value<>(), Map.of("fields", "id", "with", "mask"));
    kafkaMask = configure(new MaskField.Value<>(), Map.of("fields", "id", "replacement", "****"));
    route =
        configure(
            new RouteByField<>(),
            Map.of("topic.template", "memory.${value.type}", "fallback.topic", "memory.other"));
  }

  @Benchmark
  public SinkRecord validate() {
    return validate.apply(event);
  }

  @Benchmark
  public SinkRecord keyFromField() {
    return keyFromField.apply(event);
  }

  @Benchmark
  public SinkRecord kafkaValueToKeyExtractField() {
    return kafkaExtractKey.apply(kafkaValueToKey.apply(event));
  }

  @Benchmark
  public SinkRecord stampEnvelope() {
    return stamp.apply(event);
  }

  @Benchmark
  public SinkRecord encrypt() {
    return encrypt.apply(event);
  }

  @Benchmark
  public SinkRecord encryptDeterministic() {
    return encryptDeterministic.apply(event);
  }

  @Benchmark
  public SinkRecord decrypt() {
    return decrypt.apply(encrypted);
  }

  @Benchmark
  public SinkRecord redactHmac() {
    return redactHmac.apply(event);
  }

  @Benchmark
  public SinkRecord redactMask() {
    return redactMask.apply(event);
  }

  @Benchmark
  public SinkRecord kafkaMaskField() {
    return kafkaMask.apply(event);
  }

  @Benchmark
  public SinkRecord routeByField() {
    return route.apply(event);
  }

  @Benchmark
  public SinkRecord chainValidateKeyEncrypt() {
    return encrypt.apply(keyFromField.apply(validate.apply(event)));
  }
}
