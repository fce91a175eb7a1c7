package io.somastack.connect.testing;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * What code writes to System.err while it runs. slf4j-simple, the tests' logging backend, writes
 * every log event there, so this is the worker log as far as a test can see it: what a test reads
 * to check that something is logged, and that no record contents are.
 */
public final class CapturedStderr {

  /** Code that may throw, for tests that drive a task. */
  @FunctionalInterface
  public interface Work {
    void run() throws Exception;
  }

  private CapturedStderr() {}

  /**
   * What {@code code} writes to System.err; also passed on to it, so the test's log stays whole.
   */
  public static String of(Runnable code) {
    try {
      return ofWork(code::run);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e); // a Runnable throws none
    }
  }

  /**
   * The same for code that may throw; what it throws is thrown on, after System.err is restored.
   */
  public static String ofWork(Work work) throws Exception {
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      work.run();
    } finally {
      System.setErr(original);
    }
    String text = captured.toString(StandardCharsets.UTF_8);
    original.print(text);
    return text;
  }
}
