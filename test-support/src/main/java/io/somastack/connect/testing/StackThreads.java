package io.somastack.connect.testing;

/**
 * Runs test code on a thread with a chosen stack size. Connect's task threads have the JVM's
 * default stack (or whatever -Xss a worker sets), and the tests of deeply nested records check that
 * running out of it fails one record, never the task: they need to run the same work on a default
 * and on a smaller stack.
 */
public final class StackThreads {

  /** Test code that may throw anything. */
  public interface Action {
    void run() throws Exception;
  }

  private StackThreads() {}

  /**
   * What the action threw on a new thread of {@code stackBytes} (0: the JVM's default), or null
   * when it returned; waits for it to end.
   */
  public static Throwable thrownOn(long stackBytes, Action action) throws InterruptedException {
    Throwable[] thrown = new Throwable[1];
    Thread thread =
        new Thread(
            null,
            () -> {
              try {
                action.run();
              } catch (Throwable t) {
                thrown[0] = t;
              }
            },
            "stack-" + stackBytes,
            stackBytes);
    thread.start();
    thread.join();
    return thrown[0];
  }
}
