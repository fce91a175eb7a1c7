package io.somastack.connect.qdrant;

import static io.somastack.connect.qdrant.QdrantConfigValidators.distinctNames;
import static io.somastack.connect.qdrant.QdrantConfigValidators.headerSecret;
import static io.somastack.connect.qdrant.QdrantConfigValidators.indexSpecs;
import static io.somastack.connect.qdrant.QdrantConfigValidators.optional;
import static io.somastack.connect.qdrant.QdrantConfigValidators.url;
import static io.somastack.connect.qdrant.QdrantConfigValidators.uuid;

import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Points.WriteOrderingType;
import io.somastack.connect.common.config.DeadLetterQueue;
import io.somastack.connect.common.config.OptionConflict;
import io.somastack.connect.common.config.Recommenders;
import io.somastack.connect.common.config.Validators;
import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.common.retry.RetryBackoff;
import io.somastack.connect.common.retry.RetryTimeout;
import io.somastack.connect.common.template.RecordTemplate;
import io.somastack.connect.qdrant.embed.EmbedderKind;
import io.somastack.connect.qdrant.mapping.PointMapper;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.types.Password;

/** The Qdrant vector sink's configuration: one key per choice, each documented and validated. */
public final class QdrantSinkConfig extends AbstractConfig {

  public static final String QDRANT_URL = "qdrant.url";
  public static final String QDRANT_API_KEY = "qdrant.api.key";
  public static final String QDRANT_TIMEOUT_MS = "qdrant.timeout.ms";
  public static final String QDRANT_MAX_IN_FLIGHT = "qdrant.max.in.flight.requests";
  public static final String QDRANT_MAX_IN_FLIGHT_BYTES = "qdrant.max.in.flight.bytes";
  public static final String QDRANT_WRITE_ORDERING = "qdrant.write.ordering";

  public static final String COLLECTION_NAME = "collection.name";
  public static final String COLLECTION_CREATE = "collection.create";
  public static final String COLLECTION_DISTANCE = "collection.distance";
  public static final String COLLECTION_SPARSE_VECTORS = "collection.sparse.vectors";
  public static final String COLLECTION_PAYLOAD_INDEXES = "collection.payload.indexes";

  public static final String ID_FIELD = "id.field";
  public static final String ID_FIELDS = "id.fields";
  public static final String ID_NAMESPACE = "id.namespace";
  public static final String DELETE_ENABLED = "delete.enabled";
  public static final String DELETE_ID_FIELD = "delete.id.field";
  public static final String PAYLOAD_INCLUDE = "payload.include";
  public static final String PAYLOAD_EXCLUDE = "payload.exclude";

  public static final String VECTOR_NAME = "vector.name";
  public static final String VECTOR_SIZE = "vector.size";
  public static final String VECTOR_FIELD = "vector.field";
  public static final String EMBEDDER = "embedder";
  public static final String TEXT_FIELDS = "embedder.text.fields";
  public static final String OPENAI_URL = "embedder.openai.url";
  public static final String OPENAI_MODEL = "embedder.openai.model";
  public static final String OPENAI_API_KEY = "embedder.openai.api.key";
  public static final String OPENAI_BATCH_SIZE = "embedder.openai.batch.size";
  public static final String OPENAI_BATCH_MAX_CHARS = "embedder.openai.batch.max.chars";
  public static final String OPENAI_SEND_DIMENSIONS = "embedder.openai.send.dimensions";
  public static final String OPENAI_TIMEOUT_MS = "embedder.openai.timeout.ms";
  public static final String OPENAI_MAX_RETRIES = "embedder.openai.max.retries";
  public static final String OPENAI_RETRY_BUDGET_MS = "embedder.openai.retry.budget.ms";

  public static final String BATCH_MAX_POINTS = "batch.max.points";
  public static final String BATCH_MAX_BYTES = "batch.max.bytes";
  public static final String RECORD_MAX_BYTES = "record.max.bytes";
  public static final String RETRY_BACKOFF_MS = "retry.backoff.ms";
  public static final String RETRY_BACKOFF_MAX_MS = RetryBackoff.MAX_CONFIG;
  public static final String RETRY_TIMEOUT_MS = RetryTimeout.CONFIG;

  /** RFC 4122's URL namespace: Python's {@code uuid.uuid5(uuid.NAMESPACE_URL, id)} agrees. */
  public static final String DEFAULT_NAMESPACE = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";

  /**
   * Characters of text per embeddings request by default: about 125000 tokens of English, under the
   * 300000 OpenAI takes in a request even at 2 characters a token, and under 1 MiB of JSON.
   */
  private static final int DEFAULT_OPENAI_BATCH_MAX_CHARS = 500_000;

  /**
   * Qdrant's default service.max_request_size_mb, which bounds REST bodies only: its gRPC API takes
   * messages of any size, so this cap is the connector's choice, not a limit gRPC enforces.
   */
  public static final int QDRANT_MAX_REQUEST_BYTES = 32 * 1024 * 1024;

  private static final String GROUP_QDRANT = "Qdrant";
  private static final String GROUP_COLLECTION = "Collection";
  private static final String GROUP_MAPPING = "Mapping";
  private static final String GROUP_VECTORS = "Vectors";
  private static final String GROUP_BATCHING = "Batching and retries";

  /**
   * The keys embedder shows or hides: Connect's validate follows dependents from the deciding key
   * to the keys it decides (a key lists its children, never its parent).
   */
  private static final List<String> EMBEDDER_DEPENDENTS =
      List.of(
          TEXT_FIELDS,
          VECTOR_FIELD,
          OPENAI_URL,
          OPENAI_MODEL,
          OPENAI_API_KEY,
          OPENAI_SEND_DIMENSIONS,
          OPENAI_BATCH_SIZE,
          OPENAI_BATCH_MAX_CHARS,
          OPENAI_TIMEOUT_MS,
          OPENAI_MAX_RETRIES,
          OPENAI_RETRY_BUDGET_MS);

  private static final String ID_FIELDS_DOC =
      "Field paths that together make the point id, for an id unique only within another field:"
          + " namespace,id where a memory's id is unique within its namespace. Empty (the"
          + " default): id.field alone. One path: the same as id.field (the point ids it gives"
          + " stay). Several: the point id is the UUID v5 in id.namespace of the compact JSON array"
          + " of their values, in this order, with no spaces and non-ASCII characters as they are"
          + " (Python: uuid.uuid5(namespace, json.dumps([ns, id], separators=(\",\", \":\"),"
          + " ensure_ascii=False))), so [\"a,b\",\"c\"] and [\"a\",\"b,c\"] are different points."
          + " Each value is a string (a UUID string in lower case, so that its spellings name"
          + " one point, as for a single id), a whole number, written without a fraction (7.0 is"
          + " 7, at most 20 digits), or a boolean (true, false); a record with one missing, null,"
          + " empty or blank, or of another kind (an object, an array, 1.5), is dead-lettered"
          + " with the field's name as the reason. A tombstone's key must be a Struct, a Map or"
          + " JSON object text holding each field at its path or flat under its last segment"
          + " ({\"namespace\":\"acme\",\"id\":\"mem-5\"} deletes the point of the event with that"
          + " namespace and id), so the paths must end in different segments and delete.id.field"
          + " must be empty; any other key (a plain string, a number, an array) dead-letters the"
          + " tombstone. A key's values must have the JSON types of the value's: {\"id\":\"7\"}"
          + " and {\"id\":7} name different points, and a delete of a point that does not exist"
          + " changes nothing. Not together with id.field. Changing the id fields gives every record a"
          + " new point id: points written before are not overwritten or deleted by later"
          + " records.";

  public static final ConfigDef CONFIG_DEF = configDef();

  public QdrantSinkConfig(Map<?, ?> props) {
    super(CONFIG_DEF, props);
    checkCombinations();
  }

  // ---------------------------------------------------------------- definition

  private static ConfigDef configDef() {
    ConfigDef def = new ConfigDef();
    defineQdrant(def);
    defineCollection(def);
    defineMapping(def);
    defineVectors(def);
    defineBatching(def);
    return def;
  }

  private static void defineQdrant(ConfigDef def) {
    int o = 0;
    def.define(
        QDRANT_URL,
        Type.STRING,
        "http://localhost:6334",
        url("http://localhost:6334", QDRANT_API_KEY),
        Importance.HIGH,
        "Qdrant's gRPC endpoint: http://host:port, or https://host:port for TLS. The port is the"
            + " gRPC one (6334 by default), not the REST one.",
        GROUP_QDRANT,
        ++o,
        Width.LONG,
        "Qdrant gRPC URL");
    def.define(
        QDRANT_API_KEY,
        Type.PASSWORD,
        null,
        headerSecret(),
        Importance.MEDIUM,
        "API key sent as the api-key header; required by Qdrant Cloud. Use a config provider.",
        GROUP_QDRANT,
        ++o,
        Width.MEDIUM,
        "Qdrant API key");
    def.define(
        QDRANT_TIMEOUT_MS,
        Type.LONG,
        30_000L,
        ConfigDef.Range.atLeast(100),
        Importance.MEDIUM,
        "Deadline of every call to Qdrant. A call that misses it counts as Qdrant being"
            + " unavailable: the batch is retried, never dead-lettered.",
        GROUP_QDRANT,
        ++o,
        Width.SHORT,
        "Request deadline (ms)");
    def.define(
        QDRANT_MAX_IN_FLIGHT,
        Type.INT,
        4,
        ConfigDef.Range.between(1, 64),
        Importance.LOW,
        "Requests one task may have outstanding at once (different collections, chunks of one"
            + " batch, or batches of successive puts, as long as they touch different points)."
            + " A task keeps at most this many plus one batches (one poll each) between put and"
            + " acknowledgement, and one more while Qdrant fails (the batch of the put that"
            + " failed, kept to be sent when Connect delivers its records again): each holds its"
            + " poll's records and their points' bytes (see the README's memory section). It"
            + " also bounds, apart, how many collections a batch names for the first time are"
            + " checked (and created) at once before it is sent.",
        GROUP_QDRANT,
        ++o,
        Width.SHORT,
        "Max in-flight requests");
    def.define(
        QDRANT_MAX_IN_FLIGHT_BYTES,
        Type.LONG,
        64L << 20,
        ConfigDef.Range.atLeast(1L << 20),
        Importance.LOW,
        "Most bytes of points one task keeps between put and acknowledgement, over all its"
            + " batches in flight or kept to be sent again (each point as encoded for Qdrant:"
            + " about its payload's JSON size plus 4 bytes per vector dimension). A put whose"
            + " batch would pass it waits for the oldest batches first; a batch larger on its"
            + " own is still sent, alone. With qdrant.max.in.flight.requests it bounds what a"
            + " task holds under large events (see the README's memory section).",
        GROUP_QDRANT,
        ++o,
        Width.SHORT,
        "Max in-flight bytes");
    def.define(
        QDRANT_WRITE_ORDERING,
        Type.STRING,
        "weak",
        Validators.oneOf(WriteOrderingName.class),
        Importance.LOW,
        "Qdrant's write ordering, sent with every upsert, delete and payload index the connector"
            + " writes. weak (Qdrant's default, the fastest): writes may be reordered. medium:"
            + " writes go through a dynamically selected leader, and may be inconsistent for a"
            + " short time when the leader changes. strong: writes go through the permanent"
            + " leader, consistent, but refused while that leader is down. Pick strong, or medium"
            + " to stay writable through the leader's outage, for a replicated cluster"
            + " (replication_factor above 1) where several writers may write the same point:"
            + " several connectors, or a rebalance's old and new task writing the same records."
            + " On a single node it changes nothing.",
        GROUP_QDRANT,
        ++o,
        Width.SHORT,
        "Write ordering",
        Recommenders.enumValues(WriteOrderingName.class));
  }

  private static void defineCollection(ConfigDef def) {
    int o = 0;
    def.define(
        COLLECTION_NAME,
        Type.STRING,
        "${topic}",
        Validators.recordTemplate(
            "a collection name or template: ${topic}, ${partition}, ${key}, ${key.<path>},"
                + " ${value.<path>}"),
        Importance.HIGH,
        "Collection to write to: a fixed name or a template such as ${topic} or"
            + " memories_${key.tenant_id}. The key is read as a tombstone's point id is:"
            + " ${key.<path>} finds the fields of a key of JSON object text or bytes"
            + " (StringConverter, ByteArrayConverter) as of a Struct or Map, and ${key} is a text"
            + " key itself (bytes as their UTF-8 text, a JSON string such as \"t1\" without its"
            + " quotes). A template that reads the value"
            + " (memories_${value.tenant_id}) needs delete.enabled=false, as a tombstone has no"
            + " value to name its collection; the configuration is refused otherwise. A name"
            + " Qdrant cannot hold (over 255 bytes in UTF-8, or a character such as / or : that"
            + " Qdrant refuses in names) is refused at validate when the fixed name, or a"
            + " template's fixed text, has it; a record whose template field is missing, or whose"
            + " fields give such a name, is dead-lettered.",
        GROUP_COLLECTION,
        ++o,
        Width.LONG,
        "Collection");
    def.define(
        COLLECTION_CREATE,
        Type.BOOLEAN,
        true,
        Importance.MEDIUM,
        "Create a missing collection with vector.size and collection.distance (and the payload"
            + " indexes) when a record is to be written to it; tombstones alone never create one"
            + " (a collection that is not there has nothing to delete). An existing collection"
            + " whose vector size differs, or whose distance differs from a collection.distance"
            + " that is set, is always an error: it fails the task, unless a template names the"
            + " collection from a record's key or value, whose records then go to the dead letter"
            + " queue while the other collections' records land (without one the task fails), and"
            + " the collection is checked again by later records. When false, a"
            + " missing fixed collection fails the connector, and one named by topic or partition alone"
            + " (${topic}) fails the task; a missing collection that a template names from a"
            + " record's key or value is that record's error: its upserts are dead-lettered, its"
            + " tombstones with them in their order (without a dead letter queue an upsert fails"
            + " the task and a tombstone, having nothing to delete, is done), and the collection"
            + " is looked for again by later records, so one made later is written to.",
        GROUP_COLLECTION,
        ++o,
        Width.SHORT,
        "Create collections");
    def.define(
        COLLECTION_DISTANCE,
        Type.STRING,
        "cosine",
        Validators.oneOf(DistanceName.class),
        Importance.MEDIUM,
        "Distance of the dense vector in collections the connector creates. When set, an"
            + " existing collection must use it too; when not set, an existing collection is"
            + " taken with its own distance (and collections the connector creates use cosine).",
        GROUP_COLLECTION,
        ++o,
        Width.SHORT,
        "Distance",
        Recommenders.enumValues(DistanceName.class));
    def.define(
        COLLECTION_SPARSE_VECTORS,
        Type.LIST,
        "",
        distinctNames(),
        Importance.LOW,
        "Names of sparse vectors to declare in collections the connector creates, and to"
            + " require in existing ones; embedder=field only, whose records carry them (the"
            + " hashing and openai embedders make the dense vector only, and an upsert replaces"
            + " all of a point's vectors, so a sparse one would always be empty).",
        GROUP_COLLECTION,
        ++o,
        Width.MEDIUM,
        "Sparse vector names");
    def.define(
        COLLECTION_PAYLOAD_INDEXES,
        Type.LIST,
        "",
        indexSpecs(),
        Importance.MEDIUM,
        "Payload indexes to create with a new collection, as field:type pairs, e.g."
            + " tenant_id:keyword,created_at:datetime. With collection.create=true, an existing"
            + " collection that lacks some of them gets them when the task first writes to it, and"
            + " one that indexes such a field with another type is an error, as a vector size"
            + " that differs is (see collection.create).",
        GROUP_COLLECTION,
        ++o,
        Width.LONG,
        "Payload indexes");
  }

  private static void defineMapping(ConfigDef def) {
    int o = 0;
    def.define(
        ID_FIELD,
        Type.STRING,
        "id",
        Validators.fieldPath(),
        Importance.HIGH,
        "Field holding the point id. An unsigned integer is used as is, a UUID string as that"
            + " UUID, any other string as its UUID v5 in id.namespace, so replays hit the same"
            + " point. For an id that is unique only together with other fields, set id.fields"
            + " instead (not both).",
        GROUP_MAPPING,
        ++o,
        Width.MEDIUM,
        "Id field");
    def.define(
        ID_FIELDS,
        Type.LIST,
        "",
        Validators.fieldPaths(),
        Importance.HIGH,
        ID_FIELDS_DOC,
        GROUP_MAPPING,
        ++o,
        Width.LONG,
        "Id fields");
    def.define(
        ID_NAMESPACE,
        Type.STRING,
        DEFAULT_NAMESPACE,
        uuid(),
        Importance.LOW,
        "UUID v5 namespace for string ids that are not UUIDs.",
        GROUP_MAPPING,
        ++o,
        Width.MEDIUM,
        "Id namespace");
    def.define(
        DELETE_ENABLED,
        Type.BOOLEAN,
        true,
        Importance.MEDIUM,
        "Delete the point named by a tombstone's key; when false tombstones are skipped. A"
            + " tombstone has no value, so a collection.name that reads ${value.<path>} names no"
            + " collection for it: such a template is refused unless this is false. To delete"
            + " with tenant collections, name them from the key (${key.<path>}, ${key}) or the"
            + " topic (${topic}).",
        GROUP_MAPPING,
        ++o,
        Width.SHORT,
        "Tombstones delete",
        List.of(DELETE_ID_FIELD),
        null);
    def.define(
        DELETE_ID_FIELD,
        Type.STRING,
        "",
        optional(Validators.fieldPath()),
        Importance.MEDIUM,
        "Field of a tombstone's key holding the point id; empty means the key is the id. The id"
            + " must have the JSON type the value's id has: a string key \"7\" (StringConverter)"
            + " names the UUID v5 point of the string \"7\", not point 7, so numeric ids need"
            + " numeric keys (JsonConverter, or a Struct field). A key written as a JSON string"
            + " (\"mem-1\" with its quotes) stands for its text.",
        GROUP_MAPPING,
        ++o,
        Width.MEDIUM,
        "Tombstone id field",
        List.of(),
        Recommenders.visibleUnlessFalse(DELETE_ENABLED));
    def.define(
        PAYLOAD_INCLUDE,
        Type.LIST,
        "",
        Validators.fieldPaths(),
        Importance.MEDIUM,
        "Fields copied into the payload; empty means the whole value. A path goes through every"
            + " element of an array on its way: contacts.name keeps the name of each element of"
            + " the array contacts (elements without it are left out), as payload.exclude does.",
        GROUP_MAPPING,
        ++o,
        Width.LONG,
        "Payload fields");
    def.define(
        PAYLOAD_EXCLUDE,
        Type.LIST,
        "",
        Validators.fieldPaths(),
        Importance.MEDIUM,
        "Fields left out of the payload, applied after payload.include. A path goes through"
            + " every element of an array on its way: contacts.email leaves out the email of each"
            + " element of the array contacts. The vector field of embedder=field is always left"
            + " out.",
        GROUP_MAPPING,
        ++o,
        Width.LONG,
        "Payload exclusions");
  }

  private static void defineVectors(ConfigDef def) {
    int o = 0;
    def.define(
        EMBEDDER,
        Type.STRING,
        "hashing",
        Validators.oneOf(EmbedderKind.class),
        Importance.HIGH,
        "Where the dense vector comes from: hashing (deterministic feature hashing of the text"
            + " fields' words, no model), field (the record carries its vectors) or openai (an"
            + " OpenAI-compatible /embeddings endpoint). hashing reads words as runs of letters"
            + " and digits by the JDK's Unicode tables: a character added in a later Unicode"
            + " version may hash differently on a JDK of another version.",
        GROUP_VECTORS,
        ++o,
        Width.SHORT,
        "Embedder",
        EMBEDDER_DEPENDENTS,
        Recommenders.enumValues(EmbedderKind.class));
    def.define(
        VECTOR_SIZE,
        Type.INT,
        384,
        ConfigDef.Range.between(1, 65_536),
        Importance.HIGH,
        "Dimensions of the dense vector. Each task checks a collection's vector size when it"
            + " first writes to it, and a collection whose size differs fails the task (a"
            + " template that names it from a record's key or value dead-letters that"
            + " collection's records instead: see collection.create); a fixed"
            + " collection.name is also checked when the connector starts (if Qdrant answers"
            + " then), failing the connector. A templated collection.name, ${topic} included, is"
            + " checked only at each collection's first write.",
        GROUP_VECTORS,
        ++o,
        Width.SHORT,
        "Vector size");
    def.define(
        VECTOR_NAME,
        Type.STRING,
        "",
        Importance.MEDIUM,
        "Name of the dense vector in the collection; empty for the collection's unnamed vector.",
        GROUP_VECTORS,
        ++o,
        Width.MEDIUM,
        "Vector name");
    def.define(
        TEXT_FIELDS,
        Type.LIST,
        "text",
        Validators.fieldPaths(),
        Importance.HIGH,
        "Text fields embedded by the hashing and openai embedders, joined by new lines. A record"
            + " with none of them, or only blank ones, is dead-lettered, and so is, with hashing, a"
            + " text without any letter or digit (\"---\", an emoji alone), and with openai a text"
            + " the endpoint refuses, such as one longer than the model takes. Texts are never"
            + " truncated or split: split long texts before the sink (in the producer, or a"
            + " transform).",
        GROUP_VECTORS,
        ++o,
        Width.LONG,
        "Text fields",
        List.of(),
        Recommenders.visibleWhen(EMBEDDER, EmbedderKind.HASHING, EmbedderKind.OPENAI));
    def.define(
        VECTOR_FIELD,
        Type.STRING,
        "vector",
        Validators.fieldPath(),
        Importance.HIGH,
        "Field holding the vectors for embedder=field: an array of numbers (dense), an object"
            + " {indices, values} (sparse), or an object of named vectors.",
        GROUP_VECTORS,
        ++o,
        Width.MEDIUM,
        "Vector field",
        List.of(),
        Recommenders.visibleWhen(EMBEDDER, EmbedderKind.FIELD));
    defineOpenAi(def, o);
  }

  private static void defineOpenAi(ConfigDef def, int o) {
    ConfigDef.Recommender openAi = Recommenders.visibleWhen(EMBEDDER, EmbedderKind.OPENAI);
    List<String> dependents = List.of(); // they depend on embedder, which lists them
    def.define(
        OPENAI_URL,
        Type.STRING,
        "https://api.openai.com/v1",
        url("http://localhost:8080/v1", OPENAI_API_KEY),
        Importance.HIGH,
        "Base URL of the OpenAI-compatible API, e.g. https://api.openai.com/v1,"
            + " http://localhost:11434/v1 (Ollama), http://host:8000/v1 (vLLM) or"
            + " https://RESOURCE.openai.azure.com/openai/v1 (Azure OpenAI's v1 API, the deployment"
            + " as the model; its dated deployments/...?api-version= URLs and api-key header are"
            + " not supported). The connector posts to <url>/embeddings. 429, 408, 409, 424"
            + " (text-embeddings-inference's model failing, as when out of GPU memory), 425, 5xx"
            + " and I/O failures are retried. A request whose retries the server failed each with"
            + " 500 may be failing on one text (a tokenizer that crashes on it; 424, 502, 503 and 504"
            + " say nothing of the texts, and with embedder.openai.max.retries=0 nothing is narrowed): a one-word"
            + " text is sent; failed too, the server is down and the batch goes back to Connect,"
            + " nothing dead-lettered; embedded, the batch is sent again in halves, and a text"
            + " whose retries alone the server fails twice, the one-word text embedded after each"
            + " time, is dead-lettered. A request of several texts refused with 413 (too"
            + " large) is sent again in halves, and when its halves are taken the task's later"
            + " requests hold at most a half (a warning says so). At the first batch of a put"
            + " refused with 400 or 422, or of a text refused alone with 413, a one-word text is sent:"
            + " refused too, the request is at fault and the task fails; else the batch is sent"
            + " again text by text and a text refused alone (too long for the model, say) is"
            + " dead-lettered. Any other answer (a redirect, which is not followed, 401, 403,"
            + " 404...) fails the task. No user:password@ in it: use embedder.openai.api.key.",
        GROUP_VECTORS,
        ++o,
        Width.LONG,
        "Embeddings base URL",
        dependents,
        openAi);
    def.define(
        OPENAI_MODEL,
        Type.STRING,
        "text-embedding-3-small",
        new ConfigDef.NonEmptyString(),
        Importance.HIGH,
        "Embedding model name sent with each request.",
        GROUP_VECTORS,
        ++o,
        Width.MEDIUM,
        "Embedding model",
        dependents,
        openAi);
    def.define(
        OPENAI_API_KEY,
        Type.PASSWORD,
        null,
        headerSecret(),
        Importance.HIGH,
        "Bearer token for the embeddings endpoint (printable ASCII). Use a config provider."
            + " Required when embedder.openai.url is on api.openai.com.",
        GROUP_VECTORS,
        ++o,
        Width.MEDIUM,
        "Embeddings API key",
        dependents,
        openAi);
    def.define(
        OPENAI_SEND_DIMENSIONS,
        Type.BOOLEAN,
        false,
        Importance.MEDIUM,
        "Whether each request asks the model for vector.size dimensions (sends \"dimensions\":"
            + " <vector.size>). OpenAI's text-embedding-3-small and -large return 1536 and 3072"
            + " dimensions unless asked for fewer: set this to fill a collection of another size"
            + " with them. A model or server without the parameter (text-embedding-ada-002, a"
            + " model vLLM cannot shorten) refuses such a request, and the task fails naming this"
            + " option; one that ignores it answers with its own size, and the task fails on the"
            + " mismatch with vector.size. With embedder.openai.url on api.openai.com, a"
            + " vector.size other than the model's own (1536 for text-embedding-3-small and"
            + " text-embedding-ada-002, 3072 for -large) is refused at validate unless this is set"
            + " (and for ada-002 always).",
        GROUP_VECTORS,
        ++o,
        Width.SHORT,
        "Request vector.size dimensions",
        dependents,
        openAi);
    def.define(
        OPENAI_BATCH_SIZE,
        Type.INT,
        64,
        ConfigDef.Range.between(1, 2048),
        Importance.LOW,
        "Most texts per embeddings request (fewer when embedder.openai.batch.max.chars ends the"
            + " request first). text-embeddings-inference takes 32 by default"
            + " (--max-client-batch-size) and refuses more with 413: the task then sends the"
            + " batch again in halves and no more than 32 a request from then on, after one"
            + " refused request per task start; set 32 for it.",
        GROUP_VECTORS,
        ++o,
        Width.SHORT,
        "Embedding batch size",
        dependents,
        openAi);
    def.define(
        OPENAI_BATCH_MAX_CHARS,
        Type.INT,
        DEFAULT_OPENAI_BATCH_MAX_CHARS,
        ConfigDef.Range.atLeast(1),
        Importance.LOW,
        "Most characters of text per embeddings request, summed over its texts (UTF-16 units,"
            + " as Java counts them); a text longer than this goes in a request of its own, which"
            + " does not make it fit the model: a text over the model's input limit (8192 tokens"
            + " for OpenAI's models) is refused and its record dead-lettered, since texts are"
            + " never truncated. OpenAI refuses a request whose inputs sum to more than 300000"
            + " tokens, and proxies refuse large bodies (nginx: 1 MiB by default); a request"
            + " refused as too large is sent again in halves. Characters stand in for tokens only"
            + " approximately:"
            + " the default is about 125000 tokens of English (some 4 characters a token) and stays"
            + " under 300000 tokens for text of more than 1.7 characters a token; lower it for"
            + " Chinese, Japanese or Korean text (about a token a character, or more) or for an"
            + " endpoint with a smaller limit.",
        GROUP_VECTORS,
        ++o,
        Width.SHORT,
        "Embedding request characters",
        dependents,
        openAi);
    def.define(
        OPENAI_TIMEOUT_MS,
        Type.LONG,
        30_000L,
        ConfigDef.Range.atLeast(100),
        Importance.LOW,
        "Timeout of one embeddings request, until its whole answer has arrived.",
        GROUP_VECTORS,
        ++o,
        Width.SHORT,
        "Embedding timeout (ms)",
        dependents,
        openAi);
    def.define(
        OPENAI_MAX_RETRIES,
        Type.INT,
        3,
        ConfigDef.Range.between(0, 20),
        Importance.LOW,
        "Retries of a failed embeddings request (429, 424, 5xx, I/O) before the batch is handed back"
            + " to Connect to retry later, or, failed each time with 500 while the endpoint"
            + " embeds a one-word text, narrowed down to the texts it fails on (see"
            + " embedder.openai.url); fewer when embedder.openai.retry.budget.ms runs out, which"
            + " hands the batch back without narrowing it.",
        GROUP_VECTORS,
        ++o,
        Width.SHORT,
        "Embedding retries",
        dependents,
        openAi);
    def.define(
        OPENAI_RETRY_BUDGET_MS,
        Type.LONG,
        120_000L,
        ConfigDef.Range.between(0, 3_600_000),
        Importance.LOW,
        "Time one put() may spend retrying failed embeddings requests: from each request's"
            + " first failure until it succeeds, summed over the put (successful first attempts"
            + " spend none, so a slow endpoint's many batches do not use it up). A retry that could"
            + " not start (after its backoff or Retry-After) before the budget ends is not made, a"
            + " retry's timeout ends with the budget, and the batch then goes back to Connect,"
            + " which delivers it again later (its texts are embedded again). Without this bound"
            + " the retries of a put's requests (one per batch of texts) could"
            + " outlast the consumer's max.poll.interval.ms (300000 by default) and cost the task"
            + " its partitions. Keep it plus the put's requests' own time (about"
            + " embedder.openai.timeout.ms per batch at worst) under max.poll.interval.ms; 0"
            + " retries nothing within a put. Finding a text the endpoint keeps failing on (see"
            + " embedder.openai.url) spends it too, on the retries of about log2(embedder.openai.batch.size) + 2"
            + " requests per such text, and adds some 3 x log2(embedder.openai.batch.size) requests (halves and"
            + " one-word probes) to the put: with a budget too small for that, the batch goes back"
            + " to Connect every time until retry.timeout.ms passes.",
        GROUP_VECTORS,
        ++o,
        Width.SHORT,
        "Embedding retry budget (ms)",
        dependents,
        openAi);
  }

  private static void defineBatching(ConfigDef def) {
    int o = 0;
    def.define(
        BATCH_MAX_POINTS,
        Type.INT,
        256,
        ConfigDef.Range.between(1, 10_000),
        Importance.MEDIUM,
        "Points (or deletes) per request; Qdrant recommends 64 to 256. Keep it at or below a"
            + " collection's strict-mode upsert_max_batchsize: the sink learns a lower one from"
            + " Qdrant's first refusal and sends that collection's upserts in smaller requests.",
        GROUP_BATCHING,
        ++o,
        Width.SHORT,
        "Points per request");
    def.define(
        BATCH_MAX_BYTES,
        Type.INT,
        16 * 1024 * 1024,
        ConfigDef.Range.between(4096, QDRANT_MAX_REQUEST_BYTES),
        Importance.LOW,
        "Upper bound of one request's size, at most 32 MiB: Qdrant's default limit on REST"
            + " bodies (service.max_request_size_mb). Qdrant's gRPC API takes larger messages, but"
            + " a proxy in front of it may not, and each request in flight is held in memory. A"
            + " single point bigger than this is dead-lettered.",
        GROUP_BATCHING,
        ++o,
        Width.SHORT,
        "Bytes per request");
    def.define(
        RECORD_MAX_BYTES,
        Type.INT,
        16 * 1024 * 1024,
        ConfigDef.Range.atLeast(1024),
        Importance.LOW,
        "Upper bound of a record value of JSON text (bytes, or a string counted in UTF-8) that"
            + " the sink reads: a longer one is dead-lettered before it is parsed, with a reason"
            + " naming this limit. Parsing builds a tree several times the size of the text, so"
            + " one huge event could exhaust the heap before batch.max.bytes refuses its point."
            + " A point is about as large as its JSON, so values above batch.max.bytes rarely"
            + " make a point that fits; raise this only when payload.include or payload.exclude"
            + " leave most of such values out. A value a converter already parsed (a Map or a"
            + " Struct) is not measured: batch.max.bytes bounds its point.",
        GROUP_BATCHING,
        ++o,
        Width.SHORT,
        "Bytes per record value");
    o =
        RetryBackoff.define(
            def,
            GROUP_BATCHING,
            ++o,
            RETRY_BACKOFF_MS,
            200L,
            "a transient failure (a batch Qdrant could not take, which Connect then delivers"
                + " again; a failed embeddings request, retried within the put)",
            "Connect (Kafka 4.3.1's WorkerSinkTask) delivers a batch Qdrant could not take"
                + " again after the shorter of the wait and the time to the worker's next offset"
                + " commit, so that wait never exceeds the worker's offset.flush.interval.ms (60 s"
                + " by default). The waits between retries of an embeddings request, within a"
                + " put, are not shortened so.");
    RetryTimeout.define(
        def,
        GROUP_BATCHING,
        ++o,
        "transient failures (a batch Qdrant could not take: UNAVAILABLE, DEADLINE_EXCEEDED,"
            + " RESOURCE_EXHAUSTED, ABORTED, CANCELLED, INTERNAL, FAILED_PRECONDITION (an"
            + " operator's write lock), or a collection not found while it is checked; an"
            + " embeddings endpoint that keeps failing)",
        "its gRPC status, or the embeddings endpoint's HTTP status");
  }

  // ---------------------------------------------------------------- typed access

  public URI qdrantUrl() {
    return URI.create(getString(QDRANT_URL));
  }

  public boolean qdrantTls() {
    return "https".equalsIgnoreCase(qdrantUrl().getScheme());
  }

  public int qdrantPort() {
    int port = qdrantUrl().getPort();
    return port > 0 ? port : 6334;
  }

  public String qdrantApiKey() {
    return secret(QDRANT_API_KEY);
  }

  public Duration qdrantTimeout() {
    return Duration.ofMillis(getLong(QDRANT_TIMEOUT_MS));
  }

  public int maxInFlight() {
    return getInt(QDRANT_MAX_IN_FLIGHT);
  }

  public long maxInFlightBytes() {
    return getLong(QDRANT_MAX_IN_FLIGHT_BYTES);
  }

  /** The ordering every write request carries (qdrant.write.ordering). */
  public WriteOrderingType writeOrdering() {
    return Validators.parseEnum(WriteOrderingName.class, getString(QDRANT_WRITE_ORDERING)).proto;
  }

  public RecordTemplate collection() {
    return RecordTemplate.parse(getString(COLLECTION_NAME));
  }

  /**
   * Whether collection.name is a template, so that the collection depends on the record (its topic,
   * key or value) rather than on the configuration alone.
   */
  public boolean collectionPerRecord() {
    return getString(COLLECTION_NAME).contains("${");
  }

  /**
   * Whether records' keys or values pick the collection (a tenant's), rather than the configuration
   * and the topic: only then is a missing collection one record's error.
   */
  public boolean collectionFromRecordData() {
    return collection().readsKeyOrValue();
  }

  public boolean createCollections() {
    return getBoolean(COLLECTION_CREATE);
  }

  public Distance distance() {
    return Validators.parseEnum(DistanceName.class, getString(COLLECTION_DISTANCE)).proto;
  }

  public List<String> sparseVectors() {
    return getList(COLLECTION_SPARSE_VECTORS);
  }

  /** Field name to index type, in the configured order. */
  public Map<String, PayloadSchemaType> payloadIndexes() {
    Map<String, PayloadSchemaType> indexes = new LinkedHashMap<>();
    for (String spec : getList(COLLECTION_PAYLOAD_INDEXES)) {
      int colon = spec.lastIndexOf(':');
      indexes.put(
          spec.substring(0, colon).trim(),
          Validators.parseEnum(IndexType.class, spec.substring(colon + 1)).proto);
    }
    return indexes;
  }

  public FieldPath idField() {
    return FieldPath.parse(getString(ID_FIELD));
  }

  /** The fields that make the point id: id.fields, or id.field alone when that is empty. */
  public List<FieldPath> idFields() {
    List<FieldPath> fields = paths(ID_FIELDS);
    return fields.isEmpty() ? List.of(idField()) : fields;
  }

  public UUID idNamespace() {
    return UUID.fromString(getString(ID_NAMESPACE));
  }

  public boolean deleteEnabled() {
    return getBoolean(DELETE_ENABLED);
  }

  /** The key field of tombstones, or null when the key itself is the id. */
  public FieldPath deleteIdField() {
    String path = getString(DELETE_ID_FIELD);
    return path == null || path.isBlank() ? null : FieldPath.parse(path);
  }

  public List<FieldPath> payloadInclude() {
    return paths(PAYLOAD_INCLUDE);
  }

  public List<FieldPath> payloadExclude() {
    return paths(PAYLOAD_EXCLUDE);
  }

  public String vectorName() {
    return getString(VECTOR_NAME).trim();
  }

  public int vectorSize() {
    return getInt(VECTOR_SIZE);
  }

  public FieldPath vectorField() {
    return FieldPath.parse(getString(VECTOR_FIELD));
  }

  public EmbedderKind embedder() {
    return Validators.parseEnum(EmbedderKind.class, getString(EMBEDDER));
  }

  public List<FieldPath> textFields() {
    return paths(TEXT_FIELDS);
  }

  public URI openAiUrl() {
    return URI.create(getString(OPENAI_URL).replaceAll("/+$", ""));
  }

  public String openAiModel() {
    return getString(OPENAI_MODEL);
  }

  public String openAiApiKey() {
    return secret(OPENAI_API_KEY);
  }

  public int openAiBatchSize() {
    return getInt(OPENAI_BATCH_SIZE);
  }

  public int openAiBatchMaxChars() {
    return getInt(OPENAI_BATCH_MAX_CHARS);
  }

  /** Whether requests ask for vector.size dimensions. */
  public boolean openAiSendDimensions() {
    return getBoolean(OPENAI_SEND_DIMENSIONS);
  }

  public Duration openAiTimeout() {
    return Duration.ofMillis(getLong(OPENAI_TIMEOUT_MS));
  }

  public int openAiMaxRetries() {
    return getInt(OPENAI_MAX_RETRIES);
  }

  /**
   * Whether collection.distance was given: only then must an existing collection use it (configs
   * written when it applied only to new collections leave it unset).
   */
  public boolean distanceConfigured() {
    return originals().containsKey(COLLECTION_DISTANCE);
  }

  public Duration openAiRetryBudget() {
    return Duration.ofMillis(getLong(OPENAI_RETRY_BUDGET_MS));
  }

  public int batchMaxPoints() {
    return getInt(BATCH_MAX_POINTS);
  }

  public int batchMaxBytes() {
    return getInt(BATCH_MAX_BYTES);
  }

  public int recordMaxBytes() {
    return getInt(RECORD_MAX_BYTES);
  }

  public Duration retryBackoff() {
    return Duration.ofMillis(getLong(RETRY_BACKOFF_MS));
  }

  /** How long a run of transient failures is retried; -1: for ever. */
  public long retryTimeoutMs() {
    return getLong(RETRY_TIMEOUT_MS);
  }

  public Duration retryBackoffMax() {
    return Duration.ofMillis(getLong(RETRY_BACKOFF_MAX_MS));
  }

  private String secret(String key) {
    Password password = getPassword(key);
    return password == null || password.value().isEmpty() ? null : password.value();
  }

  private List<FieldPath> paths(String key) {
    return getList(key).stream().map(String::trim).map(FieldPath::parse).toList();
  }

  // ---------------------------------------------------------------- checks

  /** Rules that span several keys, so a single validator cannot check them. */
  private void checkCombinations() {
    if (embedder() == EmbedderKind.FIELD) {
      FieldPath vector = vectorField();
      if (payloadInclude().contains(vector)) {
        throw new OptionConflict(
            PAYLOAD_INCLUDE, getList(PAYLOAD_INCLUDE), "must not list the vector field " + vector);
      }
    } else if (textFields().isEmpty()) {
      throw new OptionConflict(
          TEXT_FIELDS,
          "",
          "the "
              + embedder().name().toLowerCase(Locale.ROOT)
              + " embedder needs at least one text field");
    } else if (!sparseVectors().isEmpty()) {
      // an upsert replaces all of a point's vectors: the sparse ones would always be left empty
      throw new OptionConflict(
          COLLECTION_SPARSE_VECTORS,
          sparseVectors(),
          "needs embedder=field: the "
              + embedder().name().toLowerCase(Locale.ROOT)
              + " embedder makes the dense vector only, so these sparse vectors would be empty on"
              + " every point the connector writes");
    }
    if (sparseVectors().contains(vectorName())) {
      throw new OptionConflict(
          COLLECTION_SPARSE_VECTORS, sparseVectors(), "must not contain vector.name");
    }
    checkIdFields();
    checkCollectionName();
    checkOpenAi();
    RetryBackoff.check(this, RETRY_BACKOFF_MS);
    if (deleteEnabled() && !collection().valuePaths().isEmpty()) {
      throw new OptionConflict(
          COLLECTION_NAME,
          getString(COLLECTION_NAME),
          "reads the record value, which a tombstone does not have, so with delete.enabled=true"
              + " no tombstone could name its collection and no point would be deleted: name the"
              + " collection from the key (${key.<path>}, ${key}) or the topic (${topic}), or set"
              + " delete.enabled=false");
    }
  }

  /**
   * A fixed collection.name Qdrant refuses, or a template whose fixed text (what is left without
   * its ${...}) already holds a character Qdrant refuses or is over 255 bytes, would give every
   * record a name Qdrant refuses: refused here, by the rule the mapper applies to each record. The
   * template passed {@link RecordTemplate#parse}, so each ${ closes at the next }.
   */
  private void checkCollectionName() {
    String name = getString(COLLECTION_NAME);
    String fixedText = name.replaceAll("\\$\\{[^}]*}", "");
    if (PointMapper.isCollectionName(fixedText)) {
      return;
    }
    boolean template = !fixedText.equals(name);
    String what =
        fixedText.getBytes(StandardCharsets.UTF_8).length > 255
            ? (template ? "its fixed text alone is" : "is")
                + " over 255 bytes in UTF-8, the longest name Qdrant takes"
            : (template ? "its fixed text holds" : "holds")
                + " a character Qdrant refuses in collection names (one of "
                + PointMapper.REFUSED_IN_NAMES
                + ")";
    throw new OptionConflict(
        COLLECTION_NAME,
        name,
        what
            + (template ? ", so every record's collection would be refused" : "")
            + "; use letters, digits, '-', '_' and '.' (e.g. memories_${key.tenant_id})");
  }

  /** OpenAI's models whose vector size is fixed unless the request asks for fewer dimensions. */
  private static final Map<String, Integer> OPENAI_NATIVE_SIZES =
      Map.of(
          "text-embedding-3-small", 1536,
          "text-embedding-3-large", 3072,
          "text-embedding-ada-002", 1536);

  /**
   * What api.openai.com would fail the first batch on: no API key, and a vector.size that one of
   * its models does not return (without embedder.openai.send.dimensions, or at all for ada-002,
   * which cannot shorten its vectors).
   */
  private void checkOpenAi() {
    if (embedder() != EmbedderKind.OPENAI) {
      return;
    }
    String host = openAiUrl().getHost();
    if (host == null || !host.equalsIgnoreCase("api.openai.com")) {
      // another server may serve its own model under an OpenAI name (LocalAI's aliases do), with
      // its own size, and may need no key
      return;
    }
    if (openAiApiKey() == null) {
      throw new OptionConflict(
          OPENAI_API_KEY,
          "is required for "
              + OPENAI_URL
              + " on api.openai.com, which answers every request without one with 401: set it"
              + " through a config provider (${env:OPENAI_API_KEY})");
    }
    Integer nativeSize = OPENAI_NATIVE_SIZES.get(openAiModel());
    if (nativeSize == null || nativeSize == vectorSize()) {
      return;
    }
    boolean ada = openAiModel().equals("text-embedding-ada-002");
    if (ada || !openAiSendDimensions()) {
      throw new OptionConflict(
          VECTOR_SIZE,
          vectorSize(),
          openAiModel()
              + " returns "
              + nativeSize
              + "-dimensional vectors"
              + (ada
                  ? " and cannot return fewer: set vector.size to " + nativeSize
                  : " unless asked for fewer: set vector.size to "
                      + nativeSize
                      + ", or "
                      + OPENAI_SEND_DIMENSIONS
                      + "=true to ask for "
                      + vectorSize()));
    }
  }

  /**
   * Options set in the configuration that the chosen mode ignores, and a dead letter queue that
   * will not be used, one line each: the connector warns of them at start, as they are no errors
   * but may not do what was meant.
   */
  public List<String> ignoredOptions() {
    List<String> ignored = new ArrayList<>();
    if (!deleteEnabled() && originals().containsKey(DELETE_ID_FIELD)) {
      ignored.add(
          DELETE_ID_FIELD
              + " is ignored: delete.enabled=false, so tombstones delete nothing and their key is"
              + " never read");
    }
    if (embedder() == EmbedderKind.FIELD && originals().containsKey(TEXT_FIELDS)) {
      ignored.add(
          TEXT_FIELDS
              + " is ignored: embedder=field takes each record's vector from vector.field and"
              + " embeds no text");
    }
    String dlq = DeadLetterQueue.topicWithoutTolerance(originals());
    if (dlq != null) {
      ignored.add(dlq);
    }
    return ignored;
  }

  private void checkIdFields() {
    List<FieldPath> fields = paths(ID_FIELDS);
    if (!fields.isEmpty() && originals().containsKey(ID_FIELD)) {
      throw new OptionConflict(
          ID_FIELDS, getList(ID_FIELDS), "set id.field or id.fields, not both (remove id.field)");
    }
    Set<String> leaves = new HashSet<>();
    for (FieldPath field : fields) {
      if (!leaves.add(field.leaf())) {
        // a tombstone's key may hold the fields flat, by their last segment: two would collide
        throw new OptionConflict(
            ID_FIELDS,
            getList(ID_FIELDS),
            "names two fields ending in '" + field.leaf() + "'; each must end differently");
      }
    }
    if (fields.size() > 1 && deleteEnabled() && deleteIdField() != null) {
      throw new OptionConflict(
          DELETE_ID_FIELD,
          getString(DELETE_ID_FIELD),
          "must be empty with several id.fields: a tombstone's key holds each of them (at its"
              + " path or under its last segment)");
    }
  }

  // ---------------------------------------------------------------- values

  /** Distances, as written in configs. */
  enum DistanceName {
    COSINE(Distance.Cosine),
    DOT(Distance.Dot),
    EUCLID(Distance.Euclid),
    MANHATTAN(Distance.Manhattan);

    final Distance proto;

    DistanceName(Distance proto) {
      this.proto = proto;
    }
  }

  /** Write orderings, as written in configs. */
  enum WriteOrderingName {
    WEAK(WriteOrderingType.Weak),
    MEDIUM(WriteOrderingType.Medium),
    STRONG(WriteOrderingType.Strong);

    final WriteOrderingType proto;

    WriteOrderingName(WriteOrderingType proto) {
      this.proto = proto;
    }
  }

  /** Payload index types, as written in configs. */
  enum IndexType {
    KEYWORD(PayloadSchemaType.Keyword),
    INTEGER(PayloadSchemaType.Integer),
    FLOAT(PayloadSchemaType.Float),
    BOOL(PayloadSchemaType.Bool),
    GEO(PayloadSchemaType.Geo),
    TEXT(PayloadSchemaType.Text),
    DATETIME(PayloadSchemaType.Datetime),
    UUID(PayloadSchemaType.Uuid);

    final PayloadSchemaType proto;

    IndexType(PayloadSchemaType proto) {
      this.proto = proto;
    }
  }
}
