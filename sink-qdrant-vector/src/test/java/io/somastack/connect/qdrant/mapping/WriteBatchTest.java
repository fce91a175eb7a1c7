package io.somastack.connect.qdrant.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qdrant.client.grpc.Common.PointId;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.WriteOrdering;
import io.qdrant.client.grpc.Points.WriteOrderingType;
import io.somastack.connect.qdrant.mapping.WriteBatch.Request;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class WriteBatchTest {

  private long offset;

  private PointOp upsert(String collection, long id) {
    PointStruct point = PointStruct.newBuilder().setId(PointId.newBuilder().setNum(id)).build();
    return new PointOp.Upsert(collection, point.getId(), point.toByteArray(), record());
  }

  private PointOp delete(String collection, long id) {
    return new PointOp.Delete(collection, PointId.newBuilder().setNum(id).build(), record());
  }

  private SinkRecord record() {
    return new SinkRecord("t", 0, null, null, null, null, offset++);
  }

  private static String describe(List<Request> requests) {
    List<String> out = new ArrayList<>();
    for (Request request : requests) {
      out.add(
          request.collection()
              + (request.upsert() ? "+" : "-")
              + request.ops().stream().map(op -> PointIds.describe(op.id())).toList());
    }
    return String.join(" ", out);
  }

  @Test
  void batchesShareAPointOnlyByIdWithinOneCollectionWhateverTheOperation() {
    WriteBatch first = WriteBatch.of(List.of(upsert("a", 1), upsert("a", 2), delete("b", 7)));
    assertTrue(first.sharesAPointWith(WriteBatch.of(List.of(delete("a", 2)))));
    assertTrue(WriteBatch.of(List.of(upsert("b", 7))).sharesAPointWith(first));
    assertFalse(first.sharesAPointWith(WriteBatch.of(List.of(upsert("b", 1), upsert("c", 2)))));
  }

  @Test
  void lastOperationPerIdWinsAndMovesToItsArrivalPosition() {
    WriteBatch batch =
        WriteBatch.of(List.of(upsert("c", 1), upsert("c", 2), upsert("c", 1), upsert("c", 3)));
    assertEquals("c+[2, 1, 3]", describe(batch.requests(256, Long.MAX_VALUE)));
    // the surviving upsert of id 1 is the later record
    assertEquals(2L, batch.ops().get(1).record().kafkaOffset());
  }

  /**
   * Collapsed, a batch writes each point of a collection once: its upserts and deletes touch
   * different points, so however they alternate they are one run of each kind.
   */
  @Test
  void upsertsAndDeletesAreOneRunOfEachKindPerCollection() {
    WriteBatch batch =
        WriteBatch.of(
            List.of(
                upsert("c", 1), upsert("c", 2), delete("c", 1), upsert("c", 3), delete("c", 4)));
    assertEquals("c+[2, 3] c-[1, 4]", describe(batch.requests(256, Long.MAX_VALUE)));
  }

  @Test
  void deleteThenUpsertOfOneIdLeavesTheUpsert() {
    WriteBatch batch = WriteBatch.of(List.of(delete("c", 1), upsert("c", 1)));
    assertEquals("c+[1]", describe(batch.requests(256, Long.MAX_VALUE)));
  }

  @Test
  void eachCollectionHasItsOwnRequests() {
    WriteBatch batch =
        WriteBatch.of(List.of(upsert("a", 1), upsert("b", 1), delete("a", 2), delete("b", 1)));
    assertEquals("a+[1] a-[2] b-[1]", describe(batch.requests(256, Long.MAX_VALUE)));
  }

  @Test
  void requestsAreCutByCountAndBytes() {
    List<PointOp> ops = new ArrayList<>();
    for (long id = 1; id <= 5; id++) {
      ops.add(upsert("c", id));
    }
    WriteBatch batch = WriteBatch.of(ops);
    assertEquals("c+[1, 2] c+[3, 4] c+[5]", describe(batch.requests(2, Long.MAX_VALUE)));
    long twoPoints = WriteBatch.requestOverhead("c") + ops.get(0).bytes() * 2L;
    assertEquals("c+[1, 2] c+[3, 4] c+[5]", describe(batch.requests(256, twoPoints)));
  }

  /**
   * batch.max.bytes bounds the whole request as it goes on the wire: its points, and its own fields
   * (a collection name of up to 255 bytes, wait, ordering) and gRPC's frame header.
   */
  @Test
  void aRequestWithItsOwnFieldsStaysWithinMaxBytes() {
    String collection = "c".repeat(255);
    List<PointOp> ops = new ArrayList<>();
    for (long id = 1; id <= 100; id++) {
      ops.add(upsert(collection, id));
    }
    long maxBytes = 300; // the points alone would fill it: the request's own fields are 260 more
    WriteOrdering strong = WriteOrdering.newBuilder().setType(WriteOrderingType.Strong).build();
    for (WriteBatch.Request request : WriteBatch.of(ops).requests(256, maxBytes)) {
      int onTheWire = request.upsert(strong).getSerializedSize() + 5;
      assertTrue(onTheWire <= maxBytes, onTheWire + " bytes > " + maxBytes);
    }
  }
}
