package io.somastack.connect.qdrant.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qdrant.client.grpc.Common.PointId;
import io.qdrant.client.grpc.Points.Vectors;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.path.FieldPath;
import io.somastack.connect.common.record.OffsetRanges;
import io.somastack.connect.common.record.RecordKeys;
import io.somastack.connect.common.template.RecordTemplate;
import io.somastack.connect.common.text.Utf8;
import io.somastack.connect.qdrant.QdrantSinkConfig;
import io.somastack.connect.qdrant.embed.Embedder;
import io.somastack.connect.qdrant.embed.EmbedderKind;
import io.somastack.connect.qdrant.embed.FieldEmbedder;
import io.somastack.connect.qdrant.embed.TextEmbedder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.IntConsumer;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns records into point operations, in record order: a value becomes an upsert (id, vectors,
 * payload, collection), a tombstone a delete. Records that cannot become a point are handed back
 * with the reason, for the dead letter queue.
 */
public final class PointMapper {

  private static final Logger log = LoggerFactory.getLogger(PointMapper.class);

  /**
   * A record that cannot be written, and why: {@code reason} for its dead letter, which goes with
   * the record, {@code loggedReason} for the log and the task's errors, which may name the record's
   * position but nothing of its data (Qdrant's text about it, a collection named by its value).
   */
  public record Rejected(SinkRecord record, String reason, String loggedReason) {

    /** A reason that holds nothing of the record: logged as it is. */
    public Rejected(SinkRecord record, String reason) {
      this(record, reason, reason);
    }
  }

  /**
   * A record rejected for {@code e}: a refused payload field's path names map keys, record data,
   * only in the dead letter's reason.
   */
  private static Rejected rejected(SinkRecord record, RuntimeException e) {
    return e instanceof PayloadFieldException field
        ? new Rejected(record, field.getMessage(), field.loggedMessage())
        : new Rejected(record, e.getMessage());
  }

  /** Told how long each embedder call took, for metrics. */
  public interface EmbeddingTimer {
    void record(int values, long nanos);
  }

  /**
   * Why a record nested deeper than the task thread's stack is rejected. Reading a value (its JSON
   * tree, payload, id or key) recurses once or more per level of nesting, and Structs and Maps from
   * a converter have no depth limit: such a record is its own fault and goes to the dead letter
   * queue, where a StackOverflowError, which Connect does not tolerate, would kill the task. It is
   * caught around each record, not inside the walk, so the stack is unwound and nothing of the
   * record is half built.
   */
  public static final String TOO_DEEP =
      "the record is nested too deeply to be read (its value, or a tombstone's key)";

  /** The embedder when it reads vectors from a field, straight from the Connect value. */
  private final FieldEmbedder fieldEmbedder;

  /** The embedder when it embeds text fields; null when {@link #fieldEmbedder} is not. */
  private final TextEmbedder textEmbedder;

  private final EmbeddingTimer timer;

  /** Told how many tombstones a put ignored (delete.enabled=false), for metrics. */
  private final IntConsumer tombstonesIgnored;

  /** Whether an ignored tombstone was logged at INFO yet: later ones are logged at DEBUG. */
  private boolean ignoredTombstonesLogged;

  private final PointIds ids;

  /** The fields of the point id: one (id.field) or several (id.fields). */
  private final List<FieldPath> idFields;

  private final FieldPath deleteIdField;
  private final boolean deleteEnabled;
  private final RecordTemplate collection;

  /** The collection template reads only the topic (and literals). */
  private final boolean topicOnly;

  /** Whether the collection comes from the record's key or value: only then a record's fault. */
  private final boolean fromRecordData;

  /** Rendered collection names per topic, when {@link #topicOnly}; a mapper serves one task. */
  private final Map<String, String> byTopic = new HashMap<>();

  private final Payloads payloads;
  private final int maxPointBytes;

  /** record.max.bytes: the longest value of JSON text that is parsed at all. */
  private final int maxRecordBytes;

  public PointMapper(QdrantSinkConfig config, Embedder embedder, EmbeddingTimer timer) {
    this(config, embedder, timer, ignored -> {});
  }

  public PointMapper(
      QdrantSinkConfig config,
      Embedder embedder,
      EmbeddingTimer timer,
      IntConsumer tombstonesIgnored) {
    this.fieldEmbedder = embedder instanceof FieldEmbedder field ? field : null;
    this.textEmbedder = embedder instanceof TextEmbedder text ? text : null;
    this.timer = timer;
    this.tombstonesIgnored = tombstonesIgnored;
    this.ids = new PointIds(config.idNamespace());
    this.idFields = config.idFields();
    this.deleteIdField = config.deleteIdField();
    this.deleteEnabled = config.deleteEnabled();
    this.collection = config.collection();
    this.topicOnly = collection.dependsOnTopicOnly();
    this.fromRecordData = collection.readsKeyOrValue();
    List<FieldPath> exclude = new ArrayList<>(config.payloadExclude());
    if (config.embedder() == EmbedderKind.FIELD) {
      exclude.add(config.vectorField()); // stored as the vector; a copy in the payload is waste
    }
    this.payloads = new Payloads(config.payloadInclude(), exclude);
    this.maxPointBytes = config.batchMaxBytes();
    this.maxRecordBytes = config.recordMaxBytes();
  }

  /**
   * The operations for the records, in record order; the records that have none go to rejects.
   *
   * <p>Each record is read once, as it comes: its value (a JSON tree, when it is JSON text or the
   * embedder reads text) gives the id, the collection, the payload, written at once into the
   * point's bytes, and what the embedder needs of it, and is then dropped. Vectors read from a
   * field finish the point there and then; texts to embed are kept, without their trees, and
   * embedded together once every record is read, each point then finished with its vectors. So a
   * put holds one value's tree at a time, not every one of them until the embedder answers.
   */
  public List<PointOp> map(Collection<SinkRecord> records, List<Rejected> rejects) {
    PointOp[] ops = new PointOp[records.size()];
    Batch batch = new Batch();
    int slot = 0;
    for (SinkRecord record : records) {
      try {
        Object value = record.value();
        if (value == null) {
          if (deleteEnabled) {
            ops[slot] = delete(record);
          } else {
            batch.ignored(record);
          }
        } else {
          String tooLarge = tooLarge(value);
          if (tooLarge != null) {
            rejects.add(new Rejected(record, tooLarge));
          } else if (fieldEmbedder != null) {
            ops[slot] = fieldUpsert(record, batch, rejects);
          } else {
            textPending(record, slot, batch, rejects);
          }
        }
      } catch (DataException | IllegalArgumentException e) {
        rejects.add(rejected(record, e));
      } catch (StackOverflowError e) {
        rejects.add(new Rejected(record, TOO_DEEP));
      }
      slot++;
    }
    if (batch.read > 0) {
      timer.record(batch.read, batch.readNanos);
    }
    embedTexts(batch, ops, rejects);
    ignoredTombstones(batch);
    return Arrays.stream(ops).filter(Objects::nonNull).toList();
  }

  /** What a put's mapping gathers besides its operations. */
  private final class Batch {

    /** Reads field vectors: one scratch list for the put's vectors. */
    private Function<Object, Embedder.Result> reader;

    /** Field vectors read, and the time it took. */
    private int read;

    private long readNanos;

    /** Points to finish once their texts are embedded, and those texts, in the same order. */
    private final List<Pending> pending = new ArrayList<>();

    private final List<String> texts = new ArrayList<>();

    /** Tombstones ignored (delete.enabled=false), by position. */
    private OffsetRanges ignored;

    private int ignoredCount;

    Embedder.Result readVectors(Object value) {
      if (reader == null) {
        reader = fieldEmbedder.reader();
      }
      long start = System.nanoTime();
      Embedder.Result result = reader.apply(value);
      readNanos += System.nanoTime() - start;
      read++;
      return result;
    }

    void ignored(SinkRecord tombstone) {
      if (ignored == null) {
        ignored = new OffsetRanges();
      }
      ignored.add(tombstone);
      ignoredCount++;
    }
  }

  /**
   * A point waiting for the vectors of its text: written but for them, so neither the record's tree
   * nor its payload's values are kept.
   */
  private record Pending(
      SinkRecord record, int slot, String collection, PointId id, PointOp.Unfinished point) {}

  /**
   * Why a value of JSON text is too long to be read, or null. The value's bytes (its UTF-8 bytes,
   * for a String) are counted before it is parsed: a tree costs several times its text, so one huge
   * event would otherwise take the heap before batch.max.bytes refused its point. A Map or Struct
   * (a converter parsed it already) is not measured: batch.max.bytes bounds its point.
   */
  private String tooLarge(Object value) {
    long bytes;
    String atLeast = "";
    if (value instanceof byte[] array) {
      bytes = array.length;
    } else if (value instanceof ByteBuffer buffer) {
      bytes = buffer.remaining();
    } else if (value instanceof String text) {
      if (!Utf8.longerThan(text, maxRecordBytes)) {
        return null;
      }
      if (text.length() > maxRecordBytes) {
        bytes = text.length();
        atLeast = "at least ";
      } else {
        bytes = Utf8.length(text);
      }
    } else {
      return null;
    }
    if (bytes <= maxRecordBytes) {
      return null;
    }
    return "the record's value is "
        + atLeast
        + bytes
        + " bytes, more than record.max.bytes ("
        + maxRecordBytes
        + "): not read";
  }

  /**
   * The upsert of a record whose vectors are in a field, read from the Connect value itself (Map or
   * Struct, with its schema), so that no JSON tree is built at all, else from the value's tree;
   * null when the record has no vectors (rejected).
   */
  private PointOp.Upsert fieldUpsert(SinkRecord record, Batch batch, List<Rejected> rejects) {
    Object value = record.value();
    Schema schema = record.valueSchema();
    if (!(value instanceof Map<?, ?> || value instanceof Struct)) {
      value = objectTree(value, schema);
      schema = null;
    }
    PointId id = id(value, schema);
    String collection = upsertCollection(record, value);
    Embedder.Result vectors = batch.readVectors(value);
    if (vectors.isRejected()) {
      rejects.add(new Rejected(record, vectors.rejection()));
      return null;
    }
    return upsert(record, collection, id, value, schema, vectors.vectors());
  }

  /**
   * Reads a record for the text embedder: its tree gives the id, collection, text and payload, and
   * is dropped; the point waits in {@code batch}, written but for its vectors.
   */
  private void textPending(SinkRecord record, int slot, Batch batch, List<Rejected> rejects) {
    JsonNode value = objectTree(record.value(), record.valueSchema());
    PointId id = id(value, null);
    String collection = upsertCollection(record, value);
    TextEmbedder.Text text = textEmbedder.textOf(value);
    if (text.isRejected()) {
      rejects.add(new Rejected(record, text.rejection()));
      return;
    }
    EncodedFields payload = payloads.of(value, null);
    checkDepth(payload);
    int vectorsSize = textEmbedder.vectorsSize();
    int size = PointOp.Unfinished.size(id, payload, vectorsSize);
    checkSize(collection, PointOp.Upsert.bytes(size));
    batch.pending.add(
        new Pending(
            record,
            slot,
            collection,
            id,
            PointOp.Unfinished.write(id, payload, vectorsSize, size)));
    batch.texts.add(text.text());
  }

  private static JsonNode objectTree(Object value, Schema schema) {
    JsonNode json = RecordJson.toJson(value, schema);
    if (!(json instanceof ObjectNode)) {
      throw new DataException("the value is not a JSON object");
    }
    return json;
  }

  /** Embeds the put's texts in one go and finishes their points with the vectors. */
  private void embedTexts(Batch batch, PointOp[] ops, List<Rejected> rejects) {
    if (batch.pending.isEmpty()) {
      return;
    }
    long start = System.nanoTime();
    List<Embedder.Result> vectors = textEmbedder.embedTexts(batch.texts);
    timer.record(batch.pending.size(), System.nanoTime() - start);
    batch.texts.clear();
    for (int i = 0; i < batch.pending.size(); i++) {
      Pending p = batch.pending.get(i);
      Embedder.Result result = vectors.get(i);
      if (result.isRejected()) {
        rejects.add(new Rejected(p.record(), result.rejection()));
      } else {
        ops[p.slot()] = p.point().finish(p.collection(), p.id(), result.vectors(), p.record());
      }
    }
  }

  /**
   * Tombstones with delete.enabled=false delete nothing: counted, and said in the log by position
   * (never by key), at INFO the first time, at DEBUG after, so that an operator who expected
   * deletes finds why there are none without a line for every put.
   */
  private void ignoredTombstones(Batch batch) {
    if (batch.ignoredCount == 0) {
      return;
    }
    tombstonesIgnored.accept(batch.ignoredCount);
    if (!ignoredTombstonesLogged) {
      ignoredTombstonesLogged = true;
      log.info(
          "Ignored {} tombstone(s) at {}: delete.enabled=false, so their points stay. Counted in"
              + " tombstones-ignored-total; later ones are logged at DEBUG",
          batch.ignoredCount,
          batch.ignored);
    } else if (log.isDebugEnabled()) {
      log.debug(
          "Ignored {} tombstone(s) at {} (delete.enabled=false)",
          batch.ignoredCount,
          batch.ignored);
    }
  }

  private PointId id(Object value, Schema schema) {
    if (idFields.size() == 1) {
      return ids.of(idPart(value, schema, idFields.get(0)));
    }
    List<JsonNode> parts = new ArrayList<>(idFields.size());
    for (FieldPath field : idFields) {
      parts.add(idPart(value, schema, field));
    }
    return ids.of(idFields, parts);
  }

  private static JsonNode idPart(Object value, Schema schema, FieldPath field) {
    Object id = field.get(value);
    if (id == null) {
      throw new DataException("no point id in field " + field);
    }
    return id instanceof JsonNode node ? node : RecordJson.convert(id, field.schemaIn(schema));
  }

  /**
   * The collection of an upsert. A template of literals and ${topic} names the same collection for
   * every record of a topic, so it is rendered once per topic; any other template is rendered
   * against the JSON tree, so ${value.x} renders alike for Map, Struct and JSON-text values (a
   * Struct's Date as ISO text, not as Java's text of a Date).
   */
  private String upsertCollection(SinkRecord record, Object value) {
    if (topicOnly) {
      return topicCollection(record);
    }
    if (!fromRecordData) {
      return collectionOf(record); // ${partition}: nothing of the value to read
    }
    JsonNode json =
        value instanceof JsonNode tree
            ? tree
            : ValueJson.toJsonWithout(value, record.valueSchema(), fieldEmbedder.field());
    return checked(collection.render(record, json, null));
  }

  private String topicCollection(SinkRecord record) {
    String name = byTopic.get(record.topic());
    if (name == null) {
      name = collectionOf(record); // throws for a blank name, which is then never cached
      byTopic.put(record.topic(), name);
    }
    return name;
  }

  private PointOp delete(SinkRecord record) {
    PointId id = idFields.size() == 1 ? singleKeyId(record) : keyIdOfFields(record);
    String name = topicOnly ? topicCollection(record) : collectionOf(record);
    return new PointOp.Delete(name, id, record);
  }

  /**
   * The point id a tombstone's key names, read with the key's schema (or its delete.id.field's): a
   * Date id is "2024-01-01" in the value's id field, and must be here too, not a timestamp.
   */
  private PointId singleKeyId(SinkRecord record) {
    Object key = keyText(record.key());
    Schema schema = record.keySchema();
    if (deleteIdField != null) {
      Object container = key instanceof String text ? RecordJson.parse(text) : key;
      schema =
          deleteIdField.schemaIn(container instanceof Struct struct ? struct.schema() : schema);
      key = container == null ? null : deleteIdField.get(container);
    } else if (key instanceof String text) {
      key = RecordKeys.unquoted(text);
    }
    if (key == null) {
      throw new DataException("a tombstone without a point id in its key");
    }
    return ids.of(key instanceof JsonNode node ? node : RecordJson.convert(key, schema));
  }

  /**
   * The point id a tombstone's key names when the id is made of several fields: the key holds each
   * at its path or flat under its last segment, as the PostgreSQL sink reads key.fields.
   */
  private PointId keyIdOfFields(SinkRecord record) {
    Object key = keyObject(keyText(record.key()));
    Schema schema = key instanceof Struct struct ? struct.schema() : record.keySchema();
    List<JsonNode> parts = new ArrayList<>(idFields.size());
    for (FieldPath field : idFields) {
      FieldPath at = field;
      Object part = field.get(key);
      if (part == null && !field.isTopLevel()) {
        at = field.leafPath();
        part = at.get(key);
      }
      if (part == null) {
        throw new DataException("id field '" + field + "' is missing from the tombstone's key");
      }
      parts.add(
          part instanceof JsonNode node ? node : RecordJson.convert(part, at.schemaIn(schema)));
    }
    return ids.of(idFields, parts);
  }

  private Object keyObject(Object key) {
    if (key == null) {
      throw new DataException("a tombstone without a point id in its key");
    }
    Object object = key instanceof String text ? RecordKeys.jsonObjectOrNull(text) : key;
    if (object instanceof Map<?, ?> || object instanceof Struct || object instanceof ObjectNode) {
      return object;
    }
    throw new DataException(
        "a tombstone's key must hold the id fields "
            + idFields
            + ": a Struct, a Map or JSON object text, not a single value or an array");
  }

  /** Key bytes (ByteArrayConverter) as their UTF-8 text, read as StringConverter's would be. */
  private static Object keyText(Object key) {
    return key instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : key;
  }

  private String collectionOf(SinkRecord record) {
    return checked(collection.render(record));
  }

  /** A rendered collection name, refused when missing or one Qdrant would not take. */
  private String checked(String name) {
    if (name == null || name.isBlank()) {
      throw new DataException(
          "collection template " + collection + " names a field the record does not have");
    }
    if (fromRecordData && !isCollectionName(name)) {
      // a name made from record data that Qdrant would refuse: this record's fault, not the
      // task's (a fixed name Qdrant refuses fails the task when the collection is created)
      throw new DataException(
          "collection template "
              + collection
              + " gives a name Qdrant refuses (over 255 bytes in UTF-8, or one of "
              + REFUSED_IN_NAMES
              + ")");
    }
    return name;
  }

  /** The characters Qdrant refuses in a collection name, as messages list them. */
  public static final String REFUSED_IN_NAMES = "<>:\"/\\|?*, NUL and U+001F";

  /**
   * Qdrant's rule for collection names: at most 255 characters, none of {@code <>:"/\|?*}, NUL or
   * the unit separator (U+001F). A name it refuses fails the collection's creation, and the task.
   * The 255 are counted in UTF-8 bytes here: Qdrant keeps a collection in a directory of its name,
   * and a longer file name fails the creation as an internal error, which is retried for ever.
   */
  public static boolean isCollectionName(String name) {
    if (name.getBytes(StandardCharsets.UTF_8).length > 255) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      if ("<>:\"/\\|?*\0\u001f".indexOf(name.charAt(i)) >= 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * The upsert of a record with its vectors; a {@link DataException} says why there is none. With
   * the field embedder the payload is converted here, straight from the Connect value, so a value
   * JSON has no form for (NaN, say) is found here and not when the record was first read.
   */
  private PointOp.Upsert upsert(
      SinkRecord record,
      String collection,
      PointId id,
      Object value,
      Schema schema,
      Vectors vectors) {
    EncodedFields payload = payloads.of(value, schema);
    checkDepth(payload);
    PointOp.Upsert upsert = PointOp.Upsert.of(collection, id, vectors, payload, record);
    checkSize(collection, upsert.bytes());
    return upsert;
  }

  /**
   * Refuses a point nested deeper than Qdrant decodes ({@link PointOp#MAX_DEPTH}): Qdrant would
   * refuse the whole request it goes in, before reading any of it. Named by its depth, never by its
   * fields, which are record data.
   */
  private static void checkDepth(EncodedFields payload) {
    int depth = PointOp.requestDepth(payload);
    if (depth > PointOp.MAX_DEPTH) {
      throw new DataException(
          "the payload nests "
              + depth
              + " protobuf levels deep in its upsert request, more than the "
              + PointOp.MAX_DEPTH
              + " the sink sends (Qdrant decodes at most "
              + PointOp.QDRANT_DECODE_LIMIT
              + "; a JSON object costs 3 levels, an array 2, so about 31 levels of nested objects"
              + " fit)");
    }
  }

  /** Refuses a point that adds {@code bytes} to a request over batch.max.bytes on its own. */
  private void checkSize(String collection, int bytes) {
    int request = bytes + WriteBatch.requestOverhead(collection);
    if (request > maxPointBytes) {
      throw new DataException(
          "the point makes a request of "
              + request
              + " bytes, more than batch.max.bytes ("
              + maxPointBytes
              + ")");
    }
  }
}
