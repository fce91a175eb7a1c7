package io.somastack.connect.qdrant.embed;

import io.somastack.connect.common.path.FieldPath;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Deterministic feature hashing ("the hashing trick"): every token of the text (a run of letters or
 * digits with their combining marks, in Unicode NFC, lower-cased) is hashed with 64-bit FNV-1a and
 * a MurmurHash3 finaliser; the hash picks a dimension and a sign, the token adds ±1 there, and the
 * vector is L2-normalised. No model, no network, the same vector on every machine and every run;
 * texts sharing words get close vectors, which is enough for keyword-like recall and for tests. A
 * text without any letter or digit (punctuation, emoji) has no token, hence no vector.
 *
 * <p>What a letter, a digit or a mark is, and lower case, come from the JDK's Unicode tables: a
 * character that a later Unicode version adds (a new script, new letters) may hash differently on a
 * JDK of another Unicode version; text in scripts every JDK knows hashes the same everywhere.
 */
public final class HashingEmbedder extends TextEmbedder {

  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;

  private final int dimensions;

  public HashingEmbedder(int dimensions, List<FieldPath> textFields, String vectorName) {
    super(textFields, vectorName, dimensions);
    this.dimensions = dimensions;
  }

  /** A standalone embedder of raw text (no fields), for benchmarks and tools. */
  public HashingEmbedder(int dimensions) {
    this(dimensions, List.of(FieldPath.parse("text")), "");
  }

  @Override
  List<float[]> embedTexts(List<String> texts, String[] refusals) {
    List<float[]> vectors = new ArrayList<>(texts.size());
    for (String text : texts) {
      float[] vector = embed(text);
      if (vector == null) {
        // "---" or an emoji alone: not blank, so the reason must say why it has no vector
        refusals[vectors.size()] = "it has no letters or digits to hash";
      }
      vectors.add(vector);
    }
    return vectors;
  }

  /** The unit vector of a text, or null when the text has no tokens. */
  public float[] embed(CharSequence text) {
    CharSequence normal = nfc(text);
    float[] vector = new float[dimensions];
    long hash = FNV_OFFSET;
    boolean inToken = false;
    int first = -1;
    for (int i = 0; i < normal.length(); ) {
      int codePoint = Character.codePointAt(normal, i);
      i += Character.charCount(codePoint);
      if (Character.isLetterOrDigit(codePoint) || (inToken && isMark(codePoint))) {
        hash = (hash ^ Character.toLowerCase(codePoint)) * FNV_PRIME;
        inToken = true;
      } else if (inToken) {
        int index = add(vector, hash);
        first = first < 0 ? index : first;
        hash = FNV_OFFSET;
        inToken = false;
      }
    }
    if (inToken) {
      int index = add(vector, hash);
      first = first < 0 ? index : first;
    }
    if (first < 0) {
      return null;
    }
    if (!normalise(vector)) {
      // Tokens whose signs cancelled out ("air is" at 384 dimensions): still a text, so still a
      // vector, the same every time: the first token's dimension.
      vector[first] = 1f;
    }
    return vector;
  }

  /**
   * NFC, so that an accent typed as its own code point (NFD, as macOS writes file names) is the
   * same word as the composed letter. Most text is NFC already, and then not copied.
   */
  private static CharSequence nfc(CharSequence text) {
    return Normalizer.isNormalized(text, Normalizer.Form.NFC)
        ? text
        : Normalizer.normalize(text, Normalizer.Form.NFC);
  }

  /**
   * A combining mark: the vowel signs of Hindi or Thai and accents that no composed letter exists
   * for are marks, not letters, and must not split their word (a mark alone is no word).
   */
  private static boolean isMark(int codePoint) {
    int type = Character.getType(codePoint);
    return type == Character.NON_SPACING_MARK
        || type == Character.COMBINING_SPACING_MARK
        || type == Character.ENCLOSING_MARK;
  }

  /** Adds a token's ±1 and returns its dimension. */
  private int add(float[] vector, long hash) {
    long mixed = mix(hash);
    int index = (int) Long.remainderUnsigned(mixed, dimensions);
    // The sign bit decides +1 or -1, so collisions cancel out on average instead of piling up.
    vector[index] += mixed < 0 ? -1f : 1f;
    return index;
  }

  /** MurmurHash3's fmix64: FNV's low bits are weak, this spreads every input bit. */
  private static long mix(long h) {
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h;
  }

  private static boolean normalise(float[] vector) {
    double sum = 0;
    for (float value : vector) {
      sum += value * value;
    }
    if (sum == 0) {
      return false;
    }
    float scale = (float) (1 / Math.sqrt(sum));
    for (int i = 0; i < vector.length; i++) {
      vector[i] *= scale;
    }
    return true;
  }
}
