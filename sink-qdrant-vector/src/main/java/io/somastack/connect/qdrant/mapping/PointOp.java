package io.somastack.connect.qdrant.mapping;

import static io.somastack.connect.qdrant.mapping.EncodedFields.header;
import static io.somastack.connect.qdrant.mapping.EncodedFields.lengthDelimited;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.qdrant.client.grpc.Common.PointId;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.UpsertPoints;
import io.qdrant.client.grpc.Points.Vectors;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.kafka.connect.sink.SinkRecord;

/** What one record asks of Qdrant: upsert a point, or delete one. */
public sealed interface PointOp {

  String collection();

  PointId id();

  SinkRecord record();

  /** Bytes this operation adds to a request. */
  int bytes();

  /**
   * An upsert of the point whose protobuf wire form is {@code encoded}: written once, when the
   * record is mapped, and sent as it is (see {@link EncodedFields} for why not a message).
   */
  record Upsert(String collection, PointId id, byte[] encoded, SinkRecord record)
      implements PointOp {

    /** The upsert of a point of this id, vectors and payload. */
    static Upsert of(
        String collection, PointId id, Vectors vectors, EncodedFields payload, SinkRecord record) {
      int idSize = id.getSerializedSize();
      int vectorsSize = vectors.getSerializedSize();
      byte[] out =
          new byte
              [lengthDelimited(PointStruct.ID_FIELD_NUMBER, idSize)
                  + payload.size(PointStruct.PAYLOAD_FIELD_NUMBER)
                  + lengthDelimited(PointStruct.VECTORS_FIELD_NUMBER, vectorsSize)];
      CodedOutputStream o = CodedOutputStream.newInstance(out);
      try {
        // in field number order, as protobuf writes a PointStruct
        header(o, PointStruct.ID_FIELD_NUMBER, idSize);
        id.writeTo(o);
        payload.writeTo(o, PointStruct.PAYLOAD_FIELD_NUMBER);
        header(o, PointStruct.VECTORS_FIELD_NUMBER, vectorsSize);
        if (!DenseFloats.write(vectors, out, o)) {
          vectors.writeTo(o);
        }
        o.checkNoSpaceLeft();
      } catch (IOException e) {
        // a byte array does not fail to be written, and was sized exactly: a bug here
        throw new UncheckedIOException(e);
      }
      return new Upsert(collection, id, out, record);
    }

    /** The point as Qdrant reads it: for tests and diagnostics, never on the way to Qdrant. */
    public PointStruct point() {
      try {
        return PointStruct.parseFrom(encoded);
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException("an encoded point does not parse", e);
      }
    }

    @Override
    public int bytes() {
      return lengthDelimited(UpsertPoints.POINTS_FIELD_NUMBER, encoded.length);
    }
  }

  record Delete(String collection, PointId id, SinkRecord record) implements PointOp {
    @Override
    public int bytes() {
      return id.getSerializedSize() + 4;
    }
  }
}
