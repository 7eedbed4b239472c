package io.flotilla.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;

/** Polls a condition in integration tests until it holds or a deadline passes (then fails, naming what it waited for). */
public final class Await {
  /** A condition that may throw (HTTP calls, parsing). */
  @FunctionalInterface
  public interface Check {
    boolean ok() throws Exception;
  }

  private Await() {}

  /**
   * Checks every 100 ms until {@code check} holds; an AssertionError after {@code timeout}. A connection-level
   * failure of one check (an I/O error: a node restarting, a connection closed under the client) counts as "not
   * yet" and is attached to the timeout's error; any other exception fails at once.
   */
  public static void until(String what, Duration timeout, Check check) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    Exception lastIo = null;
    while (true) {
      try {
        if (check.ok()) {
          return;
        }
      } catch (IOException | UncheckedIOException e) {
        lastIo = e;
      }
      if (System.nanoTime() > deadline) {
        AssertionError timedOut = new AssertionError("timed out waiting for: " + what);
        if (lastIo != null) {
          timedOut.initCause(lastIo);
        }
        throw timedOut;
      }
      Thread.sleep(100);
    }
  }
}
