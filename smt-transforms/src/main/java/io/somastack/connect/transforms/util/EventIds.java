package io.somastack.connect.transforms.util;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.connect.connector.ConnectRecord;
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
          + sorted(source.sourceOffset());
    }
    throw Records.error(record, "has no offset to derive a deterministic event id from");
  }

  /** Maps print in key order, so the name does not depend on the map's iteration order. */
  private static String sorted(Map<String, ?> map) {
    return map == null ? "" : new TreeMap<>(map).toString();
  }

  public static UUID v5(UUID namespace, String name) {
    MessageDigest sha1;
    try {
      sha1 = MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      throw new DataException("SHA-1 is not available in this JDK", e);
    }
    sha1.update(toBytes(namespace));
    byte[] hash = sha1.digest(name.getBytes(StandardCharsets.UTF_8));
    hash[6] = (byte) ((hash[6] & 0x0f) | 0x50);
    hash[8] = (byte) ((hash[8] & 0x3f) | 0x80);
    return new UUID(toLong(hash, 0), toLong(hash, 8));
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
