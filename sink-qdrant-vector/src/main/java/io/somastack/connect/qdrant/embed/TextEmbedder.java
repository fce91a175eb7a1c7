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
 *
 * <p>Reading and embedding are apart ({@link #textOf}, then {@link #embedTexts(List)}), so that a
 * caller can read each value's text as it comes, keep only that, and embed a whole batch at once: a
 * value's JSON tree need not live until the batch's vectors are back.
 */
public abstract sealed class TextEmbedder implements Embedder
    permits HashingEmbedder, OpenAiEmbedder {

  /** What a value gives to embed: its text, or why it has none (for its dead letter). */
  public record Text(String text, String rejection) {

    public boolean isRejected() {
      return rejection != null;
    }
  }

  private final List<FieldPath> textFields;
  private final String vectorName;
  private final int size;

  /** Bytes of the Vectors message of every vector this embedder gives; see {@link #vectorsSize}. */
  private final int vectorsSize;

  TextEmbedder(List<FieldPath> textFields, String vectorName, int size) {
    this.textFields = List.copyOf(textFields);
    this.vectorName = vectorName;
    this.size = size;
    this.vectorsSize =
        VectorMessages.of(vectorName, VectorMessages.dense(new float[size])).getSerializedSize();
  }

  final int size() {
    return size;
  }

  /**
   * Bytes of the Vectors message of every vector this embedder gives: one dense vector of {@code
   * vector.size} dimensions under {@code vector.name}, whose size does not depend on the floats
   * (packed, four bytes each). A point can be written before its vector is known, with this much
   * room left for it.
   */
  public final int vectorsSize() {
    return vectorsSize;
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
      Text text = textOf(value);
      if (text.isRejected()) {
        results.add(Result.rejected(text.rejection()));
      } else {
        results.add(null);
        texts.add(text.text());
        positions.add(results.size() - 1);
      }
    }
    List<Result> embedded = embedTexts(texts);
    for (int i = 0; i < positions.size(); i++) {
      results.set(positions.get(i), embedded.get(i));
    }
    return results;
  }

  /** The text of a value to embed, or why it has none. */
  public final Text textOf(JsonNode value) {
    String text;
    try {
      text = text(value);
    } catch (DataException | StackOverflowError tooDeep) {
      // a text field nested deeper than JSON's 1000 levels or the thread's stack: that
      // record's fault, for the dead letter queue, and not the batch's
      return new Text(null, "a text field in " + textFields + " is nested too deeply");
    }
    return text.isBlank()
        ? new Text(null, "no text to embed in " + textFields)
        : new Text(text, null);
  }

  /** One result per text (each read by {@link #textOf}, not blank), in the same order. */
  public final List<Result> embedTexts(List<String> texts) {
    if (texts.isEmpty()) {
      return List.of();
    }
    String[] refusals = new String[texts.size()];
    List<float[]> vectors = embedTexts(texts, refusals);
    List<Result> results = new ArrayList<>(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      results.add(toResult(vectors.get(i), refusals[i]));
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
