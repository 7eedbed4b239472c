package io.flotilla.testing;

import java.time.Duration;

/** Polls a condition in integration tests until it holds or a deadline passes (then fails, naming what it waited for). */
public final class Await {
  /** A condition that may throw (HTTP calls, parsing). */
  @FunctionalInterface
  public interface Check {
    boolean ok() throws Exception;
  }

  private Await() {}

  /** Checks every 100 ms until {@code check} holds; an AssertionError after {@code timeout}. */
  public static void until(String what, Duration timeout, Check check) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!check.ok()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      Thread.sleep(100);
    }
  }
}
