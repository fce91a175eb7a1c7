package io.somastack.connect.qdrant.mapping;

import static io.somastack.connect.qdrant.mapping.EncodedFields.header;
import static io.somastack.connect.qdrant.mapping.EncodedFields.lengthDelimited;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Internal.FloatList;
import io.qdrant.client.grpc.Points.DenseVector;
import io.qdrant.client.grpc.Points.Vector;
import io.qdrant.client.grpc.Points.Vectors;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Writes the commonest vectors, one unnamed dense vector and nothing else, with its floats stored
 * four bytes at a time. Protobuf writes a packed float byte by byte through a bounds-checked
 * encoder, which for 384 dimensions was a fifth of the sink's CPU per point; the bytes are the
 * same: packed floats are little-endian IEEE 754 on the wire.
 */
final class DenseFloats {

  private static final VarHandle FLOATS =
      MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);

  private DenseFloats() {}

  /**
   * Writes {@code vectors} (whose size the caller has written) at the encoder's position in {@code
   * out}, the array it writes into, when they are one dense vector and nothing else; false, with
   * nothing written, for any other vectors.
   */
  static boolean write(Vectors vectors, byte[] out, CodedOutputStream o) throws IOException {
    return write(vectors, out, 0, o);
  }

  /**
   * As {@link #write(Vectors, byte[], CodedOutputStream)}, for an encoder that writes into {@code
   * out} from {@code base} on (the position its byte count starts at).
   */
  static boolean write(Vectors vectors, byte[] out, int base, CodedOutputStream o)
      throws IOException {
    if (vectors.getVectorsOptionsCase() != Vectors.VectorsOptionsCase.VECTOR) {
      return false;
    }
    Vector vector = vectors.getVector();
    if (!vector.hasDense()) {
      return false;
    }
    DenseVector dense = vector.getDense();
    List<Float> data = dense.getDataList();
    int floats = 4 * data.size();
    int denseSize = lengthDelimited(DenseVector.DATA_FIELD_NUMBER, floats);
    int vectorSize = lengthDelimited(Vector.DENSE_FIELD_NUMBER, denseSize);
    // sizes that match say nothing else is set: every field set adds its tag to the size
    if (!(data instanceof FloatList list)
        || data.isEmpty()
        || dense.getSerializedSize() != denseSize
        || vector.getSerializedSize() != vectorSize
        || vectors.getSerializedSize()
            != lengthDelimited(Vectors.VECTOR_FIELD_NUMBER, vectorSize)) {
      return false;
    }
    header(o, Vectors.VECTOR_FIELD_NUMBER, vectorSize);
    header(o, Vector.DENSE_FIELD_NUMBER, denseSize);
    header(o, DenseVector.DATA_FIELD_NUMBER, floats);
    int at = base + o.getTotalBytesWritten();
    for (int i = 0, n = list.size(); i < n; i++) {
      FLOATS.set(out, at + 4 * i, list.getFloat(i));
    }
    // the floats went around the encoder: move it past them
    o.writeRawBytes(out, at, floats);
    return true;
  }
}
