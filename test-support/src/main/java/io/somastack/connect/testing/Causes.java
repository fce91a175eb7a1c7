package io.somastack.connect.testing;

import java.util.ArrayList;
import java.util.List;

/** An exception as a worker's log shows it: its message and every cause's. */
public final class Causes {

  private Causes() {}

  /** Each throwable of the chain as {@code toString()} gives it, joined by " <- ". */
  public static String chain(Throwable thrown) {
    List<String> texts = new ArrayList<>();
    for (Throwable t = thrown; t != null; t = t.getCause()) {
      texts.add(t.toString());
    }
    return String.join(" <- ", texts);
  }
}
