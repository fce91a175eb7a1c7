package io.somastack.connect.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Stopping what a run started: on Ctrl-C, which may come while the run is still starting. */
class RunningTest {

  private final PrintStream out =
      new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
  private final List<String> closed = new CopyOnWriteArrayList<>();

  @Test
  void componentsStopNewestFirstAndOnlyOnce() {
    Quickstart.Running running = new Quickstart.Running(out);
    running.add(() -> closed.add("postgres"));
    running.add(() -> closed.add("kafka"));
    running.add(() -> closed.add("connect"));

    running.stopAll();
    running.stopAll(); // the shutdown hook after a run that stopped everything itself

    assertEquals(List.of("connect", "kafka", "postgres"), closed);
  }

  /**
   * Ctrl-C while the run was still starting things: the run added its Connect worker while the
   * shutdown hook went through the list, which ended in a ConcurrentModificationException that left
   * everything after it running.
   */
  @Test
  void aComponentAddedWhileStoppingIsStoppedToo() {
    Quickstart.Running running = new Quickstart.Running(out);
    running.add(() -> closed.add("postgres"));
    running.add(
        () -> {
          closed.add("kafka");
          running.add(() -> closed.add("connect, started meanwhile"));
        });

    running.stopAll();

    assertEquals(List.of("kafka", "connect, started meanwhile", "postgres"), closed);
  }
}
