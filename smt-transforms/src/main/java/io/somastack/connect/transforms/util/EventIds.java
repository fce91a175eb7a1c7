package io.somastack.connect.transforms.util;

import io.somastack.connect.common.json.RecordJson;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Name-based UUIDs (version 5, RFC 9562) for records, derived from where a record sits in its
 * stream, so reprocessing the same record yields the same id.
 */
public final class EventIds {

  private EventIds() {}

  /**
   * The id of a record: UUIDv5 of topic, partition and offset for sink records, of topic, source
   * partition and source offset for source records.
   */
  public static UUID of(UUID namespace, ConnectRecord<?> record) {
    return v5(namespace, name(record));
  }

  private static String name(ConnectRecord<?> record) {
    if (record instanceof SinkRecord sink) {
      return sink.originalTopic()
          + '\u0000'
          + sink.originalKafkaPartition()
          + '\u0000'
          + sink.originalKafkaOffset();
    }
    if (record instanceof SourceRecord source && source.sourceOffset() != null) {
      return record.topic()
          + '\u0000'
          + sorted(source.sourcePartition())
          + '\u0000'
          + sorted(source.sourceOffset())
          + '\u0000'
          + content(source);
    }
    throw Records.error(record, "has no offset to derive a deterministic event id from");
  }

  /**
   * A digest of the record's key and value. A source offset need not be unique: a JDBC source in
   * timestamp mode gives every row of one timestamp the same offset, and distinct records sharing
   * an id would be dropped as duplicates by whoever deduplicates on it. The same record read again
   * has the same content, so its id stays the same.
   */
  private static String content(SourceRecord record) {
    MessageDigest sha256 = digest("SHA-256");
    sha256.update(contentBytes(record, RecordSide.KEY));
    sha256.update((byte) 0);
    sha256.update(contentBytes(record, RecordSide.VALUE));
    return HexFormat.of().formatHex(sha256.digest());
  }

  /**
   * A side with no JSON (a NaN or an infinity in it) has no digest: the error says where the record
   * comes from, but not the converter's message, which quotes the value.
   */
  private static byte[] contentBytes(SourceRecord record, RecordSide side) {
    try {
      return contentBytes(side.value(record), side.schema(record));
    } catch (DataException e) {
      throw Records.error(
          record,
          "the "
              + side.label()
              + " cannot be written as JSON, so no event id can be derived"
              + " from it");
    }
  }

  /** The value as bytes: bytes and text as they are, anything else as its JSON. */
  private static byte[] contentBytes(Object value, Schema schema) {
    if (value == null) {
      return new byte[0];
    }
    if (value instanceof byte[] bytes) {
      return bytes;
    }
    if (value instanceof String text) {
      return text.getBytes(StandardCharsets.UTF_8);
    }
    return RecordJson.writeBytes(RecordJson.convert(value, schema));
  }

  /**
   * Maps print in key order, so the name does not depend on the map's iteration order; a null key
   * (a connector may use one) sorts first. A null map stays "", as ids derived before read it.
   */
  private static String sorted(Map<String, ?> map) {
    return map == null ? "" : Records.sorted(map);
  }

  public static UUID v5(UUID namespace, String name) {
    MessageDigest sha1 = digest("SHA-1");
    sha1.update(toBytes(namespace));
    byte[] hash = sha1.digest(name.getBytes(StandardCharsets.UTF_8));
    hash[6] = (byte) ((hash[6] & 0x0f) | 0x50);
    hash[8] = (byte) ((hash[8] & 0x3f) | 0x80);
    return new UUID(toLong(hash, 0), toLong(hash, 8));
  }

  private static MessageDigest digest(String algorithm) {
    try {
      return MessageDigest.getInstance(algorithm);
    } catch (NoSuchAlgorithmException e) {
      throw new DataException(algorithm + " is not available in this JDK", e);
    }
  }

  private static byte[] toBytes(UUID uuid) {
    return ByteBuffer.allocate(16)
        .putLong(uuid.getMostSignificantBits())
        .putLong(uuid.getLeastSignificantBits())
        .array();
  }

  private static long toLong(byte[] bytes, int from) {
    long value = 0;
    for (int i = from; i < from + 8; i++) {
      value = (value << 8) | (bytes[i] & 0xff);
    }
    return value;
  }
}
