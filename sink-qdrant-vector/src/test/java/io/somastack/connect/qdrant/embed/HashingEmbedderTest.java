package io.somastack.connect.qdrant.embed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.path.FieldPath;
import java.util.List;
import org.junit.jupiter.api.Test;

class HashingEmbedderTest {

  private final HashingEmbedder embedder = new HashingEmbedder(384);

  @Test
  void sameTextSameVectorAcrossInstances() {
    float[] first = embedder.embed("Agents remember what the user said");
    float[] second = new HashingEmbedder(384).embed("Agents remember what the user said");
    assertArrayEquals(first, second);
  }

  @Test
  void vectorsHaveTheConfiguredSizeAndUnitLength() {
    for (int dims : new int[] {8, 384, 1536}) {
      float[] vector =
          new HashingEmbedder(dims).embed("the quick brown fox jumps over the lazy dog");
      assertEquals(dims, vector.length);
      assertEquals(1.0, norm(vector), 1e-5);
    }
  }

  @Test
  void tokensIgnoreCaseAndPunctuation() {
    assertArrayEquals(embedder.embed("Hello, World!"), embedder.embed("hello world"));
  }

  /**
   * Combining marks belong to their word: an accent typed as its own code point (NFD, as macOS
   * writes it) is the same word as the composed letter, and a Hindi word is one token, not one per
   * consonant between its vowel signs.
   */
  @Test
  void combiningMarksStayInTheirWord() {
    assertArrayEquals(
        embedder.embed("caf\u00e9 cr\u00e8me"), embedder.embed("cafe\u0301 cre\u0300me"));
    assertEquals(1, nonZero(embedder.embed("cafe\u0301")));
    // हिन्दी: ह ि न ् द ी, where ि, ् and ी are marks (Mc, Mn, Mc)
    float[] hindi = embedder.embed("\u0939\u093f\u0928\u094d\u0926\u0940");
    assertEquals(1, nonZero(hindi));
    assertTrue(dot(hindi, embedder.embed("\u0939 \u0928 \u0926")) < 0.9);
    assertNull(embedder.embed(" \u0301 "), "a mark alone is no word");
  }

  @Test
  void sharedWordsMakeCloserVectorsThanUnrelatedText() {
    float[] a = embedder.embed("the user prefers dark mode in the editor");
    float[] b = embedder.embed("user prefers the dark editor theme");
    float[] c = embedder.embed("quarterly revenue grew eleven percent");
    assertTrue(dot(a, b) > dot(a, c) + 0.3, "similar texts should be closer");
  }

  /** "air" and "is" land on one dimension with opposite signs at 384 dimensions. */
  @Test
  void tokensThatCancelOutStillGiveTheSameUnitVector() {
    HashingEmbedder embedder = new HashingEmbedder(384);
    float[] vector = embedder.embed("air is");
    assertNotNull(vector, "a text with tokens always has a vector");
    assertEquals(1.0, norm(vector), 1e-6);
    assertArrayEquals(vector, new HashingEmbedder(384).embed("Air, is."));
  }

  @Test
  void textWithoutTokensHasNoVector() {
    assertNull(embedder.embed(" ... !! "));
  }

  @Test
  void valuesWithoutTextAreRejectedOthersEmbedded() {
    HashingEmbedder fields =
        new HashingEmbedder(
            16, List.of(FieldPath.parse("title"), FieldPath.parse("body.text")), "");
    List<JsonNode> values =
        List.of(
            RecordJson.parse("{\"title\":\"Hello\",\"body\":{\"text\":\"world\"}}"),
            RecordJson.parse("{\"title\":\"  \"}"),
            RecordJson.parse("{\"other\":1}"));
    List<Embedder.Result> results = fields.embed(values);
    assertEquals(3, results.size());
    assertEquals(16, results.get(0).vectors().getVector().getDense().getDataCount());
    assertTrue(results.get(1).isRejected());
    assertTrue(results.get(2).rejection().contains("no text"));
    assertEquals("Hello\nworld", fields.text(values.get(0)));
  }

  @Test
  void namedVectorGoesUnderItsName() {
    HashingEmbedder named = new HashingEmbedder(8, List.of(FieldPath.parse("text")), "dense");
    Embedder.Result result = named.embed(List.of(RecordJson.parse("{\"text\":\"hi\"}"))).get(0);
    assertEquals(
        8, result.vectors().getVectors().getVectorsOrThrow("dense").getDense().getDataCount());
  }

  /**
   * A text of punctuation or emoji alone has no token to hash: its record is dead-lettered, and the
   * reason says why rather than that "the embedder produced no vector".
   */
  @Test
  void aTextWithoutLettersOrDigitsIsRejectedSayingSo() {
    HashingEmbedder hashing = new HashingEmbedder(8, List.of(FieldPath.parse("text")), "");
    for (String text : List.of("---", "\ud83d\ude00", "?! ...")) {
      Embedder.Result result =
          hashing.embed(List.of(RecordJson.MAPPER.createObjectNode().put("text", text))).get(0);
      assertTrue(result.isRejected(), text);
      assertTrue(result.rejection().contains("no letters or digits"), result.rejection());
    }
  }

  private static int nonZero(float[] v) {
    int count = 0;
    for (float value : v) {
      count += value != 0 ? 1 : 0;
    }
    return count;
  }

  private static double norm(float[] v) {
    return Math.sqrt(dot(v, v));
  }

  private static double dot(float[] a, float[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += a[i] * b[i];
    }
    return sum;
  }
}
