package io.somastack.connect.qdrant.embed;

import com.google.protobuf.Internal.FloatList;
import io.qdrant.client.grpc.Points.DenseVector;
import io.qdrant.client.grpc.Points.NamedVectors;
import io.qdrant.client.grpc.Points.Vector;
import io.qdrant.client.grpc.Points.Vectors;

/** Builds Qdrant's vector messages without boxing every float, and checks dense vectors. */
final class VectorMessages {

  private VectorMessages() {}

  /** Protobuf's own empty list of floats, whose sized copies the builder takes in one copy. */
  private static final FloatList EMPTY =
      DenseVector.getDefaultInstance().getDataList() instanceof FloatList floats ? floats : null;

  static Vector dense(float[] values) {
    FloatList floats = newFloats(values.length);
    if (floats != null) {
      for (float value : values) {
        floats.addFloat(value);
      }
      return dense(floats);
    }
    DenseVector.Builder dense = DenseVector.newBuilder();
    for (float value : values) {
      dense.addData(value);
    }
    return Vector.newBuilder().setDense(dense).build();
  }

  /**
   * An empty list of floats with room for {@code capacity}, to fill and hand to {@link
   * #dense(FloatList)}; null if this protobuf runtime has none (then build from a float array).
   * Adding float by float to a message builder grows its list ten times for 384 dimensions; the
   * builder takes a filled list over in one copy of exactly its size, so the list can be reused.
   */
  static FloatList newFloats(int capacity) {
    return EMPTY == null ? null : EMPTY.mutableCopyWithCapacity(capacity);
  }

  /** A dense vector holding a copy of the floats: the caller may clear and refill them. */
  static Vector dense(FloatList floats) {
    return Vector.newBuilder().setDense(DenseVector.newBuilder().addAllData(floats)).build();
  }

  /** A single vector: the collection's unnamed one when name is empty, else that named one. */
  static Vectors of(String name, Vector vector) {
    if (name.isEmpty()) {
      return Vectors.newBuilder().setVector(vector).build();
    }
    return Vectors.newBuilder()
        .setVectors(NamedVectors.newBuilder().putVectors(name, vector))
        .build();
  }

  /** Why a dense vector cannot be stored, or null when it can. */
  static String checkDense(float[] values, int size) {
    if (values.length != size) {
      return "vector has " + values.length + " dimensions but vector.size is " + size;
    }
    for (float value : values) {
      if (!Float.isFinite(value)) {
        return "vector contains NaN or infinity";
      }
    }
    return null;
  }
}
