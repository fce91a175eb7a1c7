package io.somastack.connect.benchmarks.qdrant;

import io.somastack.connect.qdrant.embed.HashingEmbedder;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Documents per second through the hashing embedder: ~500-byte English-like texts into 384
 * dimensions (the size of all-MiniLM-L6-v2, a common small model). Target: above 100,000/s per
 * core.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HashingEmbedderBenchmark {

  private static final String[] WORDS = {
    "agent",
    "memory",
    "user",
    "prefers",
    "dark",
    "mode",
    "the",
    "a",
    "of",
    "tool",
    "call",
    "returned",
    "error",
    "retry",
    "vector",
    "search",
    "context",
    "window",
    "summary",
    "task",
    "planner",
    "step",
    "observation",
    "Kafka",
    "event",
    "tenant",
    "session",
    "answer",
    "question",
    "remember",
    "document",
    "embedding",
    "similar",
    "recall",
    "2024",
    "policy",
    "budget",
    "and"
  };

  @Param("384")
  int dimensions;

  private HashingEmbedder embedder;
  private String[] texts;
  private int next;

  @Setup
  public void setUp() {
    embedder = new HashingEmbedder(dimensions);
    Random random = new Random(42);
    texts = new String[1024];
    for (int i = 0; i < texts.length; i++) {
      StringBuilder text = new StringBuilder();
      while (text.length() < 500) {
        text.append(WORDS[random.nextInt(WORDS.length)])
            .append(random.nextInt(8) == 0 ? ". " : " ");
      }
      texts[i] = text.substring(0, 500);
    }
  }

  @Benchmark
  public float[] embed() {
    next = (next + 1) & (texts.length - 1);
    return embedder.embed(texts[next]);
  }
}
