package io.somastack.connect.qdrant.embed;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.path.FieldPath;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.connect.errors.DataException;

/**
 * An embedder of the text fields of a value into one dense vector: reads and joins the text,
 * rejects values without any, and checks what the model returns.
 */
abstract class TextEmbedder implements Embedder {

  private final List<FieldPath> textFields;
  private final String vectorName;
  private final int size;

  TextEmbedder(List<FieldPath> textFields, String vectorName, int size) {
    this.textFields = List.copyOf(textFields);
    this.vectorName = vectorName;
    this.size = size;
  }

  final int size() {
    return size;
  }

  /**
   * One vector per text, in order; a null entry rejects that text, and the embedder may put why
   * into {@code refusals} at the same position (for the dead letter, never for a log).
   */
  abstract List<float[]> embedTexts(List<String> texts, String[] refusals);

  @Override
  public final List<Result> embed(List<JsonNode> values) {
    List<Result> results = new ArrayList<>(values.size());
    List<String> texts = new ArrayList<>();
    List<Integer> positions = new ArrayList<>();
    for (JsonNode value : values) {
      String text;
      try {
        text = text(value);
      } catch (DataException | StackOverflowError tooDeep) {
        // a text field nested deeper than JSON's 1000 levels or the thread's stack: that
        // record's fault, for the dead letter queue, and not the batch's
        results.add(Result.rejected("a text field in " + textFields + " is nested too deeply"));
        continue;
      }
      if (text.isBlank()) {
        results.add(Result.rejected("no text to embed in " + textFields));
      } else {
        results.add(null);
        texts.add(text);
        positions.add(results.size() - 1);
      }
    }
    if (texts.isEmpty()) {
      return results;
    }
    String[] refusals = new String[texts.size()];
    List<float[]> vectors = embedTexts(texts, refusals);
    for (int i = 0; i < positions.size(); i++) {
      results.set(positions.get(i), toResult(vectors.get(i), refusals[i]));
    }
    return results;
  }

  private Result toResult(float[] vector, String refusal) {
    if (vector == null) {
      return Result.rejected(
          refusal == null
              ? "the embedder produced no vector for the text"
              : "the embedder refused the text: " + refusal);
    }
    String problem = VectorMessages.checkDense(vector, size);
    return problem != null
        ? Result.rejected(problem)
        : Result.of(VectorMessages.of(vectorName, VectorMessages.dense(vector)));
  }

  /** The configured fields' text, joined by new lines; non-text values as their JSON. */
  String text(JsonNode value) {
    StringBuilder text = new StringBuilder();
    for (FieldPath field : textFields) {
      Object node = field.get(value);
      if (node instanceof JsonNode json && !json.isNull()) {
        if (text.length() > 0) {
          text.append('\n');
        }
        text.append(json.isValueNode() ? json.asText() : RecordJson.write(json));
      }
    }
    return text.toString();
  }
}
