package io.somastack.connect.qdrant.mapping;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.CodedOutputStream;
import io.qdrant.client.PointIdFactory;
import io.qdrant.client.grpc.Common.PointId;
import io.qdrant.client.grpc.JsonWithInt.ListValue;
import io.qdrant.client.grpc.JsonWithInt.NullValue;
import io.qdrant.client.grpc.JsonWithInt.Struct;
import io.qdrant.client.grpc.JsonWithInt.Value;
import io.qdrant.client.grpc.Points.DenseVector;
import io.qdrant.client.grpc.Points.NamedVectors;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.SparseIndices;
import io.qdrant.client.grpc.Points.UpsertPoints;
import io.qdrant.client.grpc.Points.Vector;
import io.qdrant.client.grpc.Points.Vectors;
import io.somastack.connect.common.json.ConnectJson;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

/**
 * The sink writes points' protobuf bytes itself (PayloadValues, EncodedFields, DenseFloats,
 * PointOp.Upsert.of) instead of building messages. Each test compares its bytes with what protobuf
 * writes for the same point built with the generated classes, the reference: equal bytes mean
 * Qdrant reads the same point, and the request sizes the batches are cut by are exact.
 */
class EncodedPointTest {

  private static final SinkRecord RECORD = new SinkRecord("t", 0, null, null, null, null, 0);

  /** Every kind of JSON value, nested, with texts in and beyond ASCII. */
  private static Map<String, Object> everyKind() {
    Map<String, Object> nested = new LinkedHashMap<>();
    nested.put("empty object", Map.of());
    nested.put("empty array", List.of());
    nested.put("deeper", Map.of("list", Arrays.asList(1L, null, "x", List.of(true))));
    Map<String, Object> value = new LinkedHashMap<>();
    value.put("text", "memory " + "lorem ipsum ".repeat(40));
    value.put("question", "what?");
    value.put("unicode", "été नमस्ते 😀");
    value.put("empty", "");
    value.put("zero", 0L);
    value.put("negative", -42L);
    value.put("max", Long.MAX_VALUE);
    value.put("min", Long.MIN_VALUE);
    value.put("double", 2.5d);
    value.put("negative zero", -0.0d);
    value.put("true", true);
    value.put("false", false);
    value.put("null", null);
    value.put("nested", nested);
    value.put("array", List.of(Map.of("a", 1L), "b", 3.25d));
    value.put("ключ", "non-ASCII key");
    return value;
  }

  @Test
  void payloadValuesAreTheBytesProtobufWrites() {
    Map<String, Object> value = everyKind();
    for (Map.Entry<String, Object> field : value.entrySet()) {
      byte[] encoded =
          ConnectJson.convert(field.getValue(), null, PayloadValues.INSTANCE).toByteArray();
      assertArrayEquals(reference(field.getValue()).toByteArray(), encoded, field.getKey());
    }
    byte[] whole = ConnectJson.convert(value, null, PayloadValues.INSTANCE).toByteArray();
    assertArrayEquals(reference(value).toByteArray(), whole);
  }

  @Test
  void aPointWithOneDenseVectorIsTheBytesProtobufWrites() throws Exception {
    float[] floats = new float[384];
    for (int i = 0; i < floats.length; i++) {
      floats[i] = (i - 100) / 7f;
    }
    floats[3] = Float.MIN_VALUE; // a subnormal
    floats[4] = -0.0f;
    floats[5] = Float.MAX_VALUE;
    Vectors vectors = dense(floats);
    byte[] out = new byte[vectors.getSerializedSize()];
    assertTrue(DenseFloats.write(vectors, out, CodedOutputStream.newInstance(out)), "fast path");
    assertArrayEquals(vectors.toByteArray(), out);
    assertSameBytes(PointIdFactory.id(7), vectors, everyKind());
  }

  @Test
  void pointsOfEveryOtherShapeOfVectorsAreTheBytesProtobufWrites() {
    PointId uuid = PointIdFactory.id(UUID.fromString("5c56c793-69f3-4fbf-87e6-c4bf54c28c26"));
    Vector sparse =
        Vector.newBuilder()
            .addData(0.5f)
            .setIndices(SparseIndices.newBuilder().addData(3).addData(9))
            .build();
    Vector dense = dense(new float[] {1, 2, 3}).getVector();
    List<Vectors> shapes =
        List.of(
            Vectors.newBuilder()
                .setVectors(
                    NamedVectors.newBuilder()
                        .putVectors("dense", dense)
                        .putVectors("sparse", sparse))
                .build(),
            Vectors.newBuilder().setVector(sparse).build(),
            // a dense vector with something else set is written by protobuf, whole
            Vectors.newBuilder().setVector(dense.toBuilder().setVectorsCount(1)).build(),
            dense(new float[0]),
            Vectors.getDefaultInstance());
    for (Vectors vectors : shapes) {
      assertSameBytes(uuid, vectors, Map.of());
      assertSameBytes(PointIdFactory.id(0), vectors, everyKind());
    }
  }

  @Test
  void anUpsertCountsTheBytesItAddsToARequest() {
    PointOp.Upsert upsert =
        PointOp.Upsert.of(
            "c", PointIdFactory.id(1), dense(new float[300]), payload(everyKind()), RECORD);
    UpsertPoints empty = UpsertPoints.newBuilder().setCollectionName("c").build();
    UpsertPoints one = empty.toBuilder().addPoints(upsert.point()).build();
    assertEquals(one.getSerializedSize() - empty.getSerializedSize(), upsert.bytes());
  }

  private static void assertSameBytes(PointId id, Vectors vectors, Map<String, Object> payload) {
    PointOp.Upsert upsert = PointOp.Upsert.of("c", id, vectors, payload(payload), RECORD);
    PointStruct.Builder reference = PointStruct.newBuilder().setId(id).setVectors(vectors);
    payload.forEach((key, value) -> reference.putPayload(key, reference(value)));
    assertArrayEquals(reference.build().toByteArray(), upsert.encoded());
    assertEquals(reference.build(), upsert.point());
    // written but for its vectors, then finished once they come (the text embedders' way): the
    // same bytes, also when the vectors differ in size from the room left for them
    int vectorsSize = vectors.getSerializedSize();
    for (int reserved : new int[] {vectorsSize, 0, vectorsSize + 1, vectorsSize + 200}) {
      int size = PointOp.Unfinished.size(id, payload(payload), reserved);
      PointOp.Upsert finished =
          PointOp.Unfinished.write(id, payload(payload), reserved, size)
              .finish("c", id, vectors, RECORD);
      assertArrayEquals(reference.build().toByteArray(), finished.encoded(), "room " + reserved);
      if (reserved == vectorsSize) {
        assertEquals(size, finished.encoded().length);
        assertEquals(upsert.bytes(), PointOp.Upsert.bytes(size));
      }
    }
  }

  private static EncodedFields payload(Map<String, Object> value) {
    return new Payloads(List.of(), List.of()).of(value, null);
  }

  private static Vectors dense(float[] floats) {
    List<Float> data = new ArrayList<>();
    for (float f : floats) {
      data.add(f);
    }
    return Vectors.newBuilder()
        .setVector(Vector.newBuilder().setDense(DenseVector.newBuilder().addAllData(data)))
        .build();
  }

  /** The value as the generated classes build it. */
  private static Value reference(Object value) {
    Value.Builder out = Value.newBuilder();
    if (value == null) {
      return out.setNullValue(NullValue.NULL_VALUE).build();
    } else if (value instanceof String text) {
      return out.setStringValue(text).build();
    } else if (value instanceof Long number) {
      return out.setIntegerValue(number).build();
    } else if (value instanceof Double number) {
      return out.setDoubleValue(number).build();
    } else if (value instanceof Boolean bool) {
      return out.setBoolValue(bool).build();
    } else if (value instanceof Map<?, ?> map) {
      Struct.Builder struct = Struct.newBuilder();
      map.forEach((k, v) -> struct.putFields((String) k, reference(v)));
      return out.setStructValue(struct).build();
    }
    ListValue.Builder list = ListValue.newBuilder();
    ((List<?>) value).forEach(item -> list.addValues(reference(item)));
    return out.setListValue(list).build();
  }
}
