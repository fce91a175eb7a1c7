package io.somastack.connect.transforms;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** What code logs while it runs, as far as the tests can see the worker log. */
final class CapturedLog {

  private CapturedLog() {}

  /**
   * What the code writes to System.err while it runs: slf4j-simple, the tests' logging backend,
   * writes every log event there, so this is the worker log as far as the tests can see it.
   */
  static String of(Runnable code) {
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      code.run();
    } finally {
      System.setErr(original);
    }
    return captured.toString(StandardCharsets.UTF_8);
  }
}
