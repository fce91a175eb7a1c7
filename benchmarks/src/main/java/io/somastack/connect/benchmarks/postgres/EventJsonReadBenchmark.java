package io.somastack.connect.benchmarks.postgres;

import io.somastack.connect.common.json.JsonPathReader;
import io.somastack.connect.common.json.RecordJson;
import io.somastack.connect.common.path.FieldPath;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The JSON read of the PostgreSQL sink's append mode, alone: the streaming pass that validates a
 * ~500-byte memory event and keeps only its {@code event_id} ({@link JsonPathReader}), from UTF-8
 * bytes (ByteArrayConverter) and from text (StringConverter), next to a full tree parse and a bare
 * byte scan that only tracks strings and nesting (the least any validating reader could cost). It
 * bounds what a faster JSON reader could take off {@link PostgresSinkBenchmark}'s CPU per row.
 * 1,000 distinct events per invocation, so they do not all sit in the CPU cache.
 *
 * <pre>
 * mvn -q -pl benchmarks -am package -DskipTests
 * java -jar benchmarks/target/benchmarks.jar EventJsonReadBenchmark -f 1 -wi 3 -i 5 -w 3s -r 3s
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class EventJsonReadBenchmark {

  private static final int EVENTS = 1_000;

  private final JsonPathReader idOnly = new JsonPathReader(List.of(FieldPath.parse("event_id")));
  private byte[][] utf8;
  private String[] text;

  @Setup
  public void setup() {
    utf8 = new byte[EVENTS][];
    text = new String[EVENTS];
    for (int i = 0; i < EVENTS; i++) {
      text[i] = MemoryEvents.event(i, 1_795_000_000_000L).json();
      utf8[i] = text[i].getBytes(StandardCharsets.UTF_8);
    }
  }

  /** Per event: what the sink does with ByteArrayConverter's bytes. */
  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public int idFromBytes() {
    int found = 0;
    for (byte[] event : utf8) {
      found += idOnly.read(event).size();
    }
    return found;
  }

  /** Per event: what the sink does with StringConverter's text. */
  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public int idFromText() {
    int found = 0;
    for (String event : text) {
      found += idOnly.read(event).size();
    }
    return found;
  }

  /** Per event: the whole tree, as the sink built it before the streaming read. */
  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public int fullTree() {
    int fields = 0;
    for (byte[] event : utf8) {
      fields += RecordJson.parse(event).size();
    }
    return fields;
  }

  /** Per event: one pass that follows strings and nesting and checks nothing else. */
  @Benchmark
  @OperationsPerInvocation(EVENTS)
  public int byteScan() {
    int depth = 0;
    for (byte[] event : utf8) {
      depth += scan(event);
    }
    return depth;
  }

  private static int scan(byte[] json) {
    int depth = 0;
    boolean inString = false;
    for (int at = 0; at < json.length; at++) {
      byte b = json[at];
      if (inString) {
        if (b == '\\') {
          at++;
        } else if (b == '"') {
          inString = false;
        }
      } else if (b == '"') {
        inString = true;
      } else if (b == '{' || b == '[') {
        depth++;
      } else if (b == '}' || b == ']') {
        depth--;
      }
    }
    return depth;
  }
}
