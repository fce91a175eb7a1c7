package io.somastack.connect.qdrant.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.qdrant.client.PointIdFactory;
import io.qdrant.client.VectorsFactory;
import io.qdrant.client.grpc.Points.UpsertPoints;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The depth the mapper counts for a point ({@link PointOp#requestDepth}) is the depth a protobuf
 * decoder meets in its upsert request: the request decodes with a recursion limit of exactly that
 * depth and not with one less (protobuf-java counts levels as prost, Qdrant's decoder, does).
 */
class RequestDepthTest {

  /** A value of objects and arrays, the deepest path in the middle of wider ones. */
  private static Object shape(String kind, int levels) {
    Object value = kind.endsWith("empty") ? (kind.startsWith("array") ? List.of() : Map.of()) : 7L;
    for (int i = 0; i < levels; i++) {
      boolean array = kind.startsWith("array") || kind.startsWith("mixed") && i % 2 == 0;
      if (array) {
        List<Object> list = new ArrayList<>();
        list.add("shallow");
        list.add(value);
        list.add(List.of());
        value = list;
      } else {
        Map<String, Object> object = new LinkedHashMap<>();
        object.put("x", 1L);
        object.put("a", value);
        object.put("z", Map.of());
        value = object;
      }
    }
    return value;
  }

  @ParameterizedTest
  @ValueSource(strings = {"object", "array", "mixed", "object-empty", "array-empty", "mixed-empty"})
  void theCountedDepthIsTheDepthADecoderMeets(String kind) throws Exception {
    for (int levels : List.of(2, 5, 20, 40)) {
      Map<String, Object> value = new LinkedHashMap<>();
      value.put("text", "hello");
      value.put("deep", shape(kind, levels));
      EncodedFields payload = new Payloads(List.of(), List.of()).of(value, null);
      int depth = PointOp.requestDepth(payload);
      PointOp.Upsert upsert =
          PointOp.Upsert.of(
              "c",
              PointIdFactory.id(1),
              VectorsFactory.vectors(1f, 0f),
              payload,
              new SinkRecord("t", 0, null, null, null, value, 0L));
      byte[] request =
          concat(
              UpsertPoints.newBuilder().setCollectionName("c").build().toByteArray(),
              upsertField(upsert));
      assertEquals(1, parse(request, depth).getPointsCount(), kind + " " + levels);
      assertThrows(
          InvalidProtocolBufferException.class,
          () -> parse(request, depth - 1),
          kind + " " + levels + ": " + depth);
    }
  }

  private static UpsertPoints parse(byte[] bytes, int limit) throws Exception {
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    in.setRecursionLimit(limit);
    return UpsertPoints.parseFrom(in);
  }

  /** The point as field 2 (points) of UpsertPoints: tag, length, its encoded bytes. */
  private static byte[] upsertField(PointOp.Upsert upsert) throws Exception {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    com.google.protobuf.CodedOutputStream o =
        com.google.protobuf.CodedOutputStream.newInstance(out);
    o.writeByteArray(UpsertPoints.POINTS_FIELD_NUMBER, upsert.encoded());
    o.flush();
    return out.toByteArray();
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] both = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    return both;
  }
}
