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
import java.util.Arrays;
import org.apache.kafka.connect.sink.SinkRecord;

/** What one record asks of Qdrant: upsert a point, or delete one. */
public sealed interface PointOp {

  String collection();

  PointId id();

  SinkRecord record();

  /** Bytes this operation adds to a request. */
  int bytes();

  /**
   * The most protobuf message levels an upsert request may nest, the request itself being level 0:
   * Qdrant decodes gRPC with prost, whose recursion limit of 100 Qdrant keeps, and answers a deeper
   * request INTERNAL "failed to decode Protobuf message: ... recursion limit reached" as a whole.
   * Kept 4 below that limit, so a miscount or another wrapper in a later Qdrant does not turn a
   * point the sink sends into a request no retry passes.
   */
  int MAX_DEPTH = 96;

  /** prost's recursion limit, which Qdrant decodes its gRPC requests with. */
  int QDRANT_DECODE_LIMIT = 100;

  /**
   * Levels a point of this payload nests in its upsert request: UpsertPoints (0), PointStruct (1),
   * a payload map entry (2), its Value (3) and the Value's own levels ({@link EncodedValue#depth}:
   * 3 per JSON object, 2 per array). The point's id (level 2) and vectors (at most level 6:
   * Vectors, NamedVectors, a map entry, Vector, DenseVector or SparseVector) are never deeper than
   * a payload with one field.
   */
  static int requestDepth(EncodedFields payload) {
    return Math.max(1 + payload.depth(), 6);
  }

  /**
   * An upsert of the point whose protobuf wire form is {@code encoded}: written once, when the
   * record is mapped, and sent as it is (see {@link EncodedFields} for why not a message).
   */
  record Upsert(String collection, PointId id, byte[] encoded, SinkRecord record)
      implements PointOp {

    /** The upsert of a point of this id, vectors and payload: written as an unfinished one is. */
    static Upsert of(
        String collection, PointId id, Vectors vectors, EncodedFields payload, SinkRecord record) {
      int vectorsSize = vectors.getSerializedSize();
      return Unfinished.write(id, payload, vectorsSize, Unfinished.size(id, payload, vectorsSize))
          .finish(collection, id, vectors, record);
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
      return bytes(encoded.length);
    }

    /** Bytes an upsert of a point of {@code encodedSize} bytes adds to a request. */
    static int bytes(int encodedSize) {
      return lengthDelimited(UpsertPoints.POINTS_FIELD_NUMBER, encodedSize);
    }
  }

  /**
   * A point written but for its vectors, which an embedder gives later, for a whole batch at once:
   * its id, its payload and its vectors' tag and length are written, and the last {@code
   * vectorsSize} bytes are left for the vectors. The record's value (its JSON tree, the payload's
   * values) need not be kept until then, only these bytes. {@link #finish} writes the same bytes
   * {@link Upsert#of} writes.
   */
  final class Unfinished {

    private final byte[] out;
    private final int vectorsSize;

    private Unfinished(byte[] out, int vectorsSize) {
      this.out = out;
      this.vectorsSize = vectorsSize;
    }

    /** Bytes of the point once finished with vectors of {@code vectorsSize} bytes. */
    static int size(PointId id, EncodedFields payload, int vectorsSize) {
      return lengthDelimited(PointStruct.ID_FIELD_NUMBER, id.getSerializedSize())
          + payload.size(PointStruct.PAYLOAD_FIELD_NUMBER)
          + lengthDelimited(PointStruct.VECTORS_FIELD_NUMBER, vectorsSize);
    }

    /** The point of this id and payload, of {@code size} bytes ({@link #size}) once finished. */
    static Unfinished write(PointId id, EncodedFields payload, int vectorsSize, int size) {
      byte[] out = new byte[size];
      CodedOutputStream o = CodedOutputStream.newInstance(out, 0, size - vectorsSize);
      try {
        // in field number order, as protobuf writes a PointStruct
        header(o, PointStruct.ID_FIELD_NUMBER, id.getSerializedSize());
        id.writeTo(o);
        payload.writeTo(o, PointStruct.PAYLOAD_FIELD_NUMBER);
        header(o, PointStruct.VECTORS_FIELD_NUMBER, vectorsSize);
        o.checkNoSpaceLeft();
      } catch (IOException e) {
        throw new UncheckedIOException(e); // sized exactly: a bug here
      }
      return new Unfinished(out, vectorsSize);
    }

    /**
     * The upsert of the point with these vectors, written into the room left for them (in place:
     * call it once). Vectors of another size than reserved (an embedder should not give them) go
     * into a copy of the point's bytes of the right size.
     */
    Upsert finish(String collection, PointId id, Vectors vectors, SinkRecord record) {
      int size = vectors.getSerializedSize();
      byte[] point = out;
      int at = out.length - vectorsSize;
      if (size != vectorsSize) {
        int start = out.length - lengthDelimited(PointStruct.VECTORS_FIELD_NUMBER, vectorsSize);
        point = Arrays.copyOf(out, start + lengthDelimited(PointStruct.VECTORS_FIELD_NUMBER, size));
        at = point.length - size;
        CodedOutputStream o = CodedOutputStream.newInstance(point, start, at - start);
        try {
          header(o, PointStruct.VECTORS_FIELD_NUMBER, size);
          o.checkNoSpaceLeft();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      CodedOutputStream o = CodedOutputStream.newInstance(point, at, size);
      try {
        if (!DenseFloats.write(vectors, point, at, o)) {
          vectors.writeTo(o);
        }
        o.checkNoSpaceLeft();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return new Upsert(collection, id, point, record);
    }
  }

  record Delete(String collection, PointId id, SinkRecord record) implements PointOp {
    @Override
    public int bytes() {
      return id.getSerializedSize() + 4;
    }
  }
}
