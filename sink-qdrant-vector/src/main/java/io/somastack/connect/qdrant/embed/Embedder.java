package io.somastack.connect.qdrant.embed;

import com.fasterxml.jackson.databind.JsonNode;
import io.qdrant.client.grpc.Points.Vectors;
import io.somastack.connect.qdrant.QdrantSinkConfig;
import java.util.List;

/**
 * Gives record values their vectors. Implementations see a whole batch at once, so remote ones can
 * batch their requests. A value that cannot have a vector (no text, a wrong dimension) gets a
 * rejection, which sends its record to the dead letter queue; an embedder that is unreachable
 * throws {@link org.apache.kafka.connect.errors.RetriableException} instead.
 */
public sealed interface Embedder extends AutoCloseable permits FieldEmbedder, TextEmbedder {

  /** One result per value, in the same order. */
  List<Result> embed(List<JsonNode> values);

  @Override
  default void close() {}

  /** The vectors of one value, or why it has none. */
  record Result(Vectors vectors, String rejection) {

    public static Result of(Vectors vectors) {
      return new Result(vectors, null);
    }

    public static Result rejected(String reason) {
      return new Result(null, reason);
    }

    public boolean isRejected() {
      return rejection != null;
    }
  }

  /** The embedder the configuration names. */
  static Embedder create(QdrantSinkConfig config) {
    return switch (config.embedder()) {
      case HASHING ->
          new HashingEmbedder(config.vectorSize(), config.textFields(), config.vectorName());
      case FIELD ->
          new FieldEmbedder(config.vectorField(), config.vectorName(), config.vectorSize());
      case OPENAI -> new OpenAiEmbedder(config);
    };
  }
}
