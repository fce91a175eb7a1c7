package io.somastack.connect.quickstart;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The work directory's lock where the file system cannot give one. */
class WorkLockTest {

  private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);

  private String output() {
    return printed.toString(StandardCharsets.UTF_8);
  }

  /**
   * On some NFS and bind mounts tryLock throws "No locks available": the run refused to start where
   * it had run before the lock, and left the lock file's channel open.
   */
  @Test
  void aFileSystemThatCannotLockRunsWithoutTheLockAndSaysSo(@TempDir Path work) throws IOException {
    AtomicReference<FileChannel> tried = new AtomicReference<>();

    Quickstart.WorkLock lock =
        Quickstart.WorkLock.take(
            work,
            out,
            channel -> {
              tried.set(channel);
              throw new IOException("No locks available"); // what such a mount answers
            });

    assertNotNull(lock, "refused as if another quickstart ran: " + output());
    assertFalse(tried.get().isOpen(), "the lock file's channel left open");
    assertTrue(output().contains("(No locks available): running without the lock"), output());
    lock.close();
  }

  /** A lock whose release fails: the run's exit status was 1 whatever the run returned. */
  @Test
  void aReleaseThatFailsOnlyWarns() {
    Quickstart.WorkLock lock =
        new Quickstart.WorkLock(
            () -> {
              throw new IOException("Stale file handle");
            },
            out);

    lock.close();

    assertTrue(output().contains("Cannot release the quickstart's lock (Stale file handle)"));
  }
}
