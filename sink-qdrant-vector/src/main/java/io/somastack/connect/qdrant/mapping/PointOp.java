package io.somastack.connect.qdrant.mapping;

import io.qdrant.client.grpc.Common.PointId;
import io.qdrant.client.grpc.Points.PointStruct;
import org.apache.kafka.connect.sink.SinkRecord;

/** What one record asks of Qdrant: upsert a point, or delete one. */
public sealed interface PointOp {

  String collection();

  PointId id();

  SinkRecord record();

  /** Bytes this operation adds to a request. */
  int bytes();

  record Upsert(String collection, PointStruct point, SinkRecord record) implements PointOp {
    @Override
    public PointId id() {
      return point.getId();
    }

    @Override
    public int bytes() {
      // protobuf caches the size; + tag and length prefix of the repeated field
      return point.getSerializedSize() + 8;
    }
  }

  record Delete(String collection, PointId id, SinkRecord record) implements PointOp {
    @Override
    public int bytes() {
      return id.getSerializedSize() + 4;
    }
  }
}
