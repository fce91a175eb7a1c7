package io.somastack.connect.benchmarks.qdrant;

import static com.google.protobuf.CodedOutputStream.computeByteArraySize;
import static com.google.protobuf.CodedOutputStream.computeInt64Size;
import static com.google.protobuf.CodedOutputStream.computeStringSize;
import static com.google.protobuf.CodedOutputStream.computeUInt32SizeNoTag;
import static com.google.protobuf.CodedOutputStream.computeUInt64Size;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.WireFormat;
import io.qdrant.client.grpc.Common.PointId;
import io.qdrant.client.grpc.JsonWithInt.Value;
import io.qdrant.client.grpc.Points.DenseVector;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.UpsertPoints;
import io.qdrant.client.grpc.Points.Vector;
import io.qdrant.client.grpc.Points.Vectors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * Points of the benchmark's record shape (id, tenant_id, text, a dense vector) written as protobuf
 * bytes straight from the record, for {@link QdrantSinkThroughputBenchmark#clientEncoded}. The
 * request carries them as field {@code points} of {@code UpsertPoints} in its unknown fields: on
 * the wire that is the same bytes as the message's own repeated field, and the receiver parses them
 * as points. {@link #parse} checks the encoding against the generated classes.
 */
final class EncodedPoints {

  private static final int LEN = WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int MAP_KEY = 1;
  private static final int MAP_VALUE = 2;

  private UnknownFieldSet.Field.Builder points = UnknownFieldSet.Field.newBuilder();
  private int count;

  void add(SinkRecord record) {
    points.addLengthDelimited(UnsafeByteOperations.unsafeWrap(encode(record)));
    count++;
  }

  int count() {
    return count;
  }

  UpsertPoints request(String collection) {
    return UpsertPoints.newBuilder()
        .setCollectionName(collection)
        .setWait(true)
        .setUnknownFields(
            UnknownFieldSet.newBuilder()
                .addField(UpsertPoints.POINTS_FIELD_NUMBER, points.build())
                .build())
        .build();
  }

  static PointStruct parse(byte[] point) {
    try {
      return PointStruct.parseFrom(point);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  @SuppressWarnings("unchecked")
  static byte[] encode(SinkRecord record) {
    Map<?, ?> value = (Map<?, ?>) record.value();
    List<Float> vector = (List<Float>) value.get("vector");
    long id = (Long) value.get("id");
    byte[] tenant = ((String) value.get("tenant_id")).getBytes(StandardCharsets.UTF_8);
    byte[] text = ((String) value.get("text")).getBytes(StandardCharsets.UTF_8);

    int idSize = computeUInt64Size(PointId.NUM_FIELD_NUMBER, id);
    int idValue = computeInt64Size(Value.INTEGER_VALUE_FIELD_NUMBER, id);
    int tenantValue = computeByteArraySize(Value.STRING_VALUE_FIELD_NUMBER, tenant);
    int textValue = computeByteArraySize(Value.STRING_VALUE_FIELD_NUMBER, text);
    int idEntry = entrySize("id", idValue);
    int tenantEntry = entrySize("tenant_id", tenantValue);
    int textEntry = entrySize("text", textValue);
    int floats = 4 * vector.size();
    int dense = nested(DenseVector.DATA_FIELD_NUMBER, floats);
    int single = nested(Vector.DENSE_FIELD_NUMBER, dense);
    int vectors = nested(Vectors.VECTOR_FIELD_NUMBER, single);
    int size =
        nested(PointStruct.ID_FIELD_NUMBER, idSize)
            + nested(PointStruct.PAYLOAD_FIELD_NUMBER, idEntry)
            + nested(PointStruct.PAYLOAD_FIELD_NUMBER, tenantEntry)
            + nested(PointStruct.PAYLOAD_FIELD_NUMBER, textEntry)
            + nested(PointStruct.VECTORS_FIELD_NUMBER, vectors);

    byte[] out = new byte[size];
    CodedOutputStream o = CodedOutputStream.newInstance(out);
    try {
      header(o, PointStruct.ID_FIELD_NUMBER, idSize);
      o.writeUInt64(PointId.NUM_FIELD_NUMBER, id);
      entryHeader(o, "id", idEntry, idValue);
      o.writeInt64(Value.INTEGER_VALUE_FIELD_NUMBER, id);
      entryHeader(o, "tenant_id", tenantEntry, tenantValue);
      o.writeByteArray(Value.STRING_VALUE_FIELD_NUMBER, tenant);
      entryHeader(o, "text", textEntry, textValue);
      o.writeByteArray(Value.STRING_VALUE_FIELD_NUMBER, text);
      header(o, PointStruct.VECTORS_FIELD_NUMBER, vectors);
      header(o, Vectors.VECTOR_FIELD_NUMBER, single);
      header(o, Vector.DENSE_FIELD_NUMBER, dense);
      header(o, DenseVector.DATA_FIELD_NUMBER, floats); // packed
      for (int i = 0, n = vector.size(); i < n; i++) {
        o.writeFloatNoTag(vector.get(i));
      }
      o.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** Size of a length-delimited field holding {@code size} bytes, with its tag and length. */
  private static int nested(int field, int size) {
    return CodedOutputStream.computeTagSize(field) + computeUInt32SizeNoTag(size) + size;
  }

  /** Size of a payload map entry: the key, and a Value message of {@code valueSize} bytes. */
  private static int entrySize(String key, int valueSize) {
    return computeStringSize(MAP_KEY, key) + nested(MAP_VALUE, valueSize);
  }

  private static void header(CodedOutputStream o, int field, int size) throws IOException {
    o.writeTag(field, LEN);
    o.writeUInt32NoTag(size);
  }

  private static void entryHeader(CodedOutputStream o, String key, int entry, int value)
      throws IOException {
    header(o, PointStruct.PAYLOAD_FIELD_NUMBER, entry);
    o.writeString(MAP_KEY, key);
    header(o, MAP_VALUE, value);
  }
}
